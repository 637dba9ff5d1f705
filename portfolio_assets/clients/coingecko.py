"""CoinGecko ``coins/{id}/market_chart`` (``https://api.coingecko.com/api/v3``), ``vs_currency=usd``.

``market_chart(coin_id)`` asks for the last :data:`FREE_TIER_DAYS` days
(``days=N&interval=daily``); with ``since`` it asks from that day, and with
``use_range=True`` it calls ``market_chart/range`` with ``from`` / ``to``
(Unix seconds; the range is widened to more than 90 days, below which
CoinGecko answers hourly points). Responses land under ``{id, vs_currency}``.

The demo key goes in the ``x-cg-demo-api-key`` header, never in the URL
(``key_header="x-cg-pro-api-key"`` with a pro base URL for a paid key).
Error 10012 (a range beyond the free tier's 365 days) is a distinct
:class:`~portfolio_assets.clients.errors.RangeBeyondFreeTierError`. Default
rate: 30 calls a minute.

**Asking only what is new.** When the stored responses cover the start up to
some day, ``days`` reaches back just past it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pandas as pd

from portfolio_assets.clients.base import HttpSourceClient
from portfolio_assets.clients.model import FetchRequest, HttpCall
from portfolio_assets.clients.store import Coverage
from portfolio_assets.sources import coingecko

FREE_TIER_DAYS = 365
DEMO_KEY_HEADER = "x-cg-demo-api-key"
MIN_RANGE_DAYS = 91  # market_chart/range answers daily points only for ranges over 90 days


def _unix(day: date) -> str:
    return str(int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()))


class CoinGeckoClient(HttpSourceClient):
    """CoinGecko client; see :class:`~portfolio_assets.clients.base.HttpSourceClient` for the constructor.

    ``key_header`` names the header the key goes in (default: the demo key's).
    """

    source: ClassVar[str] = coingecko.SOURCE
    default_base_url: ClassVar[str] = "https://api.coingecko.com/api/v3"
    default_min_interval: ClassVar[float] = 2.0  # 30 calls a minute
    rate_hint: ClassVar[str] = "demo keys: 30 calls a minute"

    def __init__(self, *args: Any, key_header: str = DEMO_KEY_HEADER, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_header = key_header

    @classmethod
    def market_chart(
        cls,
        coin_id: str,
        *,
        since: date | None = None,
        through: date | None = None,
        use_range: bool = False,
    ) -> FetchRequest:
        """Daily price, market cap and volume of ``coin_id`` in USD from ``since`` (default: the last 365 days)."""
        options = {"endpoint": "range" if use_range else "days"}
        return FetchRequest(cls.source, {"id": coin_id, "vs_currency": "usd"}, since, through, options)

    def _needed(self, request: FetchRequest, today: date) -> tuple[date | None, date]:
        start, end = super()._needed(request, today)
        return (start or today - timedelta(days=FREE_TIER_DAYS - 1)), end

    def _call(self, request: FetchRequest, covered: Coverage, today: date) -> HttpCall:
        _, end = self._needed(request, today)
        start = request.since or today - timedelta(days=FREE_TIER_DAYS - 1)
        if covered.end is not None:
            start = max(start, covered.end + timedelta(days=1))
        headers = {self.key_header: self._api_key} if self._api_key else {}
        coin = request.params["id"]
        if request.options.get("endpoint") == "range":
            first = min(start, end - timedelta(days=MIN_RANGE_DAYS))
            query = {"vs_currency": "usd", "from": _unix(first), "to": _unix(end + timedelta(days=1))}
            return HttpCall(f"/coins/{coin}/market_chart/range", query, first, request.through, headers=headers)
        days = (today - start).days + 1
        query = {"vs_currency": "usd", "days": str(days), "interval": "daily"}
        return HttpCall(f"/coins/{coin}/market_chart", query, today - timedelta(days=days - 1), None, headers=headers)

    def _parse(self, request: FetchRequest, body: bytes, where: str) -> Any:
        return coingecko.parse_market_chart(body, where=where)

    def _data_days(self, parsed: Any) -> tuple[date | None, date | None, int]:
        frame: pd.DataFrame = parsed
        if frame.empty:
            return None, None, 0
        return frame["timestamp"].min().date(), frame["timestamp"].max().date(), len(frame)
