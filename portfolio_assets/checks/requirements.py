"""What is required of each asset: which features (class, volume source) and from when (warm-up)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.checks._frame import _require
from portfolio_assets.columns import VOLUME_FEATURES, applies
from portfolio_assets.features.registry import FEATURES_BY_NAME
from portfolio_assets.timeutil import utc_index
from portfolio_assets.universe import AssetSpec


def has_volume_for(assets: Iterable[AssetSpec]) -> dict[str, bool]:
    """``{symbol: has_volume}`` for ``completeness``."""
    return {a.symbol: a.has_volume for a in assets}


def _required_features(features: Sequence[str], asset_class: str, has_volume: bool) -> list[str]:
    """The features of ``features`` that apply to an asset (every one for an unknown class: conservative)."""
    if asset_class not in ASSET_CLASSES:
        return list(features)
    return [f for f in features if applies(f, asset_class) and (has_volume or f not in VOLUME_FEATURES)]


def warmup_ends(
    prices: pd.DataFrame,
    *,
    features: Sequence[str],
    has_volume: Mapping[str, bool],
    cross_asset_lag_days: int = 7,
) -> dict[str, pd.Timestamp]:
    """Per asset, the first timestamp at which every required registry feature is past its warm-up.

    ``prices`` must start at each asset's first observation (the warm-up counts
    from there). A technical feature's warm-up is the registry's index of its
    first valid observation of the asset. A cross-asset feature's counts joint
    observations with weekday-only benchmarks, so it is taken at the asset's
    weekday observations, plus ``cross_asset_lag_days`` (the dollar index's
    release lag): an approximation that errs late (excludes a few more rows
    rather than raising false alarms). Features not in the registry have no
    warm-up. An asset with too few observations gets the day after its last one.
    """
    _require(prices, ["asset_symbol", "asset_class", "timestamp"], "warmup_ends")
    frame = pd.DataFrame(
        {"asset_symbol": prices["asset_symbol"].to_numpy(), "timestamp": utc_index(prices["timestamp"])}
    )
    classes = prices.groupby("asset_symbol", sort=True)["asset_class"].first()
    ends: dict[str, pd.Timestamp] = {}
    for symbol, group in frame.groupby("asset_symbol", sort=True):
        days = pd.DatetimeIndex(group["timestamp"].drop_duplicates().sort_values())
        required = _required_features(features, str(classes[symbol]), has_volume.get(str(symbol), True))
        specs = [FEATURES_BY_NAME[f] for f in required if f in FEATURES_BY_NAME]
        end = days[0]
        for spec in specs:
            if spec.group == "cross_asset":
                weekdays = days[days.dayofweek < 5]
                lag = pd.Timedelta(days=cross_asset_lag_days)
                at = weekdays[spec.warmup] + lag if spec.warmup < len(weekdays) else None
            else:
                at = days[spec.warmup] if spec.warmup < len(days) else None
            end = max(end, days[-1] + pd.Timedelta(days=1) if at is None else at)
        ends[str(symbol)] = end
    return ends
