"""Pure pandas / numpy feature functions (no Dagster): what the assets and Spark workers call.

* ``compute_indicators(prices)``: technical indicators per asset per observation.
* ``compute_cross_asset(prices, benchmarks, window=60)``: beta / correlation of
  each asset against the S&P 500 and the dollar index (``CROSS_ASSET_FEATURES``).
* ``compute_targets(prices, horizon_days=90)``: forward targets.
* ``TECHNICAL_FEATURES`` (ordered output columns) and the registry helpers
  (``FEATURES``, ``CROSS_ASSET_SPECS``, ``feature``, ``applies``, ``not_applicable_features``).

Macro, sentiment and SFT formatting live in the submodules of the same names.
"""

from portfolio_assets.features.cross_asset import InvalidBenchmarkError, compute_cross_asset
from portfolio_assets.features.indicators import InvalidPricesError, compute_indicators
from portfolio_assets.features.registry import (
    CROSS_ASSET_FEATURES,
    CROSS_ASSET_SPECS,
    FEATURES,
    FEATURES_BY_NAME,
    PERIODS_PER_YEAR,
    TECHNICAL_FEATURES,
    FeatureSpec,
    applies,
    feature,
    not_applicable_features,
)
from portfolio_assets.features.targets import MAX_GAP_DAYS, compute_targets, target_columns

__all__ = [
    "CROSS_ASSET_FEATURES",
    "CROSS_ASSET_SPECS",
    "FEATURES",
    "FEATURES_BY_NAME",
    "MAX_GAP_DAYS",
    "PERIODS_PER_YEAR",
    "TECHNICAL_FEATURES",
    "FeatureSpec",
    "InvalidBenchmarkError",
    "InvalidPricesError",
    "applies",
    "compute_cross_asset",
    "compute_indicators",
    "compute_targets",
    "feature",
    "not_applicable_features",
    "target_columns",
]
