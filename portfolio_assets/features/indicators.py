"""Technical indicators per asset per observation: pure pandas / numpy / TA-Lib.

``compute_indicators`` is what the ``indicators`` asset (and, later, a Spark
``applyInPandas``) calls. Definitions are in ``registry.py`` and FEATURES.md;
the implementation choices that matter for exactness:

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
* **Warm-up values are NaN** (first defined index per feature: ``FeatureSpec.warmup``).
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

from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pandas as pd
import talib
from numpy.lib.stride_tricks import sliding_window_view

from portfolio_assets.features.registry import (
    ALL_CLASSES,
    PERIODS_PER_YEAR,
    TECHNICAL_FEATURES,
    not_applicable_features,
)

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


def sort_prices(prices: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order by (asset_symbol, timestamp), checking keys.

    Returns ``order`` (positions into ``prices``), ``bounds`` (start offsets of
    each asset in the sorted order, plus the end) and the sorted timestamps in
    int64 ns. Raises on a missing symbol or timestamp and on duplicated keys.
    """
    symbols = prices["asset_symbol"]
    if symbols.isna().any():
        row = prices[symbols.isna()].iloc[0]
        raise InvalidPricesError(f"{what}: missing asset_symbol (row at timestamp {row['timestamp']})")
    if prices["timestamp"].isna().any():
        symbol = symbols[prices["timestamp"].isna()].iloc[0]
        raise InvalidPricesError(f"{what}: asset {symbol!r}: missing timestamp")
    codes, _ = pd.factorize(symbols, sort=True)
    ts = _timestamps_ns(prices["timestamp"])
    order = np.lexsort((ts, codes))
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
    return order, bounds, ts_sorted


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
# Window-local statistics (value at t is a function of x[t-n+1 .. t] only)
# ---------------------------------------------------------------------------


def _nan(length: int) -> np.ndarray:
    return np.full(length, np.nan)


def _constant_windows(x: np.ndarray, n: int) -> np.ndarray:
    """For each full window x[t-n+1..t] (t >= n-1): whether all its values are equal."""
    changed = np.r_[True, x[1:] != x[:-1]]
    last_change = np.maximum.accumulate(np.where(changed, np.arange(len(x)), 0))
    t = np.arange(n - 1, len(x))
    return last_change[t] <= t - n + 1


