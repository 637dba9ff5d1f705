"""targets: what each asset's close was 90 days later."""

from collections.abc import Iterator
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    BackfillPolicy,
    Nothing,
    Output,
    asset,
)

from portfolio_assets.assets.quality import check_result, check_specs, days_of, schema_counts, schema_outcome_of
from portfolio_assets.assets.stored import Source, finish, given_up_on_error, run_step
from portfolio_assets.assets.windows import log_run, report_json, run_window, summary_of, summary_part
from portfolio_assets.checks import last_trading_days_for
from portfolio_assets.codeversion import version_of
from portfolio_assets.direct import StepCall
from portfolio_assets.engine import EngineResource
from portfolio_assets.features import compute_targets
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.partitions import LABELLED_PARTITIONS
from portfolio_assets.resources import LandingZoneResource, StorageResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.schemas import TargetsSchema, table_schema, validate_rows
from portfolio_assets.spans import HORIZON_DAYS


def target_checks(out: pd.DataFrame, **_: Any) -> dict[str, Any]:
    """What the metadata and the ``schema`` check of ``targets`` need of ``out`` (some assets' rows)."""
    return {
        "summary": summary_part(out),
        "missing": int(out["target_price_90d"].isna().sum()),
        "schema": schema_counts(validate_rows(out, TargetsSchema)),
    }


CODE_VERSION = version_of(__name__)
"""The code version of this module's assets (``codeversion``): the UI shows them stale after a change."""


@asset(
    code_version=CODE_VERSION,
    freshness_policy=DAILY_FRESHNESS,
    group_name="targets",
    partitions_def=LABELLED_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    # Day to day in Dagster (a backfill of N days targets N days); the 90-day look-ahead is read by days.
    ins={"prices": AssetIn(dagster_type=Nothing)},
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(TargetsSchema)},
    check_specs=check_specs("targets", ["schema"], LABELLED_PARTITIONS),
)
def targets(
    context: AssetExecutionContext, landing: LandingZoneResource, storage: StorageResource, engine: EngineResource
) -> Iterator[Output[pd.DataFrame | None] | AssetCheckResult]:
    """90-day forward targets per asset per trading day: target_price_90d is the asset's last
    close at or before timestamp + 90 calendar days (missing if that close is more than 7 days
    before the horizon, or if the horizon passes the asset's last trading day in the universe),
    target_return_90d its log return, target_return_pct_90d in percent.
    Reads prices through a 90-day look-ahead; a labelled day exists only once its horizon is in
    the data."""
    first, last = run_window(context)
    # Every price up to the last horizon day is in the window, so a target whose
    # horizon falls on a weekend or holiday is final, not pending.
    horizon_end = last + pd.Timedelta(days=HORIZON_DAYS)
    ended = last_trading_days_for(landing.universe().assets)
    store = PartitionStore(storage.store_root())
    call = StepCall(compute_targets, ("targets",), (first, last), target_checks)
    shared = {"horizon_days": HORIZON_DAYS, "data_end": horizon_end, "last_trading_days": ended}
    step = run_step(context, engine, store, call, [Source("prices", first, horizon_end)], shared=shared)
    with given_up_on_error(store, step):
        run = summary_of([p["summary"] for p in step.partials], first, last)
        run.metadata["run_missing_targets"] = sum(p["missing"] for p in step.partials)
        if ended:
            run.reports["last trading days"] = report_json({s: f"{d:%Y-%m-%d}" for s, d in sorted(ended.items())})
        log_run(context, "targets", run)
        meta = {**run.metadata, "engine": engine.describe()}
        results = [
            check_result(schema_outcome_of([p["schema"] for p in step.partials], "targets"), days=days_of(first, last))
        ]
        yield from finish(context, store, step, meta, results)
