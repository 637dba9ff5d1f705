"""Technical indicators per asset per observation: pure pandas / numpy / TA-Lib.

``compute_indicators`` is what the ``indicators`` asset (and, later, a Spark
``applyInPandas``) calls. Each feature is declared in ``registry.py`` (its kernel
in ``kernels.py``, window statistics in ``rolling.py``; FEATURES.md is generated
from the declarations); the implementation choices that matter for exactness:

* **Windows are counted in the asset's own observations** (equities skip
  weekends, crypto trades daily), never calendar days. Each asset is computed
  independently; the value at row t depends only on that asset's rows at or
  before t.
* **Window statistics are window-local.** SMAs, Bollinger bands, volatilities,
  skewness, the volume z-score, the rolling max, stochastic %D and the money
  flow index are computed from each window's values alone (two-pass: mean,
  then centred sums), not with running sums. A value is therefore a function
  of its window only (bit for bit independent of where the series starts,
  i.e. of where a backfill's lookback began), exact to about 1 ulp, and a
  window whose values are all equal has exactly zero dispersion (its mean is
  that value). TA-Lib's SMA/BBANDS/STOCHF-%D/MFI use running sums (and
  E[x²] − E[x]² for the variance), which drift by up to ~1e-11 relative; the
  results agree with TA-Lib to well within 1e-8. ``bb_width`` and
  ``bb_percent_b`` are computed from σ itself (4σ/mean, (close − mean)/4σ + ½),
  not from the rounded bands, whose difference cancels.
* **TA-Lib for the rest**: RSI, ATR, NATR, ADX (Wilder, alpha 1/n, seeded like
  TA-Lib), STOCHF %K, WILLR, CCI, ROC and EMA, called on the asset's whole
  series. Where TA-Lib writes 0 for an undefined 0/0 (RSI of a series that
  never moved, %K / %R of a window without range, CCI of a window of equal
  typical prices, MFI of a window without money flow) the value is NaN.
* **EMA / MACD seeding.** ``ema_n`` is TA-Lib's EMA: alpha 2/(n+1), seeded at
  observation n−1 with the mean of the first n closes. ``macd = ema_12 −
  ema_26`` (first defined at observation 25). ``macd_signal`` is the same EMA
  (alpha 2/10) applied to the macd series from its first value: seeded with
  the mean of macd's first 9 values (observation 33). TA-Lib's MACD seeds its
  fast EMA differently (at the slow EMA's start), so it differs during the
  warm-up only; the difference decays as (11/13)^k and is below 1e-15
  relative after ~250 observations.
* **Warm-up values are NaN** (first defined index per feature: ``Feature.warmup``).
  Nothing is imputed.
* **Bad input raises** ``InvalidPricesError`` (a ValueError) naming the asset
  and timestamp: a missing / non-finite / non-positive open, high, low or
  close, a duplicated (asset_symbol, timestamp), a missing timestamp, an
  unknown or inconsistent asset_class, a negative or infinite volume, or a
  volume missing on some but not all of an asset's rows. (A NaN fed into a
  recursive indicator would silently poison every later value, so it is never
  let through.)
* **Volume.** Volume features (``mfi_14``, ``volume_zscore_20``) do not apply
  to fx and are NaN there whatever the input. An asset of another class whose
  volume is missing on every row (e.g. spot gold quoted as an FX pair) gets
  NaN volume features (missing, not "not applicable").
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from portfolio_assets.asset_classes import ALL_CLASSES
from portfolio_assets.features.kernels import AssetSeries
from portfolio_assets.features.registry import TECHNICAL, TECHNICAL_FEATURES

KEY_COLUMNS = ["asset_symbol", "asset_class", "timestamp"]
OHLC_COLUMNS = ["price_open", "price_high", "price_low", "price_close"]
REQUIRED_COLUMNS = [*KEY_COLUMNS, *OHLC_COLUMNS, "volume"]


class InvalidPricesError(ValueError):
    """The prices cannot be used; the message names the asset, the timestamp and the cause."""


# ---------------------------------------------------------------------------
# Input checks and ordering (shared with targets.py)
# ---------------------------------------------------------------------------


def require_columns(prices: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in prices.columns]
    if missing:
        raise InvalidPricesError(f"{what}: missing columns {missing} (got {list(prices.columns)})")
    dtype = prices["timestamp"].dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        raise InvalidPricesError(f"{what}: timestamp must be a timezone-aware datetime64 (UTC), got {dtype}")


def _timestamps_ns(timestamps: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC), whatever the datetime unit."""
    return pd.DatetimeIndex(timestamps).as_unit("ns").asi8


