"""targets: what each asset's close was 90 days later."""

from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, AssetIn, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets.assets.quality import check_result, check_specs, checked_metadata, schema_outcome
from portfolio_assets.assets.windows import in_window, require_input_window, run_window, summary_metadata
from portfolio_assets.checks import last_trading_days_for
from portfolio_assets.engine import EngineResource
from portfolio_assets.features import compute_targets
from portfolio_assets.partitions import HORIZON_LOOKAHEAD, LABELLED_PARTITIONS
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.schemas import TargetsSchema, table_schema, validate_rows
from portfolio_assets.spans import HORIZON_DAYS


@asset(
    group_name="targets",
    partitions_def=LABELLED_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    ins={"prices": AssetIn(partition_mapping=HORIZON_LOOKAHEAD)},
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(TargetsSchema)},
    check_specs=check_specs("targets", ["schema"]),
)
def targets(
    context: AssetExecutionContext, landing: LandingZoneResource, engine: EngineResource, prices: pd.DataFrame
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """90-day forward targets per asset per trading day: target_price_90d is the asset's last
    close at or before timestamp + 90 calendar days (missing if that close is more than 7 days
    before the horizon, or if the horizon passes the asset's last trading day in the universe),
    target_return_90d its log return, target_return_pct_90d in percent.
    Reads prices through a 90-day look-ahead; a labelled day exists only once its horizon is in
    the data."""
    first, last = run_window(context)
    prices = require_input_window(
        context, "prices", prices, first_day=first, last_day=last + pd.Timedelta(days=HORIZON_DAYS)
    )
    # Every price up to the last horizon day is in the window, so a target whose
    # horizon falls on a weekend or holiday is final, not pending.
    horizon_end = last + pd.Timedelta(days=HORIZON_DAYS)
    ended = last_trading_days_for(landing.universe().assets)
    shared = {"horizon_days": HORIZON_DAYS, "data_end": horizon_end, "last_trading_days": ended}
    frame = in_window(engine.by_asset(compute_targets, {"prices": prices}, shared=shared), first, last)
    meta = summary_metadata(frame, first, last)
    meta["engine"] = engine.describe()
    meta["missing_targets"] = int(frame["target_price_90d"].isna().sum())
    if ended:
        meta["last_trading_days"] = MetadataValue.json({s: f"{d:%Y-%m-%d}" for s, d in sorted(ended.items())})
    results = [check_result(schema_outcome(validate_rows(frame, TargetsSchema), "targets"))]
    yield Output(frame, metadata=checked_metadata(meta, results))
    yield from results
