"""Every indicator against TA-Lib and against plain-Python reference implementations, on real series.

Assets: GOOG (real, from ``backtesting``; equity, with volume), the NASDAQ Composite
(real, from ``arch``; labelled fx, so no volume) and a seeded synthetic crypto
series (daily calendar, annualised with 365). After a 300-row warm-up every value
must agree to 1e-8 relative.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import talib

from portfolio_assets import fpmath
from portfolio_assets.asset_classes import PERIODS_PER_YEAR
from portfolio_assets.features import TECHNICAL, TECHNICAL_FEATURES, applies, compute_indicators
from portfolio_assets_tests.features import price_frames, reference

SKIP = 300
RTOL = 1e-8
ASSETS = ["GOOG", "IXIC", "SYN-USD"]
LOADERS = {
    "GOOG": lambda: price_frames.goog("equity"),
    "IXIC": lambda: price_frames.nasdaq("fx"),
    "SYN-USD": price_frames.synthetic_crypto,
}


@pytest.fixture(scope="module")
def computed() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Each available asset's input rows and output rows, from one call on all of them together."""
    frames = {}
    for symbol, load in LOADERS.items():
        try:
            frames[symbol] = load()
        except pytest.skip.Exception:
            continue
    with warnings.catch_warnings():  # pandas warns about the all-NaN volume of the fx asset
        warnings.simplefilter("ignore", FutureWarning)
        prices = pd.concat(frames.values(), ignore_index=True)
    out = compute_indicators(prices)
    return {
        symbol: (frame, out[out["asset_symbol"] == symbol].reset_index(drop=True)) for symbol, frame in frames.items()
    }


@pytest.fixture(params=ASSETS)
def asset(request, computed) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    symbol = request.param
    if symbol not in computed:
        LOADERS[symbol]()  # skips with the reason
    prices, out = computed[symbol]
    series = {c: prices[f"price_{c}"].to_numpy() for c in ("open", "high", "low", "close")}
    series["volume"] = prices["volume"].to_numpy()
    return prices, out, series


def close_to(actual, expected, *, atol: float, rtol: float = RTOL, start: int = SKIP) -> None:
    actual = np.asarray(actual, dtype="float64")[start:]
    expected = np.asarray(expected, dtype="float64")[start:]
    assert not np.isnan(expected).any(), "reference undefined after the warm-up"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def price_atol(series) -> float:
    return 1e-10 * float(np.median(series["close"]))


def test_output_rows_keys_and_columns(asset):
    prices, out, _ = asset
    assert list(out.columns) == ["asset_symbol", "asset_class", "timestamp", *TECHNICAL_FEATURES]
    assert len(out) == len(prices)
    assert out["timestamp"].tolist() == prices["timestamp"].tolist()
    assert (out[TECHNICAL_FEATURES].dtypes == "float64").all()


def test_warm_up_is_nan_and_matches_the_registry(asset):
    prices, out, _ = asset
    asset_class = prices["asset_class"].iloc[0]
    for spec in TECHNICAL:
        values = out[spec.name].to_numpy()
        if not applies(spec.name, asset_class):
            assert np.isnan(values).all(), spec.name
            continue
        assert np.isnan(values[: spec.warmup]).all(), spec.name
        assert not np.isnan(values[spec.warmup :]).any(), spec.name
        assert np.isfinite(values[spec.warmup :]).all(), spec.name


# --- TA-Lib's own functions ---------------------------------------------------------------------


def test_wilder_indicators_match_talib_and_plain_python(asset):
    _, out, s = asset
    h, lo, c = s["high"], s["low"], s["close"]
    close_to(out["rsi_14"], talib.RSI(c, 14), atol=1e-9, start=14)
    close_to(out["rsi_14"], reference.wilder_rsi(list(c)), atol=1e-9)
    close_to(out["atr_14"], talib.ATR(h, lo, c, 14), atol=price_atol(s), start=14)
    close_to(out["atr_14"], reference.wilder_atr(list(h), list(lo), list(c)), atol=price_atol(s))
    close_to(out["adx_14"], talib.ADX(h, lo, c, 14), atol=1e-9, start=27)
    close_to(out["adx_14"], reference.wilder_adx(list(h), list(lo), list(c)), atol=1e-9)
    np.testing.assert_array_equal(out["natr_14"].to_numpy(), talib.NATR(h, lo, c, 14))  # bit for bit
    natr = np.asarray(reference.wilder_atr(list(h), list(lo), list(c))) / c * 100.0
    close_to(out["natr_14"], natr, atol=1e-12)
    close_to(out["natr_14"], out["atr_14"].to_numpy() / c * 100.0, atol=0.0, rtol=1e-14, start=14)


