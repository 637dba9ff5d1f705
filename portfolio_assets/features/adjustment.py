"""Point-in-time adjustment for splits and dividends: the one place the factors are built and applied.

Alpha Vantage's free daily series is *as traded*: a 2-for-1 split shows as a
halving close. For each asset, per observation t (its own calendar):

* an event applies from the asset's **first observation on or after its date**
  (a split's ``effective_date``, a dividend's ``ex_dividend_date``) and never
  before; an event on or before the asset's first observation, or after its
  last one, changes no observed move and is not applied;
* ``split_factor_cum_t``: the product of the ``split_factor`` (new / old
  shares) of the splits applied at or before t;
* ``adjustment_factor_t``: ``split_factor_cum_t`` times, for each dividend
  applied at or before t on observation E, ``1 + amount / close_E`` (the
  dividend reinvested at the ex-date's as-traded close).

``F_t = close_t × adjustment_factor_t`` is the total-return series (one share
held from the first observation, splits taken and dividends reinvested).
Dividing the history by ``adjustment_factor_D`` gives the prices back-adjusted
as of D in D's share basis (dividends reinvested at the ex-date close), built
only from events with date ≤ D. So technical features are computed on F (OHLC × factor, volume ÷
``split_factor_cum``), and the features that are price levels
(``PRICE_LEVEL_FEATURES``: SMA, EMA, MACD, Bollinger bands, ATR) are divided
by ``adjustment_factor_D``; returns, volatilities, momenta and oscillators are
scale-free and need nothing. A factor is a cumulative product over a prefix of
the series, so an event dated after D leaves every value at or before D bit
for bit unchanged; an asset without events has factors of exactly 1.0 and
bit-identical features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portfolio_assets.features.indicators import OHLC_COLUMNS
from portfolio_assets.features.registry import PRICE, TECHNICAL

SPLIT_FACTOR_CUM = "split_factor_cum"
ADJUSTMENT_FACTOR = "adjustment_factor"
ADJUSTMENT_COLUMNS = [SPLIT_FACTOR_CUM, ADJUSTMENT_FACTOR]
"""Columns of ``prices`` holding the per-day cumulative factors (as-traded OHLCV stay as they are)."""

_PRICE_UNIT = PRICE[0].unit  # the unit of price_close
PRICE_LEVEL_FEATURES: list[str] = [f.name for f in TECHNICAL if f.unit == _PRICE_UNIT]
"""Technical features in price units: rebased to the row's own share basis (÷ ``adjustment_factor_D``)."""


def _empty_splits() -> pd.DataFrame:
    return pd.DataFrame(
        {"effective_date": pd.Series(dtype="datetime64[ns, UTC]"), "split_factor": pd.Series(dtype="float64")}
    )


def _empty_dividends() -> pd.DataFrame:
    return pd.DataFrame(
        {"ex_dividend_date": pd.Series(dtype="datetime64[ns, UTC]"), "amount": pd.Series(dtype="float64")}
    )


@dataclass(frozen=True)
class CorporateActions:
    """One asset's splits (``effective_date``, ``split_factor``) and dividends (``ex_dividend_date``, ``amount``)."""

    splits: pd.DataFrame = field(default_factory=_empty_splits)
    dividends: pd.DataFrame = field(default_factory=_empty_dividends)


