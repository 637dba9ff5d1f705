"""Cross-asset features: each asset's rolling beta / correlation against the S&P 500 and the dollar.

``compute_cross_asset(prices, benchmarks, window=60)`` gives, for every price
row, ``beta_sp500_60d``, ``corr_sp500_60d`` and ``corr_dxy_60d`` (the suffix is
the window). Definition, for an asset A and a benchmark B (``benchmarks["sp500"]``
for the first two, ``benchmarks["dxy"]`` for the third):

* **Joint dates.** The dates d on which A has a row and B has an observation
  with ``observation_date == d`` (B's missing observations, NaN values, are
  dropped first). Joint dates are the only dates used: a crypto's Friday →
  Monday return is paired with the S&P's Friday → Monday return, an equity's
  return across an FX-only holiday with the FX return over the same interval.
* **Joint returns.** On consecutive joint dates d_{k−1} < d_k:
  ``r_A,k = ln(close_A(d_k) / close_A(d_{k−1}))`` and
  ``r_B,k = ln(value_B(d_k) / value_B(d_{k−1}))``, so both always cover the
  same interval.
* **Window statistics at joint date d_k** (k ≥ window, i.e. at least
  ``window`` returns; NaN before: warm-up), over the last ``window`` joint
  returns r_{k−window+1..k}:
  ``beta = cov(r_A, r_B) / var(r_B)`` with the sample (ddof 1) covariance and
  variance (so ``Σ(a−ā)(b−b̄) / Σ(b−b̄)²``), NaN when var(r_B) = 0;
  ``corr = Σ(a−ā)(b−b̄) / √(Σ(a−ā)² · Σ(b−b̄)²)`` (Pearson), NaN when either
  variance is 0, clipped to [−1, 1] against rounding. Sums are two-pass and
  window-local (means first, then centred sums, as in ``indicators.py``): a
  value is a function of its window only, and a window of equal returns has
  exactly zero variance.
* **When it is known.** Instants, not days: A's close of day d is available at
  its bar end ``a(d)`` (the ``available_at`` column of ``prices``, which is
  also the decision time of A's row of d); B's observation of d at its
  ``available_at`` (release day at the series' release time). The value at
  d_k uses B's observations at joint dates d_{k−window} .. d_k
  (``window + 1`` of them) and A's closes at the same dates. It becomes known
  at ``known_at(d_k) = max(a(d_k), the latest available_at of those B
  observations)``: never before every input was public (the S&P 500 closes at
  16:00 New York, so an FX row at 16:00 UTC of the same day cannot use that
  day's S&P return; the broad dollar index is published a week later).
* **Rows.** The row of A at day t (decision time a(t)) takes the value of the
  *newest* joint date d_k among those with ``known_at(d_k) ≤ a(t)``, provided
  ``a(t) − known_at(d_k) ≤ 7 days``; otherwise NaN. Its ``known_at`` is
  returned as ``<feature>_available_at``. That newest value is used
  even when it is NaN (zero variance): nothing falls back to an older value,
  nothing is filled backwards and nothing is imputed.
* **Out-of-order releases.** Precisely, the row at t is the rule above applied
  to the benchmark observations *available by a(t)*: the joint dates are
  those d ≤ t whose B observation is already public, the window is the last
  ``window`` returns between consecutive such dates, known at the latest of
  their availability instants. When B's release dates are in
  observation-date order (a fixed lag, weekly batches: every series of the
  universe without vintages) the public joint dates are a prefix of all joint
  dates and this is exactly the rule above. When an observation is released
  after a later one (possible with first-release vintage dates), it is not part
  of any window before its release; the rows in between use the window of the
  observations already public (which then spans it) instead of waiting for it.
  So neither its value nor even its existence reaches a row before its release.

So a value at row t depends only on A's closes at or before t and on B's
observations available at or before a(t): changing, adding or removing any price
after t or any benchmark observation available after a(t) leaves every row at or
before t unchanged, bit for bit.

Bad input raises: ``InvalidPricesError`` for a missing / non-positive close, a
duplicated (asset_symbol, timestamp) or a timestamp that is not a UTC
midnight, or a missing ``available_at`` (bar end); ``InvalidBenchmarkError`` (a
ValueError) for a missing benchmark, missing columns, a non-positive or infinite
value, a duplicated or missing observation_date, a missing available_at, or an
observation_date that is not a UTC midnight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from portfolio_assets import fpmath
from portfolio_assets.features.indicators import (
    InvalidPricesError,
    check_positive_prices,
    require_columns,
    sort_prices,
)
from portfolio_assets.features.registry import CROSS_ASSET_FEATURES, CROSS_ASSET_WINDOW
from portfolio_assets.features.rolling import window_moments

FORWARD_FILL_DAYS = 7
"""Longest a cross-asset value is carried after it became known, in calendar days."""

BENCHMARKS = ("sp500", "dxy")
BENCHMARK_COLUMNS = ["observation_date", "value", "available_at"]

_DAY_NS = 86_400 * 10**9

__all__ = [
    "BENCHMARKS",
    "CROSS_ASSET_FEATURES",
    "FORWARD_FILL_DAYS",
    "InvalidBenchmarkError",
    "compute_cross_asset",
    "cross_asset_columns",
]


class InvalidBenchmarkError(ValueError):
    """A benchmark series cannot be used; the message names the benchmark, the date and the cause."""


def cross_asset_columns(window: int = CROSS_ASSET_WINDOW) -> list[str]:
    """Output feature columns for a window (``CROSS_ASSET_FEATURES`` for 60)."""
    return [f"beta_sp500_{window}d", f"corr_sp500_{window}d", f"corr_dxy_{window}d"]


@dataclass(frozen=True)
class _Benchmark:
    dates: np.ndarray
    """observation dates, int64 ns, strictly increasing"""
    values: np.ndarray
    """finite, positive float64"""
    released: np.ndarray
    """availability instants, int64 ns"""


def _utc_ns(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    dtype = frame[column].dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        raise InvalidBenchmarkError(f"{what}: {column} must be a timezone-aware datetime64 (UTC), got {dtype}")
    return pd.DatetimeIndex(frame[column]).tz_convert("UTC").as_unit("ns").asi8


def _benchmark(name: str, frame: pd.DataFrame | None) -> _Benchmark:
    what = f"compute_cross_asset: benchmark {name!r}"
    if frame is None:
        raise InvalidBenchmarkError(f"{what} is missing")
    missing = [c for c in BENCHMARK_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidBenchmarkError(f"{what}: missing columns {missing} (got {list(frame.columns)})")
    values = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    observed = _utc_ns(frame, "observation_date", what)
    released = _utc_ns(frame, "available_at", what)
    keep = ~np.isnan(values)  # a NaN value is a missing observation
    values, observed, released = values[keep], observed[keep], released[keep]
    nat = np.iinfo(np.int64).min
    for column, stamps in (("observation_date", observed), ("available_at", released)):
        if (stamps == nat).any():
            at = int(np.argmax(stamps == nat))
            raise InvalidBenchmarkError(f"{what}: missing {column} (value {values[at]})")
        off = stamps % _DAY_NS != 0
        if column == "observation_date" and off.any():
            at = int(np.argmax(off))
            raise InvalidBenchmarkError(f"{what}: {column} {pd.Timestamp(stamps[at], tz='UTC')} is not a UTC midnight")
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        at = int(np.argmax(bad))
        raise InvalidBenchmarkError(
            f"{what} at {pd.Timestamp(observed[at], tz='UTC')}: value is non-positive or infinite (got {values[at]})"
        )
    order = np.argsort(observed, kind="stable")
    observed, values, released = observed[order], values[order], released[order]
    duplicated = observed[1:] == observed[:-1]
    if duplicated.any():
        at = int(np.argmax(duplicated))
        raise InvalidBenchmarkError(f"{what}: duplicated observation_date {pd.Timestamp(observed[at], tz='UTC')}")
    return _Benchmark(observed, values, released)


def _window_statistics(a: np.ndarray, b: np.ndarray, window: int, with_beta: bool) -> list[np.ndarray]:
    """[beta,] corr of every full window of ``window`` log returns of the joint closes a, b (len(a) − window each).

    Window-local two-pass sums: the result for a window depends on its ``window + 1`` closes only,
    bit for bit, whatever precedes it (the incremental path of ``_asset_vs_benchmark`` relies on that).
    """
    ra = fpmath.log(a[1:] / a[:-1])
    rb = fpmath.log(b[1:] / b[:-1])
    _, ca = window_moments(ra, window)
    _, cb = window_moments(rb, window)
    sab = np.einsum("ij,ij->i", ca, cb)
    saa = np.einsum("ij,ij->i", ca, ca)
    sbb = np.einsum("ij,ij->i", cb, cb)
    stats = []
    with np.errstate(divide="ignore", invalid="ignore"):
        if with_beta:
            stats.append(np.where(sbb > 0, sab / sbb, np.nan))
        corr = sab / (np.sqrt(saa) * np.sqrt(sbb))
        stats.append(np.where((saa > 0) & (sbb > 0), np.clip(corr, -1.0, 1.0), np.nan))
    return stats


def _asset_vs_benchmark(
    ts: np.ndarray, bar_end: np.ndarray, close: np.ndarray, bench: _Benchmark, window: int, with_beta: bool
) -> tuple[np.ndarray, np.ndarray]:
    """[beta,] corr at each of one asset's rows (sorted days ``ts``, decision instants ``bar_end``), shape
    (1 or 2, len(ts)), and the instant each row's value became known (int64 ns, NaT where NaN)."""
    count = 2 if with_beta else 1
    out = np.full((count, len(ts)), np.nan)
    nat = np.iinfo(np.int64).min
    known_at = np.full(len(ts), nat, dtype=np.int64)
    if len(bench.dates) == 0 or len(ts) == 0:
        return out, known_at
    pos = np.searchsorted(bench.dates, ts)
    found = pos < len(bench.dates)
    found[found] = bench.dates[pos[found]] == ts[found]
    ia, ib = np.flatnonzero(found), pos[found]
    if len(ia) <= window:  # fewer than `window` joint returns: all warm-up
        return out, known_at
    a, b = close[ia], bench.values[ib]
    # Joint date k is public from max(A's bar end that day, B's availability of it).
    public = np.maximum(bar_end[ia], bench.released[ib])
    # Newest joint date public at each row's decision instant (−1: none yet).
    by_public = np.argsort(public, kind="stable")
    newest = np.maximum.accumulate(by_public)
    at = np.searchsorted(public[by_public], bar_end, side="right") - 1
    newest_k = np.where(at >= 0, newest[np.maximum(at, 0)], -1)

    # Every complete window of the joint dates: value and known_at (k = window .. len − 1).
    stats = np.array(_window_statistics(a, b, window, with_beta))
    known = sliding_window_view(public, window + 1).max(axis=1)
    i = newest_k - window
    safe = np.maximum(i, 0)
    full = (i >= 0) & (known[safe] <= bar_end)
    usable = full & (bar_end - known[safe] <= FORWARD_FILL_DAYS * _DAY_NS)
    out[:, usable] = stats[:, safe[usable]]
    known_at[usable] = known[safe[usable]]

    # Rows whose newest public joint date has an earlier joint date still unreleased (an
    # out-of-order release): the window is taken over the joint dates public at the row.
    cache: dict[bytes, tuple[np.ndarray, int]] = {}
    for row in np.flatnonzero((i >= 0) & ~full).tolist():
        t, k = bar_end[row], int(newest_k[row])
        span = 2 * (window + 1)
        while True:
            start = max(0, k + 1 - span)
            members = start + np.flatnonzero(public[start : k + 1] <= t)
            if len(members) > window or start == 0:
                break
            span *= 2
        if len(members) <= window:
            continue
        members = members[-(window + 1) :]
        key = members.tobytes()
        if key not in cache:
            values = np.array(_window_statistics(a[members], b[members], window, with_beta))[:, 0]
            cache[key] = (values, int(public[members].max()))
        values, window_known = cache[key]
        if t - window_known <= FORWARD_FILL_DAYS * _DAY_NS:
            out[:, row] = values
            known_at[row] = window_known
    known_at[np.isnan(out[0])] = nat  # a NaN (zero variance) uses no input
    return out, known_at