def test_oscillators_match_talib_and_plain_python(asset):
    _, out, s = asset
    h, lo, c = s["high"], s["low"], s["close"]
    fast_k, fast_d = talib.STOCHF(h, lo, c, fastk_period=14, fastd_period=3, fastd_matype=0)
    close_to(out["stoch_k_14"], fast_k, atol=1e-9, start=15)
    close_to(out["stoch_d_3"], fast_d, atol=1e-9, start=15)
    k = reference.stoch_k(list(h), list(lo), list(c))
    close_to(out["stoch_k_14"], k, atol=1e-9, start=13)
    d = [sum(k[t - 2 : t + 1]) / 3 if t >= 15 else math.nan for t in range(len(k))]
    close_to(out["stoch_d_3"], d, atol=1e-9, start=15)
    close_to(out["williams_r_14"], talib.WILLR(h, lo, c, 14), atol=1e-9, start=13)
    close_to(out["williams_r_14"], reference.williams_r(list(h), list(lo), list(c)), atol=1e-9, start=13)
    close_to(out["cci_20"], talib.CCI(h, lo, c, 20), atol=1e-9, start=19)
    close_to(out["cci_20"], reference.cci(list(h), list(lo), list(c)), atol=1e-7)
    close_to(out["roc_10"], talib.ROC(c, 10), atol=1e-10, start=10)
    close_to(out["roc_10"], reference.lagged(list(c), 10, lambda a, b: (a / b - 1) * 100), atol=1e-10, start=10)


def test_mfi_matches_talib_and_plain_python(asset):
    prices, out, s = asset
    if prices["asset_class"].iloc[0] == "fx":
        assert out["mfi_14"].isna().all()
        return
    h, lo, c, v = s["high"], s["low"], s["close"], s["volume"]
    close_to(out["mfi_14"], talib.MFI(h, lo, c, v, 14), atol=1e-9, start=14)
    close_to(out["mfi_14"], reference.mfi(list(h), list(lo), list(c), list(v)), atol=1e-9)


# --- EMA / MACD ---------------------------------------------------------------------------------


def test_emas_are_talib_ema_from_the_first_observation(asset):
    _, out, s = asset
    c = s["close"]
    for n in (12, 26):
        expected = talib.EMA(c, n)
        np.testing.assert_array_equal(out[f"ema_{n}"].to_numpy(), expected)  # bit for bit, warm-up included
        close_to(out[f"ema_{n}"], reference.ema(list(c), n), atol=price_atol(s), start=n - 1)


def test_macd_is_ema12_minus_ema26_with_a_signal_seeded_on_macd(asset):
    _, out, s = asset
    c = s["close"]
    macd = np.asarray(reference.ema(list(c), 12)) - np.asarray(reference.ema(list(c), 26))
    signal = reference.ema(list(macd), 9, first=25)
    atol = price_atol(s)
    np.testing.assert_array_equal(out["macd"].to_numpy(), out["ema_12"].to_numpy() - out["ema_26"].to_numpy())
    close_to(out["macd"], macd, atol=atol, start=25)
    close_to(out["macd_signal"], signal, atol=atol, start=33)
    close_to(out["macd_histogram"], macd - np.asarray(signal), atol=atol, start=33)
    # TA-Lib's MACD seeds its fast EMA elsewhere: identical after the warm-up only.
    ta_macd, ta_signal, ta_hist = talib.MACD(c, 12, 26, 9)
    close_to(out["macd"], ta_macd, atol=atol)
    close_to(out["macd_signal"], ta_signal, atol=atol)
    close_to(out["macd_histogram"], ta_hist, atol=atol)
    assert np.isnan(out["macd_signal"].to_numpy()[:33]).all() and not np.isnan(ta_signal[33])


# --- window statistics --------------------------------------------------------------------------


def test_moving_averages_and_bollinger_bands(asset):
    _, out, s = asset
    c = s["close"]
    atol = price_atol(s)
    for n in (20, 50, 200):
        close_to(out[f"sma_{n}"], talib.SMA(c, n), atol=atol, start=n - 1)
        close_to(out[f"sma_{n}"], reference.sma(list(c), n), atol=atol, start=n - 1)
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    close_to(out["bb_upper"], upper, atol=atol, start=19)
    close_to(out["bb_middle"], middle, atol=atol, start=19)
    close_to(out["bb_lower"], lower, atol=atol, start=19)
    np.testing.assert_array_equal(out["bb_middle"].to_numpy(), out["sma_20"].to_numpy())
    mean, std = np.asarray(reference.sma(list(c), 20)), np.asarray(reference.pstd(list(c), 20))
    close_to(out["bb_upper"], mean + 2 * std, atol=atol, start=19)
    close_to(out["bb_lower"], mean - 2 * std, atol=atol, start=19)
    close_to(out["bb_width"], 4 * std / mean, atol=1e-12, start=19)
    close_to(out["bb_percent_b"], (c - (mean - 2 * std)) / (4 * std), atol=1e-10, start=19)
    close_to(out["price_to_sma_200"], c / np.asarray(reference.sma(list(c), 200)), atol=1e-12, start=199)
    close_to(out["drawdown_252d"], reference.drawdown(list(c), 252), atol=1e-12, start=251)
    assert (out["drawdown_252d"].dropna() <= 0).all()


