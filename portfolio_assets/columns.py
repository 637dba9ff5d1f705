"""Canonical column lists of the training rows, and which features apply to which class."""

from __future__ import annotations

from functools import cache

from portfolio_assets.features import CROSS_ASSET_FEATURES, FEATURES, TECHNICAL_FEATURES
from portfolio_assets.features.macro import MACRO_DERIVED
from portfolio_assets.features.registry import VOLUME_CLASSES
from portfolio_assets.features.registry import applies as technical_applies
from portfolio_assets.features.sentiment import SENTIMENT_FIELDS
from portfolio_assets.universe import ASSET_CLASSES, MACRO_FIELDS

CORE_COLUMNS = [
    "timestamp",
    "asset_symbol",
    "asset_class",
    "price_open",
    "price_high",
    "price_low",
    "price_close",
    "volume",
]
TARGET_COLUMNS = ["target_timestamp", "target_price_90d", "target_return_90d", "target_return_pct_90d"]
MACRO_COLUMNS = [*MACRO_FIELDS, *MACRO_DERIVED]
INDICATOR_COLUMNS = [*TECHNICAL_FEATURES, *CROSS_ASSET_FEATURES]
FEATURE_COLUMNS = ["price_close", "volume", *INDICATOR_COLUMNS, *MACRO_COLUMNS, *SENTIMENT_FIELDS]
LLM_COLUMNS = ["instruction", "input", "output", "context_window"]
SFT_COLUMNS = [
    *LLM_COLUMNS,
    *CORE_COLUMNS,
    *TARGET_COLUMNS,
    *INDICATOR_COLUMNS,
    *MACRO_COLUMNS,
    *SENTIMENT_FIELDS,
    "reference_close",
    "market_cap",
    "not_applicable",
]

# Features computed from volume: not applicable where the price source has none
# (Alpha Vantage's FX endpoint, used for currencies and for spot gold).
VOLUME_FEATURES = ["volume", *(f.name for f in FEATURES if f.applies_to == VOLUME_CLASSES)]

# Classes a non-technical field applies to (everything else applies to all).
_CLASS_ONLY = {
    "volume": VOLUME_CLASSES,
    "fear_greed_index": frozenset({"crypto"}),
}


def applies(feature: str, asset_class: str) -> bool:
    """Whether ``feature`` is meaningful for ``asset_class`` (False = not applicable, not missing)."""
    if feature in INDICATOR_COLUMNS:
        return technical_applies(feature, asset_class)
    return asset_class in _CLASS_ONLY.get(feature, set(ASSET_CLASSES))


@cache
def not_applicable(asset_class: str, has_volume: bool = True) -> list[str]:
    """Input features that do not apply to an asset of ``asset_class``, in input order.

    ``has_volume`` False (a source without volume) adds every volume feature.
    """
    return [f for f in FEATURE_COLUMNS if not applies(f, asset_class) or (not has_volume and f in VOLUME_FEATURES)]
