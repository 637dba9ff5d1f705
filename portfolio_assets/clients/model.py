"""The requests a run plans, the calls they become and what a fetch returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from portfolio_assets.landing import series_key

DEFAULT: Literal["default"] = "default"
"""Constructor value meaning "the source's documented default"."""


@dataclass(frozen=True)
class FetchRequest:
    """One series a run wants, and the days it must cover.

    ``params`` key the series in the landing zone (never a credential);
    ``since`` / ``through`` are the first and last day needed (None: from the
    series' beginning / up to the moment of fetching); ``options`` say how to
    ask (endpoint, vintage, a file path) without being part of the series key.
    Build requests with the client's own methods (``AlphaVantageClient.daily``, ...).
    """

    source: str
    params: Mapping[str, str]
    since: date | None = None
    through: date | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def series(self) -> str:
        return series_key(self.params)

    def __str__(self) -> str:
        window = ""
        if self.since or self.through:
            window = f" {self.since or '…'}..{self.through or 'now'}"
        return f"{self.source} {self.series}{window}"


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one request.

    ``reused``: a stored response was fresh and nothing was sent; ``path`` is
    the landing-zone file written by this call (or the newest stored one when
    reused); ``data`` the parsed response of this call (None when reused: read
    whole series with :mod:`portfolio_assets.replay`); ``url`` the redacted
    request; ``attempts`` the HTTP requests it took.
    """

    request: FetchRequest
    reused: bool
    path: Path | None
    fetched_at: datetime | None
    url: str | None = None
    data: Any = None
    attempts: int = 0


DATA_START = date.min
"""``HttpCall.since`` value meaning "the first day in the response's data" (e.g. a compact response)."""


@dataclass(frozen=True)
class HttpCall:
    """What one call sends, and which days its response will cover."""

    path: str
    query: Mapping[str, str]
    since: date | None
    through: date | None
    secret_query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