def _order_by_asset_and_time(codes: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Positions sorted by (codes, ts); rows with equal keys (duplicates, an error) in an unspecified order."""
    small = codes.astype(np.int32 if len(codes) and codes.max() >= 2**15 else np.int16)
    order = np.argsort(small, kind="stable")  # a radix sort on small integers
    ts_grouped = ts[order]
    same_asset = small[order][1:] == small[order][:-1]
    if (ts_grouped[1:] >= ts_grouped[:-1])[same_asset].all():  # each asset's rows already chronological
        return order
    order = np.argsort(ts)
    return order[np.argsort(small[order], kind="stable")]


def sort_prices(prices: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order by (asset_symbol, timestamp), checking keys.

    Returns ``order`` (positions into ``prices``), ``bounds`` (start offsets of
    each asset in the sorted order, plus the end) and the sorted timestamps in
    int64 ns. Raises on a missing symbol or timestamp and on duplicated keys.
    """
    return _sort_prices(prices, what)[:3]


def _sort_prices(prices: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``sort_prices`` and the symbols in sorted order (one per asset)."""
    symbols = prices["asset_symbol"]
    codes, uniques = pd.factorize(symbols, sort=True)
    if (codes < 0).any():
        row = prices.iloc[int(np.argmax(codes < 0))]
        raise InvalidPricesError(f"{what}: missing asset_symbol (row at timestamp {row['timestamp']})")
    if prices["timestamp"].isna().any():
        symbol = symbols[prices["timestamp"].isna()].iloc[0]
        raise InvalidPricesError(f"{what}: asset {symbol!r}: missing timestamp")
    ts = _timestamps_ns(prices["timestamp"])
    order = _order_by_asset_and_time(codes, ts)
    codes_sorted = codes[order]
    ts_sorted = ts[order]
    same_key = (codes_sorted[1:] == codes_sorted[:-1]) & (ts_sorted[1:] == ts_sorted[:-1])
    if same_key.any():
        at = order[int(np.argmax(same_key))]
        raise InvalidPricesError(
            f"{what}: asset {symbols.iloc[at]!r}: duplicated timestamp {prices['timestamp'].iloc[at]}"
        )
    starts = np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]]) if len(order) else np.array([], int)
    bounds = np.r_[starts, len(order)].astype(np.int64)
    return order, bounds, ts_sorted, np.asarray(uniques)


def _first_bad(frame: pd.DataFrame, bad: np.ndarray, column: str, what: str, cause: str) -> InvalidPricesError:
    at = int(np.argmax(bad))
    return InvalidPricesError(
        f"{what}: asset {frame['asset_symbol'].iloc[at]!r} at {frame['timestamp'].iloc[at]}: "
        f"{column} {cause} (got {frame[column].iloc[at]})"
    )


def check_positive_prices(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise on the first missing, non-finite or non-positive price (frame in any order)."""
    for column in columns:
        values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            raise _first_bad(frame, bad, column, what, "is missing, non-finite or non-positive")


# ---------------------------------------------------------------------------
# All assets
# ---------------------------------------------------------------------------


def _asset_volume(frame: pd.DataFrame, start: int, stop: int, volume: np.ndarray, what: str) -> np.ndarray | None:
    """The asset's volume, None when it has none; raises on partial, negative or infinite volume."""
    values = volume[start:stop]
    missing = np.isnan(values)
    if missing.all():
        return None
    rows = frame.iloc[start:stop]
    if missing.any():
        raise _first_bad(rows, missing, "volume", what, "is missing on some rows of an asset that has volume")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise _first_bad(rows, bad, "volume", what, "is negative or infinite")
    return values


def compute_indicators(prices: pd.DataFrame) -> pd.DataFrame:
    """Technical indicators of every asset, one row per input row.

    ``prices``: rows of any number of assets in any order with ``asset_symbol``,
    ``asset_class`` (crypto|equity|fx|commodity|bond), ``timestamp``
    (datetime64 UTC), ``price_open``, ``price_high``, ``price_low``,
    ``price_close`` and ``volume`` (NaN where the asset has none); other
    columns are ignored. Each asset's rows are its observation calendar.

    Returns ``asset_symbol``, ``asset_class``, ``timestamp`` and the float64
    columns of ``TECHNICAL_FEATURES``, sorted by (asset_symbol, timestamp) with
    a fresh index. Raises ``InvalidPricesError`` (a ValueError) on unusable
    input; see the module docstring.
    """
    what = "compute_indicators"
    require_columns(prices, REQUIRED_COLUMNS, what)
    order, bounds, _, symbols = _sort_prices(prices, what)

    def sorted_frame() -> pd.DataFrame:  # for error messages
        return prices.iloc[order][REQUIRED_COLUMNS].reset_index(drop=True)

    ohlc = {}
    for column in OHLC_COLUMNS:
        values = prices[column].to_numpy(dtype="float64", na_value=np.nan)[order]
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            raise _first_bad(sorted_frame(), bad, column, what, "is missing, non-finite or non-positive")
        ohlc[column] = values
    class_codes, class_names = pd.factorize(prices["asset_class"])
    known = np.array([name in ALL_CLASSES for name in class_names] + [False])  # code -1: missing
    class_codes = class_codes[order]
    unknown = ~known[class_codes]
    if unknown.any():
        frame = sorted_frame()
        at = int(np.argmax(unknown))
        raise InvalidPricesError(
            f"{what}: asset {frame['asset_symbol'].iloc[at]!r}: unknown asset_class {frame['asset_class'].iloc[at]!r} "
            f"(expected one of {sorted(ALL_CLASSES)})"
        )
    volume = prices["volume"].to_numpy(dtype="float64", na_value=np.nan)[order]
    starts, stops = bounds[:-1].tolist(), bounds[1:].tolist()
    asset_classes = [class_names[code] for code in class_codes[bounds[:-1]]]
    if not _consistent(class_codes, volume, bounds, asset_classes):
        _raise_first_problem(sorted_frame(), bounds, volume, what)

    # One row per feature: each asset fills contiguous slices, and the transpose is the
    # (columns x rows) block pandas stores, so building the frame copies nothing.
    values = np.empty((len(TECHNICAL_FEATURES), len(order)))
    for start, stop, asset_class in zip(starts, stops, asset_classes, strict=True):
        asset_volume = volume[start:stop]
        series = AssetSeries(
            high=ohlc["price_high"][start:stop],
            low=ohlc["price_low"][start:stop],
            close=ohlc["price_close"][start:stop],
            volume=None if asset_class == "fx" or np.isnan(asset_volume[0]) else asset_volume,
            asset_class=asset_class,
        )
        for row, spec in enumerate(TECHNICAL):
            if asset_class in spec.applies_to:
                values[row, start:stop] = spec.kernel(series, **spec.params)
            else:
                values[row, start:stop] = np.nan

    result = pd.DataFrame(values.T, columns=TECHNICAL_FEATURES, copy=False)
    counts = np.diff(bounds)
    per_asset = {"asset_symbol": symbols, "asset_class": np.array([*asset_classes, ""], dtype=object)[:-1]}
    for position, key in enumerate(KEY_COLUMNS):
        column = prices[key]
        if key in per_asset and column.dtype == object:  # one value per asset: repeat it (cheaper than a take)
            result.insert(position, key, np.repeat(per_asset[key], counts))
        else:
            result.insert(position, key, pd.Series(column.array.take(order), index=result.index, name=key))
    return result


def _consistent(class_codes: np.ndarray, volume: np.ndarray, bounds: np.ndarray, asset_classes: list[str]) -> bool:
    """Whether every asset has one asset_class and its volume on all rows or none (finite, non-negative)."""
    if not len(class_codes):
        return True
    counts = np.diff(bounds)
    if (class_codes != np.repeat(class_codes[bounds[:-1]], counts)).any():
        return False
    missing = np.add.reduceat(np.isnan(volume), bounds[:-1])
    fx = np.array([c == "fx" for c in asset_classes])
    if (~fx & (missing > 0) & (missing < counts)).any():
        return False
    bad = ~np.isnan(volume) & (~np.isfinite(volume) | (volume < 0))
    return not (np.repeat(~fx, counts) & bad).any()


def _raise_first_problem(frame: pd.DataFrame, bounds: np.ndarray, volume: np.ndarray, what: str) -> None:
    """Raise the error of the first asset with several asset classes or unusable volume."""
    class_values = frame["asset_class"].to_numpy()
    for start, stop in pairwise(bounds.tolist()):
        asset_class = class_values[start]
        if (class_values[start:stop] != asset_class).any():
            other = class_values[start:stop][class_values[start:stop] != asset_class][0]
            raise InvalidPricesError(
                f"{what}: asset {frame['asset_symbol'].iloc[start]!r} has several asset classes "
                f"({asset_class!r}, {other!r})"
            )
        if asset_class != "fx":
            _asset_volume(frame, start, stop, volume, what)
    raise AssertionError("no problem found")  # pragma: no cover