def _window_moments(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass mean and centred values of every full window (shape (len-n+1,), (len-n+1, n)).

    A window of equal values has its value as mean and exactly zero deviations.
    """
    windows = sliding_window_view(x, n)
    mean = np.add.reduce(windows, axis=1) / n
    constant = _constant_windows(x, n)
    mean[constant] = windows[constant, 0]
    centred = windows - mean[:, None]
    centred[constant] = 0.0
    return mean, centred


def rolling_mean(x: np.ndarray, n: int) -> np.ndarray:
    out = _nan(len(x))
    if len(x) >= n:
        windows = sliding_window_view(x, n)
        mean = np.add.reduce(windows, axis=1) / n
        constant = _constant_windows(x, n)
        mean[constant] = windows[constant, 0]
        out[n - 1 :] = mean
    return out


def rolling_mean_std(x: np.ndarray, n: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """Window mean and standard deviation (two-pass), NaN before the first full window."""
    mean_out, std_out = _nan(len(x)), _nan(len(x))
    if len(x) >= n:
        mean, centred = _window_moments(x, n)
        mean_out[n - 1 :] = mean
        std_out[n - 1 :] = np.sqrt(np.einsum("ij,ij->i", centred, centred) / (n - ddof))
    return mean_out, std_out


def rolling_skew(x: np.ndarray, n: int) -> np.ndarray:
    """Bias-corrected sample skewness (pandas ``.skew()``: n√(n−1)/(n−2) · m3/m2^1.5); NaN if constant."""
    out = _nan(len(x))
    if len(x) >= n:
        _, centred = _window_moments(x, n)
        squared = centred * centred
        m2 = np.add.reduce(squared, axis=1)
        m3 = np.einsum("ij,ij->i", squared, centred)
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = (n * (n - 1) ** 0.5 / (n - 2)) * (m3 / m2**1.5)
        out[n - 1 :] = np.where(m2 > 0, skew, np.nan)
    return out


def rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    out = _nan(len(x))
    if len(x) >= n:
        out[n - 1 :] = np.max(sliding_window_view(x, n), axis=1)
    return out


def rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    out = _nan(len(x))
    if len(x) >= n:
        out[n - 1 :] = np.min(sliding_window_view(x, n), axis=1)
    return out


def _lagged(x: np.ndarray, k: int, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """fn(x[t], x[t-k]) for t >= k, NaN before."""
    out = _nan(len(x))
    if len(x) > k:
        out[k:] = fn(x[k:], x[:-k])
    return out


def _log_ratio(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    return np.log(now / before)


def _ratio_minus_one(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    return now / before - 1.0


def _from(x: np.ndarray, first: int, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """fn applied to x[first:] (x undefined before), realigned to x."""
    out = _nan(len(x))
    if len(x) > first:
        out[first:] = fn(x[first:])
    return out


def _after_first(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """fn applied to x[1:] (e.g. daily returns, undefined at 0), realigned to x."""
    return _from(x, 1, fn)


def _unchanged_since_start(x: np.ndarray) -> np.ndarray:
    """Whether x[0..t] are all equal, for each t."""
    return np.cumsum(np.r_[False, x[1:] != x[:-1]]) == 0


def money_flow_index(typical: np.ndarray, volume: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib's MFI, window-local: 100 · (positive flow / total flow) over the last n changes of the typical price.

    The flow of observation t is typical[t] · volume[t]; it counts as positive when the typical
    price rose from t−1, negative when it fell, and not at all when unchanged. NaN (TA-Lib: 0)
    where the window has no flow at all (TA-Lib also writes 0 while the total is below 1.0).
    """
    out = _nan(len(typical))
    if len(typical) > n:
        flow = typical[1:] * volume[1:]
        change = typical[1:] - typical[:-1]
        positive = np.add.reduce(sliding_window_view(np.where(change > 0, flow, 0.0), n), axis=1)
        negative = np.add.reduce(sliding_window_view(np.where(change < 0, flow, 0.0), n), axis=1)
        total = positive + negative
        with np.errstate(divide="ignore", invalid="ignore"):
            out[n:] = np.where(total > 0, 100.0 * (positive / total), np.nan)
    return out


# ---------------------------------------------------------------------------
# One asset
# ---------------------------------------------------------------------------


def _ema_from_first_value(x: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib EMA over x from its first non-NaN value (leading NaNs stay NaN)."""
    out = _nan(len(x))
    valid = np.flatnonzero(~np.isnan(x))
    if len(valid) and len(x) - valid[0] >= n:
        out[valid[0] :] = talib.EMA(x[valid[0] :], timeperiod=n)
    return out


def asset_indicators(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray | None,
    asset_class: str,
) -> dict[str, np.ndarray]:
    """Every technical feature of one asset's series (oldest first); ``volume`` None when it has none.

    Arrays must be float64, finite, positive prices (``compute_indicators`` checks).
    """
    del open_  # no feature uses the open; kept in the signature for a stable OHLCV interface
    length = len(close)
    out: dict[str, np.ndarray] = {}

    # TA-Lib writes 0 where RSI is 0/0 (no change at all since the start); that is undefined, not 0.
    out["rsi_14"] = np.where(_unchanged_since_start(close), np.nan, talib.RSI(close, timeperiod=14))
    ema_12 = talib.EMA(close, timeperiod=12)
    ema_26 = talib.EMA(close, timeperiod=26)
    macd = ema_12 - ema_26
    signal = _ema_from_first_value(macd, 9)
    out["macd"], out["macd_signal"], out["macd_histogram"] = macd, signal, macd - signal

    sma_20, std_20 = rolling_mean_std(close, 20, ddof=0)
    upper, lower = sma_20 + 2.0 * std_20, sma_20 - 2.0 * std_20
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = upper, sma_20, lower
    out["sma_20"] = sma_20
    out["sma_50"] = rolling_mean(close, 50)
    sma_200 = out["sma_200"] = rolling_mean(close, 200)
    out["ema_12"], out["ema_26"] = ema_12, ema_26

    out["atr_14"] = talib.ATR(high, low, close, timeperiod=14)
    out["adx_14"] = talib.ADX(high, low, close, timeperiod=14)

    daily = _lagged(close, 1, _log_ratio)
    scale = np.sqrt(PERIODS_PER_YEAR[asset_class])
    for n in (30, 60, 90):
        out[f"volatility_{n}d"] = _after_first(daily, lambda r, n=n: rolling_mean_std(r, n, ddof=1)[1]) * scale
    for n in (5, 10, 30):
        out[f"momentum_{n}d"] = _lagged(close, n, _ratio_minus_one)
    out["return_1d"] = daily
    out["return_5d"] = _lagged(close, 5, _log_ratio)
    out["return_20d"] = _lagged(close, 20, _log_ratio)

    # TA-Lib writes 0 where these are 0/0 (a window without any range); they stay NaN here.
    flat_14 = rolling_max(high, 14) == rolling_min(low, 14)
    # fast %K from its first full window (TA-Lib STOCHF only shows it once %D exists);
    # %D as a window-local mean of %K (TA-Lib's running sum drifts with the series start).
    stoch_k = talib.STOCHF(high, low, close, fastk_period=14, fastd_period=1, fastd_matype=0)[0]
    out["stoch_k_14"] = stoch_k = np.where(flat_14, np.nan, stoch_k)
    out["stoch_d_3"] = _from(stoch_k, 13, lambda k: rolling_mean(k, 3))
    out["williams_r_14"] = np.where(flat_14, np.nan, talib.WILLR(high, low, close, timeperiod=14))
    typical = (high + low + close) / 3.0
    flat_20 = np.r_[np.zeros(min(19, length), bool), _constant_windows(typical, 20)]
    out["cci_20"] = np.where(flat_20, np.nan, talib.CCI(high, low, close, timeperiod=20))
    out["roc_10"] = talib.ROC(close, timeperiod=10)

    # From the standard deviation itself rather than the rounded bands, whose difference cancels:
    # (upper − lower) / middle = 4σ / mean and (close − lower) / (upper − lower) = (close − mean) / 4σ + 1/2.
    with np.errstate(divide="ignore", invalid="ignore"):
        out["bb_width"] = 4.0 * std_20 / sma_20
        out["bb_percent_b"] = np.where(std_20 > 0, (close - sma_20) / (4.0 * std_20) + 0.5, np.nan)
    out["price_to_sma_200"] = close / sma_200
    out["drawdown_252d"] = close / rolling_max(close, 252) - 1.0
    out["skew_60d"] = _after_first(daily, lambda r: rolling_skew(r, 60))
    out["natr_14"] = talib.NATR(high, low, close, timeperiod=14)
    out["return_60d"] = _lagged(close, 60, _log_ratio)

    if volume is None:
        out["mfi_14"] = out["volume_zscore_20"] = _nan(length)
    else:
        out["mfi_14"] = money_flow_index(typical, volume, 14)
        mean_v, std_v = rolling_mean_std(volume, 20, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["volume_zscore_20"] = np.where(std_v > 0, (volume - mean_v) / std_v, np.nan)
    for name in not_applicable_features(asset_class):
        out[name] = _nan(length)
    return out


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
    order, bounds, _ = sort_prices(prices, what)
    frame = prices.iloc[order][REQUIRED_COLUMNS].reset_index(drop=True)
    check_positive_prices(frame, OHLC_COLUMNS, what)

    classes = frame["asset_class"]
    unknown = ~classes.isin(list(ALL_CLASSES))
    if unknown.any():
        at = int(np.argmax(unknown.to_numpy()))
        raise InvalidPricesError(
            f"{what}: asset {frame['asset_symbol'].iloc[at]!r}: unknown asset_class {classes.iloc[at]!r} "
            f"(expected one of {sorted(ALL_CLASSES)})"
        )

    ohlc = {c: np.ascontiguousarray(frame[c].to_numpy(dtype="float64")) for c in OHLC_COLUMNS}
    volume = frame["volume"].to_numpy(dtype="float64", na_value=np.nan)
    # One row per feature: each asset fills contiguous slices, and the transpose is the
    # (columns x rows) block pandas stores, so building the frame copies nothing.
    values = np.empty((len(TECHNICAL_FEATURES), len(frame)))
    column = {name: i for i, name in enumerate(TECHNICAL_FEATURES)}

    class_values = classes.to_numpy()
    for start, stop in pairwise(bounds.tolist()):
        asset_class = class_values[start]
        if (class_values[start:stop] != asset_class).any():
            other = class_values[start:stop][class_values[start:stop] != asset_class][0]
            raise InvalidPricesError(
                f"{what}: asset {frame['asset_symbol'].iloc[start]!r} has several asset classes "
                f"({asset_class!r}, {other!r})"
            )
        asset_volume = None if asset_class == "fx" else _asset_volume(frame, start, stop, volume, what)
        features = asset_indicators(
            *(ohlc[c][start:stop] for c in OHLC_COLUMNS),
            None if asset_volume is None else np.ascontiguousarray(asset_volume),
            asset_class,
        )
        for name, series in features.items():
            values[column[name], start:stop] = series

    result = pd.DataFrame(values.T, columns=TECHNICAL_FEATURES, index=frame.index, copy=False)
    for position, key in enumerate(KEY_COLUMNS):
        result.insert(position, key, frame[key])
    return result
