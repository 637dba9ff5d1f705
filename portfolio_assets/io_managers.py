"""Partitioned Parquet store with commit semantics: a run's partitions are visible all at once or not at all.

Layout under ``<data dir>/<asset key path>/``::

    <partition key>.<generation>.parquet  one file per partition (month or day) per write
    _commits/<generation>.json            the commit record of one write, written last
    _inflight/<generation>.json           who is writing a generation that is not committed yet

A write (one run's output of one asset: many partitions in a single-run
backfill) stages every partition file under a fresh *generation* name, then
writes its commit record atomically (temporary file, ``fsync``, ``os.replace``).
Readers resolve each partition through the newest commit record that lists it,
so they see every partition of a write or none: a run killed in the middle
leaves files no commit names, which no reader takes and the next write of that
asset removes (after checking the writer is gone). Files of older generations
are removed once a newer commit supersedes every partition they held.

A commit also records the blocking checks that failed on the data it holds
(the asset passes them as ``blocked_by`` output metadata). Such a partition is
stored, for diagnosis, but never read downstream: a read refuses it, naming the
checks and the run, until a later write replaces it. An output that passed a
validation carries its fingerprint (``validated`` output metadata): the commit
records it with the sha256 of each file written, so a reader can tell the
validated bytes are the ones it reads (``recorded_digests``, ``read_attested``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import ConfigurableIOManager, InputContext, OutputContext

from portfolio_assets.fsutil import fsync_dir, local_writer, process_alive, write_atomically, writer_identity
from portfolio_assets.partitions import granularity_of, partition_keys_of
from portfolio_assets.resources import StorageResource
from portfolio_assets.settings import DATA_DIR_ENV, PARTITIONS_ENV

COMMITS = "_commits"
INFLIGHT = "_inflight"
BLOCKED_BY = "blocked_by"
"""Output metadata key: the blocking checks that failed on the output (comma-separated names)."""
EXCLUDED_ASSETS = "excluded_assets"
"""Output metadata key: universe assets left out of the output because a source failed (``{symbol: why}``)."""
VALIDATED = "validated"
"""Output metadata key: the fingerprint of the validation the output passed (``schemas.attestation``)."""


class BlockedPartitionError(RuntimeError):
    """A requested partition was stored by a write whose blocking checks failed."""


@dataclass(frozen=True)
class Commit:
    """The record of one committed write."""

    generation: str
    partitions: tuple[str, ...]
    run_id: str = ""
    blocked_by: tuple[str, ...] = ()
    committed_at: str = ""
    excluded: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Universe assets the write left out because a source failed, and why."""
    granularity: str = "daily"
    """The span of each partition key (``daily`` or ``monthly``); a record without one is from a daily store."""
    validated: str = ""
    """The fingerprint of the validation the written frame passed ("": none recorded, as in older records)."""
    digests: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Partition key -> sha256 (hex) of its file as written; recorded with ``validated`` only."""

    def to_json(self) -> bytes:
        data: dict[str, object] = {
            "generation": self.generation,
            "run_id": self.run_id,
            "blocked_by": list(self.blocked_by),
            "excluded": dict(self.excluded),
            "committed_at": self.committed_at,
            "granularity": self.granularity,
        }
        if self.validated:
            data |= {"validated": self.validated, "digests": dict(self.digests)}
        return json.dumps({**data, "partitions": list(self.partitions)}, indent=0).encode()

    @classmethod
    def from_path(cls, path: Path) -> Commit:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                generation=str(data["generation"]),
                partitions=tuple(str(k) for k in data["partitions"]),
                run_id=str(data.get("run_id", "")),
                blocked_by=tuple(str(c) for c in data.get("blocked_by", [])),
                committed_at=str(data.get("committed_at", "")),
                excluded={str(k): str(v) for k, v in dict(data.get("excluded", {})).items()},
                granularity=str(data.get("granularity", "daily")),
                validated=str(data.get("validated", "")),
                digests={str(k): str(v) for k, v in dict(data.get("digests", {})).items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: unreadable commit record ({exc}); the store needs repair") from exc


@dataclass
class _Index:
    """Each partition's newest commit."""

    latest: dict[str, Commit] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)