def test_volatility_is_annualised_by_asset_class(asset):
    prices, out, s = asset
    periods = PERIODS_PER_YEAR[prices["asset_class"].iloc[0]]
    assert periods == (365 if prices["asset_class"].iloc[0] == "crypto" else 252)
    for n in (30, 60, 90):
        close_to(out[f"volatility_{n}d"], reference.volatility(list(s["close"]), n, periods), atol=1e-12, start=n)


def test_crypto_and_equity_volatility_differ_only_by_the_annualisation():
    frame = price_frames.synthetic("X", "crypto", 400, seed=3)
    as_equity = frame.assign(asset_symbol="Y", asset_class="equity")
    out = compute_indicators(pd.concat([frame, as_equity]))
    crypto, equity = (out[out["asset_symbol"] == s].reset_index(drop=True) for s in ("X", "Y"))
    for n in (30, 60, 90):
        np.testing.assert_allclose(
            (crypto[f"volatility_{n}d"] / equity[f"volatility_{n}d"])[n:], math.sqrt(365 / 252), rtol=1e-14
        )
        assert crypto[f"volatility_{n}d"].isna().sum() == equity[f"volatility_{n}d"].isna().sum() == n
    others = [f for f in TECHNICAL_FEATURES if not f.startswith("volatility")]
    pd.testing.assert_frame_equal(crypto[others], equity[others])


def test_momentum_and_returns(asset):
    _, out, s = asset
    c = list(s["close"])
    for n in (5, 10, 30):
        close_to(out[f"momentum_{n}d"], reference.lagged(c, n, lambda a, b: a / b - 1), atol=1e-14, start=n)
    for n in (1, 5, 20, 60):
        close_to(out[f"return_{n}d"], reference.lagged(c, n, lambda a, b: math.log(a / b)), atol=1e-14, start=n)


def test_skew_matches_the_formula_and_pandas(asset):
    _, out, s = asset
    c = list(s["close"])
    close_to(out["skew_60d"], reference.rolling_skew(c, 60), atol=1e-9, start=60)
    returns = pd.Series(reference.log_returns(c))
    for t in range(SKIP, len(c), 97):
        assert out["skew_60d"].iloc[t] == pytest.approx(returns.iloc[t - 59 : t + 1].skew(), rel=RTOL, abs=1e-9)


def test_volume_zscore(asset):
    prices, out, s = asset
    if prices["asset_class"].iloc[0] == "fx":
        assert out["volume_zscore_20"].isna().all()
        return
    close_to(out["volume_zscore_20"], reference.zscore(list(s["volume"]), 20), atol=1e-10, start=19)


def test_window_statistics_are_exact_to_a_few_ulps(asset):
    """Against exact rational arithmetic: means to 1 part in 1e15, standard deviations in 1e14."""
    _, out, s = asset
    c = s["close"]
    for t in range(SKIP, len(c), 211):
        window = [Fraction(v) for v in c[t - 19 : t + 1]]
        mean = sum(window) / 20
        variance = sum((v - mean) ** 2 for v in window) / 20
        std = math.sqrt(variance)  # variance is exact; its square root is correctly rounded
        assert abs(Fraction(out["sma_20"].iloc[t]) - mean) <= mean * Fraction(1, 10**15)
        assert out["bb_upper"].iloc[t] - out["bb_middle"].iloc[t] == pytest.approx(2 * std, rel=1e-14)
        window_200 = [Fraction(v) for v in c[t - 199 : t + 1]]
        mean_200 = sum(window_200) / 200
        assert abs(Fraction(out["sma_200"].iloc[t]) - mean_200) <= mean_200 * Fraction(1, 10**15)


def test_talib_bbands_drift_that_the_window_local_computation_avoids():
    """TA-Lib's BBANDS uses running sums and E[x²] − E[x]²; on a pegged rate it is ~1e-11 off, we are not."""
    rng = np.random.default_rng(1)
    close = 7.8 * fpmath.exp(np.cumsum(rng.normal(0, 1e-6, 3000)))
    frame = pd.DataFrame(
        {
            "asset_symbol": "USDHKD",
            "asset_class": "fx",
            "timestamp": pd.date_range("2000-01-03", periods=3000, freq="B", tz="UTC"),
            "price_open": close,
            "price_high": close * (1 + 1e-6),
            "price_low": close * (1 - 1e-6),
            "price_close": close,
            "volume": np.nan,
        }
    )
    out = compute_indicators(frame)
    ta_upper, ta_middle, ta_lower = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    mean, std = np.array(reference.sma(list(close), 20)), np.array(reference.pstd(list(close), 20))
    exact_width = 4 * std / mean
    np.testing.assert_allclose(out["bb_width"].to_numpy()[19:], exact_width[19:], rtol=1e-14)
    ta_width = (ta_upper - ta_lower) / ta_middle
    assert np.max(np.abs(ta_width[19:] / exact_width[19:] - 1)) > 1e-12  # TA-Lib drifts ...
    np.testing.assert_allclose(ta_width[19:], exact_width[19:], rtol=1e-8)  # ... within the tolerance used above
