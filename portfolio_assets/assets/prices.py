"""prices: daily OHLCV of every universe asset in one canonical schema."""

from collections.abc import Collection, Iterator

import numpy as np
import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, BackfillPolicy, MetadataValue, Output, asset

from portfolio_assets import replay
from portfolio_assets.assets.quality import (
    check_results,
    check_specs,
    checked_metadata,
    days_of,
    per_partition,
    schema_outcome,
)
from portfolio_assets.assets.raw import PRICE_SOURCES
from portfolio_assets.assets.windows import in_window, log_run, run_summary, run_window
from portfolio_assets.checks import (
    calendars_for,
    cross_source_consistency,
    feature_distribution,
    has_volume_for,
    last_trading_days_for,
    temporal_gaps,
)
from portfolio_assets.clients.status import excluded_assets
from portfolio_assets.codeversion import version_of
from portfolio_assets.columns import PRICE_COLUMNS
from portfolio_assets.errors import SourceError
from portfolio_assets.features.adjustment import ADJUSTMENT_FACTOR, SPLIT_FACTOR_CUM, adjusted_close, adjustment_factors
from portfolio_assets.io_managers import EXCLUDED_ASSETS
from portfolio_assets.landing import LandingZone
from portfolio_assets.lru import BytesLRU
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import LandingZoneResource, StorageResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.schemas import PricesSchema, table_schema, validate_rows
from portfolio_assets.sources import alphavantage
from portfolio_assets.universe import AssetSpec

HISTORY_CACHE_BYTES = 512 * 2**20
"""How much derived price history one process keeps (``_asset_history``): a build in many runs
(``materialize_all`` with ``partitions_per_run``) cuts every run's window out of every asset's whole history."""

ROWS_BEFORE = 60
"""Rows of each asset before a run's first day that the ``prices`` checks compare the window with."""

_HISTORY = BytesLRU(HISTORY_CACHE_BYTES)


def _derive(zone: LandingZone, spec: AssetSpec) -> pd.DataFrame:
    """One asset's whole canonical history (``canonical_prices``), derived from its stored responses."""
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
    return frame[PRICE_COLUMNS]


def _sources_key(zone: LandingZone, spec: AssetSpec) -> tuple[object, ...] | None:
    """What ``_derive`` reads for ``spec``: the readers, and every file (path, inode, size, modification time) of
    the series folders they read; None when a folder cannot be listed (``_derive`` then raises its own error)."""
    series = [(alphavantage.SOURCE, alphavantage.series_params(spec.params))]
    if spec.params.get("function") in replay.ACTION_FUNCTIONS:
        series += [(alphavantage.SOURCE, {"function": f, "symbol": spec.params["symbol"]}) for f in _ACTIONS]
    if spec.coingecko_id:
        series.append(("coingecko", replay.coingecko_params(spec.coingecko_id)))
    try:
        files = [f for source, params in series for f in zone.files(source, params)]
        stats = tuple((str(f.path), st.st_ino, st.st_size, st.st_mtime_ns) for f in files for st in [f.path.stat()])
    except (SourceError, OSError, ValueError, KeyError):
        return None
    # The readers themselves (held, so never mistaken for a later object at the same address): a test or a
    # caller that swaps one in reads through it, never from what another reader derived.
    return (replay.read_prices, replay.read_actions, replay.read_coingecko, *stats)


_ACTIONS = ("SPLITS", "DIVIDENDS")


def _asset_history(zone: LandingZone, spec: AssetSpec, root: str) -> pd.DataFrame:
    """``_derive(zone, spec)``, remembered per process while the files it is made of (and the readers) stay the
    same, up to ``HISTORY_CACHE_BYTES`` (``_HISTORY.limit``), least recently used first out. The frame is
    shared: never change it."""
    key = _sources_key(zone, spec)
    identity = f"{root}|{spec!r}"  # root: the zone's resolved path
    if key is not None:
        found = _HISTORY.get(identity, key)  # a history whose files changed is dropped, never served
        if found is not None:
            return found
    frame = _derive(zone, spec)
    if key is not None:
        # Each object column holds one string (the asset's symbol, class, source): the arrays are the memory.
        _HISTORY.put(identity, key, frame, int(frame.memory_usage(index=True, deep=False).sum()))
    return frame


