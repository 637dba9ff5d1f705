"""Alpha Vantage (``https://www.alphavantage.co/query``): daily prices, commodities and corporate actions.

* ``daily(params)``: ``DIGITAL_CURRENCY_DAILY`` (crypto), ``TIME_SERIES_DAILY``
  (equities, ETFs), ``FX_DAILY`` (currencies, and gold as ``XAU``), with the
  universe's request parameters; landed under ``alphavantage.series_params``
  (the parameters minus ``outputsize``), as the replay reads them.
* ``commodity(function)``: ``WTI``, ``BRENT``, ... (``interval=daily``).
* ``splits(symbol)`` / ``dividends(symbol)``: ``SPLITS`` / ``DIVIDENDS``.

The key goes in the ``apikey`` query parameter (Alpha Vantage accepts no
other way); it is redacted from every message and log line. Errors and rate
limits arrive with HTTP 200 (``Error Message``, ``Note``, ``Information``) and
are classified by the parsers. Defaults: 5 calls a minute, 25 a day.

**Asking only what is new.** ``TIME_SERIES_DAILY`` and ``FX_DAILY`` are asked
with ``outputsize=compact`` (the latest 100 data points) when the stored
responses already hold the full history up to a day within the last
:data:`COMPACT_REACH_DAYS` days, and ``outputsize=full`` otherwise. The other
functions always answer with their whole history (one call, fresh for the day).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, ClassVar

import pandas as pd

from portfolio_assets.clients.base import HttpSourceClient
from portfolio_assets.clients.model import DATA_START, FetchRequest, HttpCall
from portfolio_assets.clients.store import Coverage
from portfolio_assets.sources import alphavantage, commodities, corporate_actions

DAILY_FUNCTIONS = ("DIGITAL_CURRENCY_DAILY", "TIME_SERIES_DAILY", "FX_DAILY")
COMPACT_FUNCTIONS = ("TIME_SERIES_DAILY", "FX_DAILY")
CORPORATE_ACTIONS = ("SPLITS", "DIVIDENDS")
COMPACT_REACH_DAYS = 100
"""A compact response's 100 data points reach at least 100 calendar days back (more on weekday calendars)."""


def _days(frame: pd.DataFrame, column: str) -> tuple[date | None, date | None, int]:
    if frame.empty:
        return None, None, 0
    return frame[column].min().date(), frame[column].max().date(), len(frame)


class AlphaVantageClient(HttpSourceClient):
    """Alpha Vantage client; see :class:`~portfolio_assets.clients.base.HttpSourceClient` for the constructor."""

    source: ClassVar[str] = alphavantage.SOURCE
    default_base_url: ClassVar[str] = "https://www.alphavantage.co/query"
    default_min_interval: ClassVar[float] = 12.0  # 5 calls a minute
    default_daily_budget: ClassVar[int | None] = 25
    rate_hint: ClassVar[str] = "free keys: 5 calls a minute, 25 a day"

    # requests --------------------------------------------------------------------------------------

    @classmethod
    def daily(
        cls, params: Mapping[str, object], *, since: date | None = None, through: date | None = None
    ) -> FetchRequest:
        """A daily price series from the universe's request ``params`` (``AssetSpec.params``)."""
        series = alphavantage.series_params({str(k): str(v) for k, v in params.items()})
        function = series.get("function")
        if function not in DAILY_FUNCTIONS:
            raise ValueError(f"alphavantage: daily() takes {', '.join(DAILY_FUNCTIONS)}, not {function!r}")
        return FetchRequest(cls.source, series, since, through)

    @classmethod
    def commodity(
        cls, function: str, *, interval: str = "daily", since: date | None = None, through: date | None = None
    ) -> FetchRequest:
        """A commodity series (``WTI``, ``BRENT``, ...)."""
        if function not in commodities.FUNCTIONS:
            raise ValueError(f"alphavantage: unknown commodity function {function!r} ({commodities.FUNCTIONS})")
        return FetchRequest(cls.source, {"function": function, "interval": interval}, since, through)

    @classmethod
    def splits(cls, symbol: str, *, through: date | None = None) -> FetchRequest:
        """Every split of an equity or ETF."""
        return FetchRequest(cls.source, {"function": "SPLITS", "symbol": symbol}, None, through)

    @classmethod
    def dividends(cls, symbol: str, *, through: date | None = None) -> FetchRequest:
        """Every dividend of an equity or ETF."""
        return FetchRequest(cls.source, {"function": "DIVIDENDS", "symbol": symbol}, None, through)

    # the cycle -------------------------------------------------------------------------------------

    def _call(self, request: FetchRequest, covered: Coverage, today: date) -> HttpCall:
        query = dict(request.params)
        since: date | None = None
        if query["function"] in COMPACT_FUNCTIONS:
            # the stored run of covered days that holds the first needed day ends recently enough for the
            # latest 100 points to continue it without a gap
            if covered.end is not None and covered.end >= today - timedelta(days=COMPACT_REACH_DAYS):
                query["outputsize"] = "compact"
                since = DATA_START
            else:
                query["outputsize"] = "full"
        secret = {"apikey": self._api_key} if self._api_key else {}
        return HttpCall("", query, since, request.through, secret_query=secret)

    def _parse(self, request: FetchRequest, body: bytes, where: str) -> Any:
        function = request.params["function"]
        if function in DAILY_FUNCTIONS:
            return alphavantage.parse_daily(body, where=where)
        if function == "SPLITS":
            return corporate_actions.parse_splits(body, where=where)
        if function == "DIVIDENDS":
            return corporate_actions.parse_dividends(body, where=where)
        return commodities.parse_commodity(body, where=where)

    def _data_days(self, parsed: Any) -> tuple[date | None, date | None, int]:
        frame: pd.DataFrame = parsed
        column = next(c for c in ("timestamp", "effective_date", "ex_dividend_date") if c in frame.columns)
        return _days(frame, column)
