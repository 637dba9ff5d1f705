"""Where a live fetch puts what it received, and what the landing zone already covers.

Layout under the landing root (only ``<source>/`` folders are replayed)::

    <source>/<series key>/<stamp>.<ext>            accepted responses (portfolio_assets.landing)
    _pending/<source>/<series key>/<stamp>.<ext>   a body stored before its parse finished
    _failed/<source>/<series key>/<stamp>.<ext>    a body that was refused, verbatim ...
    _failed/<source>/<series key>/<stamp>.error.json   ... and why (status, redacted request, error)
    _fetches/<source>/<series key>/<stamp>.json    what each accepted response covers (freshness)
    _budget/<source>/<YYYY-MM-DD>.json             calls made that UTC day (clients.http.DailyBudget)

On S3 (a root that is an ``objectstore.S3Location``) the same layout is objects: each file is written
in the local mirror, then uploaded whole under its name; a move uploads the new name before it deletes
the old; folders are mirrored from their objects before they are read. ``_budget`` stays in the mirror.

A body is written (atomically, verbatim) to ``_pending`` before it is parsed,
then renamed into the series folder once its parser accepts it, or into
``_failed`` otherwise, so a bad body never becomes data and is always kept. A
body a crashed fetch left in ``_pending`` is moved to ``_failed`` by
:meth:`ResponseStore.recover_pending` (the raw assets call it when they start).

**Coverage.** Each accepted response has a :class:`FetchRecord`: the days it
covers run from ``since`` (None: the series' beginning) to the day before it
was fetched (a day is complete once it has passed), capped at ``through`` when
the request asked for a closed range; a response fetched *today* also covers
today ("fresh for the day"). A request is fresh when the union of its series'
records covers every day it needs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from portfolio_assets.fsutil import fsync_dir, write_atomically
from portfolio_assets.landing import (
    FETCHED_AT_FORMAT,
    INCOMING_PREFIX,
    LandedFile,
    LandingZone,
    parse_series_key,
    series_key,
    wire_extension,
)
from portfolio_assets.objectstore import S3Location

PENDING_DIR = "_pending"
FAILED_DIR = "_failed"
FETCHES_DIR = "_fetches"
ONE_DAY = timedelta(days=1)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class FetchRecord:
    """What one accepted response covers (written beside the landing zone, read for freshness)."""

    fetched_at: datetime
    file: str  # the landing-zone file name
    since: date | None  # first day covered; None: from the series' beginning
    through: date | None  # last day asked for; None: up to the fetch
    first: date | None = None  # first and last day in the data
    last: date | None = None
    rows: int = 0
    kind: str = ""  # responses of different kinds never cover for each other (FRED vintage vs latest)
    query: Mapping[str, str] = field(default_factory=dict)  # the non-secret request parameters
    attempts: int = 1

    def interval(self, today: date) -> tuple[date, date] | None:
        """``(first, last)`` complete day this response covers as seen on ``today``; None if none."""
        fetched = self.fetched_at.astimezone(UTC).date()
        end = today if fetched >= today else fetched - ONE_DAY
        if self.through is not None:
            end = min(end, self.through)
        start = self.since or date.min
        return (start, end) if start <= end else None

    def to_json(self) -> bytes:
        data = {
            "fetched_at": self.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "file": self.file,
            "since": _iso(self.since),
            "through": _iso(self.through),
            "first": _iso(self.first),
            "last": _iso(self.last),
            "rows": self.rows,
            "kind": self.kind,
            "query": dict(self.query),
            "attempts": self.attempts,
        }
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> FetchRecord:
        data = json.loads(raw)
        return cls(
            fetched_at=datetime.strptime(data["fetched_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            file=data["file"],
            since=_day(data.get("since")),
            through=_day(data.get("through")),
            first=_day(data.get("first")),
            last=_day(data.get("last")),
            rows=int(data.get("rows", 0)),
            kind=str(data.get("kind", "")),
            query=dict(data.get("query", {})),
            attempts=int(data.get("attempts", 1)),
        )


@dataclass(frozen=True)
class Coverage:
    """What the stored responses of a series cover, measured against the days a request needs.

    ``end`` is the last day of the unbroken run of covered days that contains
    the first needed day (None when that day is not covered); ``last_data`` the
    newest data day among the responses of that run.
    """

    fresh: bool
    end: date | None
    last_data: date | None
    records: tuple[FetchRecord, ...] = ()


def coverage(records: Iterable[FetchRecord], start: date | None, end: date, today: date) -> Coverage:
    """Whether ``records`` cover every day from ``start`` (None: the beginning) to ``end``."""
    spans = [(span, record) for record in records if (span := record.interval(today)) is not None]
    spans.sort(key=lambda item: item[0])
    runs: list[tuple[date, date, list[FetchRecord]]] = []
    for (first, last), record in spans:
        if runs and first <= _next(runs[-1][1]):
            run_first, run_last, members = runs[-1]
            runs[-1] = (run_first, max(run_last, last), [*members, record])
        else:
            runs.append((first, last, [record]))
    needed = start or date.min
    for first, last, members in runs:
        if first <= needed <= last:
            last_data = max((r.last for r in members if r.last is not None), default=None)
            return Coverage(last >= end, last, last_data, tuple(members))
    return Coverage(False, None, None)


def _next(day: date) -> date:
    return day if day == date.max else day + ONE_DAY


class ResponseStore:
    """Stage, accept or refuse response bodies under a landing root, and keep their fetch records."""

    def __init__(self, root: str | Path | S3Location) -> None:
        self.root = Path(root)  # on S3: the local mirror (``s3landing``)
        self.location = root if isinstance(root, S3Location) else None
        self.zone = LandingZone(root)
        self._pending = LandingZone(root / PENDING_DIR if isinstance(root, S3Location) else self.root / PENDING_DIR)

    # on S3 ----------------------------------------------------------------------------------------

    def _publish(self, *paths: Path, source: Path | None = None) -> None:
        """On S3: upload complete local files under their final names (one PUT each); ``source``: the one file's
        content is read from there (the staged file, uploaded before it is moved under that name, so that another
        process mirroring the folder meanwhile never removes a file not yet uploaded)."""
        for path in paths if self.location is not None else ():
            self.location.upload(path.relative_to(self.root).as_posix(), source or path)

    def _withdraw(self, *paths: Path) -> None:
        """On S3: delete the objects of moved local files."""
        if self.location is not None:
            self.location.delete([path.relative_to(self.root).as_posix() for path in paths])

    def _mirror(self, relative: str, depth: int = 1) -> None:
        """On S3: bring the local mirror of a folder in line with its objects before it is read."""
        if self.location is not None:
            self.location.mirror(relative, depth=depth)

    # naming ----------------------------------------------------------------------------------------

    def fetch_time(self, source: str, params: Mapping[str, str], now: datetime) -> datetime:
        """``now`` to the second, or one second after the newest stored fetch (file names are per second)."""
        moment = now.astimezone(UTC).replace(microsecond=0)
        stored = self.zone.files(source, params)
        if stored and stored[-1].fetched_at >= moment:
            moment = stored[-1].fetched_at + timedelta(seconds=1)
        return moment

    @staticmethod
    def where(params: Mapping[str, str], name: str) -> str:
        """The parser's ``where``: ``<series key>/<file name>`` (as :attr:`LandedFile.where`)."""
        return f"{series_key(params)}/{name}"

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    # bodies ----------------------------------------------------------------------------------------

    def stage(self, source: str, params: Mapping[str, str], body: bytes, fetched_at: datetime) -> Path:
        """Write ``body`` verbatim and atomically to ``_pending`` (not replayed); return its path."""
        return self._pending.store(source, params, body, fetched_at=fetched_at).path

    def accept(self, staged: Path, source: str, params: Mapping[str, str]) -> LandedFile:
        """Move a staged body into the landing zone (one rename), where replay reads it."""
        folder = self.zone.series_dir(source, params)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / staged.name
        self._publish(target, source=staged)
        os.replace(staged, target)
        fsync_dir(folder)
        self._withdraw(staged)
        fetched = datetime.strptime(target.name.split(".", 1)[0], FETCHED_AT_FORMAT).replace(tzinfo=UTC)
        return LandedFile(source, target, fetched)

    def refuse(
        self,
        source: str,
        params: Mapping[str, str],
        fetched_at: datetime,
        details: Mapping[str, Any],
        *,
        staged: Path | None = None,
        body: bytes | None = None,
    ) -> Path:
        """Keep a refused body under ``_failed`` (moved from ``staged`` or written from ``body``) with why.

        Returns the body's path; ``<stem>.error.json`` beside it holds ``details``.
        """
        self._mirror(f"{FAILED_DIR}/{source}/{series_key(params)}")
        folder = self.root / FAILED_DIR / source / series_key(params)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = fetched_at.astimezone(UTC).strftime(FETCHED_AT_FORMAT)
        ext = wire_extension(source)
        name, n = stamp, 1
        while (folder / f"{name}.{ext}").exists() or (folder / f"{name}.error.json").exists():
            n += 1
            name = f"{stamp}-{n}"
        target = folder / f"{name}.{ext}"
        if staged is not None:
            self._publish(target, source=staged)
            os.replace(staged, target)
            fsync_dir(folder)
        else:
            write_atomically(target, body or b"")
            self._publish(target)
        meta = {"source": source, "series": series_key(params), "body": target.name, **details}
        write_atomically(folder / f"{name}.error.json", (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
        self._publish(folder / f"{name}.error.json")
        if staged is not None:
            self._withdraw(staged)
        return target

    def recover_pending(self, *, older_than: float = 3600.0, now: float | None = None) -> list[Path]:
        """Move bodies left in ``_pending`` by a fetch that died (older than ``older_than`` seconds) to ``_failed``.

        Younger ones may belong to a fetch still running elsewhere and are left alone. Returns the moved bodies.
        """
        self._mirror(PENDING_DIR, depth=3)
        root = self.root / PENDING_DIR
        if not root.is_dir():
            return []
        moment = time.time() if now is None else now
        moved = []
        for path in sorted(p for p in root.glob("*/*/*") if p.is_file()):
            if moment - path.stat().st_mtime < older_than or path.name.startswith(INCOMING_PREFIX):
                continue
            source, key = path.parent.parent.name, path.parent.name
            stamp = path.name.split(".", 1)[0]
            try:
                fetched = datetime.strptime(stamp, FETCHED_AT_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                fetched = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            details = {"error": "the fetch that stored this body stopped before its parse finished (process died)"}
            moved.append(self.refuse(source, parse_series_key(key), fetched, details, staged=path))
        return moved

    # records ---------------------------------------------------------------------------------------

    def _records_dir(self, source: str, params: Mapping[str, str]) -> Path:
        return self.root / FETCHES_DIR / source / series_key(params)

    def write_record(self, source: str, params: Mapping[str, str], record: FetchRecord) -> Path:
        folder = self._records_dir(source, params)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{record.file.split('.', 1)[0]}.json"
        write_atomically(path, record.to_json())
        self._publish(path)
        return path

    def records(self, source: str, params: Mapping[str, str], kind: str | None = None) -> list[FetchRecord]:
        """The records of accepted responses still in the landing zone (of ``kind`` if given), oldest first.

        Responses stored without a record (the bundled sample, copies) do not count
        as covering anything: the first live fetch of such a series is a full one.
        """
        self._mirror(f"{FETCHES_DIR}/{source}/{series_key(params)}")
        folder = self._records_dir(source, params)
        if not folder.is_dir():
            return []
        present = {f.path.name for f in self.zone.files(source, params)}
        found = []
        for path in sorted(folder.glob("*.json")):
            try:
                record = FetchRecord.from_json(path.read_bytes())
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged record only costs a re-fetch
            if record.file in present and (kind is None or record.kind == kind):
                found.append(record)
        return found
