"""indicators: technical features per asset per trading day, from a long price lookback."""

from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, AssetIn, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets.assets.benchmarks import benchmark_series
from portfolio_assets.assets.quality import check_results, check_specs, checked_metadata, schema_outcome
from portfolio_assets.assets.windows import (
    clamp_lookback,
    in_window,
    input_keys,
    require_input_window,
    run_window,
    summary_metadata,
)
from portfolio_assets.checks import completeness, has_volume_for, rsi_bounds, warmup_ends
from portfolio_assets.columns import AVAILABLE_AT, CROSS_ASSET_AVAILABILITY, INDICATOR_COLUMNS
from portfolio_assets.engine import EngineResource
from portfolio_assets.features import CROSS_ASSET_FEATURES, compute_cross_asset, compute_indicators
from portfolio_assets.features.adjustment import rebase_levels, total_return_prices
from portfolio_assets.io_managers import EXCLUDED_ASSETS, PartitionStore
from portfolio_assets.partitions import INDICATOR_LOOKBACK, OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource, StorageResource
from portfolio_assets.schemas import IndicatorsSchema, table_schema, validate_rows
from portfolio_assets.settings import WINDOW
from portfolio_assets.spans import INDICATOR_LOOKBACK_DAYS


def indicator_frame(prices: pd.DataFrame, benchmarks: pd.DataFrame) -> pd.DataFrame:
    """Technical and cross-asset features of every row of ``prices`` (``benchmarks``: the stored asset).

    Computed on the split- and dividend-adjusted series, price levels rebased to each row's own
    share basis (``features.adjustment``): a split or an ex-dividend day is no move.
    """
    keys = ["asset_symbol", "timestamp"]
    adjusted = total_return_prices(prices)
    technical = rebase_levels(compute_indicators(adjusted), prices)
    technical = technical.merge(prices[[*keys, AVAILABLE_AT]], on=keys, how="left", validate="one_to_one")
    cross = compute_cross_asset(adjusted, benchmark_series(benchmarks))
    cross = cross[[*keys, *CROSS_ASSET_FEATURES, *CROSS_ASSET_AVAILABILITY]]
    return technical.merge(cross, on=keys, how="left", validate="one_to_one")


@asset(
    group_name="indicators",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    ins={
        "prices": AssetIn(partition_mapping=INDICATOR_LOOKBACK),
        "benchmarks": AssetIn(partition_mapping=INDICATOR_LOOKBACK),
    },
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(IndicatorsSchema)},
    check_specs=check_specs("indicators", ["schema", "rsi_bounds", "completeness"]),
)
def indicators(
    context: AssetExecutionContext,
    landing: LandingZoneResource,
    storage: StorageResource,
    engine: EngineResource,
    prices: pd.DataFrame,
    benchmarks: pd.DataFrame,
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Technical indicators per asset per trading day (RSI-14 Wilder, MACD 12/26/9, Bollinger 20x2,
    SMA 20/50/200, EMA 12/26, ATR-14, ADX-14, volatilities, momenta, returns, oscillators; see
    FEATURES.md), and 60-return beta / correlation against the S&P 500 and the dollar index (their
    observations from the `benchmarks` asset, each usable only from its `available_at`, in rows whose
    decision time is at or after it). `available_at` is the row's bar end (when its technical features
    became known) and `<feature>_available_at` when each cross-asset window was complete. Each day reads the
    asset's prices of the previous 730 calendar days, so its value does not depend on where a
    backfill started; values inside an indicator's warm-up are empty."""
    first, last = run_window(context)
    data_start = pd.Timestamp(WINDOW.start, tz="UTC")
    lookback = clamp_lookback(first, INDICATOR_LOOKBACK_DAYS, data_start)
    prices = require_input_window(context, "prices", prices, first_day=lookback, last_day=last)
    benchmarks = require_input_window(context, "benchmarks", benchmarks, first_day=lookback, last_day=last)
    # An asset a failed source left out of any prices partition of the lookback would have a hole in its
    # history, and every indicator after it would be wrong: it is left out here too until refilled.
    excluded = PartitionStore(storage.store_root()).exclusions(["prices"], input_keys(context, "prices"))
    if excluded:
        context.log.warning(f"indicators: left out (a lookback partition of prices lacks them): {excluded}")
        prices = prices[~prices["asset_symbol"].isin(list(excluded))]
    computed = engine.by_asset(indicator_frame, {"prices": prices}, shared={"benchmarks": benchmarks})
    frame = in_window(computed, first, last)
    meta = summary_metadata(frame, first, last)
    meta["engine"] = engine.describe()
    meta[EXCLUDED_ASSETS] = MetadataValue.json(excluded)
    meta["warm_up_rows_per_feature"] = MetadataValue.json({c: int(frame[c].isna().sum()) for c in INDICATOR_COLUMNS})
    has_volume = has_volume_for(landing.universe().assets)
    results = check_results(
        [
            schema_outcome(validate_rows(frame, IndicatorsSchema, has_volume=has_volume), "indicators"),
            rsi_bounds(frame),
            completeness(
                frame,
                features=INDICATOR_COLUMNS,
                has_volume=has_volume,
                # Warm-up counts from the first price the lookback holds, which is at
                # least the lookback before the run, or the asset's first observation.
                warmup_end=warmup_ends(prices, features=INDICATOR_COLUMNS, has_volume=has_volume),
            ),
        ]
    )
    yield Output(frame, metadata=checked_metadata(meta, results))
    yield from results
