"""indicators: technical features per asset per trading day, from a long price lookback."""

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets.assets.windows import (
    clamp_lookback,
    in_window,
    require_input_window,
    run_window,
    summary_metadata,
)
from portfolio_assets.features import TECHNICAL_FEATURES, compute_indicators
from portfolio_assets.partitions import INDICATOR_LOOKBACK, INDICATOR_LOOKBACK_DAYS, OBSERVATION_PARTITIONS, WINDOW


@asset(
    group_name="indicators",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    ins={"prices": AssetIn(partition_mapping=INDICATOR_LOOKBACK)},
    kinds={"pandas", "parquet"},
)
def indicators(context: AssetExecutionContext, prices: pd.DataFrame) -> Output[pd.DataFrame]:
    """Technical indicators per asset per trading day (RSI-14 Wilder, MACD 12/26/9, Bollinger 20x2,
    SMA 20/50/200, EMA 12/26, ATR-14, ADX-14, volatilities, momenta, returns, oscillators; see
    FEATURES.md). Each day reads the asset's prices of the previous 730 calendar days, so its value
    does not depend on where a backfill started; values inside an indicator's warm-up are empty."""
    first, last = run_window(context)
    data_start = pd.Timestamp(WINDOW.start, tz="UTC")
    require_input_window(
        context,
        "prices",
        first_day=clamp_lookback(first, INDICATOR_LOOKBACK_DAYS, data_start),
        last_day=last,
    )
    frame = in_window(compute_indicators(prices), first, last)
    meta = summary_metadata(frame, first, last)
    meta["warm_up_rows_per_feature"] = MetadataValue.json({c: int(frame[c].isna().sum()) for c in TECHNICAL_FEATURES})
    return Output(frame, metadata=meta)
