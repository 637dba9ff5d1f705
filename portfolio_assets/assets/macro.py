"""macro: the 10 macro fields as known at each day's close."""

from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, BackfillPolicy, Output, asset

from portfolio_assets import replay
from portfolio_assets.assets.quality import (
    check_result,
    check_specs,
    checked_metadata,
    days_of,
    per_partition,
    schema_outcome,
)
from portfolio_assets.assets.windows import log_run, report_json, run_summary, run_window
from portfolio_assets.codeversion import version_of
from portfolio_assets.columns import MACRO_AVAILABILITY
from portfolio_assets.features.macro import align_as_of, derive_macro, release_dates, transform_series
from portfolio_assets.features.registry import MACRO_DERIVED, MACRO_FIELDS, available_column
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.schemas import MacroSchema, table_schema, validate_rows
from portfolio_assets.timing import Clock
from portfolio_assets.universe import MacroSpec


def macro_series(landing: LandingZoneResource, spec: MacroSpec) -> pd.DataFrame:
    """``observation_date, value, available_at`` of one macro field, transformed.

    ``available_at``: the release day (first-release vintage date, else period end + lag) at the series'
    release time; for a universe asset's close, the lagged day at the asset's bar end.
    """
    zone = landing.zone()
    if spec.source == "fred":
        observed = replay.read_fred(zone, spec.series_id or "")
        frame = observed.frame[["observation_date", "value"]].copy()
        released = release_dates(observed.frame, spec.frequency, spec.release_lag_days, vintage=observed.vintage)
        clock = spec.release_time
    else:
        asset = landing.universe().asset(spec.symbol or "")
        asset_prices = replay.read_prices(zone, asset)
        frame = pd.DataFrame({"observation_date": asset_prices["timestamp"], "value": asset_prices["price_close"]})
        released = release_dates(frame, spec.frequency, spec.release_lag_days, vintage=False)
        clock = asset.bar_end
    if clock is None:
        raise ValueError(f"macro field {spec.name}: no release time (universe.yaml release_time)")
    frame["available_at"] = clock.on(released).array  # not to_numpy(): that boxes every instant
    return transform_series(frame, spec.transform)


def decision_clocks(landing: LandingZoneResource) -> list[Clock]:
    """The distinct bar ends of the universe's assets: the decision times macro rows are built for."""
    clocks: list[Clock] = []
    for spec in landing.universe().assets:
        if spec.bar_end not in clocks:
            clocks.append(spec.bar_end)
    return clocks


def macro_frame(landing: LandingZoneResource, days: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per (day, decision time) with every macro field as available at that decision time.

    The decision times of a day are the bar ends of the universe's assets on it (``decision_clocks``);
    each field comes with its ``<field>_available_at``.
    """
    series = {spec.name: (macro_series(landing, spec), spec.frequency) for spec in landing.universe().macro}
    parts = []
    for clock in decision_clocks(landing):
        decision = clock.on(days)
        frame = pd.DataFrame({"timestamp": days, "decision_time": decision})
        for name, (observed, frequency) in series.items():
            values, available = align_as_of(decision, observed, frequency)
            frame[name] = values.to_numpy()
            frame[available_column(name)] = available.array  # UTC even when nothing is released yet
        parts.append(derive_macro(frame))
    frame = pd.concat(parts, ignore_index=True).sort_values(["timestamp", "decision_time"], kind="stable")
    return frame[MACRO_OUTPUT].reset_index(drop=True)


MACRO_OUTPUT = ["timestamp", "decision_time", *MACRO_FIELDS, *MACRO_DERIVED, *MACRO_AVAILABILITY]


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
    metadata={"dagster/column_schema": table_schema(MacroSchema)},
    check_specs=check_specs("macro", ["schema"], OBSERVATION_PARTITIONS),
    deps=["raw_fred", "raw_alphavantage"],
)
def macro(
    context: AssetExecutionContext, landing: LandingZoneResource
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The 10 macro fields (sp500_close, vix, dxy, us10y_yield, us2y_yield, gold_price,
    oil_price, cpi_yoy, gdp_growth_qoq, unemployment_rate) and yield_curve_10y_2y, one row per calendar day
    and decision time (each bar end of the universe's assets on that day: 24:00 UTC, 16:00 New York,
    16:00 UTC), each the latest value *available* at that instant (released on its first-release vintage
    date where FRED gives one, else period end + the series' documented lag, at the series' release
    time), with `<field>_available_at`, carried forward at most 7 days past its cadence. So an FX row
    (16:00 UTC) sees the previous day's S&P 500 close, an equity row (16:00 New York) that day's S&P
    close but the previous day's VIX (16:15)."""
    first, last = run_window(context)
    days = pd.date_range(first, last, freq="D")
    frame = macro_frame(landing, days)
    run = run_summary(frame, first, last)
    fields = [*MACRO_FIELDS, *MACRO_DERIVED]
    run.reports["missing per field"] = report_json({c: int(frame[c].isna().sum()) for c in fields})
    run.reports["release rules"] = report_json(
        {
            s.name: f"{s.source}:{s.series_id or s.symbol} {s.frequency}, +{s.release_lag_days}d after period end"
            f" at {s.release_time or landing.universe().asset(s.symbol or '').bar_end}"
            for s in landing.universe().macro
        }
    )
    log_run(context, "macro", run)
    results = [check_result(schema_outcome(validate_rows(frame, MacroSchema), "macro"), days=days_of(first, last))]
    yield Output(frame, metadata=checked_metadata(run.metadata, results))
    yield from per_partition(context, results)
