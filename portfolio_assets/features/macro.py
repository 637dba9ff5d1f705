"""Point-in-time macro alignment.

A macro value becomes visible on its release date, never on the period it
describes:

* a first-release (ALFRED, ``output_type=4``) response gives each observation's
  release date as its ``realtime_start``;
* otherwise the release date is the end of the observation period plus the
  series' documented ``release_lag_days`` (conservative, see ``universe.yaml``),
  moved to the next publishing day (Monday to Friday, not a US federal holiday)
  when the lag is a day or more.

The value is available (``available_at``, UTC) at the series' release time on
its release day (``universe.yaml`` ``release_time``; a universe asset's close at
its bar end). Transforms (``yoy_pct``, ``qoq_pct``) combine two observations and
are available when the later of the two is. Each decision time (a row's bar end,
``timing``) then takes the latest value available at or before it; that value
stays usable for a bounded time after it became available (7 days beyond the
series' cadence), never longer, and nothing is ever filled backwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

FORWARD_FILL_DAYS = 7
"""Longest a value may be carried past the point its successor was due."""

CADENCE_DAYS = {"daily": 0, "monthly": 31, "quarterly": 92}


def period_end(observation_date: pd.Series, frequency: str) -> pd.Series:
    """Last day of the period an observation date (period start) describes."""
    dates = pd.to_datetime(observation_date, utc=True)
    if frequency == "daily":
        return dates
    if frequency == "monthly":
        return dates + pd.offsets.MonthEnd(0)
    if frequency == "quarterly":
        return dates + pd.offsets.QuarterEnd(0)
    raise ValueError(f"unknown frequency {frequency!r}")


RELEASE_DAYS = pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())
"""Days agencies publish on: Monday to Friday except US federal holidays (the Federal Reserve's calendar)."""


def release_dates(observations: pd.DataFrame, frequency: str, release_lag_days: int, *, vintage: bool) -> pd.Series:
    """When each observation became public (a UTC midnight date).

    A first-release vintage date is taken as given. Otherwise the date is the period end plus the lag and,
    for a lag of a day or more (an agency's release: BLS, BEA, the Fed's H.10 / H.15, EIA), moved to the next
    publishing day when it falls on a weekend or a US federal holiday, so a holiday never brings a release
    forward. A lag of 0 is a market close, public on its own trading day.
    """
    if vintage:
        return pd.to_datetime(observations["realtime_start"], utc=True)
    due = period_end(observations["observation_date"], frequency) + pd.Timedelta(days=release_lag_days)
    if release_lag_days == 0 or due.empty:
        return due
    return pd.Series(
        roll_to_release_day(pd.DatetimeIndex(due.dt.tz_localize(None))).tz_localize("UTC"), index=due.index
    )


def roll_to_release_day(naive: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``RELEASE_DAYS.rollforward`` of each instant (the time of day kept, NaT kept), in one numpy call."""
    stamps = naive.as_unit("ns").to_numpy()
    known = ~np.isnat(stamps)
    days = stamps.astype("datetime64[D]")
    rolled = days.copy()
    rolled[known] = np.busday_offset(days[known], 0, roll="forward", busdaycal=RELEASE_DAYS.calendar)
    return pd.DatetimeIndex(rolled.astype("datetime64[ns]") + (stamps - days.astype("datetime64[ns]")))


def transform_series(frame: pd.DataFrame, transform: str) -> pd.DataFrame:
    """Apply ``level`` / ``yoy_pct`` / ``qoq_pct`` to ``observation_date, value, available_at`` rows.

    Percent changes pair an observation with the one exactly 12 months
    (``yoy_pct``) or 3 months (``qoq_pct``) earlier; missing partners give NaN.
    """
    frame = frame.dropna(subset=["value"]).sort_values("observation_date").reset_index(drop=True)
    if transform == "level":
        return frame[["observation_date", "value", "available_at"]]
    months = {"yoy_pct": 12, "qoq_pct": 3}.get(transform)
    if months is None:
        raise ValueError(f"unknown transform {transform!r}")
    earlier = frame.assign(observation_date=frame["observation_date"] + pd.DateOffset(months=months))
    paired = frame.merge(earlier, on="observation_date", how="inner", suffixes=("", "_prev"))
    out = pd.DataFrame(
        {
            "observation_date": paired["observation_date"],
            "value": (paired["value"] / paired["value_prev"] - 1.0) * 100.0,
            "available_at": paired[["available_at", "available_at_prev"]].max(axis=1),
        }
    )
    return out


def align_as_of(decision: pd.DatetimeIndex, series: pd.DataFrame, frequency: str) -> tuple[pd.Series, pd.Series]:
    """Value available at each decision instant, and when it became available: the latest one available
    at or before the instant, bounded.

    ``series`` has ``observation_date``, ``value`` and ``available_at`` (UTC instants). When two
    observations become available at the same instant, the later observation wins. Both results are
    indexed by ``decision``; NaN / NaT where nothing usable is available.
    """
    decision = pd.DatetimeIndex(decision)
    limit = pd.Timedelta(days=CADENCE_DAYS[frequency] + FORWARD_FILL_DAYS)
    known = (
        series.dropna(subset=["value"])
        .sort_values(["available_at", "observation_date"])
        .drop_duplicates(subset=["available_at"], keep="last")
    )
    # A later release of an OLDER observation (e.g. lagged daily data) must not
    # replace a newer observation already known: keep the running newest.
    newest = known["observation_date"].cummax()
    known = known[known["observation_date"] == newest]
    left = pd.DataFrame({"decision": decision, "position": np.arange(len(decision))}).sort_values("decision")
    merged = pd.merge_asof(left, known, left_on="decision", right_on="available_at", direction="backward")
    merged = merged.sort_values("position")
    usable = ((merged["decision"] - merged["available_at"]) <= limit).to_numpy()
    values = pd.Series(np.where(usable, merged["value"].to_numpy(dtype="float64"), np.nan), index=decision)
    available = pd.Series(pd.DatetimeIndex(merged["available_at"]), index=decision).where(usable, pd.NaT)
    return values, available


def derive_macro(aligned: pd.DataFrame) -> pd.DataFrame:
    """Add ``MACRO_DERIVED`` (and its ``_available_at``) to a frame of aligned macro fields (same row only).

    ``yield_curve_10y_2y``: 10-year minus 2-year Treasury yield, percentage points, available when both are.
    """
    curve = aligned["us10y_yield"] - aligned["us2y_yield"]
    both = aligned[["us10y_yield_available_at", "us2y_yield_available_at"]].max(axis=1, skipna=False)
    return aligned.assign(yield_curve_10y_2y=curve, yield_curve_10y_2y_available_at=both.where(curve.notna(), pd.NaT))
