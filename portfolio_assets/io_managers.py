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
import re
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
from portfolio_assets.partsummary import Summary, attach, partition_summary
from portfolio_assets.resources import StorageResource
from portfolio_assets.settings import DATA_DIR_ENV, PARTITIONS_ENV
from portfolio_assets.storecommit import (
    BLOCKED_BY,
    COMMITS,
    EXCLUDED_ASSETS,
    INFLIGHT,
    VALIDATED,
    BlockedPartitionError,
    Commit,
)
from portfolio_assets.storefiles import file_rows, files_schema, read_attested, read_files, recorded_digests

__all__ = [  # the store's vocabulary, importable from here
    "BLOCKED_BY",
    "COMMITS",
    "EXCLUDED_ASSETS",
    "INFLIGHT",
    "VALIDATED",
    "BlockedPartitionError",
    "Commit",
    "PartitionStore",
    "PartitionedParquetIOManager",
    "Staging",
    "file_rows",
    "files_schema",
    "read_attested",
    "read_files",
    "recorded_digests",
]


@dataclass
class Staging:
    """A write in progress (``PartitionStore.begin``): its generation, announced as in flight, and the partition
    keys its commit will name. Its files may be staged by any process that can reach the store (a Spark
    executor); only ``commit`` makes them visible."""

    asset_path: tuple[str, ...]
    generation: str
    keys: tuple[str, ...]
    granularity: str
    committing: bool = False
    """Set once the commit record is being written: from then on a failure deletes nothing it names."""


@dataclass
class _Index:
    """Each partition's newest commit."""

    latest: dict[str, Commit] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)


