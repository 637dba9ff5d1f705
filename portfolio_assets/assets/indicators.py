"""indicators: technical features per asset per trading day, from a long price lookback."""

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    BackfillPolicy,
    MetadataValue,
    Nothing,
    Output,
    asset,
)

from portfolio_assets.assets.benchmarks import benchmark_series
from portfolio_assets.assets.quality import check_results, check_specs, days_of, schema_counts, schema_outcome_of
from portfolio_assets.assets.stored import Source, finish, given_up_on_error, read_source, run_step
from portfolio_assets.assets.windows import (
    RunSummary,
    clamp_lookback,
    log_run,
    run_window,
    summary_of,
    summary_part,
)
from portfolio_assets.checks import has_volume_for, rsi_bounds, warmup_ends
from portfolio_assets.checks.bounds import RSI_BOUNDS, out_of_bounds
from portfolio_assets.checks.complete_rows import completeness_counts, completeness_outcome
from portfolio_assets.checks.outcome import markdown_table
from portfolio_assets.codeversion import version_of
from portfolio_assets.columns import AVAILABLE_AT, CROSS_ASSET_AVAILABILITY, INDICATOR_COLUMNS
from portfolio_assets.direct import StepCall
from portfolio_assets.engine import EngineResource
from portfolio_assets.features import CROSS_ASSET_FEATURES, compute_cross_asset, compute_indicators
from portfolio_assets.features.adjustment import rebase_levels, total_return_prices
from portfolio_assets.io_managers import EXCLUDED_ASSETS, PartitionStore
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource, StorageResource
from portfolio_assets.schedules import DAILY_FRESHNESS
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


def indicator_checks(
    out: pd.DataFrame, *, prices: pd.DataFrame, benchmarks: pd.DataFrame, has_volume: Mapping[str, bool]
) -> dict[str, Any]:
    """What the checks of ``indicators`` need of ``out`` (some assets' rows; ``prices``: their lookback), for
    ``indicator_results``: run once on all the rows, or per asset on Spark's executors."""
    return {
        "summary": summary_part(out),
        "warm_up": {c: int(out[c].isna().sum()) for c in INDICATOR_COLUMNS},
        "schema": schema_counts(validate_rows(out, IndicatorsSchema, has_volume=has_volume)),
        "rsi": (out_of_bounds(out, bounds=RSI_BOUNDS), len(out)),
        # Warm-up counts from the first price the lookback holds, which is at
        # least the lookback before the run, or the asset's first observation.
        "completeness": completeness_counts(
            out,
            features=INDICATOR_COLUMNS,
            has_volume=has_volume,
            warmup_end=warmup_ends(prices, features=INDICATOR_COLUMNS, has_volume=has_volume),
        ),
    }


def indicator_results(
    partials: list[dict[str, Any]], first: pd.Timestamp, last: pd.Timestamp
) -> tuple[RunSummary, list[AssetCheckResult]]:
    """The run's summary and the check results of the rows whose ``indicator_checks`` are ``partials``."""
    run = summary_of([p["summary"] for p in partials], first, last)
    warm_up = {c: sum(p["warm_up"][c] for p in partials) for c in INDICATOR_COLUMNS}
    out_of_range = [p["rsi"][0] for p in partials]
    results = check_results(
        [
            schema_outcome_of([p["schema"] for p in partials], "indicators"),
            rsi_bounds(
                pd.concat(out_of_range, ignore_index=True) if len(out_of_range) > 1 else out_of_range[0],
                rows_checked=sum(p["rsi"][1] for p in partials),
            ),
            completeness_outcome([p["completeness"] for p in partials]),
        ],
        days=days_of(first, last),
    )
    run.reports["warm-up rows per feature"] = markdown_table(
        {f: {"rows in warm-up": n} for f, n in warm_up.items()}, key="feature"
    )
    return run, results


CODE_VERSION = version_of(__name__)
"""The code version of this module's assets (``codeversion``): the UI shows them stale after a change."""


@asset(
    code_version=CODE_VERSION,
    freshness_policy=DAILY_FRESHNESS,
    group_name="indicators",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    ins={
        # Day to day in Dagster (a backfill of N days targets N days); the 730-day lookback is read by days.
        "prices": AssetIn(dagster_type=Nothing),
        "benchmarks": AssetIn(dagster_type=Nothing),
    },
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(IndicatorsSchema)},
    check_specs=check_specs("indicators", ["schema", "rsi_bounds", "completeness"], OBSERVATION_PARTITIONS),
)
def indicators(
    context: AssetExecutionContext,
    landing: LandingZoneResource,
    storage: StorageResource,
    engine: EngineResource,
) -> Iterator[Output[pd.DataFrame | None] | AssetCheckResult]:
    """Technical indicators per asset per trading day (RSI-14 Wilder, MACD 12/26/9, Bollinger 20x2,
    SMA 20/50/200, EMA 12/26, ATR-14, ADX-14, volatilities, momenta, returns, oscillators; see
    FEATURES.md), and 60-return beta / correlation against the S&P 500 and the dollar index (their
    observations from the `benchmarks` asset, each usable only from its `available_at`, in rows whose
    decision time is at or after it). `available_at` is the row's bar end (when its technical features
    became known) and `<feature>_available_at` when each cross-asset window was complete. Each day reads the
    asset's prices of the previous 730 calendar days, so its value does not depend on where a
    backfill started; values inside an indicator's warm-up are empty. With Spark reading the store
    (`PORTFOLIO_SPARK_DIRECT_IO`), the prices never reach this process: executors read and write the store."""
    first, last = run_window(context)
    data_start = pd.Timestamp(WINDOW.start, tz="UTC")
    lookback = clamp_lookback(first, INDICATOR_LOOKBACK_DAYS, data_start)
    store = PartitionStore(storage.store_root())
    benchmarks = read_source(context, store, Source("benchmarks", lookback, last))
    # An asset a failed source left out of any prices partition of the lookback would have a hole in its
    # history, and every indicator after it would be wrong: it is left out here too until refilled.
    excluded = store.exclusions(["prices"], Source("prices", lookback, last).keys(context))
    if excluded:
        context.log.warning(f"indicators: left out (a lookback partition of prices lacks them): {excluded}")
    has_volume = has_volume_for(landing.universe().assets)
    call = StepCall(indicator_frame, ("indicators",), (first, last), partial(indicator_checks, has_volume=has_volume))
    prices = Source("prices", lookback, last, leave_out=tuple(excluded))
    step = run_step(context, engine, store, call, [prices], shared={"benchmarks": benchmarks})
    with given_up_on_error(store, step):
        run, results = indicator_results(step.partials, first, last)
        log_run(context, "indicators", run)
        meta = {**run.metadata, "engine": engine.describe(), EXCLUDED_ASSETS: MetadataValue.json(excluded)}
        yield from finish(context, store, step, meta, results)
