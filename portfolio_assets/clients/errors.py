"""What a live fetch can fail with: one class per failure mode, all :class:`~portfolio_assets.errors.SourceError`.

Every message reads ``<source> [<series key>]: <what happened>; <what to do> (request: GET <url>; ...)``,
with the API key and any secret-looking value replaced by ``***`` (the
constructor scrubs the text once more, whatever the caller passed).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from portfolio_assets.clients.redaction import scrub
from portfolio_assets.errors import SourceError


class ClientError(SourceError):
    """A live fetch failed.

    ``request`` is the redacted URL (None when nothing was sent), ``status`` the
    final HTTP status (None without an answer), ``failed_path`` where the raw
    body was kept for diagnosis (under ``<landing root>/_failed/``; replay
    never reads it), ``attempts`` how many HTTP requests were sent.
    """

    def __init__(
        self,
        source: str,
        cause: str,
        *,
        where: str | None = None,
        request: str | None = None,
        status: int | None = None,
        failed_path: Path | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(source, scrub(cause), where=where)
        self.request = scrub(request) if request else None
        self.status = status
        self.failed_path = failed_path
        self.attempts = attempts


class TransportError(ClientError):
    """No usable answer: connection errors, connect/read timeouts or a body cut off in transit, after the retries."""


class HttpStatusError(ClientError):
    """The final answer had an error status (a 4xx at once, or a 5xx after the retries)."""


class RateLimitedError(ClientError):
    """The provider refused for rate reasons: HTTP 429 after the retries, or a rate-limit body sent with HTTP 200
    (Alpha Vantage ``Note`` / ``Information``, GDELT's plain-text throttle, a CoinGecko 429 status body)."""


class RangeBeyondFreeTierError(ClientError):
    """CoinGecko error 10012: the requested range reaches further back than the free / demo tier allows."""


class RejectedResponseError(ClientError):
    """A 2xx answer whose body the source's parser refused (error JSON, HTML, truncated, not JSON, bad values)."""


class BudgetExhausted(SourceError):  # noqa: N818 - the name the "Live sources" issue uses
    """The source's daily call budget is spent: the run stops cleanly; the next run (or day) resumes.

    ``made_today`` counts the calls charged to ``day``, ``made_in_run`` those of
    this run (None outside a run), ``left`` the planned calls not made;
    ``results`` holds the fetches the run completed before it stopped.
    """

    def __init__(
        self,
        source: str,
        *,
        day: date,
        budget: int,
        made_today: int,
        left: int,
        made_in_run: int | None = None,
        results: list[Any] | None = None,
    ) -> None:
        in_run = f", {made_in_run} in this run" if made_in_run is not None else ""
        plural = "call" if left == 1 else "calls"
        cause = (
            f"daily budget of {budget} calls for {day.isoformat()} (UTC) is spent: {made_today} made today{in_run};"
            f" {left} planned {plural} left. Run again after 00:00 UTC, or raise the daily budget: responses"
            " already stored are reused, so nothing is fetched twice"
        )
        super().__init__(source, cause)
        self.day = day
        self.budget = budget
        self.made_today = made_today
        self.made_in_run = made_in_run
        self.left = left
        self.results = list(results or [])
