"""Window-local statistics: the value at t is a function of x[t-n+1 .. t] only.

Sums are two-pass (mean, then centred sums), not running sums, so a value does
not depend on where the series starts and a window of equal values has exactly
zero dispersion and its value as mean. NaN before the first full window.

The arithmetic is pinned: a window's sum adds its values in numpy's pairwise
order (``np.add.reduce`` over the window: eight interleaved accumulators, the
halves of windows over 128 summed separately), and a sum of products adds them
in ``np.einsum``'s order. ``window_sums`` computes that pairwise order for every
window at once: the partial sums of a window starting at t are those of the
window starting at t + k shifted by k, so each is computed once for all
windows (a few passes over the series instead of n per value), with the same
roundings as summing each window on its own. The centred sums of the standard
deviations and the skewness (``centred_square_sums``, ``centred_skew``) are
compiled by numba and follow those same orders window by window, so nothing of
size windows × n is built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import talib
from numpy.lib.stride_tricks import sliding_window_view

from portfolio_assets import fpmath

_BLOCK = 128
"""numpy's pairwise summation sums at most this many values with its eight accumulators, then halves."""


def nan_array(length: int) -> np.ndarray:
    return np.full(length, np.nan)


def last_change(x: np.ndarray) -> np.ndarray:
    """For each t, the last index s <= t where x[s] differs from x[s-1] (0 if x never changed)."""
    changed = np.empty(len(x), bool)
    changed[:1] = True
    np.not_equal(x[1:], x[:-1], out=changed[1:])
    return np.maximum.accumulate(np.where(changed, np.arange(len(x)), 0))


def constant_windows(x: np.ndarray, n: int, changes: np.ndarray | None = None) -> np.ndarray:
    """For each full window x[t-n+1..t] (t >= n-1): whether all its values are equal.

    ``changes``: ``last_change(x)`` when the caller already has it.
    """
    changes = last_change(x) if changes is None else changes
    return changes[n - 1 :] <= np.arange(len(x) - n + 1)


def _chain_sums(x: np.ndarray, links: int, count: int) -> np.ndarray:
    """c[s] = x[s] + x[s+8] + ... (``links`` values, left to right) for s < count."""
    chain = x[:count].copy()
    for j in range(1, links):
        chain += x[8 * j : 8 * j + count]
    return chain


def window_sums(x: np.ndarray, n: int) -> np.ndarray:
    """Sum of every full window x[t..t+n-1] (len(x) − n + 1 values, len(x) >= n), in numpy's pairwise order.

    Bit for bit ``np.add.reduce(sliding_window_view(x, n), axis=1)``: below 8 values a plain left-to-right
    sum; up to 128, eight accumulators over the first n − n % 8 values (accumulator k: x[k] + x[k+8] + ...),
    combined as ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)), then the rest left to right; above 128, the
    pairwise sums of the two halves (the first half's length rounded down to a multiple of 8), added.
    The reduction starts from 0 (so a sum of −0.0s is +0.0).
    """
    total = _pairwise(x, n)
    total += 0.0
    return total


