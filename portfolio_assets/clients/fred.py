"""FRED / ALFRED ``series/observations`` (``https://api.stlouisfed.org/fred``), ``file_type=json``.

``observations(series_id)`` asks for the latest values; ``observations(series_id,
vintage=True)`` for the first release of every observation (ALFRED:
``realtime_start=1776-07-04``, ``realtime_end=9999-12-31``, ``output_type=4``),
which ``sources.fred.parse_observations`` recognises by the ``output_type: 4``
FRED echoes in the response; a response that does not echo it is refused, so a
vintage series never silently gets latest values. Each observation's
``realtime_start`` is then its release date. Both kinds land under
``series_id=<id>``; they never count as covering each other, but the replay
reads a series as a whole, so keep one kind per series.

The key goes in the ``api_key`` query parameter. FRED answers errors with a
4xx status and ``{"error_code": ..., "error_message": ...}``; that message is
part of the error. Default rate: 2 calls a second (FRED allows 120 a minute).

**Asking only what is new.** Once the full history is stored, a later fetch
sends ``observation_start`` = the newest stored observation date (that date is
asked again, so a revision of the newest value is picked up).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

from portfolio_assets.clients.base import HttpSourceClient
from portfolio_assets.clients.model import FetchRequest, HttpCall
from portfolio_assets.clients.store import Coverage
from portfolio_assets.sources import fred
from portfolio_assets.sources._wire import fail

VINTAGE_QUERY = {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31", "output_type": "4"}
"""ALFRED: every observation as first released."""


class FredClient(HttpSourceClient):
    """FRED client; see :class:`~portfolio_assets.clients.base.HttpSourceClient` for the constructor."""

    source: ClassVar[str] = fred.SOURCE
    default_base_url: ClassVar[str] = "https://api.stlouisfed.org/fred"
    default_min_interval: ClassVar[float] = 0.5
    rate_hint: ClassVar[str] = "FRED allows 120 calls a minute per key"

    @classmethod
    def observations(
        cls, series_id: str, *, vintage: bool = False, since: date | None = None, through: date | None = None
    ) -> FetchRequest:
        """Every observation of ``series_id``; first releases only when ``vintage``."""
        options = {"vintage": "1" if vintage else "0"}
        return FetchRequest(cls.source, {"series_id": series_id}, since, through, options)

    def _kind(self, request: FetchRequest) -> str:
        return "vintage" if request.options.get("vintage") == "1" else "latest"

    def _call(self, request: FetchRequest, covered: Coverage, today: date) -> HttpCall:
        query = {"series_id": request.params["series_id"], "file_type": "json"}
        if self._kind(request) == "vintage":
            query.update(VINTAGE_QUERY)
        since: date | None = request.since
        if covered.end is not None and covered.last_data is not None:
            query["observation_start"] = covered.last_data.isoformat()
            since = covered.end + timedelta(days=1)  # continues the stored run of covered days
        secret = {"api_key": self._api_key} if self._api_key else {}
        return HttpCall("/series/observations", query, since, request.through, secret_query=secret)

    def _parse(self, request: FetchRequest, body: bytes, where: str) -> Any:
        parsed = fred.parse_observations(body, where=where, series_id=request.params["series_id"])
        wanted = self._kind(request) == "vintage"
        if parsed.vintage != wanted:
            asked = "first releases (output_type=4)" if wanted else "latest values (output_type=1)"
            got = "first releases" if parsed.vintage else "latest values"
            raise fail(self.source, f"asked for {asked} but the response holds {got}", where)
        return parsed

    def _data_days(self, parsed: Any) -> tuple[date | None, date | None, int]:
        frame = parsed.frame
        if frame.empty:
            return None, None, 0
        dates = frame["observation_date"]
        return dates.min().date(), dates.max().date(), len(frame)
