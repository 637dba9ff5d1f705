"""Raw landing zone: verbatim responses, one file a request.

Layout::

    <root>/<source>/<series key>/<fetched at, UTC, %Y%m%dT%H%M%SZ>.<ext>

The series key is built from the request parameters that identify a series
(sorted ``name=value`` pairs, values percent-encoded), never from secrets: any
parameter that looks like a key is refused. Reading a series parses every file
in its folder in name order, so a later fetch overrides an earlier one for the
dates they share. Writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

from portfolio_assets.errors import SourceError

SECRET_PARAMS = frozenset({"apikey", "api_key", "x_cg_demo_api_key", "x_cg_pro_api_key", "token", "key"})
FETCHED_AT_FORMAT = "%Y%m%dT%H%M%SZ"


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
    """A directory of verbatim responses."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def series_dir(self, source: str, params: Mapping[str, object]) -> Path:
        return self.root / source / series_key(params)

    def files(self, source: str, params: Mapping[str, object]) -> list[LandedFile]:
        """Every stored response for a series, oldest fetch first."""
        folder = self.series_dir(source, params)
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            stem = path.name.split(".", 1)[0]
            try:
                fetched = datetime.strptime(stem, FETCHED_AT_FORMAT).replace(tzinfo=UTC)
            except ValueError as exc:
                raise SourceError(
                    source, f"unexpected file name {path.name!r} in the landing zone", where=folder.name
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
        ext: str,
        fetched_at: datetime | None = None,
    ) -> LandedFile:
        """Write one response verbatim and atomically; return where it went."""
        fetched_at = fetched_at or datetime.now(UTC)
        folder = self.series_dir(source, params)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{fetched_at.astimezone(UTC).strftime(FETCHED_AT_FORMAT)}.{ext}"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; responses are not secret
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return LandedFile(source, target, fetched_at)


SAMPLE_LANDING_ROOT = Path(__file__).parent / "sample_data" / "landing"
