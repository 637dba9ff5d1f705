"""Canonical column lists of the stored groups and the training rows, and which features apply to which class.

The feature columns come from the declarations in ``features/registry.py``;
this module only orders them into the rows' column lists.
"""

from __future__ import annotations

from functools import cache

from portfolio_assets.features.adjustment import ADJUSTMENT_COLUMNS
from portfolio_assets.features.indicators import OHLC_COLUMNS
from portfolio_assets.features.registry import (
    ALL_FEATURES,
    CROSS_ASSET_FEATURES,
    MACRO,
    SENTIMENT_FIELDS,
    TECHNICAL_FEATURES,
    VOLUME_FEATURES,
    applies,
    available_column,
)

CORE_COLUMNS = ["timestamp", "asset_symbol", "asset_class", *OHLC_COLUMNS, "volume"]
AVAILABLE_AT = "available_at"
DECISION_TIME = "decision_time"
PRICE_COLUMNS = [*CORE_COLUMNS, "reference_close", "market_cap", "source", AVAILABLE_AT, *ADJUSTMENT_COLUMNS]
"""Columns of the ``prices`` asset: OHLCV as traded; ``available_at``, the bar end, which is also the day's
decision time; the split / dividend factors of ``features.adjustment``."""
TARGET_COLUMNS = [
    "target_timestamp",
    "target_price_90d",
    "target_return_90d",
    "target_return_pct_90d",
    "target_total_return_90d",
]
MACRO_COLUMNS = [f.name for f in MACRO]
MACRO_AVAILABILITY = [available_column(f) for f in MACRO_COLUMNS]
SENTIMENT_AVAILABILITY = [available_column(f) for f in SENTIMENT_FIELDS]
CROSS_ASSET_AVAILABILITY = [available_column(f) for f in CROSS_ASSET_FEATURES]
INDICATOR_COLUMNS = [*TECHNICAL_FEATURES, *CROSS_ASSET_FEATURES]
FEATURE_COLUMNS = [f.name for f in ALL_FEATURES]
"""Every input feature, in the order of a row's ``input``."""
LLM_COLUMNS = ["instruction", "input", "output", "context_window"]
SFT_COLUMNS = [
    *LLM_COLUMNS,
    *CORE_COLUMNS,
    DECISION_TIME,
    *TARGET_COLUMNS,
    *INDICATOR_COLUMNS,
    *MACRO_COLUMNS,
    *SENTIMENT_FIELDS,
    "reference_close",
    "market_cap",
    "not_applicable",
]

__all__ = [
    "ADJUSTMENT_COLUMNS",
    "AVAILABLE_AT",
    "CORE_COLUMNS",
    "CROSS_ASSET_AVAILABILITY",
    "DECISION_TIME",
    "FEATURE_COLUMNS",
    "INDICATOR_COLUMNS",
    "LLM_COLUMNS",
    "MACRO_AVAILABILITY",
    "MACRO_COLUMNS",
    "OHLC_COLUMNS",
    "PRICE_COLUMNS",
    "SENTIMENT_AVAILABILITY",
    "SFT_COLUMNS",
    "TARGET_COLUMNS",
    "VOLUME_FEATURES",
    "applies",
    "not_applicable",
]


@cache
def not_applicable(asset_class: str, has_volume: bool = True) -> list[str]:
    """Input features that do not apply to an asset of ``asset_class``, in input order.

    ``has_volume`` False (a source without volume) adds every volume feature.
    """
    return [f for f in FEATURE_COLUMNS if not applies(f, asset_class) or (not has_volume and f in VOLUME_FEATURES)]