def _day_ns(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    return pd.DatetimeIndex(values).tz_convert("UTC").floor("D").as_unit("ns").asi8


def adjustment_factors(
    timestamps: pd.Series | pd.DatetimeIndex, close: np.ndarray, actions: CorporateActions
) -> tuple[np.ndarray, np.ndarray]:
    """(``split_factor_cum``, ``adjustment_factor``) of one asset's observations (timestamps ascending).

    See the module docstring for the rule. ``close`` is the as-traded close.
    """
    days = _day_ns(timestamps)
    n = len(days)
    close = np.asarray(close, dtype="float64")
    if n > 1 and (np.diff(days) <= 0).any():
        raise ValueError("adjustment_factors: timestamps must be strictly increasing days")
    split_step = np.ones(n)
    dividend_step = np.ones(n)
    if n == 0:
        return split_step, dividend_step

    def positions(dates: pd.Series) -> np.ndarray:
        at = np.searchsorted(days, _day_ns(dates), side="left")  # first observation on or after the date
        return np.where((at > 0) & (at < n), at, -1)  # on/before the first observation, or after the last: none

    splits = actions.splits
    for at, factor in zip(positions(splits["effective_date"]), splits["split_factor"].to_numpy(float), strict=True):
        if at >= 0:
            split_step[at] *= factor
    dividends = actions.dividends
    for at, amount in zip(positions(dividends["ex_dividend_date"]), dividends["amount"].to_numpy(float), strict=True):
        if at >= 0:
            dividend_step[at] *= 1.0 + amount / close[at]
    split_cum = np.cumprod(split_step)
    return split_cum, np.cumprod(split_step * dividend_step)


def with_adjustment(prices: pd.DataFrame, actions: dict[str, CorporateActions]) -> pd.DataFrame:
    """``prices`` (any assets, sorted by asset then time) with the two factor columns; no actions: 1.0."""
    out = prices.copy()
    out[SPLIT_FACTOR_CUM] = 1.0
    out[ADJUSTMENT_FACTOR] = 1.0
    for symbol, rows in out.groupby("asset_symbol", sort=False).groups.items():
        if symbol not in actions:
            continue
        frame = out.loc[rows]
        if not frame["timestamp"].is_monotonic_increasing:
            raise ValueError(f"with_adjustment: {symbol!r}: rows must be sorted by timestamp")
        split_cum, factor = adjustment_factors(frame["timestamp"], frame["price_close"].to_numpy(), actions[symbol])
        out.loc[rows, SPLIT_FACTOR_CUM] = split_cum
        out.loc[rows, ADJUSTMENT_FACTOR] = factor
    return out


def factors_of(prices: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(split_factor_cum, adjustment_factor) as float arrays; 1.0 where ``prices`` has no factor columns."""
    if ADJUSTMENT_FACTOR not in prices.columns:
        ones = np.ones(len(prices))
        return ones, ones
    return (
        prices[SPLIT_FACTOR_CUM].to_numpy(dtype="float64"),
        prices[ADJUSTMENT_FACTOR].to_numpy(dtype="float64"),
    )


def total_return_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """``prices`` on the total-return basis F: OHLC × adjustment_factor, volume ÷ split_factor_cum."""
    split_cum, factor = factors_of(prices)
    out = prices.copy()
    for column in OHLC_COLUMNS:
        out[column] = prices[column].to_numpy(dtype="float64") * factor
    if "volume" in out.columns:
        out["volume"] = prices["volume"].to_numpy(dtype="float64", na_value=np.nan) / split_cum
    return out


def adjusted_close(prices: pd.DataFrame) -> pd.DataFrame:
    """``prices`` with ``price_close`` replaced by F (for move checks: a split or dividend is no move)."""
    _, factor = factors_of(prices)
    return prices.assign(price_close=prices["price_close"].to_numpy(dtype="float64") * factor)


def rebase_levels(features: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Divide the price-level features of ``features`` by each row's ``adjustment_factor`` (matched on keys)."""
    if ADJUSTMENT_FACTOR not in prices.columns:
        return features
    keys = ["asset_symbol", "timestamp"]
    factor = features[keys].merge(prices[[*keys, ADJUSTMENT_FACTOR]], on=keys, how="left", validate="one_to_one")
    divisor = factor[ADJUSTMENT_FACTOR].to_numpy(dtype="float64")
    if np.isnan(divisor).any():
        raise ValueError("rebase_levels: a feature row has no adjustment factor in prices")
    out = features.copy()
    for column in PRICE_LEVEL_FEATURES:
        if column in out.columns:
            out[column] = out[column].to_numpy(dtype="float64") / divisor
    return out


def as_of_closes(closes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Closes back-adjusted as of the last one (its own basis): ``close_t × factor_t / factor_last``.

    The ratio is taken first, so the last value is the as-traded close exactly.
    """
    return closes * (factors / factors[-1])
