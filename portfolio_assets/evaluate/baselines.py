"""The naive baselines a fine-tuned model must beat, computed on the same rows, point in time.

* ``random_walk``: a 90-day log return of 0 (the price stays).
* ``historical_drift``: per asset, the mean of the realised 90-day log returns already known on the row's
  day (``target_timestamp <= timestamp``), over every exported row of the asset; 0 before any is known.
* ``momentum_12_1``: the asset's log return from 365 to 30 calendar days before the row (12-1 months, about
  252 to 21 trading days), scaled to the horizon (× 90 / 335: the trend continues at its past rate). The
  log-price path is chained from the rows: ``return_1d`` (split-adjusted) between rows at most 5 days apart,
  the ratio of the closes across a longer gap (rows purged at a split boundary; a stock split inside such a
  gap is not seen). The gap's dates are filled by the realised targets of earlier rows (the row's level plus
  its ``target_return_90d`` at its ``target_timestamp``, known on that day). A lookup needs a point at most
  7 days older than the date asked for; else the forecast is 0 (counted).
* ``always_up``: direction only, every row predicted up.
* ``gbm``: scikit-learn ``HistGradientBoostingRegressor`` (absolute-error loss, since MAE is the headline;
  fixed hyper-parameters and ``random_state``, no early stopping) on ``columns.FEATURE_COLUMNS`` plus
  ``asset_class`` (categorical), fitted per fold on that fold's train rows only, missing values native.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_assets import fpmath
from portfolio_assets.columns import FEATURE_COLUMNS

__all__ = ["GbmFit", "fit_gbm", "historical_drift", "momentum_12_1", "random_walk"]

MOMENTUM_FROM_DAYS = 365
MOMENTUM_TO_DAYS = 30
ADJACENT_DAYS = 5
STALE_DAYS = 7
GBM_PARAMS = {
    "loss": "absolute_error",
    "learning_rate": 0.05,
    "max_iter": 200,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


def random_walk(rows: pd.DataFrame) -> pd.Series:
    """0 for every row."""
    return pd.Series(0.0, index=rows.index)


def historical_drift(known: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.Series, int]:
    """Per asset, the mean realised ``target_return_90d`` of ``known`` rows with ``target_timestamp <=`` each of
    ``rows``' timestamps; and how many rows had none (predicted 0)."""
    out = pd.Series(0.0, index=rows.index)
    fallback = 0
    for symbol, group in rows.groupby("asset_symbol", sort=False):
        mine = known[(known["asset_symbol"] == symbol) & known["target_return_90d"].notna()]
        mine = mine.sort_values("target_timestamp")
        ends = mine["target_timestamp"].to_numpy(dtype="datetime64[ns]")
        sums = np.concatenate([[0.0], np.cumsum(mine["target_return_90d"].to_numpy(dtype=float))])
        count = np.searchsorted(ends, group["timestamp"].to_numpy(dtype="datetime64[ns]"), side="right")
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, sums[count] / np.maximum(count, 1), 0.0)
        fallback += int((count == 0).sum())
        out.loc[group.index] = mean
    return out, fallback


