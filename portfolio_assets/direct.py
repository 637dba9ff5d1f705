"""A heavy step on Spark with no dataset passing through the driver (``EngineResource.store_to_store``).

With storage every executor reaches (S3, or a directory mounted at the same path everywhere), one Spark job
does what the in-process step does between its input and its output::

    files of the input's partitions --mapInPandas--> each asset's rows of a batch of files   (read by executors)
        --groupBy(asset).applyInPandas--> the step's function on the asset, its check partial (executors)
        --groupBy(partition key).applyInPandas--> each output partition file, staged in the store (executors)

The driver only names the files (``StoredInput``), starts the write (``PartitionStore.begin``), and gets back
each partition's row count and sha256 and each asset's check partial (small); the step then merges the
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

from portfolio_assets.engine import EngineError, _guarded, _Raised, pack, unpack
from portfolio_assets.io_managers import PartitionStore, Staging
from portfolio_assets.partitions import partition_keys_of

_ROWS = "group string, name string, seq long, payload binary"
_RAISED = "\x00raised"
_PARTIAL = "\x00partial"
FILES_PER_BATCH = 64
"""Input files one read task opens (their rows reach the asset tasks as one piece per asset)."""


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


@dataclass
class StoredOutput:
    """What a ``store_to_store`` job staged: rows and sha256 per partition key, each asset's partial."""

    staging: Staging
    counts: dict[str, int]
    digests: dict[str, str]
    partials: dict[str, Any] = field(default_factory=dict)
    """Asset -> what the step's ``partial`` returned for it, in asset order."""


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
                tables = [_kept(store.read_table(source.asset_path, n), source) for n in names]
                table = pa.concat_tables(tables, promote_options="permissive")
                symbols = table.column("asset_symbol").to_pandas()
                for symbol, idx in (
                    pd.Series(range(len(symbols))).groupby(symbols.to_numpy(), sort=False).indices.items()
                ):
                    rows.append((str(symbol), source.name, seq, _ipc(table.take(pa.array(idx)))))
            yield pd.DataFrame(rows, columns=["group", "name", "seq", "payload"])

    return read


def _compute(
    store_keys: Sequence[str],
    granularity: str,
    inputs: Sequence[StoredInput],
    function: Callable[..., pd.DataFrame],
    partial: Callable[..., Any] | None,
    window: tuple[pd.Timestamp, pd.Timestamp],
    shared: Mapping[str, Any] | Any,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The per-asset ``applyInPandas`` function: the asset's pieces in, its output cut by partition key out (and
    its partial, or what the function raised)."""
    wanted = set(store_keys)

    def compute(pieces: pd.DataFrame) -> pd.DataFrame:
        asset = str(pieces["group"].iloc[0])
        frames = {}
        for source in inputs:
            mine = pieces[pieces["name"] == source.name].sort_values("seq", kind="stable")
            tables = [pa.ipc.read_schema(pa.py_buffer(source.schema)).empty_table()]
            tables += [_from_ipc(p) for p in mine["payload"]]
            frames[source.name] = pa.concat_tables(tables, promote_options="permissive").to_pandas()
        common = shared if isinstance(shared, Mapping) else shared.value
        out = _guarded(_windowed, function, window, frames, common)
        if not isinstance(out, _Raised):
            keys = partition_keys_of(out["timestamp"], granularity)
            stray = sorted(set(keys.unique()) - wanted)
            if stray:
                out = _Raised(ValueError(f"{len(stray)} output partition(s) outside the run's, e.g. {stray[:3]}"))
        if not isinstance(out, _Raised) and partial is not None:
            done = _guarded(partial, out, **frames, **common)
        else:
            done = None
        if isinstance(out, _Raised) or isinstance(done, _Raised):
            return pd.DataFrame(
                {
                    "group": [_RAISED],
                    "name": [asset],
                    "seq": [0],
                    "payload": [pack(out if isinstance(out, _Raised) else done)],
                }
            )
        rows = [(_PARTIAL, asset, 0, pack(done))]
        for key, idx in pd.Series(range(len(out))).groupby(keys.to_numpy(), sort=False).indices.items():
            rows.append((str(key), asset, 0, pack(out.iloc[idx].reset_index(drop=True))))
        return pd.DataFrame(rows, columns=["group", "name", "seq", "payload"])

    return compute


def _windowed(
    function: Callable[..., pd.DataFrame],
    window: tuple[pd.Timestamp, pd.Timestamp],
    frames: Mapping[str, pd.DataFrame],
    shared: Mapping[str, Any],
) -> pd.DataFrame:
    stamps = (out := function(**frames, **shared))["timestamp"]
    return out[(stamps >= window[0]) & (stamps < window[1] + pd.Timedelta(days=1))].reset_index(drop=True)


def _write(store: PartitionStore, staging: Staging, order: Sequence[str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The per-key ``applyInPandas`` function: the key's rows of every asset in, its file staged, (rows, sha256,
    schema) out; the partials and errors pass through."""

    def write(rows: pd.DataFrame) -> pd.DataFrame:
        key = str(rows["group"].iloc[0])
        if key in (_PARTIAL, _RAISED):
            return rows
        parts = [unpack(p) for p in rows.sort_values("name", kind="stable")["payload"]]
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        if order:
            frame = frame.sort_values(list(order), kind="stable", ignore_index=True)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        digest = store.stage(staging, key, table)
        payload = pack((table.num_rows, digest, table.schema.serialize().to_pybytes()))
        return pd.DataFrame({"group": [key], "name": [""], "seq": [0], "payload": [payload]})

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
    function: Callable[..., pd.DataFrame],
    inputs: Sequence[StoredInput],
    *,
    store: PartitionStore,
    staging: Staging,
    window: tuple[pd.Timestamp, pd.Timestamp],
    shared: Mapping[str, Any] | None = None,
    partial: Callable[..., Any] | None = None,
    order: Sequence[str] = ("asset_symbol", "timestamp"),
) -> StoredOutput:
    """Run ``function(**inputs, **shared)`` per asset on ``engine``'s Spark session, its rows cut to ``window``,
    and stage every partition of ``staging`` in ``store`` from the executors (``partial(out, **inputs, **shared)``
    per asset, returned to the driver); the caller commits or aborts ``staging``."""
    shared = dict(shared or {})
    spark = engine.session()
    tasks = 2 * engine.parallelism()
    job = batches(inputs)
    connect = type(spark).__module__.startswith("pyspark.sql.connect")
    with engine._job(spark, getattr(function, "__name__", "a function"), tasks):
        common = shared if connect or not shared else spark.sparkContext.broadcast(shared)
        try:
            frame = spark.createDataFrame(job, schema=_ROWS) if len(job) else None
            if frame is None:
                collected = pd.DataFrame(columns=["group", "name", "seq", "payload"])
            else:
                pieces = frame.repartition(min(len(job), tasks)).mapInPandas(_read_batches(store, inputs), _ROWS)
                compute = _compute(staging.keys, staging.granularity, inputs, function, partial, window, common)
                out = pieces.groupBy("group").applyInPandas(compute, _ROWS)
                collected = out.groupBy("group").applyInPandas(_write(store, staging, order), _ROWS).toPandas()
        finally:
            if common is not shared and not connect:
                common.destroy()
    return _collected(collected, store, staging, _empty_output(function, inputs, window, shared))


