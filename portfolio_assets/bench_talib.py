"""The benchmark's kernel comparison: ``compute_indicators`` against TA-Lib on the benchmark's prices."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from portfolio_assets.bench_data import assets, price_frame, window


def indicator_vs_talib(n: int, years: int, repeat: int = 3) -> float:
    """CPU time of ``compute_indicators`` over the benchmark's prices / TA-Lib's for the same 37 features.

    Frame to frame on both sides: the TA-Lib side takes the same concatenated prices, splits them per asset
    (the grouping ``compute_indicators`` uses, written out so that the measure does not move with the
    package), calls TA-Lib for every feature (volatility:
    STDDEV × √(n/(n−1)); momentum and log returns: ROCR; drawdown: MAX; volume z-score: SMA and STDDEV;
    bb_width / %b from BBANDS; fast %K / %D: STOCHF) and assembles the same columns. TA-Lib has no rolling
    skewness: ``skew_60d`` is computed from TA-Lib running sums (SUM of r, r², r³). It does not validate
    its input, and its running sums are not window-local, so it is a lower bound.
    """
    import talib

    from portfolio_assets.asset_classes import PERIODS_PER_YEAR
    from portfolio_assets.features import TECHNICAL_FEATURES, compute_indicators

    first, last = window(years)
    frames = []
    for i, entry in enumerate(assets(n)):
        frame = price_frame(i, entry, first, last)
        frames.append(
            pd.DataFrame(
                {
                    "asset_symbol": entry["symbol"],
                    "asset_class": entry["asset_class"],
                    "timestamp": frame.index.tz_localize("UTC"),
                    "price_open": frame["open"].to_numpy(),
                    "price_high": frame["high"].to_numpy(),
                    "price_low": frame["low"].to_numpy(),
                    "price_close": frame["close"].to_numpy(),
                    "volume": frame["volume"].to_numpy(),
                }
            )
        )
    prices = pd.concat(frames, ignore_index=True)
    column = {name: i for i, name in enumerate(TECHNICAL_FEATURES)}

    def asset(out: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, cls: str) -> None:
        def put(name: str, value: np.ndarray) -> None:
            out[column[name]] = value

        put("rsi_14", talib.RSI(c, 14))
        macd, signal, histogram = talib.MACD(c, 12, 26, 9)
        put("macd", macd), put("macd_signal", signal), put("macd_histogram", histogram)
        upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0)
        put("bb_upper", upper), put("bb_middle", middle), put("bb_lower", lower), put("sma_20", middle)
        put("bb_width", (upper - lower) / middle), put("bb_percent_b", (c - lower) / (upper - lower))
        sma_200 = talib.SMA(c, 200)
        put("sma_50", talib.SMA(c, 50)), put("sma_200", sma_200), put("price_to_sma_200", c / sma_200)
        put("ema_12", talib.EMA(c, 12)), put("ema_26", talib.EMA(c, 26))
        put("atr_14", talib.ATR(h, lo, c, 14)), put("adx_14", talib.ADX(h, lo, c, 14))
        put("natr_14", talib.NATR(h, lo, c, 14))
        r = np.log(talib.ROCR(c, 1))
        for k in (30, 60, 90):
            put(f"volatility_{k}d", talib.STDDEV(r, k) * np.sqrt(k / (k - 1) * PERIODS_PER_YEAR[cls]))
        for k in (5, 10, 30):
            put(f"momentum_{k}d", talib.ROCR(c, k) - 1.0)
        put("return_1d", r)
        for k in (5, 20, 60):
            put(f"return_{k}d", np.log(talib.ROCR(c, k)))
        fast_k, fast_d = talib.STOCHF(h, lo, c, 14, 3, 0)
        put("stoch_k_14", fast_k), put("stoch_d_3", fast_d)
        put("williams_r_14", talib.WILLR(h, lo, c, 14)), put("cci_20", talib.CCI(h, lo, c, 20))
        put("roc_10", talib.ROC(c, 10)), put("drawdown_252d", c / talib.MAX(c, 252) - 1.0)
        s1, s2, s3 = talib.SUM(r, 60), talib.SUM(r * r, 60), talib.SUM(r * r * r, 60)
        m2, m3 = s2 - s1 * s1 / 60, s3 - 3 * s1 * s2 / 60 + 2 * s1**3 / 60**2
        put("skew_60d", 60 * 59**0.5 / 58 * m3 / m2**1.5)
        if cls != "fx" and not np.isnan(v[0]):
            put("mfi_14", talib.MFI(h, lo, c, v, 14))
            put("volume_zscore_20", (v - talib.SMA(v, 20)) / (talib.STDDEV(v, 20) * np.sqrt(20 / 19)))
        else:
            put("mfi_14", np.nan), put("volume_zscore_20", np.nan)

    def ours() -> None:
        compute_indicators(prices)

    def theirs() -> None:
        # group by asset (radix sort of the symbol codes), by time within an asset (lexsort if out of order)
        codes = pd.factorize(prices["asset_symbol"], sort=True)[0].astype(np.int32)
        ts = pd.DatetimeIndex(prices["timestamp"]).asi8
        order = np.argsort(codes, kind="stable")
        grouped, stamps = codes[order], ts[order]
        if ((stamps[1:] <= stamps[:-1]) & (grouped[1:] == grouped[:-1])).any():
            order = np.lexsort((ts, codes))
            grouped = codes[order]
        bounds = np.r_[np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]), len(order)]
        h, lo, c, v = (
            prices[k].to_numpy(dtype="float64")[order] for k in ("price_high", "price_low", "price_close", "volume")
        )
        classes = prices["asset_class"].to_numpy()[order]
        values = np.empty((len(TECHNICAL_FEATURES), len(order)))
        with np.errstate(all="ignore"):
            for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                part = slice(start, stop)
                asset(values[:, part], h[part], lo[part], c[part], v[part], classes[start])
        result = pd.DataFrame(values.T, columns=TECHNICAL_FEATURES, copy=False)
        for position, key in enumerate(("asset_symbol", "asset_class", "timestamp")):
            result.insert(
                position, key, prices[key].to_numpy()[order] if key != "timestamp" else prices[key].array.take(order)
            )

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
        return min(times)

    ours()  # warm both up (imports, caches)
    theirs()
    return best(ours) / best(theirs)
