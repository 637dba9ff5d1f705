"""alternative.me crypto Fear & Greed index (``https://api.alternative.me/fng/?limit=0&format=json``).

One request returns the whole history (``limit=0``), so every call is a full
one, fresh for the UTC day; responses land under ``{limit: 0}``, as the
replay reads them. No key. Errors set ``metadata.error``. Default rate: one
call a second.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import pandas as pd

from portfolio_assets.clients.base import HttpSourceClient
from portfolio_assets.clients.model import FetchRequest, HttpCall
from portfolio_assets.clients.store import Coverage
from portfolio_assets.sources import fear_greed


class FearGreedClient(HttpSourceClient):
    """Fear & Greed client; see :class:`~portfolio_assets.clients.base.HttpSourceClient` for the constructor."""

    source: ClassVar[str] = fear_greed.SOURCE
    default_base_url: ClassVar[str] = "https://api.alternative.me"
    default_min_interval: ClassVar[float] = 1.0
    rate_hint: ClassVar[str] = "alternative.me allows 60 calls a minute"

    @classmethod
    def index(cls, *, through: date | None = None) -> FetchRequest:
        """The whole index history (up to ``through``, or up to now)."""
        return FetchRequest(cls.source, {"limit": "0"}, None, through)

    def _call(self, request: FetchRequest, covered: Coverage, today: date) -> HttpCall:
        return HttpCall("/fng/", {"limit": "0", "format": "json"}, None, request.through)

    def _parse(self, request: FetchRequest, body: bytes, where: str) -> Any:
        return fear_greed.parse_fng(body, where=where)

    def _data_days(self, parsed: Any) -> tuple[date | None, date | None, int]:
        frame: pd.DataFrame = parsed
        if frame.empty:
            return None, None, 0
        return frame["timestamp"].min().date(), frame["timestamp"].max().date(), len(frame)
