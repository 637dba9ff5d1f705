"""macro: the 10 macro fields as known at each day's close."""

from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets import replay
from portfolio_assets.assets.quality import check_result, check_specs, checked_metadata, schema_outcome
from portfolio_assets.assets.windows import run_window, summary_metadata
from portfolio_assets.features.macro import align_as_of, derive_macro, release_dates, transform_series
from portfolio_assets.features.registry import MACRO_DERIVED, MACRO_FIELDS
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.schemas import MacroSchema, table_schema, validate_rows
from portfolio_assets.universe import MacroSpec


def macro_series(landing: LandingZoneResource, spec: MacroSpec) -> pd.DataFrame:
    """``observation_date, value, release_date`` of one macro field, transformed."""
    zone = landing.zone()
    if spec.source == "fred":
        observed = replay.read_fred(zone, spec.series_id or "")
        frame = observed.frame[["observation_date", "value"]].copy()
        frame["release_date"] = release_dates(
            observed.frame, spec.frequency, spec.release_lag_days, vintage=observed.vintage
        )
    else:
        asset_prices = replay.read_prices(zone, landing.universe().asset(spec.symbol or ""))
        frame = pd.DataFrame({"observation_date": asset_prices["timestamp"], "value": asset_prices["price_close"]})
        frame["release_date"] = release_dates(frame, spec.frequency, spec.release_lag_days, vintage=False)
    return transform_series(frame, spec.transform)


def macro_frame(landing: LandingZoneResource, days: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per day with every macro field as known at that day's close."""
    frame = pd.DataFrame({"timestamp": days})
    for spec in landing.universe().macro:
        frame[spec.name] = align_as_of(days, macro_series(landing, spec), spec.frequency).to_numpy()
    return derive_macro(frame[["timestamp", *MACRO_FIELDS]])[["timestamp", *MACRO_FIELDS, *MACRO_DERIVED]]


@asset(
    group_name="macro",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(MacroSchema)},
    check_specs=check_specs("macro", ["schema"]),
    deps=["raw_fred", "raw_alphavantage"],
)
def macro(
    context: AssetExecutionContext, landing: LandingZoneResource
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The 10 macro fields (sp500_close, vix, dxy, us10y_yield, us2y_yield, gold_price,
    oil_price, cpi_yoy, gdp_growth_qoq, unemployment_rate) and yield_curve_10y_2y, one row per calendar day, each the
    latest value *released* by that day's close (first-release vintage date where FRED gives one,
    else period end + the series' documented lag), carried forward at most 7 days past its cadence.
    Weekend rows see Friday's market closes."""
    first, last = run_window(context)
    days = pd.date_range(first, last, freq="D")
    frame = macro_frame(landing, days)
    meta = summary_metadata(frame, first, last)
    fields = [*MACRO_FIELDS, *MACRO_DERIVED]
    meta["missing_per_field"] = MetadataValue.json({c: int(frame[c].isna().sum()) for c in fields})
    meta["release_rules"] = MetadataValue.json(
        {
            s.name: f"{s.source}:{s.series_id or s.symbol} {s.frequency}, +{s.release_lag_days}d after period end"
            for s in landing.universe().macro
        }
    )
    results = [check_result(schema_outcome(validate_rows(frame, MacroSchema), "macro"))]
    yield Output(frame, metadata=checked_metadata(meta, results))
    yield from results
