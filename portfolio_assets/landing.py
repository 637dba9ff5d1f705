"""Raw landing zone: verbatim responses, one file a request.

Layout::

    <root>/<source>/<series key>/<fetched at, UTC, %Y%m%dT%H%M%SZ>.<ext>

The series key is built from the request parameters that identify a series
(sorted ``name=value`` pairs, values percent-encoded), never from secrets: any
parameter that looks like a key is refused. Reading a series parses every file
in its folder in name order, so a later fetch overrides an earlier one for the
dates they share. Writes are atomic (temporary file, then rename).

Because every file in a series folder overrides the data, reading is strict:
each entry must be a regular file named exactly ``<YYYYmmddTHHMMSSZ>.<ext>``,
a real UTC time with the extension of the source's wire format
(:data:`WIRE_EXTENSIONS`), and one fetch instant has one file. Anything else
(``….json.bak``, ``….JSON``, a ``.csv`` among json responses, ``20131301T…``)
is a :class:`~portfolio_assets.errors.SourceError` naming the file and the
expected name. The only entries skipped are the store's own in-flight
temporaries (``.incoming-*``); any other hidden file, such as a stray
``.DS_Store``, is an error too, so that nothing in a folder is silently
ignored either.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

from portfolio_assets.errors import SECRET_PARAMS, SourceError
from portfolio_assets.fsutil import write_atomically

FETCHED_AT_FORMAT = "%Y%m%dT%H%M%SZ"
INCOMING_PREFIX = ".incoming-"
"""Prefix of the temporary files :meth:`LandingZone.store` writes before renaming them."""

WIRE_EXTENSIONS: Mapping[str, str] = {
    "alphavantage": "json",
    "alternative_me": "json",
    "coingecko": "json",
    "fred": "json",
    "gdelt": "json",
    "google_trends": "csv",
    "social": "csv",
}
"""Source directory -> the extension of its wire format (``docs/WIRE_FORMATS.md``)."""

_STAMP = re.compile(r"[0-9]{8}T[0-9]{6}Z")  # ASCII digits only (``\d`` would take any script's)


def series_key(params: Mapping[str, object]) -> str:
    """Return the folder name for a series, e.g. ``function=FX_DAILY,from_symbol=EUR``."""
    for name in params:
        if name.lower() in SECRET_PARAMS:
            raise ValueError(f"landing zone: parameter {name!r} is a secret and cannot name a file")
    return ",".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in sorted(params.items()))


def parse_series_key(key: str) -> dict[str, str]:
    """Invert :func:`series_key`."""
    pairs = (part.split("=", 1) for part in key.split(",") if part)
    return {unquote(k): unquote(v) for k, v in pairs}


def wire_extension(source: str) -> str:
    """The file extension responses of ``source`` are stored with."""
    try:
        return WIRE_EXTENSIONS[source]
    except KeyError:
        known = ", ".join(sorted(WIRE_EXTENSIONS))
        raise SourceError(source, f"unknown landing-zone source (known: {known})") from None


def _fetched_at(stamp: str) -> datetime:
    """Parse a ``%Y%m%dT%H%M%SZ`` stamp of fixed width (strptime would also take ``2013032T…``)."""
    fields = (stamp[0:4], stamp[4:6], stamp[6:8], stamp[9:11], stamp[11:13], stamp[13:15])
    year, month, day, hour, minute, second = (int(f) for f in fields)
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _refuse_shared_instants(source: str, folder: Path, names: list[str]) -> None:
    """Raise if two names start with the same fetch stamp (``X.json`` and ``X.csv``, ``X.json.bak``)."""
    by_stamp: dict[str, list[str]] = {}
    for name in names:
        match = _STAMP.match(name)
        if match:
            by_stamp.setdefault(match.group(), []).append(name)
    for stamp, shared in by_stamp.items():
        if len(shared) > 1:
            listed = ", ".join(repr(n) for n in shared)
            raise SourceError(
                source,
                f"several files for the fetch at {stamp}: {listed}; a fetch is stored once, as"
                f" {stamp}.{wire_extension(source)}",
                where=folder.name,
            )


@dataclass(frozen=True)
class LandedFile:
    """One stored response."""

    source: str
    path: Path
    fetched_at: datetime

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    @property
    def where(self) -> str:
        """Short location for error messages: ``<series key>/<file name>``."""
        return f"{self.path.parent.name}/{self.path.name}"


class LandingZone:
    """A directory of verbatim responses (on S3: ``s3landing.S3LandingZone``, for an ``S3Location`` root)."""

    def __new__(cls, root: str | os.PathLike[str] = "") -> LandingZone:
        if cls is LandingZone and getattr(root, "scheme", None) == "s3":
            from portfolio_assets.s3landing import S3LandingZone

            return super().__new__(S3LandingZone)
        return super().__new__(cls)

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def series_dir(self, source: str, params: Mapping[str, object]) -> Path:
        return self.root / source / series_key(params)

    def files(self, source: str, params: Mapping[str, object]) -> list[LandedFile]:
        """Every stored response for a series, oldest fetch first (see the module doc for the naming rules)."""
        ext = wire_extension(source)
        folder = self.series_dir(source, params)
        if not folder.is_dir():
            return []
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith(INCOMING_PREFIX))
        exact = re.compile(rf"{_STAMP.pattern}\.{re.escape(ext)}")
        _refuse_shared_instants(source, folder, names)
        found = []
        for name in names:
            path = folder / name
            if not path.is_file():
                raise SourceError(source, f"{name!r} is not a regular file", where=folder.name)
            if not exact.fullmatch(name):
                hidden = (
                    "; hidden files are not skipped, only the store's in-flight .incoming-* files are"
                    if name.startswith(".")
                    else ""
                )
                raise SourceError(
                    source,
                    f"unexpected file name {name!r}: a stored {source} response must be named"
                    f" <YYYYmmddTHHMMSSZ>.{ext} (its fetch time in UTC){hidden}",
                    where=folder.name,
                )
            try:
                fetched = _fetched_at(name)
            except ValueError as exc:
                raise SourceError(
                    source, f"file name {name!r} is not a valid fetch time: {exc}", where=folder.name
                ) from exc
            found.append(LandedFile(source, path, fetched))
        return found

    def require(self, source: str, params: Mapping[str, object]) -> list[LandedFile]:
        """Like :meth:`files`, but an empty series is an error naming the request."""
        found = self.files(source, params)
        if not found:
            raise SourceError(source, f"no stored response for {series_key(params)} under {self.root}")
        return found

    def store(
        self,
        source: str,
        params: Mapping[str, object],
        body: bytes,
        *,
        ext: str | None = None,
        fetched_at: datetime | None = None,
    ) -> LandedFile:
        """Write one response verbatim and atomically; return where it went.

        ``ext`` defaults to the source's wire extension and, if given, must equal it.
        """
        expected = wire_extension(source)
        if ext is not None and ext != expected:
            raise SourceError(source, f"responses are stored as .{expected}, not .{ext}")
        ext = expected
        fetched_at = fetched_at or datetime.now(UTC)
        if fetched_at.tzinfo is None or fetched_at.utcoffset() is None:
            raise ValueError(f"{source}: fetched_at {fetched_at} has no time zone; give an aware (UTC) time")
        folder = self.series_dir(source, params)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{fetched_at.astimezone(UTC).strftime(FETCHED_AT_FORMAT)}.{ext}"
        if target.exists():
            raise SourceError(
                source,
                f"a response fetched at {target.stem} is already stored; a stored response is never overwritten",
                where=f"{folder.name}/{target.name}",
            )
        write_atomically(target, body, tmp_prefix=INCOMING_PREFIX)
        return LandedFile(source, target, fetched_at)


SAMPLE_LANDING_ROOT = Path(__file__).parent / "sample_data" / "landing"