def _new_generation() -> str:
    # Sortable: nanoseconds since the epoch, then a random suffix against collisions.
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


def _writer_alive(record: Path) -> bool:
    """Whether the process that announced an in-flight generation still runs (on this host)."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not local_writer(data):
        return True  # another machine's (or container's) writer: never collected from here
    return process_alive(pid)


class PartitionStore:
    """Read and write Parquet partitions (``YYYY-MM-DD`` keys of days or months) with commit semantics,
    usable without Dagster."""

    def __new__(cls, base_dir: str | os.PathLike[str] = "") -> PartitionStore:
        """A store on S3 (``s3store.S3PartitionStore``) when ``base_dir`` is an ``objectstore.S3Location``."""
        if cls is PartitionStore and getattr(base_dir, "scheme", None) == "s3":
            from portfolio_assets.s3store import S3PartitionStore

            return super().__new__(S3PartitionStore)
        return super().__new__(cls)

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        self.base_dir = Path(base_dir)

    def location(self, asset_path: Sequence[str] = ()) -> str:
        """Where the store (or an asset's folder) is, as messages and metadata show it."""
        return str(self.folder(asset_path))

    def folder(self, asset_path: Sequence[str]) -> Path:
        return self.base_dir.joinpath(*asset_path)

    def path(self, asset_path: Sequence[str], partition_key: str, generation: str) -> Path:
        return self.folder(asset_path) / f"{partition_key}.{generation}.parquet"

    # ------------------------------------------------------------------ index

    def _index(self, asset_path: Sequence[str]) -> _Index:
        index = _Index()
        commits_dir = self.folder(asset_path) / COMMITS
        if not commits_dir.is_dir():
            return index
        for record in sorted(commits_dir.glob("*.json")):
            commit = Commit.from_path(record)
            index.commits.append(commit)
            for key in commit.partitions:
                index.latest[key] = commit  # records sort by generation: the newest wins
        return index

    def keys(self, asset_path: Sequence[str]) -> list[str]:
        """Every committed partition key of the asset, sorted."""
        return sorted(self._index(asset_path).latest)

    def commits(self, asset_path: Sequence[str]) -> dict[str, Commit]:
        """Each committed partition key -> the commit holding its current version."""
        return dict(self._index(asset_path).latest)

    def commit_of(self, asset_path: Sequence[str], partition_key: str) -> Commit | None:
        """The commit that holds the current version of a partition (None: not materialised)."""
        return self._index(asset_path).latest.get(partition_key)

    def exclusions(self, asset_path: Sequence[str], partition_keys: Sequence[str]) -> dict[str, str]:
        """``{symbol: why}`` of the universe assets the current versions of ``partition_keys`` left out."""
        latest = self._index(asset_path).latest
        found: dict[str, str] = {}
        for key in partition_keys:
            commit = latest.get(key)
            if commit is not None:
                for symbol, why in commit.excluded.items():
                    found.setdefault(symbol, why)
        return dict(sorted(found.items()))

    # ------------------------------------------------------------------ write

    def write(
        self,
        asset_path: Sequence[str],
        frame: pd.DataFrame,
        partition_keys: Sequence[str],
        *,
        run_id: str = "",
        blocked_by: Sequence[str] = (),
        excluded: Mapping[str, str] | None = None,
        granularity: str = "daily",
        validated: str = "",
    ) -> dict[str, int]:
        """Store ``frame`` split by the partition (day, or month: ``granularity``) of its ``timestamp`` column,
        as one commit; return rows per key.

        Every key gets a file (an empty one where no row falls on it). A row whose
        partition is not one of ``partition_keys`` is an error, and nothing is written.
        ``validated`` (the fingerprint of a validation ``frame`` passed) is recorded with each file's sha256.
        """
        keys = list(partition_keys)
        table, positions = self._split(asset_path, frame, keys, granularity)
        folder = self.folder(asset_path)
        (folder / COMMITS).mkdir(parents=True, exist_ok=True)
        (folder / INFLIGHT).mkdir(parents=True, exist_ok=True)
        self.collect_garbage(asset_path)
        generation = _new_generation()
        inflight = folder / INFLIGHT / f"{generation}.json"
        write_atomically(inflight, json.dumps(writer_identity()).encode())
        counts: dict[str, int] = {}
        digests: dict[str, str] = {}
        staged: list[Path] = []
        try:
            for key in keys:
                idx = positions.get(key)
                part = table.take(pa.array(idx)) if idx is not None else table.slice(0, 0)
                target = self.path(asset_path, key, generation)
                staged.append(target)
                if validated:  # the bytes hashed are the bytes written
                    sink = pa.BufferOutputStream()
                    pq.write_table(part, sink)
                    data = sink.getvalue()
                    digests[key] = hashlib.sha256(data).hexdigest()
                    with target.open("wb") as out:
                        out.write(data)
                else:
                    pq.write_table(part, target)
                counts[key] = part.num_rows
            fsync_dir(folder)
            commit = Commit(
                generation=generation,
                partitions=tuple(keys),
                run_id=run_id,
                blocked_by=tuple(blocked_by),
                excluded=dict(excluded or {}),
                committed_at=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
                granularity=granularity,
                validated=validated,
                digests=digests,
            )
            write_atomically(folder / COMMITS / f"{generation}.json", commit.to_json())
        except BaseException:
            for path in staged:
                path.unlink(missing_ok=True)
            raise
        finally:
            inflight.unlink(missing_ok=True)
        self.collect_garbage(asset_path)
        return counts

    def _split(self, asset_path: Sequence[str], frame: pd.DataFrame, keys: list[str], granularity: str) -> tuple:
        """``frame`` as Arrow and each key's row positions, once a ``timestamp``, no row outside ``keys`` and the
        store's granularity are checked (every write)."""
        name = "/".join(asset_path)
        if "timestamp" not in frame.columns:
            raise ValueError(f"{name}: output has no 'timestamp' column to partition by")
        day = partition_keys_of(frame["timestamp"], granularity)
        stray = sorted(set(day.unique()) - set(keys))
        if stray:
            where = f"{keys[0]}..{keys[-1]}, e.g. {stray[:3]}"
            raise ValueError(f"{name}: {len(stray)} output partition(s) outside the run's partitions {where}")
        self._check_granularity(name, self._index(asset_path).latest, granularity)
        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        return table, pd.Series(range(len(frame))).groupby(day.to_numpy()).indices

    def collect_garbage(self, asset_path: Sequence[str]) -> list[Path]:
        """Remove files no current commit needs: superseded generations and dead writers' leftovers."""
        folder = self.folder(asset_path)
        if not folder.is_dir():
            return []
        # Files first, then writers, then commits: a concurrent writer records its generation as in flight
        # before it writes a file and commits before it withdraws that record, so a file listed here is
        # either in flight still, or committed (and in the index read after), or its writer died.
        files = list(folder.glob("*.parquet"))
        running = {p.stem for p in (folder / INFLIGHT).glob("*.json") if _writer_alive(p)}
        index = self._index(asset_path)
        live = {(key, commit.generation) for key, commit in index.latest.items()}
        removed = []
        for path in files:
            key, _, rest = path.name.partition(".")
            generation = rest.removesuffix(".parquet")
            if (key, generation) in live or generation in running:
                continue
            path.unlink(missing_ok=True)  # superseded, or left by a writer that died before its commit
            removed.append(path)
        for path in folder.glob(".*.tmp"):
            path.unlink(missing_ok=True)
            removed.append(path)
        current = {c.generation for c in index.latest.values()}
        for commit in index.commits:
            if commit.generation not in current:
                (folder / COMMITS / f"{commit.generation}.json").unlink(missing_ok=True)
        # Asked again, not taken from ``running``: a writer may have announced itself since (its record is new).
        for record in (folder / INFLIGHT).glob("*.json"):
            if record.stem not in running and not _writer_alive(record):
                record.unlink(missing_ok=True)
        return removed

    # ------------------------------------------------------------------ read

    @staticmethod
    def _check_granularity(name: str, latest: Mapping[str, Commit], granularity: str | None) -> None:
        """Refuse keys stored with another granularity: a monthly key names the same day as a daily one."""
        if granularity is None:
            return
        other = sorted({c.granularity for c in latest.values()} - {granularity})
        if other:
            raise ValueError(
                f"{name}: this store holds {other[0]} partitions and the code location uses {granularity} ones "
                f"({PARTITIONS_ENV}); point {DATA_DIR_ENV} at a store of {granularity} partitions, or "
                f"set {PARTITIONS_ENV}={other[0]}"
            )

    def read(
        self, asset_path: Sequence[str], partition_keys: Sequence[str], *, granularity: str | None = None
    ) -> pd.DataFrame:
        """Concatenate the committed partitions; a missing or blocked one is an error naming it, and so is one
        stored with another ``granularity`` than the one given."""
        return read_files(list(self.files(asset_path, partition_keys, granularity=granularity).values()))

    def files(
        self, asset_path: Sequence[str], partition_keys: Sequence[str], *, granularity: str | None = None
    ) -> dict[str, Path]:
        """Each partition key -> the file of its committed version, in the order given, for reading a few
        partitions or columns at a time (``read_files``); ``read``'s errors for a missing or blocked one."""
        name = "/".join(asset_path)
        if not partition_keys:
            raise ValueError(f"{name}: no partitions requested")
        index = self._index(asset_path)
        self._check_granularity(name, index.latest, granularity)
        missing = [k for k in partition_keys if k not in index.latest]
        if missing:
            raise FileNotFoundError(
                f"{name}: {len(missing)} partition(s) not materialised under {self.location()}, "
                f"e.g. {missing[:3]}; materialise them first"
            )
        blocked: dict[Commit, list[str]] = {}
        for key in partition_keys:
            commit = index.latest[key]
            if commit.blocked_by:
                blocked.setdefault(commit, []).append(key)
        if blocked:
            commit, keys = next(iter(blocked.items()))
            raise BlockedPartitionError(
                f"{name}: {sum(len(k) for k in blocked.values())} partition(s) failed blocking check(s) "
                f"{', '.join(commit.blocked_by)} in run {commit.run_id or '(unknown)'} "
                f"(e.g. {keys[0]}..{keys[-1]}) and are not read downstream; fix the cause and re-materialise them"
            )
        return {k: self.path(asset_path, k, index.latest[k].generation) for k in partition_keys}


def file_rows(path: Path) -> int:
    """The number of rows of a partition file (from its footer)."""
    return int(pq.read_metadata(path).num_rows)


def files_schema(paths: Sequence[Path]) -> pa.Schema:
    """The Arrow schema a read of all ``paths`` at once gives them (the files' schemas, promoted)."""
    return pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")


def read_files(
    paths: Sequence[Path], *, columns: Sequence[str] | None = None, schema: pa.Schema | None = None
) -> pd.DataFrame:
    """Concatenate partition files (``PartitionStore.files``), only ``columns`` if given. With ``schema`` (the
    ``files_schema`` of every file of a read done in parts), a part gets the dtypes the whole read gives."""
    cols = list(columns) if columns is not None else None
    return _frame([pq.read_table(p, columns=cols) for p in paths], cols, schema)


def recorded_digests(paths: Sequence[Path]) -> dict[Path, tuple[str, str]]:
    """Each partition file's (sha256, validation fingerprint) as its commit record holds them, for the files
    (``PartitionStore.files``) whose record has both; the others are left out."""
    records: dict[Path, Commit | None] = {}
    found: dict[Path, tuple[str, str]] = {}
    for path in paths:
        key, _, rest = path.name.partition(".")
        record = path.parent / COMMITS / f"{rest.removesuffix('.parquet')}.json"
        if record not in records:
            try:
                records[record] = Commit.from_path(record)
            except ValueError:
                records[record] = None
        commit = records[record]
        if commit is not None and commit.validated and key in commit.digests:
            found[path] = (commit.digests[key], commit.validated)
    return found


def read_attested(
    paths: Sequence[Path], *, schema: pa.Schema, recorded: Mapping[Path, tuple[str, str]]
) -> tuple[pd.DataFrame, str | None]:
    """``read_files(paths, schema=schema)``, each file's bytes read once (one file's at a time), and the
    validation fingerprint their commit records share if every file's bytes hash to its recorded sha256
    (``recorded_digests``), else None."""
    tables: list[pa.Table] = []
    vouched: set[str | None] = set()
    for path in paths:
        data = path.read_bytes()
        digest, fingerprint = recorded.get(path, ("", None))
        vouched.add(fingerprint if hashlib.sha256(data).hexdigest() == digest else None)
        tables.append(pq.read_table(pa.BufferReader(data)))
    return _frame(tables, None, schema), vouched.pop() if len(vouched) == 1 else None


def _frame(tables: list[pa.Table], columns: list[str] | None, schema: pa.Schema | None) -> pd.DataFrame:
    if schema is not None:
        fields = schema if columns is None else pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)
        tables.insert(0, fields.empty_table())
    return pa.concat_tables(tables, promote_options="permissive").to_pandas().reset_index(drop=True)


