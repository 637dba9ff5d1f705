"""prices: daily OHLCV of every universe asset in one canonical schema."""

from collections.abc import Collection, Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets import replay
from portfolio_assets.assets.quality import check_results, check_specs, checked_metadata, schema_outcome
from portfolio_assets.assets.raw import PRICE_SOURCES
from portfolio_assets.assets.windows import in_window, run_window, summary_metadata
from portfolio_assets.checks import (
    calendars_for,
    cross_source_consistency,
    feature_distribution,
    has_volume_for,
    last_trading_days_for,
    temporal_gaps,
)
from portfolio_assets.clients.status import excluded_assets
from portfolio_assets.columns import PRICE_COLUMNS
from portfolio_assets.features.adjustment import ADJUSTMENT_FACTOR, SPLIT_FACTOR_CUM, adjusted_close, adjustment_factors
from portfolio_assets.io_managers import EXCLUDED_ASSETS
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource, StorageResource
from portfolio_assets.schemas import PricesSchema, table_schema, validate_rows


def canonical_prices(landing: LandingZoneResource, excluded: Collection[str] = ()) -> pd.DataFrame:
    """Every asset's full stored history, canonical columns, sorted by (asset, timestamp).

    Crypto rows also carry CoinGecko's close of the same day (``reference_close``,
    CoinGecko's 00:00 UTC point of the next day) and ``market_cap``, for
    cross-source checks; other classes leave them empty. ``available_at`` is the end of the day's bar
    (``timing``), the instant the row's prices became known. Assets in ``excluded`` are left out, and so are
    the rows after an asset's ``last_trading_day``. ``split_factor_cum`` / ``adjustment_factor``: the
    point-in-time split and dividend factors of ``features.adjustment`` (1.0 without events).
    """
    zone = landing.zone()
    frames = []
    for spec in landing.universe().assets:
        if spec.symbol in excluded:
            continue
        frame = replay.read_prices(zone, spec)
        frame = frame[spec.traded_on(frame["timestamp"])].copy()  # nothing after an asset's last trading day
        frame[SPLIT_FACTOR_CUM], frame[ADJUSTMENT_FACTOR] = adjustment_factors(
            frame["timestamp"], frame["price_close"].to_numpy(dtype="float64"), replay.read_actions(zone, spec)
        )
        frame["reference_close"] = float("nan")
        frame["market_cap"] = float("nan")
        # CoinGecko is a reference: a live window older than its free 365 days has none, and that is fine
        if spec.coingecko_id and zone.files("coingecko", replay.coingecko_params(spec.coingecko_id)):
            chart = replay.read_coingecko(zone, spec.coingecko_id)
            # The point stamped D+1 00:00 UTC is the price at D's close.
            # Only 00:00 UTC points are closes: a live answer ends with the current price ("now"), whose
            # floored day would otherwise stand in for the close of the day before.
            chart = chart[chart["timestamp"] == chart["timestamp"].dt.floor("D")]
            closes = chart.assign(timestamp=chart["timestamp"] - pd.Timedelta(days=1))
            closes = closes.drop_duplicates("timestamp", keep="last").set_index("timestamp")
            frame["reference_close"] = frame["timestamp"].map(closes["price"]).astype("float64")
            frame["market_cap"] = frame["timestamp"].map(closes["market_cap"]).astype("float64")
        # the bar end: the decision time (the UTC array as is: to_numpy() would box every instant)
        frame["available_at"] = spec.bar_end.on(frame["timestamp"]).array
        frames.append((spec.symbol, frame[PRICE_COLUMNS]))
    if not frames:
        raise ValueError(f"prices: every universe asset is excluded because its sources failed: {sorted(excluded)}")
    # Each asset's rows are ascending unique days and symbols are unique: ordering the assets by symbol
    # gives the (asset_symbol, timestamp) order without sorting every row.
    frames.sort(key=lambda pair: pair[0])
    return pd.concat([frame for _symbol, frame in frames], ignore_index=True)


@asset(
    group_name="prices",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(PricesSchema)},
    check_specs=check_specs("prices", ["schema", "temporal_gaps", "feature_distribution", "cross_source_consistency"]),
    deps=["raw_alphavantage", "raw_coingecko"],
)
def prices(
    context: AssetExecutionContext, landing: LandingZoneResource, storage: StorageResource
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Daily OHLCV for every universe asset (crypto, equity, fx, commodity, bond), one row per
    asset per trading day of that asset, replayed from the raw landing zone (Alpha Vantage
    responses; CoinGecko as a second close for crypto). Columns: timestamp (UTC day),
    asset_symbol, asset_class, price_open/high/low/close, volume (empty for fx),
    reference_close, market_cap, source, available_at (the instant the day's bar ended: 24:00 UTC for
    crypto, 16:00 New York for equities and ETFs, 16:00 UTC for FX and metals; the rows' decision time),
    and the point-in-time split / dividend factors split_factor_cum and adjustment_factor (OHLCV stay as
    traded; see FEATURES.md). An asset whose source failed (see the raw assets' fetch check) is left out
    and named in `excluded_assets`."""
    first, last = run_window(context)
    universe = landing.universe()
    symbols = [spec.symbol for spec in universe.assets]
    excluded = excluded_assets(storage.store_root(), symbols, PRICE_SOURCES, first.date(), last.date())
    for symbol, why in excluded.items():
        context.log.warning(f"prices: {symbol} left out of this build: {why}")
    history = canonical_prices(landing, excluded)
    kept = [spec for spec in universe.assets if spec.symbol not in excluded]
    frame = in_window(history, first, last)
    before = history[history["timestamp"] < first].groupby("asset_symbol").tail(60)
    results = check_results(
        [
            schema_outcome(validate_rows(frame, PricesSchema, has_volume=has_volume_for(universe.assets)), "prices"),
            temporal_gaps(
                frame,
                calendars=calendars_for(kept),
                previous=before.groupby("asset_symbol").tail(1),
                window_start=first,
                window_end=last,
                last_trading_days=last_trading_days_for(kept),
            ),
            # moves on the adjusted close: a split or an ex-dividend day is not a move
            feature_distribution(adjusted_close(frame), previous=adjusted_close(before)),
            cross_source_consistency(frame),
        ]
    )
    meta = summary_metadata(frame, first, last)
    meta[EXCLUDED_ASSETS] = MetadataValue.json(excluded)
    yield Output(frame, metadata=checked_metadata(meta, results))
    yield from results
