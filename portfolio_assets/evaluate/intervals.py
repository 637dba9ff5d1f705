"""Standard errors that respect overlapping 90-day labels: Newey-West (HAC) on a date-indexed series.

Rows whose label windows overlap share most of their outcome, so treating them as independent shrinks every
interval. Every estimator here works on a series indexed by date (one value, or one vector of sums, per date;
rows of the same date are summed first, which also absorbs their cross-sectional correlation), and uses the
Bartlett-kernel long-run covariance with ``lag`` = the number of later dates within the horizon (90 calendar
days: 89 lags on a daily index). A smooth function of the column means gets its standard error by the delta
method. With few dates per horizon the estimate is itself noisy; ``independent_outcomes`` says how many
non-overlapping label windows the dates span.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Estimate", "delta_method", "horizon_lag", "independent_outcomes", "long_run_cov", "mean_with_hac"]

Z_95 = 1.959963984540054
"""The standard normal's 97.5% quantile: the intervals are estimate ± Z_95 × standard error."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and 95% interval (NaN when undefined), and how it was made."""

    value: float
    se: float
    method: str

    @property
    def low(self) -> float:
        return self.value - Z_95 * self.se

    @property
    def high(self) -> float:
        return self.value + Z_95 * self.se

    def as_dict(self) -> dict[str, float | str | None]:
        """JSON-ready: NaN and ±inf as None."""
        return {
            "value": _finite(self.value),
            "se": _finite(self.se),
            "ci95": [_finite(self.low), _finite(self.high)],
            "method": self.method,
        }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def horizon_lag(dates: pd.Series | pd.DatetimeIndex, horizon_days: int) -> int:
    """The Newey-West lag for overlapping labels: the most later dates any date has within ``horizon_days``
    calendar days (the labels of dates closer than the horizon overlap), at most ``len(unique dates) - 1``."""
    days = np.unique(pd.DatetimeIndex(dates).normalize().asi8 // 86_400_000_000_000)
    if len(days) < 2:
        return 0
    ahead = np.searchsorted(days, days + horizon_days, side="left") - np.arange(len(days)) - 1
    return int(min(ahead.max(), len(days) - 1))


def independent_outcomes(dates: pd.Series | pd.DatetimeIndex, horizon_days: int) -> int:
    """How many non-overlapping label windows the dates hold: greedy, first date then the first at least
    ``horizon_days`` later, and so on."""
    days = np.unique(pd.DatetimeIndex(dates).normalize().asi8 // 86_400_000_000_000)
    count, next_day = 0, None
    for day in days:
        if next_day is None or day >= next_day:
            count += 1
            next_day = day + horizon_days
    return count


def long_run_cov(x: np.ndarray, lag: int) -> np.ndarray:
    """Newey-West (Bartlett) long-run covariance of the rows of ``x`` (n × k), divided by n: the covariance of
    the column means. ``Γ0 + Σ_{l=1..lag} (1 − l/(lag+1)) (Γl + Γl')``, each Γ with the 1/n normalisation."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    if n == 0:
        return np.full((x.shape[1], x.shape[1]), np.nan)
    d = x - x.mean(axis=0)
    omega = d.T @ d / n
    for lag_i in range(1, min(lag, n - 1) + 1):
        gamma = d[lag_i:].T @ d[:-lag_i] / n
        omega += (1.0 - lag_i / (lag + 1.0)) * (gamma + gamma.T)
    return omega / n


def delta_method(x: np.ndarray, g: Callable[[np.ndarray], float], lag: int, method: str) -> Estimate:
    """``g`` of the column means of ``x`` (dates × components), its delta-method standard error from the
    Newey-West covariance of the means (central-difference gradient)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] == 0:
        return Estimate(float("nan"), float("nan"), method)
    means = x.mean(axis=0)
    value = float(g(means))
    if x.shape[0] < 2 or not np.isfinite(value):
        return Estimate(value, float("nan"), method)
    grad = np.empty(len(means))
    for i in range(len(means)):
        step = 1e-6 * max(1.0, abs(means[i]))
        up, down = means.copy(), means.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (g(up) - g(down)) / (2 * step)
    cov = long_run_cov(x, lag)
    var = float(grad @ cov @ grad)
    return Estimate(value, float(np.sqrt(var)) if var >= 0 and np.isfinite(var) else float("nan"), method)


def mean_with_hac(values: np.ndarray, lag: int, method: str) -> Estimate:
    """The mean of a date-indexed series and its Newey-West standard error (NaN values left out)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return Estimate(float("nan"), float("nan"), method)
    mean = float(values.mean())
    if len(values) < 2:
        return Estimate(mean, float("nan"), method)
    return Estimate(mean, float(np.sqrt(long_run_cov(values, lag)[0, 0])), method)