_STAGED_TMP = re.compile(r"^\.[^.]+\.(?P<generation>\d{20}-[0-9a-f]{8})\.parquet\.[0-9a-f]{8}\.tmp$")
"""The name ``stage`` writes a partition file under before renaming it into place."""


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
    ) -> dict[str, Summary]:
        """Store ``frame`` split by the partition (day, or month: ``granularity``) of its ``timestamp`` column,
        as one commit; return each key's summary (``partsummary``: its ``rows``, assets, days and a preview).

        Every key gets a file (an empty one where no row falls on it). A row whose
        partition is not one of ``partition_keys`` is an error, and nothing is written.
        ``validated`` (the fingerprint of a validation ``frame`` passed) is recorded with each file's sha256.
        """
        keys = list(partition_keys)
        table, positions = self._split(asset_path, frame, keys, granularity)
        staging = self.begin(asset_path, keys, granularity=granularity)
        try:
            parts = {k: table.take(pa.array(positions[k])) if k in positions else table.slice(0, 0) for k in keys}
            digests = self.stage_all(staging, parts)
            self.commit(
                staging, digests=digests, run_id=run_id, blocked_by=blocked_by, excluded=excluded, validated=validated
            )
        except BaseException:
            self.abort(staging)
            raise
        return {k: partition_summary(parts[k]) for k in keys}

    def begin(self, asset_path: Sequence[str], partition_keys: Sequence[str], *, granularity: str) -> Staging:
        """Start a write of ``partition_keys``: collect garbage, then announce a new generation as in flight."""
        self._check_granularity("/".join(asset_path), self._index(asset_path).latest, granularity)
        folder = self.folder(asset_path)
        (folder / COMMITS).mkdir(parents=True, exist_ok=True)
        (folder / INFLIGHT).mkdir(parents=True, exist_ok=True)
        self.collect_garbage(asset_path)
        staging = Staging(tuple(asset_path), _new_generation(), tuple(partition_keys), granularity)
        write_atomically(folder / INFLIGHT / f"{staging.generation}.json", json.dumps(writer_identity()).encode())
        return staging

    def stage(self, staging: Staging, key: str, table: pa.Table) -> str:
        """Write partition ``key`` of ``staging`` (invisible until committed); the sha256 of the bytes written.
        Safe in any process that sees the store's directory (a Spark executor on a shared file system)."""
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue()
        target = self.path(staging.asset_path, key, staging.generation)
        # Renamed into place: a retried or speculative copy of a Spark task writes the same bytes beside it.
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with tmp.open("wb") as out:
                out.write(data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return hashlib.sha256(data).hexdigest()

    def stage_all(self, staging: Staging, parts: Mapping[str, pa.Table]) -> dict[str, str]:
        """``stage`` every partition of ``parts``; each key's sha256."""
        return {key: self.stage(staging, key, part) for key, part in parts.items()}

    def commit(
        self,
        staging: Staging,
        *,
        digests: Mapping[str, str],
        run_id: str = "",
        blocked_by: Sequence[str] = (),
        excluded: Mapping[str, str] | None = None,
        validated: str = "",
    ) -> Commit:
        """Make every staged partition visible at once (the commit record, written last), then collect the
        generations it supersedes. ``digests`` (each key's sha256) are recorded with ``validated`` only."""
        missing = [k for k in staging.keys if k not in digests]
        if missing:
            raise ValueError(f"{'/'.join(staging.asset_path)}: partition(s) {missing[:3]} were not staged")
        commit = Commit(
            generation=staging.generation,
            partitions=staging.keys,
            run_id=run_id,
            blocked_by=tuple(blocked_by),
            excluded=dict(excluded or {}),
            committed_at=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            granularity=staging.granularity,
            validated=validated,
            digests={k: digests[k] for k in staging.keys} if validated else {},
        )
        staging.committing = True
        self._publish(staging, commit)
        self.collect_garbage(staging.asset_path)
        return commit

    def _publish(self, staging: Staging, commit: Commit) -> None:
        folder = self.folder(staging.asset_path)
        fsync_dir(folder)
        write_atomically(folder / COMMITS / f"{staging.generation}.json", commit.to_json())
        (folder / INFLIGHT / f"{staging.generation}.json").unlink(missing_ok=True)

    def abort(self, staging: Staging) -> None:
        """Give up a write: remove its staged files (unless its commit may have been written) and its in-flight
        record."""
        folder = self.folder(staging.asset_path)
        if not staging.committing:
            for path in [
                *folder.glob(f"*.{staging.generation}.parquet"),
                *folder.glob(f".*.{staging.generation}.*.tmp"),
            ]:
                path.unlink(missing_ok=True)
        (folder / INFLIGHT / f"{staging.generation}.json").unlink(missing_ok=True)

    def _split(self, asset_path: Sequence[str], frame: pd.DataFrame, keys: list[str], granularity: str) -> tuple:
        """``frame`` as Arrow and each key's row positions, once a ``timestamp`` and no row outside ``keys`` are
        checked (every write; ``begin`` checks the store's granularity)."""
        name = "/".join(asset_path)
        if "timestamp" not in frame.columns:
            raise ValueError(f"{name}: output has no 'timestamp' column to partition by")
        day = partition_keys_of(frame["timestamp"], granularity)
        stray = sorted(set(day.unique()) - set(keys))
        if stray:
            where = f"{keys[0]}..{keys[-1]}, e.g. {stray[:3]}"
            raise ValueError(f"{name}: {len(stray)} output partition(s) outside the run's partitions {where}")
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
            staged = _STAGED_TMP.match(path.name)  # a file being staged (a Spark task's) is its generation's
            if staged is None or staged["generation"] not in running:
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
        return self.locate(asset_path, partition_keys, granularity=granularity)

    def locate(
        self, asset_path: Sequence[str], partition_keys: Sequence[str], *, granularity: str | None = None
    ) -> dict[str, Path]:
        """``files`` without fetching anything: where each committed file is (its cache path, for a remote store),
        for processes that read them themselves (``read_table``)."""
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

    def read_table(self, asset_path: Sequence[str], name: str) -> pa.Table:
        """Partition file ``name`` (a ``locate`` path's name) as Arrow, read where it is stored; safe in any
        process that sees the store (a Spark executor)."""
        return pq.read_table(self.folder(asset_path) / name)

    def schema_of(self, asset_path: Sequence[str], names: Sequence[str]) -> pa.Schema:
        """What ``read_files`` of files ``names`` gives them: their schemas promoted, read from one file per write
        (the files of one write share the schema of the frame they were cut from)."""
        one = {name.partition(".")[2]: name for name in names}
        return files_schema([self.files_by_name(asset_path, [n])[0] for n in one.values()])

    def files_by_name(self, asset_path: Sequence[str], names: Sequence[str]) -> list[Path]:
        """Local copies of files ``names`` (the files themselves here)."""
        return [self.folder(asset_path) / n for n in names]


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
        summaries = self.store.write(
            context.asset_key.path,
            obj,
            keys,
            run_id=context.run_id,
            blocked_by=failed,
            excluded=excluded,
            granularity=granularity_of(context.asset_partitions_def),
            validated="" if failed else validated_by(context.output_metadata or {}),
        )
        # Each partition's own rows on its own event (Dagster builds the events once this returns).
        attach(context.step_context.add_asset_metadata, context.asset_key, summaries)
        context.add_output_metadata(
            {
                "run_partitions_written": len(summaries),
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
