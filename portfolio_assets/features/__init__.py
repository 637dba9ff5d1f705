"""Pure pandas / numpy feature functions (no Dagster, no configuration): what the assets and Spark workers call.

* ``compute_indicators(prices)``: technical indicators per asset per observation.
* ``compute_cross_asset(prices, benchmarks, window=60)``: beta / correlation of
  each asset against the S&P 500 and the dollar index (``CROSS_ASSET_FEATURES``).
* ``compute_targets(prices, horizon_days=90)``: forward targets.
* The declarations (``registry``): ``TECHNICAL`` / ``CROSS_ASSET`` / ``MACRO`` / ``SENTIMENT``,
  ``TECHNICAL_FEATURES`` (ordered output columns), ``feature`` and ``applies``.

Macro, sentiment and SFT formatting live in the submodules of the same names.
"""

from portfolio_assets.features.cross_asset import InvalidBenchmarkError, compute_cross_asset
from portfolio_assets.features.indicators import InvalidPricesError, compute_indicators
from portfolio_assets.features.registry import (
    CROSS_ASSET,
    CROSS_ASSET_FEATURES,
    FEATURES_BY_NAME,
    TECHNICAL,
    TECHNICAL_FEATURES,
    applies,
    feature,
)
from portfolio_assets.features.spec import Bound, Feature
from portfolio_assets.features.targets import MAX_GAP_DAYS, compute_targets, target_columns

__all__ = [
    "CROSS_ASSET",
    "CROSS_ASSET_FEATURES",
    "FEATURES_BY_NAME",
    "MAX_GAP_DAYS",
    "TECHNICAL",
    "TECHNICAL_FEATURES",
    "Bound",
    "Feature",
    "InvalidBenchmarkError",
    "InvalidPricesError",
    "applies",
    "compute_cross_asset",
    "compute_indicators",
    "compute_targets",
    "feature",
    "target_columns",
]
