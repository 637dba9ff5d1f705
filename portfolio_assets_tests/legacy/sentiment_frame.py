"""``assets.sentiment.sentiment_frame`` before the scaling work: the whole social feed filtered per asset."""

from collections.abc import Collection

import pandas as pd

from portfolio_assets import replay
from portfolio_assets.features.sentiment import asset_sentiment
from portfolio_assets.resources import LandingZoneResource


def sentiment_frame(
    landing: LandingZoneResource, days: pd.DatetimeIndex, excluded: Collection[str] = ()
) -> pd.DataFrame:
    """One row per (asset, calendar day) with the six sentiment fields (the reference implementation)."""
    zone = landing.zone()
    universe = landing.universe()
    kept = [spec for spec in universe.assets if spec.symbol not in excluded]
    if not kept:
        raise ValueError(f"sentiment: every universe asset is excluded because its sources failed: {sorted(excluded)}")
    social = replay.read_social(zone)
    fng = replay.read_fear_greed(zone) if any(a.fear_greed for a in kept) else None
    frames = []
    for spec in kept:
        part = asset_sentiment(
            days,
            asset_symbol=spec.symbol,
            tone=replay.read_gdelt(zone, spec.news_query, "timelinetone"),
            volume=replay.read_gdelt(zone, spec.news_query, "timelinevolraw"),
            social=social,
            trends=replay.read_trends(zone, spec.trends_query),
            fear_greed=fng if spec.fear_greed else None,
            bar_end=spec.bar_end,
        )
        part.insert(2, "asset_class", spec.asset_class)
        frames.append(part[spec.traded_on(part["timestamp"])])
    return pd.concat(frames, ignore_index=True).sort_values(["asset_symbol", "timestamp"]).reset_index(drop=True)
