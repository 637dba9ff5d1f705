"""The partitioned Parquet store on S3: ``io_managers.PartitionStore``'s commit semantics over objects.

Objects under ``s3://<bucket>/<prefix>/<asset key path>/``, the local store's layout::

    <partition key>.<generation>.parquet  one object per partition per write (immutable)
    _commits/<generation>.json            the commit record of one write, PUT last
    _inflight/<generation>.json           who is writing a generation that is not committed yet

A write announces its generation (``_inflight``), uploads every partition object, then PUTs its commit
record: one PUT is atomic on S3, so readers, which resolve partitions through the commit records listed
afresh on every index, see every partition of a write or none. A writer killed in between leaves objects
no commit names; the next write of the asset removes them once the writer is gone (a writer on another
host counts as gone ``FOREIGN_WRITER_SECONDS`` after it started). Superseded generations are removed
after each commit, never an object a current commit names.

Partition objects and commit records never change once written, so reads go through a local cache that
mirrors the layout (``S3Location.cache_path``): ``files`` downloads what it lacks and returns local paths,
and every reader of ``PartitionStore.files`` (``read_files``, ``recorded_digests``, ``read_attested``)
works unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from portfolio_assets.fsutil import local_writer, process_alive, write_atomically, writer_identity
from portfolio_assets.io_managers import COMMITS, INFLIGHT, Commit, PartitionStore, Staging, _Index, _new_generation
from portfolio_assets.objectstore import ObjectStoreError, S3Location

FOREIGN_WRITER_SECONDS = 24 * 3600.0
"""An in-flight record of another host is taken as a dead writer's after this long (no write lasts a day)."""
TRANSFER_THREADS = 8
"""Concurrent uploads of one write's partitions, and downloads of one read's."""


def _writer_alive(data: bytes, now: float) -> bool:
    """Whether the writer an in-flight record announces still runs (this host: its process; else: its age)."""
    try:
        record = json.loads(data)
        pid = int(record["pid"])
        started = float(record.get("started", now))
    except (ValueError, KeyError, TypeError):
        return False
    if not local_writer(record):  # another host's or container's: its age says
        return now - started < FOREIGN_WRITER_SECONDS
    return process_alive(pid)