def _log_path(asset_rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(days, adjusted log price) points of one asset, sorted by day (see the module docstring)."""
    r = asset_rows.sort_values("timestamp")
    days = r["timestamp"].to_numpy(dtype="datetime64[D]")
    close = r["price_close"].to_numpy(dtype=float)
    ret1 = r["return_1d"].to_numpy(dtype=float) if "return_1d" in r else np.full(len(r), np.nan)
    tday = r["target_timestamp"].to_numpy(dtype="datetime64[D]")
    tret = r["target_return_90d"].to_numpy(dtype=float)
    level = np.zeros(len(r))
    for i in range(1, len(r)):
        gap = (days[i] - days[i - 1]).astype(int)
        step = ret1[i] if gap <= ADJACENT_DAYS and np.isfinite(ret1[i]) else fpmath.log(close[i] / close[i - 1])
        level[i] = level[i - 1] + (step if np.isfinite(step) else 0.0)
    # target points fill the dates of gaps longer than ADJACENT_DAYS
    pos = np.searchsorted(days, tday, side="right")  # rows on or before each target day
    before = np.maximum(pos - 1, 0)
    in_gap = (
        (pos > 0)
        & (pos < len(days))
        & ((days[np.minimum(pos, len(days) - 1)] - days[before]).astype(int) > ADJACENT_DAYS)
        & (days[before] != tday)
        & np.isfinite(tret)
    )
    extra_days, extra_level = tday[in_gap], (level + tret)[in_gap]
    all_days = np.concatenate([days, extra_days])
    all_level = np.concatenate([level, extra_level])
    order = np.argsort(all_days, kind="stable")
    return all_days[order], all_level[order]


def _at(days: np.ndarray, level: np.ndarray, when: np.ndarray) -> np.ndarray:
    """The path's level at the last point on or before each of ``when`` (NaN if none within STALE_DAYS)."""
    idx = np.searchsorted(days, when, side="right") - 1
    ok = idx >= 0
    safe = np.maximum(idx, 0)
    fresh = ok & ((when - days[safe]).astype(int) <= STALE_DAYS)
    return np.where(fresh, level[safe], np.nan)


def momentum_12_1(known: pd.DataFrame, rows: pd.DataFrame, horizon_days: int) -> tuple[pd.Series, int]:
    """The 12-1 momentum forecast of ``rows`` from the price path of ``known`` (all exported rows), and how
    many rows had too little history (predicted 0)."""
    out = pd.Series(0.0, index=rows.index)
    fallback = 0
    scale = horizon_days / (MOMENTUM_FROM_DAYS - MOMENTUM_TO_DAYS)
    for symbol, group in rows.groupby("asset_symbol", sort=False):
        days, level = _log_path(known[known["asset_symbol"] == symbol])
        t = group["timestamp"].to_numpy(dtype="datetime64[D]")
        if len(days) == 0:
            fallback += len(group)
            continue
        recent = _at(days, level, t - np.timedelta64(MOMENTUM_TO_DAYS, "D"))
        past = _at(days, level, t - np.timedelta64(MOMENTUM_FROM_DAYS, "D"))
        value = (recent - past) * scale
        fallback += int((~np.isfinite(value)).sum())
        out.loc[group.index] = np.where(np.isfinite(value), value, 0.0)
    return out, fallback


@dataclass(frozen=True)
class GbmFit:
    """A fold's GBM predictions and what it was fitted on (for the leakage checks and the report)."""

    predictions: pd.Series
    train_ids: tuple[str, ...]
    train_last_target: pd.Timestamp | None
    note: str


def _design(rows: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    x = pd.DataFrame(index=rows.index)
    for column in FEATURE_COLUMNS:
        x[column] = pd.to_numeric(rows[column], errors="coerce").astype(float) if column in rows else np.nan
    x["asset_class"] = pd.Categorical(rows["asset_class"], categories=classes)
    return x


def fit_gbm(train: pd.DataFrame, test: pd.DataFrame, min_rows: int = 50) -> GbmFit:
    """Fit on ``train`` (rows with a finite target; features missing on every train row left out) and predict
    ``test``; NaN predictions when too few rows."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    train = train[np.isfinite(train["target_return_90d"].astype(float))]
    if len(train) < min_rows:
        return GbmFit(
            pd.Series(np.nan, index=test.index), tuple(train.index), None, f"not fitted: {len(train)} train rows"
        )
    classes = sorted(set(train["asset_class"]) | set(test["asset_class"]))
    x_train = _design(train, classes)
    used = [c for c in x_train.columns if c == "asset_class" or x_train[c].notna().any()]  # all-missing: dropped
    model = HistGradientBoostingRegressor(categorical_features="from_dtype", **GBM_PARAMS)
    model.fit(x_train[used], train["target_return_90d"].astype(float).to_numpy())
    x_test = _design(test, classes)[used]
    predictions = pd.Series(model.predict(x_test), index=test.index) if len(test) else pd.Series(dtype=float)
    return GbmFit(
        predictions,
        tuple(train.index),
        pd.Timestamp(train["target_timestamp"].max()),
        f"fitted on {len(train)} train rows",
    )