def excluded_assets(metadata: Mapping[str, object]) -> dict[str, str]:
    """The ``{symbol: why}`` an output carries in its ``excluded_assets`` metadata."""
    value = metadata.get(EXCLUDED_ASSETS)
    data = getattr(value, "data", getattr(value, "value", value))
    return {str(k): str(v) for k, v in dict(data).items()} if isinstance(data, Mapping) else {}


def validated_by(metadata: Mapping[str, object]) -> str:
    """The validation fingerprint an output carries in its ``validated`` metadata ("" if none)."""
    value = metadata.get(VALIDATED)
    text = getattr(value, "value", value)
    return str(text) if text else ""


def blocked_by(metadata: Mapping[str, object]) -> list[str]:
    """The failed blocking checks an output carries in its ``blocked_by`` metadata."""
    value = metadata.get(BLOCKED_BY)
    text = getattr(value, "value", value)
    return [c.strip() for c in str(text).split(",") if c.strip()] if text else []


class PartitionedParquetIOManager(ConfigurableIOManager):
    """Stores each partition of an asset as Parquet under the storage's data directory, one commit a run."""

    storage: StorageResource

    @property
    def store(self) -> PartitionStore:
        return PartitionStore(self.storage.store_root())

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj)!r}")
        if not context.has_asset_partitions:
            raise ValueError(f"{context.asset_key.to_user_string()}: this IO manager only stores partitioned assets")
        keys = list(context.asset_partition_keys)
        failed = blocked_by(context.output_metadata or {})
        excluded = excluded_assets(context.output_metadata or {})
        counts = self.store.write(
            context.asset_key.path,
            obj,
            keys,
            run_id=context.run_id,
            blocked_by=failed,
            excluded=excluded,
            granularity=granularity_of(context.asset_partitions_def),
            validated="" if failed else validated_by(context.output_metadata or {}),
        )
        context.add_output_metadata(
            {
                "partitions_written": len(counts),
                "stored_under": self.store.location(context.asset_key.path),
                "readable_downstream": not failed,
            }
        )

    def load_input(self, context: InputContext) -> pd.DataFrame:
        if not context.has_asset_partitions:
            raise ValueError(f"{context.asset_key.to_user_string()}: only partitioned inputs can be loaded")
        return self.store.read(
            context.asset_key.path,
            list(context.asset_partition_keys),
            granularity=granularity_of(context.asset_partitions_def),
        )
