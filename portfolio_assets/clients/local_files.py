"""Local files: the licensed social-sentiment daily CSV and Google Trends ``multiTimeline.csv`` exports.

They arrive as files at configured paths rather than over HTTP. ``fetch``
reads the file, stores it verbatim and atomically (``_pending`` first),
validates it with its parser, and moves it into the landing zone (``social``
under ``{feed: daily}``, ``google_trends`` under ``{q: <term>}``) or, if the
parser refuses it, into ``_failed/`` with the reason. A file whose bytes equal
the newest stored copy is not copied again (that is its freshness).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from typing import Any

from portfolio_assets.clients.errors import ClientError, RejectedResponseError
from portfolio_assets.clients.http import Clock, utc_now
from portfolio_assets.clients.model import FetchRequest, FetchResult
from portfolio_assets.clients.redaction import source_logger
from portfolio_assets.clients.store import ResponseStore
from portfolio_assets.errors import SourceError
from portfolio_assets.sources import google_trends, social

PARSERS = {social.SOURCE: social.parse_social_csv, google_trends.SOURCE: google_trends.parse_trends_csv}


class LocalFilesClient:
    """Copies validated local exports into the landing zone (``landing_root``; ``clock`` for tests)."""

    sources = tuple(PARSERS)

    def __init__(self, landing_root: str | Path, *, clock: Clock | None = None) -> None:
        self.store = ResponseStore(landing_root)
        self._clock = clock or utc_now

    @classmethod
    def social(cls, path: str | Path) -> FetchRequest:
        """The social-sentiment daily feed at ``path``."""
        return FetchRequest(social.SOURCE, {"feed": "daily"}, options={"path": str(path)})

    @classmethod
    def trends(cls, query: str, path: str | Path) -> FetchRequest:
        """The Google Trends export of the search term ``query`` at ``path``."""
        return FetchRequest(google_trends.SOURCE, {"q": query}, options={"path": str(path)})

    def close(self) -> None:
        """Nothing to release (the same interface as the HTTP clients)."""

    def plan(self, requests: Iterable[FetchRequest]) -> dict[str, int]:
        """Local files make no network calls: ``{source: 0}`` for every source they land under."""
        return {source: 0 for source in self.sources} | {r.source: 0 for r in requests}

    def _read(self, request: FetchRequest) -> bytes:
        if request.source not in PARSERS:
            raise ValueError(f"LocalFilesClient copies {', '.join(self.sources)}, not {request.source!r}")
        path = Path(request.options["path"])
        try:
            return path.read_bytes()
        except OSError as exc:
            cause = f"cannot read the configured file {path}: {exc.strerror or exc}; fix the path and run again"
            raise ClientError(request.source, cause, where=request.series) from None

    def is_fresh(self, request: FetchRequest) -> bool:
        """True when the file's bytes equal the newest stored copy."""
        stored = self.store.zone.files(request.source, request.params)
        return bool(stored) and stored[-1].read_bytes() == self._read(request)

    def fetch_all(self, requests: Iterable[FetchRequest]) -> list[FetchResult]:
        """Fetch every request in order (local files have no budget)."""
        return [self.fetch(request) for request in requests]

    def fetch(self, request: FetchRequest) -> FetchResult:
        """Copy one file into the landing zone if it changed and its parser accepts it."""
        log = source_logger(request.source)
        body = self._read(request)
        stored = self.store.zone.files(request.source, request.params)
        if stored and stored[-1].read_bytes() == body:
            log.info("%s: unchanged since %s (not copied)", request, self.store.relative(stored[-1].path))
            return FetchResult(request, True, stored[-1].path, stored[-1].fetched_at)
        fetched_at = self.store.fetch_time(request.source, request.params, self._clock().astimezone(UTC))
        staged = self.store.stage(request.source, request.params, body, fetched_at)
        where = self.store.where(request.params, staged.name)
        refused: ClientError | None = None
        parsed: Any = None
        try:
            parsed = PARSERS[request.source](staged.read_bytes(), where=where)
        except SourceError as exc:
            details = {"file": request.options["path"], "error": exc.cause}
            failed = self.store.refuse(request.source, request.params, fetched_at, details, staged=staged)
            cause = (
                f"{exc.cause}; the file {request.options['path']} was not copied as data: fix it and run again"
                f" (kept at {self.store.relative(failed)})"
            )
            refused = RejectedResponseError(request.source, cause, where=request.series, failed_path=failed)
        except BaseException:
            details = {"file": request.options["path"], "error": "parser crashed"}
            self.store.refuse(request.source, request.params, fetched_at, details, staged=staged)
            raise
        if refused is not None:
            log.warning("%s", refused)
            raise refused
        landed = self.store.accept(staged, request.source, request.params)
        log.info("%s: copied %s (%d rows)", request, self.store.relative(landed.path), len(parsed))
        return FetchResult(request, False, landed.path, landed.fetched_at, data=parsed)
