"""Observation calendars of the assets (which days ``temporal_gaps`` expects an observation)."""

from __future__ import annotations

from collections.abc import Iterable

from portfolio_assets.universe import AssetSpec

CALENDARS = ("daily", "weekdays")


def calendar_for_class(asset_class: str) -> str:
    """``daily`` for crypto (trades every day), ``weekdays`` for every other class."""
    return "daily" if asset_class == "crypto" else "weekdays"


def calendars_for(assets: Iterable[AssetSpec]) -> dict[str, str]:
    """``{symbol: calendar}`` for ``temporal_gaps``."""
    return {a.symbol: calendar_for_class(a.asset_class) for a in assets}