class S3PartitionStore(PartitionStore):
    """``PartitionStore`` over an ``S3Location``: the objects are the system of record, the cache a copy."""

    def __init__(self, base_dir: S3Location) -> None:  # type: ignore[override]
        self.root = base_dir
        self.base_dir = base_dir.cache_path()

    def location(self, asset_path: Sequence[str] = ()) -> str:
        return str(self.root / "/".join(asset_path)) if asset_path else str(self.root)

    # ------------------------------------------------------------------ index

    def _index(self, asset_path: Sequence[str]) -> _Index:
        index = _Index()
        folder = "/".join(asset_path)
        for name in sorted(self.root.list(f"{folder}/{COMMITS}")):
            if "/" in name[len(folder) + len(COMMITS) + 2 :] or not name.endswith(".json"):
                continue
            local = self.root.cached(name)  # a commit record never changes: the listing decides what counts
            try:
                commit = Commit.from_path(local)
            except ValueError as exc:
                raise ValueError(f"{self.root / name}: unreadable commit record; the store needs repair") from exc
            index.commits.append(commit)
            for key in commit.partitions:
                index.latest[key] = commit
        return index

    # ------------------------------------------------------------------ write

    def begin(self, asset_path: Sequence[str], partition_keys: Sequence[str], *, granularity: str) -> Staging:
        """``PartitionStore.begin`` on S3: the in-flight record says when the writer started, for other hosts."""
        self._check_granularity("/".join(asset_path), self._index(asset_path).latest, granularity)
        self.collect_garbage(asset_path)
        staging = Staging(tuple(asset_path), _new_generation(), tuple(partition_keys), granularity)
        announce = {**writer_identity(), "started": time.time()}
        self.root.put(self._inflight(staging), json.dumps(announce).encode())
        return staging

    def _inflight(self, staging: Staging) -> str:
        return f"{'/'.join(staging.asset_path)}/{INFLIGHT}/{staging.generation}.json"

    def stage(self, staging: Staging, key: str, table: pa.Table, *, cache: bool = False) -> str:
        """Upload partition ``key`` of ``staging`` (and, with ``cache``, keep a complete copy in this host's cache);
        the sha256 of the bytes uploaded. Safe in any process that reaches the bucket (a Spark executor)."""
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
        self.root.put(f"{'/'.join(staging.asset_path)}/{key}.{staging.generation}.parquet", data)
        if cache:
            write_atomically(self.path(staging.asset_path, key, staging.generation), data)
        return hashlib.sha256(data).hexdigest()

    def stage_all(self, staging: Staging, parts: Mapping[str, pa.Table]) -> dict[str, str]:
        """``stage`` every partition, ``TRANSFER_THREADS`` uploads at once, each kept in the cache too."""
        self.path(staging.asset_path, "x", staging.generation).parent.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(TRANSFER_THREADS, thread_name_prefix="s3-upload") as pool:
            futures = {key: pool.submit(self.stage, staging, key, part, cache=True) for key, part in parts.items()}
            return {key: future.result() for key, future in futures.items()}

    def _publish(self, staging: Staging, commit: Commit) -> None:
        # One PUT is atomic: readers, which list the commit records afresh, see every partition or none.
        self.root.put(f"{'/'.join(staging.asset_path)}/{COMMITS}/{staging.generation}.json", commit.to_json())
        with contextlib.suppress(ObjectStoreError):
            self.root.delete([self._inflight(staging)])

    def abort(self, staging: Staging) -> None:
        """Give up a write: delete its uploaded objects unless its commit record may have landed (then what is
        left is a dead writer's, for the next write's collection), its cached copies and its in-flight record."""
        folder = "/".join(staging.asset_path)
        suffix = f".{staging.generation}.parquet"
        with contextlib.suppress(ObjectStoreError):
            if not staging.committing:
                self.root.delete([k for k in self.root.list(folder) if k.endswith(suffix)])
            self.root.delete([self._inflight(staging)])
        for path in self.folder(staging.asset_path).glob(f"*{suffix}"):
            path.unlink(missing_ok=True)

    def collect_garbage(self, asset_path: Sequence[str]) -> list[Path]:  # type: ignore[override]
        """Remove objects no current commit needs: superseded generations and dead writers' leftovers (and
        their cached copies). Returns the cache paths of the partition objects removed."""
        folder = "/".join(asset_path)
        depth = folder.count("/") + 1
        # Objects first, then writers, then commits: the order of the local store, for the same reasons.
        files = [k for k in self.root.list(folder) if k.endswith(".parquet") and k.count("/") == depth]
        now = time.time()
        records = [k for k in self.root.list(f"{folder}/{INFLIGHT}") if k.endswith(".json")]
        running = {k.rsplit("/", 1)[-1].removesuffix(".json") for k in records if self._alive(k, now) is not False}
        index = self._index(asset_path)
        live = {(key, commit.generation) for key, commit in index.latest.items()}
        doomed: list[str] = []
        for relative in files:
            key, _, rest = relative.rsplit("/", 1)[-1].partition(".")
            generation = rest.removesuffix(".parquet")
            if (key, generation) not in live and generation not in running:
                doomed.append(relative)
        current = {c.generation for c in index.latest.values()}
        stale = [f"{folder}/{COMMITS}/{c.generation}.json" for c in index.commits if c.generation not in current]
        # Asked again, not taken from ``running``: a writer may have announced itself since.
        dead = [
            k
            for k in self.root.list(f"{folder}/{INFLIGHT}")
            if k.endswith(".json")
            and k.rsplit("/", 1)[-1].removesuffix(".json") not in running
            and self._alive(k, time.time()) is False
        ]
        self.root.delete([*doomed, *stale, *dead])
        removed = []
        for relative in [*doomed, *stale]:
            path = self.base_dir.joinpath(*relative.split("/"))
            path.unlink(missing_ok=True)
            if relative in doomed:
                removed.append(path)
        return removed

    def _alive(self, record: str, now: float) -> bool | None:
        """Whether the writer of in-flight record ``record`` runs; None when the record is gone already."""
        try:
            return _writer_alive(self.root.get(record), now)
        except FileNotFoundError:
            return None

    # ------------------------------------------------------------------ read

    def files(
        self, asset_path: Sequence[str], partition_keys: Sequence[str], *, granularity: str | None = None
    ) -> dict[str, Path]:
        """``PartitionStore.files``, each committed object downloaded into the cache if it is not there."""
        found = super().files(asset_path, partition_keys, granularity=granularity)
        folder = "/".join(asset_path)
        lacking = [path for path in found.values() if not path.is_file()]
        if lacking:
            with ThreadPoolExecutor(TRANSFER_THREADS, thread_name_prefix="s3-download") as pool:
                for future in [pool.submit(self.root.download, f"{folder}/{p.name}", p) for p in lacking]:
                    future.result()
        return found

    def read_table(self, asset_path: Sequence[str], name: str) -> pa.Table:
        """Partition object ``name`` as Arrow, read from the bucket (not the cache: executors have none)."""
        return pq.read_table(pa.BufferReader(self.root.get(f"{'/'.join(asset_path)}/{name}")))

    def files_by_name(self, asset_path: Sequence[str], names: Sequence[str]) -> list[Path]:
        """Cached copies of objects ``names``, downloaded if the cache lacks them."""
        found = [self.folder(asset_path) / n for n in names]
        for path in found:
            if not path.is_file():
                self.root.download(f"{'/'.join(asset_path)}/{path.name}", path)
        return found
