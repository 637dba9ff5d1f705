"""Exports on S3: ``S3Sink`` (the ``Sink`` protocol) and how a reader finds, and fetches, the current export.

Layout under an export's location ``s3://<bucket>/<prefix>/exports/training_set_<first>_<last>_<format>_<digest>/``::

    v-<version>/manifest.json, README.md, csv/…, jsonl/…, parquet/…   one complete export per version
    v-<version>/_SUCCESS                  written after every file of the version
    CURRENT.json                          {"version", "prefix": "v-<version>/", "files": [{path, bytes, sha256}]}

The files are staged locally (``LocalSink`` under the cache directory, fsynced as written), then uploaded
under a fresh version prefix nobody reads; ``_SUCCESS`` follows, and ``CURRENT.json`` is PUT last: that
single PUT is the commit. Until then readers (who start from ``CURRENT.json``) keep the previous export,
whole. After it, the previous version is kept (a reader that has just read the old pointer can finish)
and older ones, and the leftovers of dead uploads, are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import time
import uuid
from pathlib import Path

from portfolio_assets.export.sink import LocalSink, StagedFile
from portfolio_assets.objectstore import ObjectStoreError, S3Location

__all__ = ["CURRENT", "SUCCESS", "S3Sink", "current_export", "fetch_export"]

CURRENT = "CURRENT.json"
"""The pointer to the current version of an export: PUT last, the commit."""
SUCCESS = "_SUCCESS"
"""Written into a version's folder once every file of it is uploaded (Hadoop's convention)."""
_VERSION = re.compile(r"v-[0-9]{20}-[0-9a-f]{8}")


def _new_version() -> str:
    return f"v-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


class S3Sink:
    """An export at an ``S3Location``: files staged locally, uploaded under a new version, committed by the
    ``CURRENT.json`` pointer. ``out_dir`` is the new version's location (what the export report names)."""

    def __init__(self, location: S3Location, *, marker: str) -> None:
        self.location = location
        self.marker = marker
        _check_target(location)
        self.version = _new_version()
        self.out_dir = location / self.version
        self._local = LocalSink(self.out_dir.cache_path(), marker=marker)
        self._uploaded: list[str] = []

    def write(self, relative_path: str, data: bytes) -> None:
        """Stage ``data`` as ``relative_path`` (``LocalSink.write``'s path rules)."""
        self._local.write(relative_path, data)

    def open(self, relative_path: str) -> StagedFile:
        """A staged file written in parts (``LocalSink.open``)."""
        return self._local.open(relative_path)

    def commit(self) -> None:
        """Upload every staged file under the new version, then ``_SUCCESS``, then ``CURRENT.json``."""
        self._local.commit()  # every file fsynced and in place locally
        folder = self._local.out_dir
        try:
            files = []
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                relative = path.relative_to(folder).as_posix()
                self._uploaded.append(f"{self.version}/{relative}")
                self.location.upload(f"{self.version}/{relative}", path)
                files.append({"path": relative, "bytes": path.stat().st_size, "sha256": _sha256(path)})
            if not any(f["path"] == self.marker for f in files):
                raise ValueError(f"{self.location}: the export has no {self.marker}; nothing is published")
            self._uploaded.append(f"{self.version}/{SUCCESS}")
            self.location.put(f"{self.version}/{SUCCESS}", b"")
            previous = _pointed_version(self.location)
            pointer = {"version": self.version, "prefix": f"{self.version}/", "files": files}
            self._uploaded = []  # from here the pointer may be stored even if the PUT fails: keep the version
            self.location.put(CURRENT, (json.dumps(pointer, indent=1, sort_keys=True) + "\n").encode())
        except BaseException:
            self.abort()
            raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        keep = {self.version, previous}
        versions = _versions(self.location)
        # Only versions older than a day: a younger one may be another export's, still uploading or about to
        # publish its pointer.
        cutoff = f"v-{time.time_ns() - STALE_AFTER_NS:020d}"
        stale = [k for k, v in versions.items() if v not in keep and v < min(self.version, cutoff)]
        with contextlib.suppress(ObjectStoreError):  # what stays is removed by the next export
            self.location.delete(stale)

    def abort(self) -> None:
        """Discard what was staged and uploaded; the current export stays as it was."""
        self._local.abort()
        with contextlib.suppress(ObjectStoreError):  # an unpublished version: removed by the next export
            self.location.delete(self._uploaded)
        self._uploaded = []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


STALE_AFTER_NS = 24 * 3600 * 10**9
"""How old an export version other than the current and the previous must be before an export removes it."""


def _versions(location: S3Location) -> dict[str, str]:
    """Each object under a version folder -> its version."""
    return {k: k.split("/", 1)[0] for k in location.list() if _VERSION.fullmatch(k.split("/", 1)[0])}


def _pointed_version(location: S3Location) -> str:
    try:
        return str(json.loads(location.get(CURRENT))["version"])
    except FileNotFoundError:
        return ""
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{location / CURRENT}: unreadable export pointer ({exc}); remove it to re-export") from exc


def _check_target(location: S3Location) -> None:
    """Refuse a location holding anything but exports (version folders and the pointer)."""
    for key in location.list():
        if key != CURRENT and not _VERSION.fullmatch(key.split("/", 1)[0]):
            raise ValueError(
                f"refusing to export to {location}: it holds {key!r}, which no export writes, so it is not a"
                " previous export"
            )


def current_export(location: S3Location) -> tuple[S3Location, list[dict[str, object]]]:
    """The current version of the export at ``location`` and its files (``path``, ``bytes``, ``sha256``), as
    ``CURRENT.json`` names them: what a reader uses, never a folder listing."""
    try:
        pointer = json.loads(location.get(CURRENT))
        return location / str(pointer["version"]), list(pointer["files"])
    except FileNotFoundError:
        raise FileNotFoundError(f"{location}: no committed export ({CURRENT} is missing)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{location / CURRENT}: unreadable export pointer ({exc})") from exc


def fetch_export(location: S3Location, target: Path) -> Path:
    """Download the current export at ``location`` into ``target`` (each file's size and sha256 checked
    against the pointer); return ``target``, which ``read_export`` reads like a local export. The files land in
    a sibling folder first, which replaces ``target`` only once all are checked."""
    version, files = current_export(location)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.incoming")
    try:
        for entry in files:
            relative = str(entry["path"])
            path = version.download(relative, staging.joinpath(*relative.split("/")))
            if path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
                raise ValueError(f"{version}/{relative}: its bytes differ from the export pointer's sha256")
        staging.mkdir(parents=True, exist_ok=True)  # an export of no file is still a folder
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