def compute_cross_asset(
    prices: pd.DataFrame, benchmarks: Mapping[str, pd.DataFrame], window: int = CROSS_ASSET_WINDOW
) -> pd.DataFrame:
    """Beta / correlation of every asset against the S&P 500 and the dollar, one row per input row.

    ``prices``: ``asset_symbol``, ``timestamp`` (datetime64 UTC midnights),
    ``available_at`` (the bar end: the row's decision instant, UTC) and
    ``price_close`` (finite, positive) of any number of assets in any order;
    other columns (``asset_class`` ...) are ignored. ``benchmarks``: ``"sp500"``
    and ``"dxy"``, each a frame of ``observation_date`` (UTC midnight),
    ``value`` (NaN = no observation) and ``available_at`` (UTC instant: when
    the value became public). ``window``: joint returns per window (≥ 2).

    Returns ``asset_symbol``, ``timestamp``, the float64 columns
    ``cross_asset_columns(window)`` (``CROSS_ASSET_FEATURES`` by default) and
    each one's ``<column>_available_at`` (when its window was complete; NaT
    where the value is NaN), sorted by (asset_symbol, timestamp) with a fresh
    index. See the module docstring for the exact definition.
    """
    what = "compute_cross_asset"
    if int(window) != window or window < 2:
        raise ValueError(f"{what}: window must be a whole number >= 2, got {window!r}")
    window = int(window)
    sp500, dxy = (_benchmark(name, benchmarks.get(name)) for name in BENCHMARKS)
    require_columns(prices, ["asset_symbol", "timestamp", "available_at", "price_close"], what)
    order, bounds, ts = sort_prices(prices, what)
    frame = prices.iloc[order][["asset_symbol", "timestamp"]].reset_index(drop=True)
    close = prices["price_close"].iloc[order].reset_index(drop=True)
    check_positive_prices(frame.assign(price_close=close), ["price_close"], what)
    off = ts % _DAY_NS != 0
    if off.any():
        at = int(np.argmax(off))
        raise InvalidPricesError(
            f"{what}: asset {frame['asset_symbol'].iloc[at]!r}: timestamp {frame['timestamp'].iloc[at]} "
            "is not a UTC midnight"
        )
    close = close.to_numpy(dtype="float64")
    bar_end = _bar_ends(prices.iloc[order], ts, what)

    columns = cross_asset_columns(window)
    values = np.full((len(columns), len(frame)), np.nan)
    known = np.full((2, len(frame)), np.iinfo(np.int64).min, dtype=np.int64)
    for start, stop in pairwise(bounds.tolist()):
        asset_ts, asset_end, asset_close = ts[start:stop], bar_end[start:stop], close[start:stop]
        values[0:2, start:stop], known[0, start:stop] = _asset_vs_benchmark(
            asset_ts, asset_end, asset_close, sp500, window, with_beta=True
        )
        values[2:3, start:stop], known[1, start:stop] = _asset_vs_benchmark(
            asset_ts, asset_end, asset_close, dxy, window, with_beta=False
        )

    result = pd.DataFrame(values.T, columns=columns, index=frame.index, copy=False)
    result.insert(0, "asset_symbol", frame["asset_symbol"])
    result.insert(1, "timestamp", frame["timestamp"])
    for column, row in zip(columns, (0, 0, 1), strict=True):
        result[f"{column}_available_at"] = pd.to_datetime(known[row], utc=True)
    return result


def _bar_ends(prices: pd.DataFrame, ts: np.ndarray, what: str) -> np.ndarray:
    """The rows' decision instants (``available_at``, int64 ns UTC); each at or after its day's start."""
    column = prices["available_at"]
    if not isinstance(column.dtype, pd.DatetimeTZDtype):
        raise InvalidPricesError(f"{what}: available_at must be a timezone-aware datetime64 (UTC), got {column.dtype}")
    ends = pd.DatetimeIndex(column).tz_convert("UTC").as_unit("ns").asi8
    bad = (ends == np.iinfo(np.int64).min) | (ends < ts)
    if bad.any():
        at = int(np.argmax(bad))
        raise InvalidPricesError(
            f"{what}: asset {prices['asset_symbol'].iloc[at]!r} at {pd.Timestamp(ts[at], tz='UTC'):%Y-%m-%d}: "
            f"available_at {column.iloc[at]} is missing or before the day starts"
        )
    return ends