def _empty_output(
    function: Callable[..., pd.DataFrame],
    inputs: Sequence[StoredInput],
    window: tuple[pd.Timestamp, pd.Timestamp],
    shared: Mapping[str, Any],
) -> Callable[[], pa.Schema]:
    """The schema of the function's output on inputs without rows (for a run whose output has none)."""

    def schema() -> pa.Schema:
        frames = {s.name: pa.ipc.read_schema(pa.py_buffer(s.schema)).empty_table().to_pandas() for s in inputs}
        return pa.Table.from_pandas(_windowed(function, window, frames, shared), preserve_index=False).schema

    return schema


def _collected(
    collected: pd.DataFrame, store: PartitionStore, staging: Staging, empty: Callable[[], pa.Schema]
) -> StoredOutput:
    """The job's results: an asset's error raised as itself (the first by symbol), an empty file staged for
    each key no row fell on (the schema of the others'), each key's rows and sha256 and each asset's partial."""
    found: dict[str, dict[str, Any]] = {_RAISED: {}, _PARTIAL: {}, "": {}}
    for group, name, payload in zip(collected["group"], collected["name"], collected["payload"], strict=True):
        kind = group if group in (_RAISED, _PARTIAL) else ""
        found[kind][str(name) if kind else str(group)] = unpack(payload)
    for asset in sorted(found[_RAISED]):
        found[_RAISED][asset].reraise()
    written = found[""]
    lost = sorted(set(written) - set(staging.keys))
    if lost:
        raise EngineError(f"engine: Spark staged partition(s) the write does not name, e.g. {lost[:3]}")
    counts = {k: int(v[0]) for k, v in written.items()}
    digests = {k: str(v[1]) for k, v in written.items()}
    missing = [k for k in staging.keys if k not in written]
    if missing:
        shared = next((pa.ipc.read_schema(pa.py_buffer(v[2])) for v in written.values()), None) or empty()
        for key in missing:
            digests[key] = store.stage(staging, key, shared.empty_table())
            counts[key] = 0
    partials = found[_PARTIAL]
    return StoredOutput(staging, counts, digests, {a: partials[a] for a in sorted(partials)})


__all__ = ["StoredInput", "StoredOutput", "run_stored", "stored_input"]
