"""A deterministic synthetic frame of labelled rows with every SFT column, for ``scripts/bench_rows.py`` and tests.

``synthetic_rows(n)`` gives ``n`` rows shaped like ``sft_rows`` before formatting: every
column of ``SFT_COLUMNS`` but ``instruction`` / ``input`` / ``output`` (``format_rows``
adds them), with real dtypes, values inside each feature's valid range, features null
where they do not apply (``not_applicable``), consistent OHLC and targets, and each row's
``context_window`` from ``features.sft.context_windows``. The rows pass ``validate_rows``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from portfolio_assets import fpmath
from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.columns import FEATURE_COLUMNS, SFT_COLUMNS, not_applicable
from portfolio_assets.features.registry import FEATURES_BY_NAME
from portfolio_assets.features.sft import DEFAULT_CONTEXT_WINDOW, context_windows

__all__ = ["synthetic_rows"]


def _feature_values(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Values inside the feature's valid range, about 5% missing."""
    valid = FEATURES_BY_NAME[name].valid
    if valid.low is not None and valid.high is not None:
        values = rng.uniform(valid.low, valid.high, n)
    elif valid.low is not None:
        values = valid.low + fpmath.exp(rng.normal(0.0, 3.0, n))
    elif valid.high is not None:
        values = valid.high - fpmath.exp(rng.normal(0.0, 3.0, n))
    else:
        values = rng.standard_normal(n) * fpmath.power(10.0, rng.integers(-6, 6, n))
    values[rng.random(n) < 0.05] = np.nan
    return values


def synthetic_rows(n: int, *, assets: int | None = None, seed: int = 0) -> pd.DataFrame:
    """``n`` rows over ``assets`` assets (default: one per 1,000 rows, 1..40; classes in turn), daily from
    2000-01-01, sorted by asset then day."""
    rng = np.random.default_rng(seed)
    assets = max(1, min(assets or min(40, n // 1000), n))
    per_asset = -(-n // assets)
    frames = []
    for a in range(assets):
        asset_class = ASSET_CLASSES[a % len(ASSET_CLASSES)]
        days = pd.date_range("2000-01-01", periods=per_asset, freq="D", tz="UTC")
        close = 100.0 * fpmath.exp(np.cumsum(rng.normal(0.0, 0.02, per_asset)))
        frame = pd.DataFrame({"timestamp": days, "asset_symbol": f"SYM{a:03d}", "asset_class": asset_class})
        frame["price_open"] = close * fpmath.exp(rng.normal(0.0, 0.01, per_asset))
        frame["price_close"] = close
        spread = np.abs(rng.normal(0.0, 0.01, per_asset))
        frame["price_high"] = np.maximum(frame["price_open"], close) * (1.0 + spread)
        frame["price_low"] = np.minimum(frame["price_open"], close) * (1.0 - spread)
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True).iloc[:n].reset_index(drop=True)
    m = len(rows)
    for name in FEATURE_COLUMNS:
        if name in ("price_close",):
            continue
        if FEATURES_BY_NAME[name].dtype == "Int64":
            values = pd.array(rng.integers(0, 2**31, m), dtype="Int64")
            values[rng.random(m) < 0.05] = pd.NA
            rows[name] = values
        else:
            rows[name] = _feature_values(name, m, rng)
    for asset_class in ASSET_CLASSES:
        in_class = (rows["asset_class"] == asset_class).to_numpy()
        for name in not_applicable(asset_class):
            rows.loc[in_class, name] = np.nan if rows[name].dtype.kind == "f" else pd.NA
    rows["not_applicable"] = [json.dumps(not_applicable(c)) for c in rows["asset_class"]]
    rows["decision_time"] = rows["timestamp"] + pd.Timedelta(hours=16)
    rows["target_timestamp"] = rows["timestamp"] + pd.Timedelta(days=90)
    target = rows["price_close"].to_numpy() * fpmath.exp(rng.normal(0.0, 0.1, m))
    rows["target_price_90d"] = target
    rows["target_return_90d"] = fpmath.log(target / rows["price_close"].to_numpy())
    rows["target_return_pct_90d"] = (target / rows["price_close"].to_numpy() - 1.0) * 100.0
    rows["target_total_return_90d"] = rows["target_return_90d"] + np.abs(rng.normal(0.0, 0.001, m))
    rows["reference_close"] = np.where(rows["asset_class"] == "crypto", rows["price_close"] * 1.001, np.nan)
    rows["market_cap"] = np.where(rows["asset_class"] == "crypto", rows["price_close"] * 1e7, np.nan)
    rows["context_window"] = context_windows(rows, DEFAULT_CONTEXT_WINDOW)
    for column in ("instruction", "input", "output"):
        rows[column] = None
    return rows[SFT_COLUMNS]
