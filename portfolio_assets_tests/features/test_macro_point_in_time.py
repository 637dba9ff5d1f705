"""No look-ahead in the macro alignment: what is released after t never changes a day at or before t."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_assets import fpmath
from portfolio_assets.features.macro import align_as_of, release_dates, transform_series

# (frequency, transform, release lag in days after the period end)
CASES = [
    ("daily", "level", 0),
    ("daily", "level", 1),
    ("daily", "level", 7),
    ("monthly", "level", 10),
    ("monthly", "yoy_pct", 20),
    ("quarterly", "qoq_pct", 35),
]
DAYS = pd.date_range("2011-01-01", "2014-12-31", freq="D", tz="UTC")
OBSERVATION_DATES = {
    "daily": pd.bdate_range("2011-01-01", "2014-12-31", tz="UTC"),
    "monthly": pd.date_range("2008-01-01", "2014-12-01", freq="MS", tz="UTC"),
    "quarterly": pd.date_range("2005-01-01", "2014-10-01", freq="QS", tz="UTC"),
}


def observations(frequency: str, lag: int, *, vintage: bool, seed: int) -> pd.DataFrame:
    """A seeded positive series with gaps; with ``vintage``, irregular (sometimes out-of-order) release dates."""
    rng = np.random.default_rng(seed)
    dates = OBSERVATION_DATES[frequency]
    frame = pd.DataFrame(
        {
            "observation_date": dates,
            "value": 100.0 * fpmath.exp(np.cumsum(rng.normal(0.0, 0.01, len(dates)))),
        }
    )
    frame.loc[rng.random(len(frame)) < 0.05, "value"] = np.nan
    if vintage:
        delay = pd.to_timedelta(lag + rng.integers(0, 40, len(frame)), unit="D")
        end = release_dates(frame, frequency, 0, vintage=False)
        frame["realtime_start"] = end + delay
    frame["available_at"] = release_dates(frame, frequency, lag, vintage=vintage)
    return frame


def aligned(frame: pd.DataFrame, frequency: str, transform: str) -> pd.Series:
    return align_as_of(DAYS, transform_series(frame, transform), frequency)[0]


def perturb_released_after(
    frame: pd.DataFrame, cut: pd.Timestamp, rng: np.random.Generator, *, vintage: bool
) -> pd.DataFrame:
    """New values, gaps and dropped rows (and, for vintages, later release dates) for what is released after cut."""
    out = frame.copy()
    late = (out["available_at"] > cut).to_numpy()
    k = int(late.sum())
    values = out.loc[late, "value"].to_numpy() * rng.uniform(0.2, 5.0, k)
    values[rng.random(k) < 0.15] = np.nan
    out.loc[late, "value"] = values
    if vintage:
        out.loc[late, "realtime_start"] = out.loc[late, "realtime_start"] + pd.to_timedelta(
            rng.integers(0, 60, k), unit="D"
        )
        out["available_at"] = release_dates(out, "daily", 0, vintage=True)
    return out[~late | (rng.random(len(out)) > 0.15)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from(CASES),
    vintage=st.booleans(),
    position=st.integers(min_value=0, max_value=len(DAYS) - 2),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_values_released_after_t_do_not_change_days_up_to_t(case, vintage, position, seed):
    frequency, transform, lag = case
    cut = DAYS[position]
    frame = observations(frequency, lag, vintage=vintage, seed=seed % 1000)
    base = aligned(frame, frequency, transform)
    perturbed = perturb_released_after(frame, cut, np.random.default_rng(seed), vintage=vintage)
    after = aligned(perturbed, frequency, transform)
    pd.testing.assert_series_equal(after[:cut], base[:cut], check_exact=True)


def test_the_cases_are_not_trivial():
    for frequency, transform, lag in CASES:
        for vintage in (False, True):
            values = aligned(observations(frequency, lag, vintage=vintage, seed=1), frequency, transform)
            assert values.notna().mean() > 0.5, (frequency, transform, vintage)
            assert values.nunique() > 10, (frequency, transform, vintage)


def test_the_perturbation_reaches_the_days_after_t():
    cut = pd.Timestamp("2013-06-15", tz="UTC")
    for frequency, transform, lag in CASES:
        for vintage in (False, True):
            frame = observations(frequency, lag, vintage=vintage, seed=2)
            base = aligned(frame, frequency, transform)
            after = aligned(
                perturb_released_after(frame, cut, np.random.default_rng(3), vintage=vintage), frequency, transform
            )
            assert not after[cut + pd.Timedelta(days=1) :].equals(base[cut + pd.Timedelta(days=1) :])
