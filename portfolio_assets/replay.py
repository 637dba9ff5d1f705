"""Read whole series back from the raw landing zone, through the shared parsers.

Each reader parses every stored response of one series (oldest fetch first),
so a later fetch wins for the dates two responses share, and returns a tidy
frame; Google Trends downloads alone are returned one snapshot each, never
merged (``read_trends``). Parse errors carry the source and the file they came from.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

from portfolio_assets.features.adjustment import CorporateActions
from portfolio_assets.features.sentiment import TrendsSnapshot
from portfolio_assets.landing import LandedFile, LandingZone
from portfolio_assets.lru import BytesLRU
from portfolio_assets.sources import (
    alphavantage,
    coingecko,
    corporate_actions,
    fear_greed,
    fred,
    gdelt,
    google_trends,
    social,
)
from portfolio_assets.timeutil import utc_timestamp
from portfolio_assets.timing import check_stated
from portfolio_assets.universe import AssetSpec

PARSED_CACHE_BYTES = 768 * 2**20
"""How much parsed response data one process keeps (``_parsed``): a build in many runs (``materialize_all``
with ``partitions_per_run``) reads every stored response in every run, and parses each once."""

_T = TypeVar("_T")
_PARSED = BytesLRU(PARSED_CACHE_BYTES)


def _bytes_of(value: object) -> int:
    """About the arrays' bytes, 8 a cell and index label: an object column counts its pointers (the parsers' text
    columns repeat a few strings, shared: pyarrow deduplicates them), not each string again (that took seconds
    for the social feed), and nothing is asked of pandas (``memory_usage`` took ~1 ms a frame)."""
    if isinstance(value, pd.DataFrame):
        rows, columns = value.shape
        return 8 * rows * (columns + 1)
    if isinstance(value, list | tuple):
        return sum(map(_bytes_of, value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_bytes_of(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 0


def _parsed(file: LandedFile, parse: Callable[..., _T], **options: Any) -> _T:
    """``parse(file.read_bytes(), where=file.where, **options)``, remembered per file (path, inode, size,
    modification time) up to ``PARSED_CACHE_BYTES``, least recently used first out. Each call gets its own copy, so no
    caller can change what the next one reads; a file that fails to parse is parsed (and fails) every time."""
    stat = file.path.stat()
    name = (parse, str(file.path), tuple(sorted(options.items())))
    key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    found = _PARSED.get(name, key)
    if found is not None:
        return copy.deepcopy(found)
    value = parse(file.read_bytes(), where=file.where, **options)
    size = _bytes_of(value)
    if size <= _PARSED.limit:
        _PARSED.put(name, key, copy.deepcopy(value), size)
    return value


def _read(
    zone: LandingZone,
    source: str,
    params: dict[str, str],
    merge: Callable[..., _T],
    parse: Callable[..., Any],
    **options: Any,
) -> _T:
    """``merge(parsed)`` of ``parse(body, where=..., **options)`` of every stored response of a series (oldest
    first), remembered per process like ``_parsed`` while every file of the series stays the same: a build in
    many runs reads each series in every run, and merging a long one (the social feed of every asset) took
    seconds a run. The responses themselves are not kept apart. Each call gets its own copy."""
    files = zone.require(source, params)
    name = (merge, parse, str(zone.series_dir(source, params)), tuple(sorted(options.items())))
    key = tuple((str(f.path), st.st_ino, st.st_size, st.st_mtime_ns) for f in files for st in [f.path.stat()])
    found = _PARSED.get(name, key)
    if found is not None:
        return copy.deepcopy(found)
    value = merge([(f, parse(f.read_bytes(), where=f.where, **options)) for f in files])
    size = _bytes_of(value)
    if size <= _PARSED.limit:
        _PARSED.put(name, key, copy.deepcopy(value), size)
    return value


def _by_timestamp(parsed: list[tuple[LandedFile, pd.DataFrame]]) -> pd.DataFrame:
    return _combine([frame for _file, frame in parsed], ["timestamp"])


def clear_parsed() -> None:
    """Forget every parsed response (tests; ``_parsed`` checks each file's inode, size and time anyway)."""
    _PARSED.clear()


def _combine(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    combined = pd.concat(frames, ignore_index=True)
    combined = combined.drop_duplicates(subset=keys, keep="last")
    return combined.sort_values(keys, kind="stable").reset_index(drop=True)


def read_prices(zone: LandingZone, spec: AssetSpec) -> pd.DataFrame:
    """Daily OHLCV of one universe asset in canonical columns; each response's stated clock is checked
    against the asset's bar end (``timing.check_stated``)."""
    params = alphavantage.series_params(spec.params)
    frames = []
    for f in zone.require(alphavantage.SOURCE, params):
        part = _parsed(f, alphavantage.parse_daily)
        last = part["timestamp"].iloc[-1] if len(part) else None
        check_stated(part.attrs, spec.bar_end, last, f"{alphavantage.SOURCE} {spec.symbol} {f.where}")
        frames.append(part)
    frame = _combine(frames, ["timestamp"])
    frame.insert(1, "asset_symbol", spec.symbol)
    frame.insert(2, "asset_class", spec.asset_class)
    frame["source"] = alphavantage.SOURCE
    return frame


ACTION_FUNCTIONS = ("TIME_SERIES_DAILY",)
"""Price functions whose assets have splits and dividends (equities and ETFs); the others have none."""


def read_actions(zone: LandingZone, spec: AssetSpec) -> CorporateActions:
    """The splits and dividends of one universe asset, from the newest stored ``SPLITS`` / ``DIVIDENDS``.

    Each response lists every event of the symbol, so the newest one is the whole record (merging
    fetches could count a corrected dividend twice). An asset whose price function has no corporate
    actions (crypto, fx) gets empty frames; an equity or ETF without stored responses is an error.
    """
    if spec.params.get("function") not in ACTION_FUNCTIONS:
        return CorporateActions()
    symbol = spec.params["symbol"]
    splits = zone.require(alphavantage.SOURCE, {"function": "SPLITS", "symbol": symbol})[-1]
    dividends = zone.require(alphavantage.SOURCE, {"function": "DIVIDENDS", "symbol": symbol})[-1]
    return CorporateActions(
        splits=_parsed(splits, corporate_actions.parse_splits),
        dividends=_parsed(dividends, corporate_actions.parse_dividends),
    )


def coingecko_params(coin_id: str) -> dict[str, str]:
    """The landing-zone series of a CoinGecko coin (USD)."""
    return {"id": coin_id, "vs_currency": "usd"}


def read_coingecko(zone: LandingZone, coin_id: str) -> pd.DataFrame:
    """CoinGecko daily points: ``timestamp`` is the 00:00 UTC stamp (the previous day's close)."""
    return _read(zone, coingecko.SOURCE, coingecko_params(coin_id), _by_timestamp, coingecko.parse_market_chart)


def read_fred(zone: LandingZone, series_id: str) -> fred.FredObservations:
    """All observations of a FRED series; vintage only if every response was a first-release one."""
    return _read(zone, fred.SOURCE, {"series_id": series_id}, _fred, fred.parse_observations, series_id=series_id)


def _fred(parsed: list[tuple[LandedFile, fred.FredObservations]]) -> fred.FredObservations:
    frame = _combine([p.frame for _f, p in parsed], ["observation_date"])
    series_id = parsed[0][1].series_id
    return fred.FredObservations(series_id=series_id, vintage=all(p.vintage for _f, p in parsed), frame=frame)


def read_gdelt(zone: LandingZone, query: str, mode: str) -> pd.DataFrame:
    """A GDELT DOC timeline (``timelinetone`` or ``timelinevolraw``) at daily resolution."""
    return _read(zone, gdelt.SOURCE, {"mode": mode, "query": query}, _by_timestamp, gdelt.parse_timeline)


def read_fear_greed(zone: LandingZone) -> pd.DataFrame:
    """The alternative.me crypto Fear & Greed index, one value per day."""
    return _read(zone, fear_greed.SOURCE, {"limit": "0"}, _by_timestamp, fear_greed.parse_fng)


def read_social(zone: LandingZone) -> pd.DataFrame:
    """The licensed daily social-sentiment feed, every asset."""
    return _read(zone, social.SOURCE, {"feed": "daily"}, _social, social.parse_social_csv)


def _social(parsed: list[tuple[LandedFile, pd.DataFrame]]) -> pd.DataFrame:
    return _combine([frame for _file, frame in parsed], ["asset_symbol", "timestamp"])


def read_trends(zone: LandingZone, query: str) -> list[TrendsSnapshot]:
    """Every stored Google Trends download of one search term, oldest fetch first, each kept apart.

    Not merged like the other series: a download is scaled to the maximum of its own range, so
    a later one rescales the past. Each snapshot holds its periods (start, exclusive end, value)
    and ``fetched_at``, the UTC fetch time of its file name.
    """
    return _read(zone, google_trends.SOURCE, {"q": query}, _snapshots, google_trends.parse_trends_csv)


def _snapshots(parsed: list[tuple[LandedFile, pd.DataFrame]]) -> list[TrendsSnapshot]:
    return [TrendsSnapshot(fetched_at=utc_timestamp(f.fetched_at), frame=frame) for f, frame in parsed]
