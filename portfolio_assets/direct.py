"""A heavy step on Spark with no dataset passing through the driver (``run_stored``).

With storage every executor reaches (S3, or a directory mounted at the same path everywhere), one Spark job
does what the in-process step does between its input and its output::

    files of the input's partitions --mapInPandas--> each asset's rows of a batch of files   (read by executors)
        --groupBy(asset).applyInPandas--> the step's function on the asset, its check partial (executors)
        --groupBy(partition key).applyInPandas--> each output partition file, staged in the store (executors)

The driver only names the files (``StoredInput``), starts the write (``PartitionStore.begin``), and gets back
each partition's row count, sha256 and summary (``partsummary``) and each asset's check partial (small); the step
then merges the
partials into its checks and commits, or gives the write up. Rows cross Spark as Arrow IPC (input) and as
pickled pandas (output), so every dtype arrives as it left, and each output file holds its rows in the order
the in-process write gives them: its bytes are the in-process bytes (``portfolio_assets_tests/engine``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets.engine import EngineError, _Raised, pack, unpack
from portfolio_assets.io_managers import PartitionStore, Staging
from portfolio_assets.partitions import partition_keys_of
from portfolio_assets.partsummary import Summary, partition_summary

_ROWS = "group string, name string, seq long, payload binary"
_RAISED = "\x00raised"
_PARTIAL = "\x00partial"
_SCHEMA = "\x00schema"
_WRITE = "w\x00"
_SIDE = "s\x00"
FILES_PER_BATCH = 64
"""At most this many input files a read task (their rows reach the asset tasks as one piece per asset); fewer when
that leaves task slots idle."""


@dataclass(frozen=True)
class StoredInput:
    """An input the executors read themselves: the committed files of its partitions, and the rows kept."""

    name: str
    """The step function's argument."""
    asset_path: tuple[str, ...]
    files: tuple[str, ...]
    """File names (``<key>.<generation>.parquet``), in partition order."""
    schema: bytes
    """The Arrow schema a read of every file gives (``PartitionStore.schema_of``), serialised."""
    first_day: pd.Timestamp
    last_day: pd.Timestamp
    """Rows kept: ``timestamp`` on ``first_day..last_day`` (``in_window``)."""
    leave_out: tuple[str, ...] = ()
    """Assets whose rows are dropped."""


def stored_input(
    store: PartitionStore,
    name: str,
    asset_path: Sequence[str],
    partition_keys: Sequence[str],
    *,
    granularity: str,
    first_day: pd.Timestamp,
    last_day: pd.Timestamp,
    leave_out: Sequence[str] = (),
) -> StoredInput:
    """The ``StoredInput`` of ``partition_keys`` of an asset (``PartitionStore.files``' errors for a missing or
    blocked partition); only one file per write is opened here, for its schema."""
    located = store.locate(asset_path, partition_keys, granularity=granularity)
    names = tuple(path.name for path in located.values())
    schema = store.schema_of(asset_path, names)
    return StoredInput(
        name, tuple(asset_path), names, schema.serialize().to_pybytes(), first_day, last_day, tuple(leave_out)
    )


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(payload: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.BufferReader(payload)).read_all()


def _kept(table: pa.Table, source: StoredInput) -> pa.Table:
    """The rows of ``table`` in the input's window and not of a left-out asset (``in_window`` in Arrow)."""
    stamps = table.column("timestamp")
    low = pa.scalar(source.first_day, type=stamps.type)
    high = pa.scalar(source.last_day + pd.Timedelta(days=1), type=stamps.type)
    keep = pc.and_(pc.greater_equal(stamps, low), pc.less(stamps, high))
    if source.leave_out:
        keep = pc.and_(keep, pc.invert(pc.is_in(table.column("asset_symbol"), pa.array(list(source.leave_out)))))
    return table.filter(keep)