def clear_history() -> None:
    """Forget every derived history (tests; ``_asset_history`` checks the files anyway)."""
    _HISTORY.clear()


def _histories(landing: LandingZoneResource, excluded: Collection[str]) -> list[pd.DataFrame]:
    """Each kept asset's whole history, ordered by symbol (so the rows are in (asset, timestamp) order)."""
    zone = landing.zone()
    root = str(zone.root.resolve())
    kept = [spec for spec in landing.universe().assets if spec.symbol not in excluded]
    frames = [(spec.symbol, _asset_history(zone, spec, root)) for spec in kept]
    if not frames:
        raise ValueError(f"prices: every universe asset is excluded because its sources failed: {sorted(excluded)}")
    # Each asset's rows are ascending unique days and symbols are unique: ordering the assets by symbol
    # gives the (asset_symbol, timestamp) order without sorting every row.
    frames.sort(key=lambda pair: pair[0])
    return [frame for _symbol, frame in frames]


def canonical_prices(
    landing: LandingZoneResource,
    excluded: Collection[str] = (),
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Every asset's full stored history, canonical columns, sorted by (asset, timestamp); with ``window``
    (first day, last day), only what a run of those days needs (``prices_near``).

    Crypto rows also carry CoinGecko's close of the same day (``reference_close``,
    CoinGecko's 00:00 UTC point of the next day) and ``market_cap``, for
    cross-source checks; other classes leave them empty. ``available_at`` is the end of the day's bar
    (``timing``), the instant the row's prices became known. Assets in ``excluded`` are left out, and so are
    the rows after an asset's ``last_trading_day``. ``split_factor_cum`` / ``adjustment_factor``: the
    point-in-time split and dividend factors of ``features.adjustment`` (1.0 without events).
    """
    if window is not None:
        return prices_near(landing, *window, excluded)
    return pd.concat(_histories(landing, excluded), ignore_index=True)


def prices_near(
    landing: LandingZoneResource,
    first_day: pd.Timestamp,
    last_day: pd.Timestamp,
    excluded: Collection[str] = (),
    rows_before: int = ROWS_BEFORE,
) -> pd.DataFrame:
    """The rows of ``canonical_prices(landing, excluded)`` on ``first_day..last_day`` and each asset's last
    ``rows_before`` rows before ``first_day``, with the labels they have there: what a run needs, cut from
    each asset's history (remembered per process) instead of the whole history of every asset."""
    frames = _histories(landing, excluded)
    parts, labels, offset = [], [], 0
    for frame in frames:
        stamps = pd.DatetimeIndex(frame["timestamp"])
        start = stamps.searchsorted(first_day, side="left")
        stop = stamps.searchsorted(last_day + pd.Timedelta(days=1), side="left")
        start = max(start - rows_before, 0)
        parts.append(frame.iloc[start:stop])
        labels.append(np.arange(offset + start, offset + stop))
        offset += len(frame)
    near = pd.concat(parts, ignore_index=True)
    near.index = pd.Index(np.concatenate(labels), dtype="int64")
    return near


CODE_VERSION = version_of(__name__)
"""The code version of this module's assets (``codeversion``): the UI shows them stale after a change."""


@asset(
    code_version=CODE_VERSION,
    freshness_policy=DAILY_FRESHNESS,
    group_name="prices",
    partitions_def=OBSERVATION_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="parquet_io_manager",
    kinds={"pandas", "parquet"},
    metadata={"dagster/column_schema": table_schema(PricesSchema)},
    check_specs=check_specs(
        "prices",
        ["schema", "temporal_gaps", "feature_distribution", "cross_source_consistency"],
        OBSERVATION_PARTITIONS,
    ),
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
    history = canonical_prices(landing, excluded, (first, last))  # the window, and the rows the checks look back on
    kept = [spec for spec in universe.assets if spec.symbol not in excluded]
    frame = in_window(history, first, last)
    before = history[history["timestamp"] < first].groupby("asset_symbol").tail(ROWS_BEFORE)
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
        ],
        days=days_of(first, last),
    )
    run = run_summary(frame, first, last)
    log_run(context, "prices", run)
    meta = {**run.metadata, EXCLUDED_ASSETS: MetadataValue.json(excluded)}
    yield Output(frame, metadata=checked_metadata(meta, results))
    yield from per_partition(context, results)
