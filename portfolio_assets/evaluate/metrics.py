"""Forecast metrics of 90-day log returns on a set of rows, with intervals that respect overlapping labels.

``score(frame, horizon_days)`` takes rows with ``y`` (the realised ``target_return_90d``), ``pred`` (the
forecast log return), ``timestamp`` and ``asset_symbol``, and returns:

* ``mae``, ``rmse``, ``skill`` (1 − MAE / MAE of the random walk on the same rows, i.e. 1 − Σ|e| / Σ|y|),
  ``direction_accuracy`` (predicted up = pred > 0; realised up = y > 0; a prediction of 0 is "not up") and
  ``mcc`` (Matthews correlation of those two, 0 when either side is constant; a row whose optional ``valid``
  column is False, a failed answer, counts as the wrong direction in both): each a smooth function of
  per-date sums, with a Newey-West (Bartlett) standard error by the delta method, lag = the horizon in the
  date index (``intervals.horizon_lag``). Row-weighted: the point values are the plain pooled ones.
* ``ic`` / ``rank_ic``: per date with at least 3 rows and non-constant forecasts and outcomes, the Pearson /
  Spearman correlation across assets; their mean with a Newey-West standard error over the IC dates (same
  lag rule), ``icir`` = mean / standard deviation of the per-date values (not annualised).
* ``long_short``: on non-overlapping rebalance dates (the first date holding the slice's full cross-section,
  then the first such date at least the horizon later, ...), long the top third and short the bottom third
  of assets by forecast (at least one each; equal weights; skipped when all forecasts tie), held to the
  label's end: the simple return of the long leg minus the short leg. Periods do not overlap, so its
  standard error is the plain one (sd / sqrt(periods)), its interval Student's t. The rebalance dates are
  chosen from every evaluated row of the slice (``score``'s ``frame`` before rows without a forecast are
  dropped), so the model, its valid-only variant and the baselines trade on the same dates.
* ``compare(frame, model, baseline)``: the model's MAE minus the baseline's on the same rows and the skill
  relative to the baseline (1 − MAE_model / MAE_baseline), Newey-West intervals as above: whether the
  model beats that baseline, not only the random walk.
* ``skill_non_overlapping``: the skill on the rows of those rebalance dates only (a non-overlapping subsample:
  one label window per asset per period), its standard error with the dates independent (lag 0). A check on
  the Newey-West interval of ``skill``, which is itself noisy when the rows span few horizons.

Every interval uses the critical values of ``intervals.critical_value`` (fixed-b); when the rows hold fewer
than ``intervals.MIN_INDEPENDENT_OUTCOMES`` non-overlapping outcomes every estimate of ``score`` and
``compare`` is reported without an interval (``note``: not identifiable), and the report gives no verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from portfolio_assets import fpmath
from portfolio_assets.evaluate.intervals import (
    Estimate,
    critical_value,
    delta_method,
    horizon_lag,
    independent_outcomes,
    mean_with_hac,
    not_identifiable,
)

__all__ = ["DIRECTION_ONLY", "compare", "per_date_ic", "score"]

DIRECTION_ONLY = ("direction_accuracy", "mcc")
HAC = "Newey-West HAC (Bartlett), lag = horizon in the date index, delta method, fixed-b critical value"


def _mcc(means: np.ndarray) -> float:
    """MCC from the means of (pred up, realised up, both up, count) per date."""
    n = means[3]
    mx, my, mxy = means[0] / n, means[1] / n, means[2] / n
    denominator = mx * (1 - mx) * my * (1 - my)
    if not denominator > 1e-15:
        return 0.0
    return float((mxy - mx * my) / np.sqrt(denominator))


def per_date_ic(frame: pd.DataFrame, rank: bool = False) -> pd.Series:
    """Per date, the correlation across assets of ``pred`` and ``y`` (Spearman when ``rank``), where defined."""
    values: dict[pd.Timestamp, float] = {}
    for day, group in frame.groupby("timestamp", sort=True):
        if len(group) < 3:
            continue
        p, y = group["pred"], group["y"]
        if rank:
            p, y = p.rank(), y.rank()
        if p.nunique() < 2 or y.nunique() < 2:
            continue
        values[day] = float(np.corrcoef(p.to_numpy(dtype=float), y.to_numpy(dtype=float))[0, 1])
    return pd.Series(values, dtype=float)


def _ic(frame: pd.DataFrame, horizon_days: int, rank: bool) -> dict[str, Any]:
    series = per_date_ic(frame, rank)
    lag = horizon_lag(series.index, horizon_days) if len(series) else 0
    estimate = mean_with_hac(series.to_numpy(), lag, "Newey-West HAC on the per-date values, lag = horizon")
    sd = float(series.std(ddof=1)) if len(series) > 1 else float("nan")
    icir = estimate.value / sd if sd > 1e-12 else float("nan")  # constant ICs: undefined
    return {"mean": estimate, "icir": icir, "dates": len(series)}


def rebalance_dates(frame: pd.DataFrame, horizon_days: int) -> list[pd.Timestamp]:
    """Non-overlapping rebalance dates: full cross-section dates, each at least ``horizon_days`` after the last."""
    counts = frame.groupby("timestamp").size()
    if counts.empty:
        return []
    candidates = counts.index[counts == counts.max()]
    chosen: list[pd.Timestamp] = []
    for day in candidates:
        if not chosen or day >= chosen[-1] + pd.Timedelta(days=horizon_days):
            chosen.append(day)
    return chosen


def long_short(frame: pd.DataFrame, horizon_days: int, dates: list[pd.Timestamp] | None = None) -> dict[str, Any]:
    """The long-short portfolio's per-period returns, their mean (plain standard error, Student's t interval)
    and compounded total; on ``dates`` (default: ``rebalance_dates`` of ``frame``)."""
    periods: list[dict[str, Any]] = []
    for day in rebalance_dates(frame, horizon_days) if dates is None else dates:
        group = frame[frame["timestamp"] == day].sort_values(["pred", "asset_symbol"], kind="stable")
        if len(group) < 2 or group["pred"].nunique() < 2:
            continue
        k = max(1, len(group) // 3)
        simple = fpmath.exp(group["y"].to_numpy(dtype=float)) - 1.0
        ret = float(simple[-k:].mean() - simple[:k].mean())
        periods.append(
            {
                "date": f"{day:%Y-%m-%d}",
                "return": ret,
                "long": list(group["asset_symbol"].iloc[-k:]),
                "short": list(group["asset_symbol"].iloc[:k]),
            }
        )
    rets = np.array([p["return"] for p in periods])
    se = float(rets.std(ddof=1) / np.sqrt(len(rets))) if len(rets) > 1 else float("nan")
    mean = float(rets.mean()) if len(rets) else float("nan")
    total = float(np.prod(1 + rets) - 1) if len(rets) else float("nan")
    method = "non-overlapping rebalance periods, plain standard error, Student's t"
    crit = critical_value(0, len(rets)) * np.sqrt((len(rets) - 1) / len(rets)) if len(rets) > 1 else float("nan")
    return {"mean": Estimate(mean, se, method, crit), "periods": periods, "total": total}


def _skill_on_rebalance_dates(frame: pd.DataFrame, dates: list[pd.Timestamp]) -> Estimate:
    """Skill on the rows of the non-overlapping rebalance ``dates`` only: their labels do not overlap, so the
    dates are treated as independent (lag 0)."""
    part = frame[frame["timestamp"].isin(dates)]
    method = "non-overlapping rebalance dates only, dates independent (lag 0), delta method"
    if part.empty:
        return Estimate(float("nan"), float("nan"), method)
    daily = (
        pd.DataFrame({"abs": (part["pred"] - part["y"]).abs(), "rw": part["y"].abs(), "timestamp": part["timestamp"]})
        .groupby("timestamp")
        .sum()
    )
    return delta_method(daily.to_numpy(), lambda m: 1.0 - m[0] / m[1] if m[1] > 0 else float("nan"), 0, method)


def _unidentified(out: dict[str, Any], horizon_days: int) -> dict[str, Any]:
    """Every estimate of ``out`` (nested in ic / rank_ic / long_short too) without an interval when the rows
    hold too few independent outcomes."""
    k = out["independent_outcomes"]
    for key, value in out.items():
        if isinstance(value, Estimate):
            out[key] = not_identifiable(value, k, horizon_days)
        elif isinstance(value, dict) and isinstance(value.get("mean"), Estimate):
            value["mean"] = not_identifiable(value["mean"], k, horizon_days)
    return out


def score(frame: pd.DataFrame, horizon_days: int, direction_only: bool = False) -> dict[str, Any]:
    """Every metric of ``frame`` (columns y, pred, timestamp, asset_symbol; optional ``valid``: False counts
    as the wrong direction); see the module docstring."""
    frame = frame.dropna(subset=["y"])
    dates = rebalance_dates(frame, horizon_days)  # from every evaluated row, forecast or not
    valid = frame["valid"].astype(bool) if "valid" in frame else pd.Series(True, index=frame.index)
    frame = frame[["y", "pred", "timestamp", "asset_symbol"]].assign(valid=valid).dropna(subset=["pred"])
    out: dict[str, Any] = {
        "rows": len(frame),
        "dates": int(frame["timestamp"].nunique()),
        "independent_outcomes": independent_outcomes(frame["timestamp"], horizon_days) if len(frame) else 0,
    }
    if frame.empty:
        return out
    lag = horizon_lag(frame["timestamp"], horizon_days)
    out["lag"] = lag
    e = frame["pred"] - frame["y"]
    up_y = (frame["y"] > 0).astype(float)
    up_p = (frame["pred"] > 0).astype(float).where(frame["valid"], 1.0 - up_y)  # a failed answer: wrong
    parts = pd.DataFrame(
        {
            "abs": e.abs(),
            "sq": e * e,
            "rw": frame["y"].abs(),
            "n": 1.0,
            "hit": (up_p == up_y).astype(float),
            "xp": up_p,
            "xy": up_y,
            "xpy": up_p * up_y,
            "timestamp": frame["timestamp"],
        }
    )
    daily = parts.groupby("timestamp", sort=True).sum()
    n = daily[["n"]].to_numpy()
    out["direction_accuracy"] = delta_method(np.hstack([daily[["hit"]].to_numpy(), n]), lambda m: m[0] / m[1], lag, HAC)
    if up_p.nunique() < 2 or up_y.nunique() < 2:  # one side constant: MCC is undefined, reported as 0
        out["mcc"] = Estimate(0.0, float("nan"), "undefined (a constant side), reported as 0")
    else:
        out["mcc"] = delta_method(daily[["xp", "xy", "xpy", "n"]].to_numpy(), _mcc, lag, HAC)
    if direction_only:
        return _unidentified(out, horizon_days)
    out["mae"] = delta_method(np.hstack([daily[["abs"]].to_numpy(), n]), lambda m: m[0] / m[1], lag, HAC)
    out["rmse"] = delta_method(
        np.hstack([daily[["sq"]].to_numpy(), n]), lambda m: float(np.sqrt(max(m[0] / m[1], 0.0))), lag, HAC
    )
    out["mae_random_walk"] = float(parts["rw"].mean())
    out["skill"] = delta_method(
        daily[["abs", "rw"]].to_numpy(), lambda m: 1.0 - m[0] / m[1] if m[1] > 0 else float("nan"), lag, HAC
    )
    out["skill_non_overlapping"] = _skill_on_rebalance_dates(frame, dates)
    out["ic"] = _ic(frame, horizon_days, rank=False)
    out["rank_ic"] = _ic(frame, horizon_days, rank=True)
    out["long_short"] = long_short(frame, horizon_days, dates)
    return _unidentified(out, horizon_days)


def compare(frame: pd.DataFrame, model: str, baseline: str, horizon_days: int) -> dict[str, Any]:
    """``model`` against ``baseline`` on the same rows (columns of ``frame``): the MAE difference (a
    Diebold-Mariano-style test on absolute errors) and the skill relative to the baseline,
    1 − MAE_model / MAE_baseline, both with Newey-West (delta method) intervals over the dates."""
    part = frame.dropna(subset=["y", model, baseline])
    if part.empty:
        nan = Estimate(float("nan"), float("nan"), HAC)
        return {"rows": 0, "mae_difference": nan, "relative_skill": nan}
    lag = horizon_lag(part["timestamp"], horizon_days)
    daily = (
        pd.DataFrame(
            {
                "a": (part[model] - part["y"]).abs(),
                "b": (part[baseline] - part["y"]).abs(),
                "n": 1.0,
                "timestamp": part["timestamp"],
            }
        )
        .groupby("timestamp")
        .sum()
        .to_numpy()
    )
    k = independent_outcomes(part["timestamp"], horizon_days)
    difference = delta_method(daily, lambda m: (m[0] - m[1]) / m[2], lag, HAC)
    relative = delta_method(daily, lambda m: 1.0 - m[0] / m[1] if m[1] > 0 else float("nan"), lag, HAC)
    return {
        "rows": len(part),
        "independent_outcomes": k,
        "mae_difference": not_identifiable(difference, k, horizon_days),
        "relative_skill": not_identifiable(relative, k, horizon_days),
    }
