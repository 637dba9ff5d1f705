"""The kernels of the technical features: one function per kind of indicator.

A feature's declaration (``registry.py``) names its kernel and parameters;
``compute_indicators`` calls ``kernel(series, **params)`` for every declared
feature of every asset. A kernel returns one float64 value per observation of
the asset (NaN in the warm-up and where the value is undefined, e.g. a 0/0 that
TA-Lib would write as 0). Intermediate series shared by several features (the
EMAs, the 20-close mean and deviation, daily log returns, ...) are computed once
per asset through :meth:`AssetSeries.memo`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import talib

from portfolio_assets.asset_classes import PERIODS_PER_YEAR
from portfolio_assets.features.rolling import (
    centred_skew,
    centred_square_sums,
    constant_windows,
    from_index,
    lagged,
    last_change,
    log_ratio,
    money_flow_index,
    nan_array,
    ratio_minus_one,
    rolling_max,
    rolling_mean,
    rolling_mean_std,
    rolling_min,
    rolling_std,
    unchanged_since_start,
    window_means,
)


@dataclass
class AssetSeries:
    """One asset's float64 series, oldest first (finite, positive prices); ``volume`` None when it has none."""

    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray | None
    asset_class: str
    _memo: dict[tuple[object, ...], object] = field(default_factory=dict, repr=False)

    def memo(self, key: tuple[object, ...], compute: Callable[[], object]) -> object:
        """``compute()`` once per asset for ``key``; the same object afterwards."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def __len__(self) -> int:
        return len(self.close)


Kernel = Callable[..., np.ndarray]


# --------------------------------------------------------------------------- shared intermediates


def _ema(s: AssetSeries, n: int) -> np.ndarray:
    return s.memo(("ema", n), lambda: talib.EMA(s.close, timeperiod=n))  # type: ignore[return-value]


def _bands(s: AssetSeries, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population (ddof 0) standard deviation of the last ``n`` closes."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        mean = _sma(s, n)
        return mean, rolling_std(s.close, n, 0, mean, _close_changes(s))

    return s.memo(("bands", n), compute)  # type: ignore[return-value]


def _sma(s: AssetSeries, n: int) -> np.ndarray:
    return s.memo(("sma", n), lambda: rolling_mean(s.close, n, _close_changes(s)))  # type: ignore[return-value]


def _close_changes(s: AssetSeries) -> np.ndarray:
    """``last_change`` of the closes (shared by the window means, the bands and the RSI)."""
    return s.memo(("close_changes",), lambda: last_change(s.close))  # type: ignore[return-value]


def _daily(s: AssetSeries) -> np.ndarray:
    """Daily log returns (NaN at the first observation)."""
    return s.memo(("daily",), lambda: lagged(s.close, 1, log_ratio))  # type: ignore[return-value]


def _typical(s: AssetSeries) -> np.ndarray:
    return s.memo(("typical",), lambda: (s.high + s.low + s.close) / 3.0)  # type: ignore[return-value]


def _flat(s: AssetSeries, n: int) -> np.ndarray:
    """Windows of ``n`` observations without any range (highest high == lowest low)."""
    return s.memo(("flat", n), lambda: rolling_max(s.high, n) == rolling_min(s.low, n))  # type: ignore[return-value]


def _macd(s: AssetSeries, fast: int, slow: int) -> np.ndarray:
    return s.memo(("macd", fast, slow), lambda: _ema(s, fast) - _ema(s, slow))  # type: ignore[return-value]


def _ema_from_first_value(x: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib EMA over x from its first non-NaN value (leading NaNs stay NaN)."""
    out = nan_array(len(x))
    valid = np.flatnonzero(~np.isnan(x))
    if len(valid) and len(x) - valid[0] >= n:
        out[valid[0] :] = talib.EMA(x[valid[0] :], timeperiod=n)
    return out


def _signal(s: AssetSeries, fast: int, slow: int, signal: int) -> np.ndarray:
    return s.memo(  # type: ignore[return-value]
        ("signal", fast, slow, signal), lambda: _ema_from_first_value(_macd(s, fast, slow), signal)
    )


def _stoch_k(s: AssetSeries, n: int) -> np.ndarray:
    def compute() -> np.ndarray:
        # Fast %K from its first full window (TA-Lib STOCHF shows it only once %D exists).
        k = talib.STOCHF(s.high, s.low, s.close, fastk_period=n, fastd_period=1, fastd_matype=0)[0]
        return np.where(_flat(s, n), np.nan, k)

    return s.memo(("stoch_k", n), compute)  # type: ignore[return-value]


# --------------------------------------------------------------------------- kernels


def rsi(s: AssetSeries, n: int) -> np.ndarray:
    """TA-Lib RSI; NaN (TA-Lib: 0) while the close has never moved."""
    return np.where(unchanged_since_start(s.close, _close_changes(s)), np.nan, talib.RSI(s.close, timeperiod=n))


def macd(s: AssetSeries, fast: int, slow: int) -> np.ndarray:
    return _macd(s, fast, slow)


def macd_signal(s: AssetSeries, fast: int, slow: int, signal: int) -> np.ndarray:
    return _signal(s, fast, slow, signal)


def macd_histogram(s: AssetSeries, fast: int, slow: int, signal: int) -> np.ndarray:
    return _macd(s, fast, slow) - _signal(s, fast, slow, signal)


