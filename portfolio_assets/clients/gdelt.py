"""GDELT DOC 2.0 timelines (``https://api.gdeltproject.org/api/v2/doc/doc``), ``format=json``.

``timeline(query, mode, start, end)`` asks for ``mode=timelinetone`` (average
tone) or ``mode=timelinevolraw`` (article counts) of a query between two days
(``startdatetime`` / ``enddatetime``, whole UTC days). Responses land under
``{mode, query}``, as the replay reads them. GDELT needs no key.

GDELT answers errors with HTTP 200 and plain text (a too-short keyword, OR'd
terms without parentheses, ``Please limit requests to one every 5 seconds``)
or an HTML page; both are refused, the throttle as a rate limit. Default
rate: one request every 5 seconds, as GDELT asks.

**Asking only what is new.** When the stored responses cover the start of the
range up to some day, the call starts the day after it, but a call always spans
at least :data:`MIN_SPAN_DAYS` days: GDELT answers shorter spans at hourly or
15-minute resolution, and only daily points are stored (a sub-daily answer is
refused rather than reduced to one point a day).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

import pandas as pd

from portfolio_assets.clients.base import HttpSourceClient
from portfolio_assets.clients.model import FetchRequest, HttpCall
from portfolio_assets.clients.store import Coverage
from portfolio_assets.sources import gdelt
from portfolio_assets.sources._wire import fail

MODES = ("timelinetone", "timelinevolraw")
MIN_SPAN_DAYS = 8
"""The shortest span asked for, in days (inclusive): GDELT's timelines are daily only beyond a week."""


class GdeltClient(HttpSourceClient):
    """GDELT DOC client; see :class:`~portfolio_assets.clients.base.HttpSourceClient` for the constructor."""

    source: ClassVar[str] = gdelt.SOURCE
    default_base_url: ClassVar[str] = "https://api.gdeltproject.org/api/v2/doc/doc"
    default_min_interval: ClassVar[float] = 5.0
    rate_hint: ClassVar[str] = "GDELT allows one request every 5 seconds"

    @classmethod
    def timeline(cls, query: str, mode: str, start: date, end: date | None = None) -> FetchRequest:
        """The daily timeline of ``query`` from ``start`` to ``end`` (None: up to now), both inclusive."""
        if mode not in MODES:
            raise ValueError(f"gdelt: mode must be one of {MODES}, not {mode!r}")
        if end is not None and end < start:
            raise ValueError(f"gdelt: end {end} is before start {start}")
        return FetchRequest(cls.source, {"mode": mode, "query": query}, start, end)

    def _call(self, request: FetchRequest, covered: Coverage, today: date) -> HttpCall:
        start = request.since or today
        if covered.end is not None:
            start = max(start, covered.end + timedelta(days=1))
        end = today if request.through is None else min(request.through, today)
        start = min(start, end - timedelta(days=MIN_SPAN_DAYS - 1))
        query = {
            "query": request.params["query"],
            "mode": request.params["mode"],
            "format": "json",
            "startdatetime": f"{start:%Y%m%d}000000",
            "enddatetime": f"{end:%Y%m%d}235959",
        }
        return HttpCall("", query, start, request.through)

    def _parse(self, request: FetchRequest, body: bytes, where: str) -> Any:
        frame = gdelt.parse_timeline(body, where=where)
        stamps = frame["timestamp"]
        off = stamps[stamps != stamps.dt.floor("D")]
        if len(off):
            raise fail(
                self.source,
                f"a sub-daily timeline ({len(off)} points not at 00:00 UTC, e.g. {off.iloc[0]:%Y-%m-%dT%H:%M}Z):"
                f" only daily points are stored; ask for a span of {MIN_SPAN_DAYS} days or more",
                where,
            )
        return frame

    def _data_days(self, parsed: Any) -> tuple[date | None, date | None, int]:
        frame: pd.DataFrame = parsed
        if frame.empty:
            return None, None, 0
        return frame["timestamp"].min().date(), frame["timestamp"].max().date(), len(frame)
