"""benchmarks: the S&P 500 and dollar-index observations the cross-asset features regress on."""

from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, BackfillPolicy, Output, asset

from portfolio_assets.assets.macro import macro_series
from portfolio_assets.assets.quality import (
    check_result,
    check_specs,
    checked_metadata,
    days_of,
    per_partition,
    schema_outcome,
)
from portfolio_assets.assets.windows import in_window, log_run, run_summary, run_window
from portfolio_assets.codeversion import version_of
from portfolio_assets.features.cross_asset import BENCHMARK_COLUMNS
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.schemas import BenchmarksSchema, table_schema, validate_rows

BENCHMARK_FIELDS = {"sp500": "sp500_close", "dxy": "dxy"}
"""Benchmark of the cross-asset features -> the macro field whose series it is (``universe.yaml``)."""
COLUMNS = ["timestamp", "benchmark", "value", "available_at"]


def benchmark_frame(landing: LandingZoneResource) -> pd.DataFrame:
    """Every stored observation of each benchmark, one row per (benchmark, observation day).

    ``timestamp`` is the observation day (the partition), ``available_at`` the instant it became public.
    """
    specs = {spec.name: spec for spec in landing.universe().macro}
    frames = []
    for name, field in BENCHMARK_FIELDS.items():
        series = macro_series(landing, specs[field])
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": series["observation_date"],
                    "benchmark": name,
                    "value": series["value"].astype("float64"),
                    "available_at": series["available_at"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[COLUMNS].sort_values(["benchmark", "timestamp"], kind="stable")


def benchmark_series(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The stored rows as ``compute_cross_asset``'s benchmarks: name -> observation_date, value, available_at."""
    out = {}
    for name in BENCHMARK_FIELDS:
        rows = frame[frame["benchmark"] == name]
        series = rows.rename(columns={"timestamp": "observation_date"})[BENCHMARK_COLUMNS]
        out[name] = series.sort_values("observation_date", kind="stable").reset_index(drop=True)
    return out


CODE_VERSION = version_of(__name__)
"""The code version of this module's assets (``codeversion``): the UI shows them stale after a change."""


@asset(
    code_version=CODE_VERSION,
    freshness_policy=DAILY_FRESHNESS,
    group_name="macro",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(BenchmarksSchema)},
    check_specs=check_specs("benchmarks", ["schema"], OBSERVATION_PARTITIONS),
    deps=["raw_fred", "raw_alphavantage"],
)
def benchmarks(
    context: AssetExecutionContext, landing: LandingZoneResource
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The benchmark series of the cross-asset features (beta and correlation against the S&P 500
    and the broad dollar index), one row per benchmark per observation day: `value` as observed,
    `available_at` the instant it became public (FRED's SP500 at the day's 16:00 New York close,
    DTWEXBGS a week later at 16:15 New York; see universe.yaml). `indicators` reads them through the
    same lookback as prices and uses an observation only in rows whose decision time is at or after
    its `available_at`."""
    first, last = run_window(context)
    frame = in_window(benchmark_frame(landing), first, last)
    results = [
        check_result(schema_outcome(validate_rows(frame, BenchmarksSchema), "benchmarks"), days=days_of(first, last))
    ]
    run = run_summary(frame, first, last)
    log_run(context, "benchmarks", run)
    yield Output(frame, metadata=checked_metadata(run.metadata, results))
    yield from per_partition(context, results)
