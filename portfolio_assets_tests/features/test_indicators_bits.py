"""The fast window statistics give the same bits as summing each window on its own (numpy reduce / einsum)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from portfolio_assets import fpmath
from portfolio_assets.asset_classes import PERIODS_PER_YEAR
from portfolio_assets.features import compute_indicators
from portfolio_assets.features.rolling import (
    centred_skew,
    centred_square_sums,
    constant_windows,
    rolling_max,
    rolling_min,
    window_means,
    window_moments,
    window_skew,
    window_sums,
)
from portfolio_assets_tests.features import price_frames


def _series(kind: int, length: int, rng: np.random.Generator) -> np.ndarray:
    if kind == 0:  # a price path
        return 100.0 * fpmath.exp(np.cumsum(rng.normal(0.0, 0.02, length)))
    if kind == 1:  # returns of every magnitude and sign
        return rng.normal(0.0, 1.0, length) * 10.0 ** rng.integers(-9, 9, length)
    x = np.round(rng.normal(0.0, 0.01, length), 3)  # ties and flat stretches
    x[length // 3 : length // 2] = 0.1 + 0.2
    return x


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_window_sums_are_numpys_pairwise_sums(kind):
    rng = np.random.default_rng(kind)
    for n in [1, 2, 3, 7, 8, 9, 14, 16, 20, 30, 50, 60, 90, 127, 128, 129, 200, 252, 300]:
        x = _series(kind, n + int(rng.integers(0, 400)), rng)
        expected = np.add.reduce(sliding_window_view(x, n), axis=1)
        np.testing.assert_array_equal(window_sums(x, n), expected, err_msg=str(n))
    zeros = np.full(40, -0.0)
    for n in (3, 20):
        assert not np.signbit(window_sums(zeros, n)).any()  # the reduction starts from +0


@pytest.mark.parametrize("kind", [0, 1, 2])
@pytest.mark.parametrize("n", [3, 7, 8, 9, 13, 14, 16, 20, 30, 60, 90, 127, 128, 200])
def test_centred_sums_are_einsums_of_the_centred_windows(kind, n):
    x = _series(kind, 700, np.random.default_rng(n))
    mean, centred = window_moments(x, n)
    constant = constant_windows(x, n)
    np.testing.assert_array_equal(window_means(x, n, constant), mean)
    squares = np.einsum("ij,ij->i", centred, centred)
    np.testing.assert_array_equal(centred_square_sums(x, n, mean, constant), squares)
    if 8 <= n <= 128:
        skew, same_squares = centred_skew(x, n, mean, constant)
        np.testing.assert_array_equal(skew, window_skew(centred, n))
        np.testing.assert_array_equal(same_squares, squares)


def test_rolling_max_and_min_are_the_window_extremes():
    x = _series(2, 600, np.random.default_rng(3))
    for n in (1, 14, 252, 600, 601):
        windows = sliding_window_view(x, n) if n <= len(x) else np.empty((0, n))
        high, low = np.full(len(x), np.nan), np.full(len(x), np.nan)
        high[n - 1 :], low[n - 1 :] = windows.max(axis=1), windows.min(axis=1)
        np.testing.assert_array_equal(rolling_max(x, n), high)
        np.testing.assert_array_equal(rolling_min(x, n), low)


# --- compute_indicators against per-window reference sums ----------------------------------------


def _per_window(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass mean and centred values, each window summed on its own (the definition)."""
    windows = sliding_window_view(x, n)
    mean = np.add.reduce(windows, axis=1) / n
    constant = np.array([np.all(w == w[0]) for w in windows], bool)
    mean[constant] = windows[constant, 0]
    centred = windows - mean[:, None]
    centred[constant] = 0.0
    return mean, centred


def _aligned(length: int, first: int, values: np.ndarray) -> np.ndarray:
    out = np.full(length, np.nan)
    if len(values):
        out[first:] = values
    return out


def _reference(close: np.ndarray, volume: np.ndarray | None, asset_class: str) -> dict[str, np.ndarray]:
    length, out = len(close), {}
    for n in (20, 50, 200):
        out[f"sma_{n}"] = _aligned(length, n - 1, _per_window(close, n)[0] if length >= n else np.empty(0))
    if length >= 20:
        mean, centred = _per_window(close, 20)
        std = np.sqrt(np.einsum("ij,ij->i", centred, centred) / 20)
        out["bb_upper"], out["bb_lower"] = (
            _aligned(length, 19, mean + 2.0 * std),
            _aligned(length, 19, mean - 2.0 * std),
        )
    returns = fpmath.log(close[1:] / close[:-1])
    for n in (30, 60, 90):
        if len(returns) >= n:
            _, centred = _per_window(returns, n)
            std = np.sqrt(np.einsum("ij,ij->i", centred, centred) / (n - 1))
            out[f"volatility_{n}d"] = _aligned(length, n, std) * np.sqrt(PERIODS_PER_YEAR[asset_class])
            if n == 60:
                squared = centred * centred
                m2, m3 = np.add.reduce(squared, axis=1), np.einsum("ij,ij->i", squared, centred)
                with np.errstate(divide="ignore", invalid="ignore"):
                    skew = np.where(m2 > 0, (60 * 59**0.5 / 58) * (m3 / fpmath.power(m2, 1.5)), np.nan)
                out["skew_60d"] = _aligned(length, 60, skew)
    if volume is not None and length >= 20:
        mean, centred = _per_window(volume, 20)
        std = np.sqrt(np.einsum("ij,ij->i", centred, centred) / 19)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(std > 0, (volume[19:] - mean) / std, np.nan)
        out["volume_zscore_20"] = _aligned(length, 19, z)
    return out


def _edge_universe() -> pd.DataFrame:
    frames = [
        price_frames.synthetic(f"S{days}", cls, days, seed=days)
        for days, cls in [(1, "crypto"), (19, "equity"), (20, "fx"), (61, "bond"), (91, "commodity"), (250, "crypto")]
    ]
    flat = price_frames.synthetic("FLAT", "equity", 700, seed=1)
    flat.loc[100:300, ["price_open", "price_high", "price_low", "price_close"]] = 0.1 + 0.2
    flat.loc[350:500, "volume"] = 0.0
    frames += [flat, price_frames.synthetic("NOVOL", "commodity", 400, seed=2, with_volume=False)]
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=0)


def test_window_features_equal_the_per_window_definition_bit_for_bit():
    out = compute_indicators(_edge_universe())
    for symbol, rows in out.groupby("asset_symbol"):
        prices = _edge_universe().query("asset_symbol == @symbol").sort_values("timestamp")
        volume = prices["volume"].to_numpy()
        has_volume = rows["asset_class"].iloc[0] != "fx" and not np.isnan(volume).all()
        expected = _reference(
            prices["price_close"].to_numpy(), volume if has_volume else None, rows["asset_class"].iloc[0]
        )
        for name, values in expected.items():
            np.testing.assert_array_equal(rows[name].to_numpy(), values, err_msg=f"{symbol} {name}")
