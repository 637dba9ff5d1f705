"""sentiment: news, social, search-interest and fear & greed, per asset per day."""

from collections.abc import Callable, Collection, Iterator
from functools import cache, partial

import numpy as np
import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets import replay
from portfolio_assets.assets.quality import (
    check_result,
    check_specs,
    checked_metadata,
    days_of,
    per_partition,
    schema_outcome,
)
from portfolio_assets.assets.raw import SENTIMENT_SOURCES
from portfolio_assets.assets.windows import log_run, report_json, run_summary, run_window
from portfolio_assets.checks import has_volume_for
from portfolio_assets.clients.status import excluded_assets
from portfolio_assets.codeversion import version_of
from portfolio_assets.features.registry import SENTIMENT_FIELDS
from portfolio_assets.features.sentiment import AssetSources, sentiment_panel, trends_at
from portfolio_assets.io_managers import EXCLUDED_ASSETS
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource, StorageResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.schemas import SentimentSchema, table_schema, validate_rows


def _near(days: pd.DatetimeIndex) -> Callable[[pd.DataFrame | None], pd.DataFrame | None]:
    """A filter keeping the rows of a daily series whose UTC day is within two days before ``days`` and one
    after: every source day ``asset_sentiment`` looks up (``features.sentiment._on_days``), rows in order."""
    if len(days) == 0:
        return lambda frame: frame
    lo = pd.DatetimeIndex(days).min().normalize() - pd.Timedelta(days=2)
    hi = pd.DatetimeIndex(days).max().normalize() + pd.Timedelta(days=1)

    def keep(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None or frame.empty:
            return frame
        # the UTC day within lo..hi (midnights): the instant from lo up to the end of hi (no day computed per row)
        stamps = pd.DatetimeIndex(frame["timestamp"])
        return frame[np.asarray((stamps >= lo) & (stamps < hi + pd.Timedelta(days=1)))]

    return keep


def sentiment_frame(
    landing: LandingZoneResource, days: pd.DatetimeIndex, excluded: Collection[str] = ()
) -> pd.DataFrame:
    """One row per (asset, calendar day) with the six sentiment fields, through each asset's last trading day
    if it has one; assets in ``excluded`` left out."""
    zone = landing.zone()
    universe = landing.universe()
    kept = [spec for spec in universe.assets if spec.symbol not in excluded]
    if not kept:
        raise ValueError(f"sentiment: every universe asset is excluded because its sources failed: {sorted(excluded)}")
    # The daily series are looked up on the days' source days only (D-1 or D, ``complete_utc_day``): keep
    # those, so a run's cost follows its days, not the whole stored history.
    near = _near(days)
    social = near(replay.read_social(zone))
    # Queries are shared between assets: each GDELT timeline and Trends history is read once.
    read_gdelt = cache(lambda query, mode: near(replay.read_gdelt(zone, query, mode)))
    read_trends = cache(partial(replay.read_trends, zone))
    fng = near(replay.read_fear_greed(zone)) if any(a.fear_greed for a in kept) else None
    # ... and so is each search term's score on the days, per bar end (the decision instants).
    trends_scores = cache(lambda query, bar_end: trends_at(bar_end.on(days), read_trends(query)))
    sources = [
        AssetSources(
            symbol=spec.symbol,
            bar_end=spec.bar_end,
            tone=read_gdelt(spec.news_query, "timelinetone"),
            volume=read_gdelt(spec.news_query, "timelinevolraw"),
            trends_scores=trends_scores(spec.trends_query, spec.bar_end),
            fear_greed=fng if spec.fear_greed else None,
        )
        for spec in kept
    ]
    # Every asset's rows at once (``sentiment_panel``: the rows of ``asset_sentiment`` asset after asset).
    frame = sentiment_panel(days, sources, social)
    frame.insert(2, "asset_class", np.repeat(np.array([spec.asset_class for spec in kept], dtype=object), len(days)))
    traded = np.ones(len(frame), dtype=bool)
    for i, spec in enumerate(kept):
        if spec.last_trading_day is not None:  # no row after an asset's last trading day
            rows = slice(i * len(days), (i + 1) * len(days))
            traded[rows] = spec.traded_on(frame["timestamp"].iloc[rows]).to_numpy()
    frame = frame[traded] if not traded.all() else frame
    return frame.sort_values(["asset_symbol", "timestamp"]).reset_index(drop=True)


CODE_VERSION = version_of(__name__)
"""The code version of this module's assets (``codeversion``): the UI shows them stale after a change."""


@asset(
    code_version=CODE_VERSION,
    freshness_policy=DAILY_FRESHNESS,
    group_name="sentiment",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(SentimentSchema)},
    check_specs=check_specs("sentiment", ["schema"], OBSERVATION_PARTITIONS),
    deps=["raw_gdelt", "raw_social", "raw_google_trends", "raw_fear_greed"],
)
def sentiment(
    context: AssetExecutionContext, landing: LandingZoneResource, storage: StorageResource
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Six sentiment fields per asset per calendar day: GDELT news tone (÷100, -1..1) and
    article count, the licensed social feed's score and mentions (UTC-day aggregates: non-crypto
    assets, which close before 24:00 UTC, see the previous day's), a Google Trends score (from the
    newest download fetched by the day's decision instant, on that download's own scale: its latest
    completed week vs its trailing 52-week high; none before the first download), and the
    alternative.me Fear & Greed index (crypto only; empty = not applicable elsewhere). Each field has its
    `<field>_available_at`: the end of the UTC day aggregated, or the download's fetch instant; the day's
    decision time is the asset's bar end (24:00 UTC crypto, 16:00 New York equities and ETFs, 16:00 UTC
    FX and metals). An asset whose source failed is left out and named in `excluded_assets`."""
    first, last = run_window(context)
    symbols = [spec.symbol for spec in landing.universe().assets]
    excluded = excluded_assets(storage.store_root(), symbols, SENTIMENT_SOURCES, first.date(), last.date())
    frame = sentiment_frame(landing, pd.date_range(first, last, freq="D"), excluded)
    run = run_summary(frame, first, last)
    run.reports["missing per field"] = report_json({c: int(frame[c].isna().sum()) for c in SENTIMENT_FIELDS})
    log_run(context, "sentiment", run)
    meta = {**run.metadata, EXCLUDED_ASSETS: MetadataValue.json(excluded)}
    has_volume = has_volume_for(landing.universe().assets)
    results = [
        check_result(
            schema_outcome(validate_rows(frame, SentimentSchema, has_volume=has_volume), "sentiment"),
            days=days_of(first, last),
        )
    ]
    yield Output(frame, metadata=checked_metadata(meta, results))
    yield from per_partition(context, results)
