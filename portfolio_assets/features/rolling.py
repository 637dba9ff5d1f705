"""Window-local statistics: the value at t is a function of x[t-n+1 .. t] only.

Sums are two-pass (mean, then centred sums), not running sums, so a value does
not depend on where the series starts and a window of equal values has exactly
zero dispersion and its value as mean. NaN before the first full window.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def nan_array(length: int) -> np.ndarray:
    return np.full(length, np.nan)


def constant_windows(x: np.ndarray, n: int) -> np.ndarray:
    """For each full window x[t-n+1..t] (t >= n-1): whether all its values are equal."""
    changed = np.r_[True, x[1:] != x[:-1]]
    last_change = np.maximum.accumulate(np.where(changed, np.arange(len(x)), 0))
    t = np.arange(n - 1, len(x))
    return last_change[t] <= t - n + 1


def window_moments(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass mean and centred values of every full window (shape (len-n+1,), (len-n+1, n)).

    A window of equal values has its value as mean and exactly zero deviations.
    """
    windows = sliding_window_view(x, n)
    mean = np.add.reduce(windows, axis=1) / n
    constant = constant_windows(x, n)
    mean[constant] = windows[constant, 0]
    centred = windows - mean[:, None]
    centred[constant] = 0.0
    return mean, centred


def rolling_mean(x: np.ndarray, n: int) -> np.ndarray:
    out = nan_array(len(x))
    if len(x) >= n:
        windows = sliding_window_view(x, n)
        mean = np.add.reduce(windows, axis=1) / n
        constant = constant_windows(x, n)
        mean[constant] = windows[constant, 0]
        out[n - 1 :] = mean
    return out


def rolling_mean_std(x: np.ndarray, n: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """Window mean and standard deviation (two-pass), NaN before the first full window."""
    mean_out, std_out = nan_array(len(x)), nan_array(len(x))
    if len(x) >= n:
        mean, centred = window_moments(x, n)
        mean_out[n - 1 :] = mean
        std_out[n - 1 :] = np.sqrt(np.einsum("ij,ij->i", centred, centred) / (n - ddof))
    return mean_out, std_out


def rolling_skew(x: np.ndarray, n: int) -> np.ndarray:
    """Bias-corrected sample skewness (pandas ``.skew()``: n√(n−1)/(n−2) · m3/m2^1.5); NaN if constant."""
    out = nan_array(len(x))
    if len(x) >= n:
        _, centred = window_moments(x, n)
        squared = centred * centred
        m2 = np.add.reduce(squared, axis=1)
        m3 = np.einsum("ij,ij->i", squared, centred)
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = (n * (n - 1) ** 0.5 / (n - 2)) * (m3 / m2**1.5)
        out[n - 1 :] = np.where(m2 > 0, skew, np.nan)
    return out


def rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    out = nan_array(len(x))
    if len(x) >= n:
        out[n - 1 :] = np.max(sliding_window_view(x, n), axis=1)
    return out


def rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    out = nan_array(len(x))
    if len(x) >= n:
        out[n - 1 :] = np.min(sliding_window_view(x, n), axis=1)
    return out


def lagged(x: np.ndarray, k: int, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """fn(x[t], x[t-k]) for t >= k, NaN before."""
    out = nan_array(len(x))
    if len(x) > k:
        out[k:] = fn(x[k:], x[:-k])
    return out


def log_ratio(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    return np.log(now / before)


def ratio_minus_one(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    return now / before - 1.0


def from_index(x: np.ndarray, first: int, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """fn applied to x[first:] (x undefined before), realigned to x."""
    out = nan_array(len(x))
    if len(x) > first:
        out[first:] = fn(x[first:])
    return out


def after_first(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """fn applied to x[1:] (e.g. daily returns, undefined at 0), realigned to x."""
    return from_index(x, 1, fn)


def unchanged_since_start(x: np.ndarray) -> np.ndarray:
    """Whether x[0..t] are all equal, for each t."""
    return np.cumsum(np.r_[False, x[1:] != x[:-1]]) == 0


def money_flow_index(typical: np.ndarray, volume: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib's MFI, window-local: 100 · (positive flow / total flow) over the last n changes of the typical price.

    The flow of observation t is typical[t] · volume[t]; it counts as positive when the typical
    price rose from t−1, negative when it fell, and not at all when unchanged. NaN (TA-Lib: 0)
    where the window has no flow at all (TA-Lib also writes 0 while the total is below 1.0).
    """
    out = nan_array(len(typical))
    if len(typical) > n:
        flow = typical[1:] * volume[1:]
        change = typical[1:] - typical[:-1]
        positive = np.add.reduce(sliding_window_view(np.where(change > 0, flow, 0.0), n), axis=1)
        negative = np.add.reduce(sliding_window_view(np.where(change < 0, flow, 0.0), n), axis=1)
        total = positive + negative
        with np.errstate(divide="ignore", invalid="ignore"):
            out[n:] = np.where(total > 0, 100.0 * (positive / total), np.nan)
    return out
