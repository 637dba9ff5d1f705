"""Observation calendars of the assets (which days ``temporal_gaps`` expects an observation, and until when)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from portfolio_assets.universe import AssetSpec

CALENDARS = ("daily", "weekdays")


def calendar_for_class(asset_class: str) -> str:
    """``daily`` for crypto (trades every day), ``weekdays`` for every other class."""
    return "daily" if asset_class == "crypto" else "weekdays"


def calendars_for(assets: Iterable[AssetSpec]) -> dict[str, str]:
    """``{symbol: calendar}`` for ``temporal_gaps``."""
    return {a.symbol: calendar_for_class(a.asset_class) for a in assets}


def last_trading_days_for(assets: Iterable[AssetSpec]) -> dict[str, pd.Timestamp]:
    """``{symbol: last trading day}`` of the assets that stopped trading, for ``temporal_gaps`` and
    ``target_coverage``: no observation is expected after that day, and no target past it."""
    return {a.symbol: a.last_trading_day for a in assets if a.last_trading_day is not None}