def bollinger_upper(s: AssetSeries, n: int, k: float) -> np.ndarray:
    mean, std = _bands(s, n)
    return mean + k * std


def bollinger_middle(s: AssetSeries, n: int) -> np.ndarray:
    return _bands(s, n)[0]


def bollinger_lower(s: AssetSeries, n: int, k: float) -> np.ndarray:
    mean, std = _bands(s, n)
    return mean - k * std


def bollinger_width(s: AssetSeries, n: int, k: float) -> np.ndarray:
    """(upper − lower) / middle = 2kσ / mean, from σ itself (the rounded bands' difference cancels)."""
    mean, std = _bands(s, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2.0 * k) * std / mean


def bollinger_percent_b(s: AssetSeries, n: int, k: float) -> np.ndarray:
    """(close − lower) / (upper − lower) = (close − mean) / 2kσ + ½; NaN when σ = 0."""
    mean, std = _bands(s, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, (s.close - mean) / ((2.0 * k) * std) + 0.5, np.nan)


def sma(s: AssetSeries, n: int) -> np.ndarray:
    return _sma(s, n)


def ema(s: AssetSeries, n: int) -> np.ndarray:
    return _ema(s, n)


def atr(s: AssetSeries, n: int) -> np.ndarray:
    return talib.ATR(s.high, s.low, s.close, timeperiod=n)


def natr(s: AssetSeries, n: int) -> np.ndarray:
    return talib.NATR(s.high, s.low, s.close, timeperiod=n)


def adx(s: AssetSeries, n: int) -> np.ndarray:
    return talib.ADX(s.high, s.low, s.close, timeperiod=n)


def _return_windows(s: AssetSeries, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The daily log returns, the means of their windows of ``n`` and which windows are constant.

    None while there are fewer than ``n`` returns. Shared by the volatility and the skewness of a window.
    """

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        returns = _daily(s)[1:]
        if len(returns) < n:
            return None
        changes = s.memo(("return_changes",), lambda: last_change(returns))
        constant = constant_windows(returns, n, changes)  # type: ignore[arg-type]
        return returns, window_means(returns, n, constant), constant

    return s.memo(("return_windows", n), compute)  # type: ignore[return-value]


def _from_return_windows(s: AssetSeries, n: int, statistic: Callable[..., np.ndarray]) -> np.ndarray:
    """``statistic(returns, n, means, constant)`` realigned to the asset's observations (first value at n)."""
    out = nan_array(len(s))
    windows = _return_windows(s, n)
    if windows is not None:
        returns, means, constant = windows
        out[n:] = statistic(returns, n, means, constant)
    return out


def volatility(s: AssetSeries, n: int) -> np.ndarray:
    """Sample std of the last ``n`` daily log returns, annualised with the class's periods per year."""
    scale = np.sqrt(PERIODS_PER_YEAR[s.asset_class])
    return _from_return_windows(s, n, lambda *w: np.sqrt(centred_square_sums(*w) / (n - 1))) * scale


def momentum(s: AssetSeries, n: int) -> np.ndarray:
    return lagged(s.close, n, ratio_minus_one)


def log_return(s: AssetSeries, n: int) -> np.ndarray:
    return _daily(s) if n == 1 else lagged(s.close, n, log_ratio)


def stoch_k(s: AssetSeries, n: int) -> np.ndarray:
    return _stoch_k(s, n)


def stoch_d(s: AssetSeries, k_period: int, n: int) -> np.ndarray:
    """Window-local mean of %K (TA-Lib's running sum drifts with the series start)."""
    return from_index(_stoch_k(s, k_period), k_period - 1, lambda k: rolling_mean(k, n))


def williams_r(s: AssetSeries, n: int) -> np.ndarray:
    return np.where(_flat(s, n), np.nan, talib.WILLR(s.high, s.low, s.close, timeperiod=n))


def cci(s: AssetSeries, n: int) -> np.ndarray:
    """TA-Lib CCI; NaN (TA-Lib: 0) where the ``n`` typical prices are equal."""
    length = len(s)
    flat = np.r_[np.zeros(min(n - 1, length), bool), constant_windows(_typical(s), n)]
    return np.where(flat, np.nan, talib.CCI(s.high, s.low, s.close, timeperiod=n))


def rate_of_change(s: AssetSeries, n: int) -> np.ndarray:
    return talib.ROC(s.close, timeperiod=n)


def money_flow(s: AssetSeries, n: int) -> np.ndarray:
    if s.volume is None:
        return nan_array(len(s))
    return money_flow_index(_typical(s), s.volume, n)


def price_to_sma(s: AssetSeries, n: int) -> np.ndarray:
    return s.close / _sma(s, n)


def drawdown(s: AssetSeries, n: int) -> np.ndarray:
    return s.close / rolling_max(s.close, n) - 1.0


def volume_zscore(s: AssetSeries, n: int) -> np.ndarray:
    if s.volume is None:
        return nan_array(len(s))
    mean, std = rolling_mean_std(s.volume, n, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, (s.volume - mean) / std, np.nan)


def skewness(s: AssetSeries, n: int) -> np.ndarray:
    return _from_return_windows(s, n, lambda *w: centred_skew(*w)[0])
