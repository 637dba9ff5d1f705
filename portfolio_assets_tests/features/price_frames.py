"""Price frames for the feature tests: real series shipped by ``backtesting`` / ``arch``, and seeded synthetic ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portfolio_assets import fpmath

COLUMNS = [
    "asset_symbol",
    "asset_class",
    "timestamp",
    "price_open",
    "price_high",
    "price_low",
    "price_close",
    "volume",
]


def from_ohlcv(symbol: str, asset_class: str, ohlcv: pd.DataFrame, *, volume: bool = True) -> pd.DataFrame:
    """A canonical prices frame from a frame with Open/High/Low/Close/Volume and a date index."""
    index = pd.DatetimeIndex(ohlcv.index)
    timestamps = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return pd.DataFrame(
        {
            "asset_symbol": symbol,
            "asset_class": asset_class,
            "timestamp": timestamps.as_unit("ns"),
            "price_open": ohlcv["Open"].to_numpy(dtype="float64"),
            "price_high": ohlcv["High"].to_numpy(dtype="float64"),
            "price_low": ohlcv["Low"].to_numpy(dtype="float64"),
            "price_close": ohlcv["Close"].to_numpy(dtype="float64"),
            "volume": ohlcv["Volume"].to_numpy(dtype="float64") if volume else np.nan,
        },
        columns=COLUMNS,
    )


def goog(asset_class: str = "equity") -> pd.DataFrame:
    """GOOG daily OHLCV 2004-2013 (real; ships with ``backtesting``)."""
    test_data = pytest.importorskip("backtesting.test", reason="the real GOOG series ships with `backtesting`")
    return from_ohlcv("GOOG", asset_class, test_data.GOOG)


def nasdaq(asset_class: str = "fx", symbol: str = "IXIC") -> pd.DataFrame:
    """NASDAQ Composite daily OHLC 1999-2018 (real; ships with ``arch``), labelled fx by default (no volume)."""
    nasdaq_data = pytest.importorskip("arch.data.nasdaq", reason="the real NASDAQ series ships with `arch`")
    return from_ohlcv(symbol, asset_class, nasdaq_data.load(), volume=asset_class != "fx")


def synthetic(
    symbol: str,
    asset_class: str,
    days: int,
    *,
    seed: int,
    start: str = "2010-01-01",
    daily_vol: float = 0.03,
    with_volume: bool | None = None,
) -> pd.DataFrame:
    """A seeded geometric random walk with consistent OHLC; daily for crypto, business days otherwise."""
    rng = np.random.default_rng(seed)
    freq = "D" if asset_class == "crypto" else "B"
    timestamps = pd.date_range(start, periods=days, freq=freq, tz="UTC").as_unit("ns")
    close = 250.0 * fpmath.exp(np.cumsum(rng.normal(0.0, daily_vol, days)))
    open_ = close * fpmath.exp(rng.normal(0.0, daily_vol / 3, days))
    high = np.maximum(open_, close) * fpmath.exp(np.abs(rng.normal(0.0, daily_vol / 2, days)))
    low = np.minimum(open_, close) * fpmath.exp(-np.abs(rng.normal(0.0, daily_vol / 2, days)))
    has_volume = asset_class != "fx" if with_volume is None else with_volume
    volume = rng.lognormal(15.0, 0.6, days).round() if has_volume else np.full(days, np.nan)
    return pd.DataFrame(
        {
            "asset_symbol": symbol,
            "asset_class": asset_class,
            "timestamp": timestamps,
            "price_open": open_,
            "price_high": high,
            "price_low": low,
            "price_close": close,
            "volume": volume,
        },
        columns=COLUMNS,
    )


def synthetic_crypto(days: int = 3000, seed: int = 20240917) -> pd.DataFrame:
    return synthetic("SYN-USD", "crypto", days, seed=seed)