def _read_batches(store: PartitionStore, inputs: Sequence[StoredInput]) -> Callable[[Iterator[pd.DataFrame]], Any]:
    """The ``mapInPandas`` function: each batch of (input, first position, files) in, one piece per asset out."""

    def read(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            rows = []
            for payload in batch["payload"]:
                which, seq, names = unpack(payload)
                source = inputs[which]
                try:
                    rows += _pieces(store, source, seq, names)
                except Exception as error:  # reaches the step as itself (an unreadable file, S3 refusing)
                    rows.append((_RAISED, f"{source.name}:{seq:09d}", 0, pack(_Raised(error))))
            yield pd.DataFrame(rows, columns=["group", "name", "seq", "payload"])

    return read


def _pieces(store: PartitionStore, source: StoredInput, seq: int, names: Sequence[str]) -> list[tuple]:
    """One (asset, input, position, Arrow IPC) piece per asset of files ``names`` of ``source``."""
    tables = [_kept(store.read_table(source.asset_path, n), source) for n in names]
    table = pa.concat_tables(tables, promote_options="permissive")
    symbols = table.column("asset_symbol").to_pandas()
    if symbols.isna().any():  # a row of no asset would belong to no task, and vanish
        where = "/".join(source.asset_path)
        raise ValueError(f"{where}: {int(symbols.isna().sum())} row(s) of {names[0]}.. have no asset_symbol")
    groups = pd.Series(range(len(symbols))).groupby(symbols.to_numpy(), sort=False).indices
    return [(str(symbol), source.name, seq, _ipc(table.take(pa.array(idx)))) for symbol, idx in groups.items()]


@dataclass(frozen=True)
class Sides:
    """A second pass over every asset's rows at once, keyed otherwise than by asset (a check across assets):
    ``split(out, **inputs, **shared)`` gives each side group's piece of an asset (``{group: frame}``), and
    ``join(group, frames)`` the group's result from its pieces (in asset order)."""

    split: Callable[..., Mapping[str, pd.DataFrame]]
    join: Callable[[str, list[pd.DataFrame]], Any]


@dataclass(frozen=True)
class StepCall:
    """One call of a step on some assets' rows (all of them in-process, one asset on Spark): the function's
    output frames, cut to ``window``, by output name; its check ``partial``; its ``sides`` pieces."""

    function: Callable[..., Any]
    outputs: tuple[str, ...]
    window: tuple[pd.Timestamp, pd.Timestamp]
    partial: Callable[..., Any] | None = None
    sides: Sides | None = None

    def __call__(self, **arguments: Any) -> tuple[dict[str, pd.DataFrame], Any, Mapping[str, pd.DataFrame]]:
        out = _windowed(self.function, self.window, arguments)
        partial = None if self.partial is None else self.partial(out, **arguments)
        pieces = {} if self.sides is None else self.sides.split(out, **arguments)
        return _outputs(out, self.outputs), partial, pieces


def _outputs(out: pd.DataFrame | Mapping[str, pd.DataFrame], names: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The function's output frames by output name (a lone frame is the only output's)."""
    if isinstance(out, pd.DataFrame):
        return {names[0]: out}
    return {name: out[name] for name in names}


def _compute(
    outputs: Mapping[str, Staging], inputs: Sequence[StoredInput], call: StepCall, shared: Mapping[str, Any] | Any
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The per-asset ``applyInPandas`` function: the asset's pieces in; out, each output cut by partition key, its
    partial and its side pieces (or what the call raised)."""

    def compute(pieces: pd.DataFrame) -> pd.DataFrame:
        asset = str(pieces["group"].iloc[0])
        if asset == _RAISED:  # a read task's error, on its way to the driver
            return pieces
        frames = {}
        for source in inputs:
            mine = pieces[pieces["name"] == source.name].sort_values("seq", kind="stable")
            tables = [pa.ipc.read_schema(pa.py_buffer(source.schema)).empty_table()]
            tables += [_from_ipc(p) for p in mine["payload"]]
            frames[source.name] = pa.concat_tables(tables, promote_options="permissive").to_pandas()
        common = shared if isinstance(shared, Mapping) else shared.value
        rows: list[tuple[str, str, int, bytes]] = []
        try:
            out, partial, sides = call(**frames, **common)
            for name, frame in out.items():
                staging = outputs[name]
                empty = pa.Table.from_pandas(frame.iloc[0:0], preserve_index=False).schema.serialize().to_pybytes()
                rows.append((_SCHEMA, f"{name}\x00{asset}", 0, empty))  # for the partitions no row falls on
                keys = partition_keys_of(frame["timestamp"], staging.granularity)
                stray = sorted(set(keys.unique()) - set(staging.keys))
                if stray:
                    raise ValueError(f"{name}: {len(stray)} partition(s) outside the run's, e.g. {stray[:3]}")
                for key, idx in pd.Series(range(len(frame))).groupby(keys.to_numpy(), sort=False).indices.items():
                    rows.append((f"{_WRITE}{name}\x00{key}", asset, 0, pack(frame.iloc[idx].reset_index(drop=True))))
            rows.append((_PARTIAL, asset, 0, pack(partial)))
            rows += [(f"{_SIDE}{group}", asset, 0, pack(piece)) for group, piece in sides.items()]
        except Exception as error:
            rows = [(_RAISED, asset, 0, pack(_Raised(error)))]
        return pd.DataFrame(rows, columns=["group", "name", "seq", "payload"])

    return compute


def _windowed(
    function: Callable[..., Any], window: tuple[pd.Timestamp, pd.Timestamp], arguments: Mapping[str, Any]
) -> pd.DataFrame | dict[str, Any]:
    """``function``'s output frame (or each frame of its output dict), cut to the ``window``'s days."""

    def cut(out: Any) -> Any:
        if not isinstance(out, pd.DataFrame):
            return out
        stamps = out["timestamp"]
        return out[(stamps >= window[0]) & (stamps < window[1] + pd.Timedelta(days=1))].reset_index(drop=True)

    out = function(**arguments)
    return cut(out) if isinstance(out, pd.DataFrame) else {name: cut(value) for name, value in out.items()}


def _write(
    store: PartitionStore, outputs: Mapping[str, Staging], order: Sequence[str], sides: Sides | None
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The per-key ``applyInPandas`` function: an output partition's rows of every asset in, its file staged,
    (rows, sha256, schema, summary) out; a side group's pieces in, its result out; partials and errors pass
    through."""

    def write(rows: pd.DataFrame) -> pd.DataFrame:
        group = str(rows["group"].iloc[0])
        if group in (_PARTIAL, _RAISED, _SCHEMA):
            return rows
        mine = rows.sort_values("name", kind="stable")
        parts = [unpack(p) for p in mine["payload"]]
        try:
            if group.startswith(_SIDE):
                result = sides.join(group[len(_SIDE) :], parts)  # type: ignore[union-attr]
            else:
                name, _, key = group[len(_WRITE) :].partition("\x00")
                frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
                if order:
                    frame = frame.sort_values(list(order), kind="stable", ignore_index=True)
                table = pa.Table.from_pandas(frame, preserve_index=False)
                digest = store.stage(outputs[name], key, table)
                result = (table.num_rows, digest, table.schema.serialize().to_pybytes(), partition_summary(table))
        except Exception as error:
            return pd.DataFrame({"group": [_RAISED], "name": [group], "seq": [0], "payload": [pack(_Raised(error))]})
        return pd.DataFrame({"group": [group], "name": [""], "seq": [0], "payload": [pack(result)]})

    return write


def batches(inputs: Sequence[StoredInput], per_batch: int = FILES_PER_BATCH) -> pd.DataFrame:
    """The read tasks' rows: (input, position of its first file, file names) in runs of ``per_batch`` files."""
    rows = []
    for which, source in enumerate(inputs):
        for start in range(0, len(source.files), per_batch):
            rows.append(
                (f"{which}:{start}", source.name, start, pack((which, start, source.files[start : start + per_batch])))
            )
    return pd.DataFrame(rows, columns=["group", "name", "seq", "payload"])


def run_stored(
    engine: Any,
    call: StepCall,
    inputs: Sequence[StoredInput],
    *,
    store: PartitionStore,
    outputs: Mapping[str, Staging],
    shared: Mapping[str, Any] | None = None,
    order: Sequence[str] = ("asset_symbol", "timestamp"),
) -> StoredOutput:
    """Run ``call`` per asset on ``engine``'s Spark session and stage every partition of each output's ``Staging``
    in ``store`` from the executors; each asset's partial and each side group's result come back to the driver.
    The caller commits or aborts the stagings."""
    shared = dict(shared or {})
    spark = engine.session()
    tasks = 2 * engine.parallelism()
    files = sum(len(source.files) for source in inputs)
    job = batches(inputs, max(1, min(FILES_PER_BATCH, -(-files // tasks))))
    connect = type(spark).__module__.startswith("pyspark.sql.connect")
    collected = pd.DataFrame(columns=["group", "name", "seq", "payload"])
    with engine._job(spark, getattr(call.function, "__name__", "a function"), tasks):
        common = shared if connect or not shared else spark.sparkContext.broadcast(shared)
        try:
            if len(job):
                pieces = spark.createDataFrame(job, schema=_ROWS).repartition(min(len(job), tasks))
                pieces = pieces.mapInPandas(_read_batches(store, inputs), _ROWS)
                out = pieces.groupBy("group").applyInPandas(_compute(outputs, inputs, call, common), _ROWS)
                write = _write(store, outputs, order, call.sides)
                collected = out.groupBy("group").applyInPandas(write, _ROWS).toPandas()
        finally:
            if common is not shared and not connect:
                common.destroy()
    result = _collected(collected, store, outputs, _empty_output(call, inputs, shared))
    if not result.partials:  # no asset had a row: what the in-process call on no rows gives the checks
        frames = {s.name: pa.ipc.read_schema(pa.py_buffer(s.schema)).empty_table().to_pandas() for s in inputs}
        _, partial, pieces = call(**frames, **shared)
        result.partials = {"": partial}
        result.sides = {g: call.sides.join(g, [piece]) for g, piece in pieces.items()} if call.sides else {}
    return result


def _empty_output(
    call: StepCall, inputs: Sequence[StoredInput], shared: Mapping[str, Any]
) -> Callable[[str], pa.Schema]:
    """The schema of an output of the call on inputs without rows (for an output of no rows at all)."""

    def schema(name: str) -> pa.Schema:
        frames = {s.name: pa.ipc.read_schema(pa.py_buffer(s.schema)).empty_table().to_pandas() for s in inputs}
        return pa.Table.from_pandas(call(**frames, **shared)[0][name], preserve_index=False).schema

    return schema


@dataclass
class StoredOutput:
    """What a ``run_stored`` job staged (rows, sha256 and summary per output and partition key), each asset's
    partial and each side group's result."""

    counts: dict[str, dict[str, int]]
    digests: dict[str, dict[str, str]]
    partials: dict[str, Any] = field(default_factory=dict)
    """Asset -> what the ``partial`` returned for it, by symbol."""
    sides: dict[str, Any] = field(default_factory=dict)
    summaries: dict[str, dict[str, Summary]] = field(default_factory=dict)
    """Output -> partition key -> what its rows are (``partsummary.partition_summary``), made by the task that
    staged its file."""


def _collected(
    collected: pd.DataFrame, store: PartitionStore, outputs: Mapping[str, Staging], empty: Callable[[str], pa.Schema]
) -> StoredOutput:
    """The job's results: an asset's error raised as itself (the first by symbol, then a write's), an empty file
    staged for each key no row fell on, counts, digests, summaries, partials and side results."""
    found: dict[str, dict[str, Any]] = {_RAISED: {}, _PARTIAL: {}, _SCHEMA: {}, _WRITE: {}, _SIDE: {}}
    for group, name, payload in zip(collected["group"], collected["name"], collected["payload"], strict=True):
        if group == _SCHEMA:
            found[group][str(name)] = payload
        elif group in (_RAISED, _PARTIAL):
            found[group][str(name)] = unpack(payload)
        else:
            kind = _SIDE if group.startswith(_SIDE) else _WRITE
            found[kind][group[len(kind) :]] = unpack(payload)
    for culprit in sorted(found[_RAISED]):
        found[_RAISED][culprit].reraise()
    result = StoredOutput({}, {}, dict(sorted(found[_PARTIAL].items())), found[_SIDE])
    for name, staging in outputs.items():
        written = {k.partition("\x00")[2]: v for k, v in found[_WRITE].items() if k.partition("\x00")[0] == name}
        stray = sorted(set(written) - set(staging.keys))
        if stray:
            raise EngineError(f"engine: Spark staged {name} partition(s) the write does not name, e.g. {stray[:3]}")
        counts = {k: int(v[0]) for k, v in written.items()}
        digests = {k: str(v[1]) for k, v in written.items()}
        summaries = {k: v[3] for k, v in written.items()}
        missing = [k for k in staging.keys if k not in written]
        if missing:  # the schema of the output's other files; if none has a row, of the first asset's output
            given = [found[_SCHEMA][k] for k in sorted(found[_SCHEMA]) if k.partition("\x00")[0] == name]
            given = [written[k][2] for k in sorted(written)] + given
            schema = pa.ipc.read_schema(pa.py_buffer(given[0])) if given else empty(name)
            for key in missing:
                digests[key], counts[key] = store.stage(staging, key, schema.empty_table()), 0
                summaries[key] = partition_summary(schema.empty_table())
        result.counts[name], result.digests[name] = counts, digests
        result.summaries[name] = {k: summaries[k] for k in staging.keys}
    return result


__all__ = ["Sides", "StepCall", "StoredInput", "StoredOutput", "run_stored", "stored_input"]
