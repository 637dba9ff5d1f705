"""The offline implementation of the source clients: the responses already in a landing zone.

``PORTFOLIO_SOURCE_MODE=sample`` (the default) gives the raw assets a
:class:`StoredResponsesClient` per source instead of the HTTP client, the way
Dagster's ``project_fully_featured`` swaps a snapshot client for the API
client. It takes the same requests, sends nothing, and answers each with the
newest stored response of the series (``reused``), or a clear error naming the
series when the landing zone has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from portfolio_assets.clients.errors import ClientError
from portfolio_assets.clients.model import FetchRequest, FetchResult
from portfolio_assets.landing import LandingZone


class StoredResponsesClient:
    """Answers ``source`` requests from the responses stored under ``landing_root``; never calls out."""

    def __init__(self, source: str, landing_root: str | Path) -> None:
        self.source = source
        self.zone = LandingZone(landing_root)

    def __repr__(self) -> str:
        return f"StoredResponsesClient(source={self.source!r}, landing_root={str(self.zone.root)!r})"

    def plan(self, requests: Iterable[FetchRequest]) -> dict[str, int]:
        """No calls: ``{source: 0}``."""
        return {self.source: 0}

    def fetch(self, request: FetchRequest) -> FetchResult:
        """The newest stored response of the request's series."""
        if request.source != self.source:
            raise ValueError(f"{self!r} answers {self.source!r} requests, not {request.source!r}")
        stored = self.zone.files(request.source, request.params)
        if not stored:
            cause = (
                f"no stored response for this series under {self.zone.root} (sample mode sends no request);"
                " add the series to the landing zone, or run with PORTFOLIO_SOURCE_MODE=live"
            )
            raise ClientError(request.source, cause, where=request.series)
        return FetchResult(request, True, stored[-1].path, stored[-1].fetched_at)

    def close(self) -> None:
        """Nothing to release."""
