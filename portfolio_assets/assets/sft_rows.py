"""sft_rows: one instruction-tuning row per asset per labelled day, with every canonical column."""

import json

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets.assets.prices import PRICE_COLUMNS
from portfolio_assets.assets.windows import (
    clamp_lookback,
    in_window,
    require_input_window,
    run_window,
    summary_metadata,
)
from portfolio_assets.columns import FEATURE_COLUMNS, INDICATOR_COLUMNS, SFT_COLUMNS, TARGET_COLUMNS, not_applicable
from portfolio_assets.features.sentiment import SENTIMENT_FIELDS
from portfolio_assets.features.sft import context_windows, format_rows
from portfolio_assets.partitions import (
    CONTEXT_LOOKBACK,
    CONTEXT_LOOKBACK_DAYS,
    HORIZON_DAYS,
    LABELLED_PARTITIONS,
    WINDOW,
)
from portfolio_assets.resources import ExportResource, LandingZoneResource
from portfolio_assets.universe import Universe


def join_features(
    prices: pd.DataFrame,
    indicators: pd.DataFrame,
    macro: pd.DataFrame,
    sentiment: pd.DataFrame,
    targets: pd.DataFrame,
) -> pd.DataFrame:
    """One row per (asset, trading day) of ``prices``, with every feature and target."""
    keys = ["asset_symbol", "timestamp"]
    joined = prices[[c for c in PRICE_COLUMNS if c != "source"]].merge(
        indicators[[*keys, *INDICATOR_COLUMNS]], on=keys, how="left", validate="one_to_one"
    )
    joined = joined.merge(sentiment[[*keys, *SENTIMENT_FIELDS]], on=keys, how="left", validate="one_to_one")
    joined = joined.merge(macro, on="timestamp", how="left", validate="many_to_one")
    return joined.merge(targets[[*keys, *TARGET_COLUMNS]], on=keys, how="left", validate="one_to_one")


def build_sft_rows(joined: pd.DataFrame, context: pd.Series, universe: Universe) -> pd.DataFrame:
    """Format joined rows into the canonical sft_rows columns."""
    rows = format_rows(joined, FEATURE_COLUMNS, HORIZON_DAYS)
    rows["context_window"] = context.reindex(rows.index).to_numpy()
    has_volume = {a.symbol: a.has_volume for a in universe.assets}
    rows["not_applicable"] = [
        json.dumps(not_applicable(cls, has_volume[sym]))
        for sym, cls in zip(rows["asset_symbol"], rows["asset_class"], strict=True)
    ]
    return rows[SFT_COLUMNS].sort_values(["timestamp", "asset_symbol"]).reset_index(drop=True)


@asset(
    group_name="sft_rows",
    partitions_def=LABELLED_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    ins={
        "prices": AssetIn(partition_mapping=CONTEXT_LOOKBACK),
        "indicators": AssetIn(),
        "macro": AssetIn(),
        "sentiment": AssetIn(),
        "targets": AssetIn(),
    },
    kinds={"pandas", "parquet"},
)
def sft_rows(
    context: AssetExecutionContext,
    export: ExportResource,
    landing: LandingZoneResource,
    prices: pd.DataFrame,
    indicators: pd.DataFrame,
    macro: pd.DataFrame,
    sentiment: pd.DataFrame,
    targets: pd.DataFrame,
) -> Output[pd.DataFrame]:
    """Instruction-tuning rows (Alpaca style): `instruction` names the asset, class, date and
    horizon; `input` is strict JSON of every feature (6 significant digits, null when missing or
    not applicable); `output` is JSON of the three 90-day targets; `context_window` the last N
    closes. Also every canonical column at full precision. Rows whose target is missing are left
    out and counted in the metadata."""
    first, last = run_window(context)
    data_start = pd.Timestamp(WINDOW.start, tz="UTC")
    require_input_window(
        context, "prices", first_day=clamp_lookback(first, CONTEXT_LOOKBACK_DAYS, data_start), last_day=last
    )
    windows = context_windows(prices, export.context_window)
    day_prices = prices.assign(context_window=windows)
    day_prices = in_window(day_prices, first, last)
    joined = join_features(day_prices.drop(columns="context_window"), indicators, macro, sentiment, targets)
    labelled = joined["target_price_90d"].notna().to_numpy()
    rows = build_sft_rows(
        joined[labelled].reset_index(drop=True),
        day_prices["context_window"][labelled].reset_index(drop=True),
        landing.universe(),
    )
    meta = summary_metadata(rows, first, last)
    meta["rows_without_target"] = int((~labelled).sum())
    meta["example_input"] = MetadataValue.json(json.loads(rows["input"].iloc[-1])) if len(rows) else "none"
    return Output(rows, metadata=meta)
