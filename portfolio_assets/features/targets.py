"""Forward targets: each asset's close ``horizon_days`` calendar days later.

Rule, per asset, for the observation at timestamp t with close c:

* the horizon is ``h = t + horizon_days`` calendar days;
* the target is the asset's **last observation at or before h** (a horizon on a
  weekend or holiday takes the previous trading day's close);
* it is missing (NaN prices, NaT ``target_timestamp``) when

  - that observation is more than ``max_gap_days`` (7) before h (a hole in the
    data: the price at the horizon is not known), or
  - the data does not reach h: the asset has no observation at or after h and
    h is after ``data_end``. If the series simply stops before the horizon the
    target is unknown, never the last available price. With ``data_end=None``
    (the default) the asset's own last observation is the end of its data, so
    a horizon falling after the last row (e.g. an equity whose data stops on a
    Friday and whose horizon is the Saturday) is missing; a caller that knows
    its input is complete through a date (a Dagster run reading prices through
    ``last_day + horizon``) passes it as ``data_end`` so those rows are
    labelled with the last close at or before h.
  - the asset stopped trading before h: h's day is after the asset's
    ``last_trading_days`` entry (survivorship: the asset's rows up to then
    stay, but the price at the horizon does not exist, and the last close
    before delisting is not a substitute).

``target_return`` is ln(target / c) and ``target_return_pct`` (target / c − 1) × 100.
So the target at t depends only on the close at t and the prices in (t, h].

Corporate actions (``features.adjustment``; only where ``prices`` carries the
factor columns, else every factor is 1): the target price is in the row's own
share basis, ``close_T × split_factor_cum_T / split_factor_cum_t``, so a split
inside the horizon is no move (a price return, dividends excluded).
``target_total_return`` is ln(F_T / F_t) with F = close × adjustment_factor:
the same return plus the dividends whose ex-date is in (t, T], reinvested.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import numpy as np
import pandas as pd

from portfolio_assets import fpmath
from portfolio_assets.features.adjustment import ADJUSTMENT_COLUMNS, factors_of
from portfolio_assets.features.indicators import (
    InvalidPricesError,
    check_positive_prices,
    require_columns,
    sort_prices,
)
from portfolio_assets.timeutil import utc_index, utc_timestamp

MAX_GAP_DAYS = 7
"""Longest the last observation before the horizon may precede it, in calendar days."""

_DAY_NS = 86_400 * 10**9


def target_columns(horizon_days: int) -> list[str]:
    """Names of the target columns for a horizon (``target_price_90d`` ... for 90)."""
    return [
        "target_timestamp",
        f"target_price_{horizon_days}d",
        f"target_return_{horizon_days}d",
        f"target_return_pct_{horizon_days}d",
        f"target_total_return_{horizon_days}d",
    ]


def horizon_passes_end(
    symbols: pd.Series, timestamps: pd.Series, last_trading_days: Mapping[str, pd.Timestamp], horizon_days: int
) -> np.ndarray:
    """Per row, whether the day of ``timestamp + horizon_days`` is after the asset's last trading day
    (never for an asset without one)."""
    days = {str(k): utc_timestamp(v).floor("D") for k, v in last_trading_days.items()}
    ends = utc_index(pd.Series(symbols.astype(str).to_numpy(), dtype="object").map(days).astype("object"))
    horizon_day = utc_index(timestamps).floor("D") + pd.Timedelta(days=int(horizon_days))
    return np.asarray(horizon_day > ends, dtype=bool)


def compute_targets(
    prices: pd.DataFrame,
    horizon_days: int = 90,
    *,
    max_gap_days: int = MAX_GAP_DAYS,
    data_end: pd.Timestamp | None = None,
    last_trading_days: Mapping[str, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Forward targets of every row of ``prices`` (see the module docstring for the rule).

    ``prices`` needs ``asset_symbol``, ``timestamp`` (datetime64 UTC) and
    ``price_close`` (finite, positive); other columns are ignored. ``data_end``:
    the input is known complete through this instant (inclusive) for every asset.
    ``last_trading_days``: ``{symbol: day}`` of the assets that stopped trading; a
    row whose horizon passes that day has no target.

    Returns ``asset_symbol``, ``timestamp``, ``target_timestamp``,
    ``target_price_{h}d``, ``target_return_{h}d`` (log) and
    ``target_return_pct_{h}d`` (percent) and ``target_total_return_{h}d`` (log, dividends
    reinvested), one row per input row, sorted by
    (asset_symbol, timestamp). Raises ``InvalidPricesError`` (a ValueError) on
    a missing or non-positive close or a duplicated (asset_symbol, timestamp).
    """
    what = "compute_targets"
    if int(horizon_days) != horizon_days or horizon_days < 1:
        raise ValueError(f"{what}: horizon_days must be a positive whole number of days, got {horizon_days!r}")
    if max_gap_days < 0:
        raise ValueError(f"{what}: max_gap_days must be >= 0, got {max_gap_days!r}")
    require_columns(prices, ["asset_symbol", "timestamp", "price_close"], what)
    order, bounds, ts = sort_prices(prices, what)
    present = [c for c in ADJUSTMENT_COLUMNS if c in prices.columns]
    frame = prices.iloc[order][["asset_symbol", "timestamp", "price_close", *present]].reset_index(drop=True)
    check_positive_prices(frame, ["price_close", *present], what)
    close = frame["price_close"].to_numpy(dtype="float64")
    split_cum, factor = factors_of(frame)

    horizon = ts + int(horizon_days) * _DAY_NS
    end_ns = None
    if data_end is not None:
        end = pd.Timestamp(data_end)
        if end.tzinfo is None:
            raise InvalidPricesError(f"{what}: data_end must be timezone-aware (UTC), got {data_end!r}")
        end_ns = end.as_unit("ns").value

    target = np.full(len(frame), -1, dtype=np.int64)
    for start, stop in pairwise(bounds.tolist()):
        asset_ts = ts[start:stop]
        asset_h = horizon[start:stop]
        # Last observation at or before the horizon (never before the row itself: h > t).
        found = np.searchsorted(asset_ts, asset_h, side="right") - 1
        coverage = asset_ts[-1] if end_ns is None else max(asset_ts[-1], end_ns)
        known = (asset_h - asset_ts[found] <= max_gap_days * _DAY_NS) & (asset_h <= coverage)
        target[start:stop] = np.where(known, start + found, -1)

    if last_trading_days:
        target[horizon_passes_end(frame["asset_symbol"], frame["timestamp"], last_trading_days, horizon_days)] = -1
    known = target >= 0
    safe = np.where(known, target, 0)
    # in the row's share basis: the ratio is exactly 1.0 without a split in (t, T]
    target_price = np.where(known, close[safe] * (split_cum[safe] / split_cum), np.nan)
    ratio = target_price / close
    total_ratio = np.where(known, (close[safe] * factor[safe]) / (close * factor), np.nan)
    names = target_columns(int(horizon_days))
    target_timestamp = frame["timestamp"].iloc[safe].reset_index(drop=True).where(known)
    return pd.DataFrame(
        {
            "asset_symbol": frame["asset_symbol"],
            "timestamp": frame["timestamp"],
            names[0]: target_timestamp,
            names[1]: target_price,
            names[2]: fpmath.log(ratio),
            names[3]: (ratio - 1.0) * 100.0,
            names[4]: fpmath.log(total_ratio),
        }
    )