def _pairwise(x: np.ndarray, n: int) -> np.ndarray:
    count = len(x) - n + 1
    if n > _BLOCK:
        half = n // 2 - (n // 2) % 8
        total = _pairwise(x[: half + count - 1], half)
        total += _pairwise(x[half:], n - half)
        return total
    if n < 8:
        total = x[:count] + 0.0
        for k in range(1, n):
            total += x[k : k + count]
        return total
    unrolled = n - n % 8
    chain = _chain_sums(x, unrolled // 8, count + 7)  # accumulator k of the window at t is chain[t + k]
    pairs = chain[:-1] + chain[1:]  # a0 + a1 (at t), a2 + a3 (at t + 2), ...
    quads = pairs[: count + 4] + pairs[2 : count + 6]
    total = quads[:count] + quads[4 : count + 4]
    for k in range(unrolled, n):
        total += x[k : k + count]
    return total


def window_means(x: np.ndarray, n: int, constant: np.ndarray) -> np.ndarray:
    """Mean of every full window; a window of equal values has its value as mean."""
    mean = window_sums(x, n)
    mean /= n
    mean[constant] = x[: len(mean)][constant]
    return mean


def window_moments(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass mean and centred values of every full window (shape (len-n+1,), (len-n+1, n)).

    A window of equal values has its value as mean and exactly zero deviations.
    """
    constant = constant_windows(x, n)
    mean = window_means(x, n, constant)
    centred = sliding_window_view(x, n) - mean[:, None]
    centred[constant] = 0.0
    return mean, centred


def rolling_mean(x: np.ndarray, n: int, changes: np.ndarray | None = None) -> np.ndarray:
    """Mean of the last n values (``changes``: ``last_change(x)`` if already known)."""
    out = nan_array(len(x))
    if len(x) >= n:
        out[n - 1 :] = window_means(x, n, constant_windows(x, n, changes))
    return out


def _centred_sums(x: np.ndarray, n: int, mean: np.ndarray, constant: np.ndarray, skew: bool) -> tuple:
    """Per full window t of x: Σ d² in ``np.einsum``'s order and, with ``skew``, Σ d² pairwise and Σ d²·d.

    d[k] = x[t+k] − mean[t] (all 0 where ``constant[t]``). ``np.einsum("ij,ij->i", a, b)`` over a
    C-contiguous (window, offset) array sums each row with two interleaved accumulators ("lanes"), four
    pairs of offsets at a time from the highest: lane l adds offsets 6+l, 4+l, 2+l, l, then 14+l, 12+l,
    ..., then the n % 8 left over in pairs (a missing offset adds 0), and returns 0 + (lane 0 + lane 1);
    each product is rounded, then added (no fused multiply-add). The pairwise sum is numpy's for
    8 <= n <= 128: accumulator o adds offsets o, o+8, ... of the first n − n % 8, combined as
    ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)), then the rest left to right, from 0. Compiled by numba
    (``_compiled_centred_sums``), one window at a time, so nothing of size windows × n is materialised.
    """
    count = x.shape[0] - n + 1
    blocks, pairs = n // 8, (n % 8 + 1) // 2
    squares = np.empty(count)
    m2 = np.empty(count if skew else 0)
    m3 = np.empty(count if skew else 0)
    d = np.zeros(8 * blocks + 2 * pairs)  # padded to whole pairs: a missing offset is 0
    q = np.zeros(8 * blocks + 2 * pairs)
    for t in range(count):
        m = mean[t]
        for k in range(n):
            d[k] = 0.0 if constant[t] else x[t + k] - m
            q[k] = d[k] * d[k]
        lane0, lane1 = 0.0, 0.0
        for b in range(blocks):
            for u in range(4):
                o = 8 * b + 6 - 2 * u
                lane0 += q[o]
                lane1 += q[o + 1]
        for j in range(pairs):
            k = 8 * blocks + 2 * j
            lane0 += q[k]
            lane1 += q[k + 1]
        squares[t] = (lane0 + lane1) + 0.0
        if skew:
            lane0, lane1 = 0.0, 0.0
            for b in range(blocks):
                for u in range(4):
                    o = 8 * b + 6 - 2 * u
                    lane0 += q[o] * d[o]
                    lane1 += q[o + 1] * d[o + 1]
            for j in range(pairs):
                k = 8 * blocks + 2 * j
                lane0 += q[k] * d[k]
                lane1 += q[k + 1] * d[k + 1]
            m3[t] = (lane0 + lane1) + 0.0
            a0, a1, a2, a3, a4, a5, a6, a7 = q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]
            for b in range(1, blocks):
                o = 8 * b
                a0 += q[o]
                a1 += q[o + 1]
                a2 += q[o + 2]
                a3 += q[o + 3]
                a4 += q[o + 4]
                a5 += q[o + 5]
                a6 += q[o + 6]
                a7 += q[o + 7]
            total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
            for k in range(8 * blocks, n):
                total += q[k]
            m2[t] = total + 0.0
    return squares, m2, m3


@functools.cache
def _compiled_centred_sums() -> Callable[..., tuple]:
    """``_centred_sums`` compiled by numba (cached on disk), imported on first use only."""
    from numba import njit

    return njit(cache=True, nogil=True)(_centred_sums)


def centred_square_sums(x: np.ndarray, n: int, mean: np.ndarray, constant: np.ndarray) -> np.ndarray:
    """Σ (x[t+k] − mean[t])² over every full window t, bit for bit ``np.einsum("ij,ij->i")`` of the centred rows.

    ``mean``: the window means (len(x) − n + 1 values); windows flagged ``constant`` sum to exactly 0.
    """
    return _compiled_centred_sums()(_f64(x), n, _f64(mean), np.ascontiguousarray(constant, bool), False)[0]


def centred_skew(x: np.ndarray, n: int, mean: np.ndarray, constant: np.ndarray) -> np.ndarray:
    """``window_skew`` of every full window (the same sums and roundings), and the square sums as well.

    Returns (skewness, Σ d² in einsum's order) so that the volatility of the same window shares the pass.
    """
    if not 8 <= n <= _BLOCK:
        raise ValueError(f"centred_skew: window {n} outside 8..{_BLOCK}")
    squares, m2, m3 = _compiled_centred_sums()(_f64(x), n, _f64(mean), np.ascontiguousarray(constant, bool), True)
    return _skew_from_sums(m2, m3, n), squares


def _f64(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _skew_from_sums(m2: np.ndarray, m3: np.ndarray, n: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = (n * (n - 1) ** 0.5 / (n - 2)) * (m3 / fpmath.power(m2, 1.5))
    return np.where(m2 > 0, skew, np.nan)


def rolling_std(x: np.ndarray, n: int, ddof: int, mean: np.ndarray, changes: np.ndarray | None = None) -> np.ndarray:
    """Standard deviation (``ddof``) of the last n values around ``mean`` (``rolling_mean(x, n)``), two-pass."""
    out = nan_array(len(x))
    if len(x) >= n:
        squares = centred_square_sums(x, n, mean[n - 1 :], constant_windows(x, n, changes))
        out[n - 1 :] = np.sqrt(squares / (n - ddof))
    return out


def rolling_mean_std(x: np.ndarray, n: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """Window mean and standard deviation (two-pass), NaN before the first full window."""
    changes = last_change(x)
    mean = rolling_mean(x, n, changes)
    return mean, rolling_std(x, n, ddof, mean, changes)


def window_skew(centred: np.ndarray, n: int) -> np.ndarray:
    """Bias-corrected sample skewness of centred windows (``window_moments``); NaN where they are all 0."""
    squared = centred * centred
    return _skew_from_sums(np.add.reduce(squared, axis=1), np.einsum("ij,ij->i", squared, centred), n)


def rolling_skew(x: np.ndarray, n: int) -> np.ndarray:
    """Bias-corrected sample skewness (pandas ``.skew()``: n√(n−1)/(n−2) · m3/m2^1.5); NaN if constant."""
    out = nan_array(len(x))
    if len(x) >= n:
        out[n - 1 :] = window_skew(window_moments(x, n)[1], n)
    return out


def rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    """Largest of the last n values (TA-Lib MAX: exact, NaN before the first full window)."""
    if n == 1:  # TA-Lib needs a period of 2 or more
        return x.astype(np.float64)
    return talib.MAX(x, timeperiod=n) if len(x) >= n else nan_array(len(x))


def rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    """Smallest of the last n values (TA-Lib MIN)."""
    if n == 1:
        return x.astype(np.float64)
    return talib.MIN(x, timeperiod=n) if len(x) >= n else nan_array(len(x))


def lagged(x: np.ndarray, k: int, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """fn(x[t], x[t-k]) for t >= k, NaN before."""
    out = nan_array(len(x))
    if len(x) > k:
        out[k:] = fn(x[k:], x[:-k])
    return out


def log_ratio(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    return fpmath.log(now / before)


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


def unchanged_since_start(x: np.ndarray, changes: np.ndarray | None = None) -> np.ndarray:
    """Whether x[0..t] are all equal, for each t (``changes``: ``last_change(x)`` if already known)."""
    return (last_change(x) if changes is None else changes) == 0


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
        positive = window_sums(np.where(change > 0, flow, 0.0), n)
        negative = window_sums(np.where(change < 0, flow, 0.0), n)
        total = positive + negative
        with np.errstate(divide="ignore", invalid="ignore"):
            out[n:] = np.where(total > 0, 100.0 * (positive / total), np.nan)
    return out
