from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets.features.macro import align_as_of, release_dates, transform_series


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def monthly(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "observation_date": [utc(d) for d in values],
            "value": list(values.values()),
            "realtime_start": [utc("2013-03-01")] * len(values),
        }
    )


def test_monthly_value_is_visible_only_after_its_release_lag():
    obs = monthly({"2010-01-01": 100.0, "2010-02-01": 101.0})
    obs["available_at"] = release_dates(obs, "monthly", 20, vintage=False)
    # month end + 20 days is a Saturday both times: the release moves to the next Monday
    assert list(obs["available_at"]) == [utc("2010-02-22"), utc("2010-03-22")]
    days = pd.date_range("2010-02-18", "2010-03-22", freq="D", tz="UTC")
    seen, _ = align_as_of(days, transform_series(obs, "level"), "monthly")
    assert seen[: utc("2010-02-21")].isna().all()  # January's CPI is not out yet (not on the weekend either)
    assert seen[utc("2010-02-22")] == 100.0
    assert seen[utc("2010-03-21")] == 100.0  # February's not out yet
    assert seen[utc("2010-03-22")] == 101.0


def test_a_lagged_release_never_falls_on_a_weekend_or_a_federal_holiday():
    days = pd.DataFrame({"observation_date": [utc("2010-01-01"), utc("2010-05-24"), utc("2010-06-04")]})
    # +1 day: New Year's Day -> Saturday -> Monday; a Friday's yield is published on Monday
    assert list(release_dates(days, "daily", 1, vintage=False)) == [
        utc("2010-01-04"),
        utc("2010-05-25"),
        utc("2010-06-07"),
    ]
    # +7 days: Memorial Day 2010-05-31 moves the release to Tuesday
    assert release_dates(days, "daily", 7, vintage=False).iloc[1] == utc("2010-06-01")
    # lag 0: a market close is public on its own day, whatever the day
    assert list(release_dates(days, "daily", 0, vintage=False)) == list(days["observation_date"])


def test_vintage_release_dates_come_from_realtime_start():
    obs = monthly({"2010-01-01": 100.0})
    obs["realtime_start"] = [utc("2010-02-17")]
    assert release_dates(obs, "monthly", 20, vintage=True).iloc[0] == utc("2010-02-17")


def test_year_over_year_needs_both_values_and_is_visible_with_the_later():
    values = {f"{2009 + (m // 12)}-{m % 12 + 1:02d}-01": 100.0 + m for m in range(14)}
    obs = monthly(values)
    obs["available_at"] = release_dates(obs, "monthly", 20, vintage=False)
    yoy = transform_series(obs, "yoy_pct")
    assert list(yoy["observation_date"]) == [utc("2010-01-01"), utc("2010-02-01")]
    np.testing.assert_allclose(yoy["value"], [(112 / 100 - 1) * 100, (113 / 101 - 1) * 100], rtol=1e-15)
    assert yoy["available_at"].iloc[0] == utc("2010-02-22")  # 02-20 is a Saturday


def test_quarterly_growth():
    obs = pd.DataFrame({"observation_date": [utc("2010-01-01"), utc("2010-04-01")], "value": [200.0, 202.0]})
    obs["available_at"] = release_dates(obs, "quarterly", 35, vintage=False)
    assert obs["available_at"].iloc[1] == utc("2010-06-30") + pd.Timedelta(days=35)
    qoq = transform_series(obs, "qoq_pct")
    assert len(qoq) == 1 and abs(qoq["value"].iloc[0] - 1.0) < 1e-12


def test_daily_forward_fill_is_bounded_and_never_backwards():
    obs = pd.DataFrame(
        {
            "observation_date": [utc("2010-01-04"), utc("2010-01-08")],
            "value": [1.0, 2.0],
        }
    )
    obs["available_at"] = release_dates(obs, "daily", 0, vintage=False)
    days = pd.date_range("2010-01-01", "2010-01-20", freq="D", tz="UTC")
    seen, _ = align_as_of(days, obs, "daily")
    assert seen[: utc("2010-01-03")].isna().all()  # no back-fill
    assert seen[utc("2010-01-09")] == 2.0 and seen[utc("2010-01-10")] == 2.0  # weekend sees Friday
    assert seen[utc("2010-01-15")] == 2.0  # 7 days later, still allowed
    assert seen[utc("2010-01-16") :].isna().all()  # 8 days: stale


def test_a_late_release_of_an_older_observation_does_not_replace_a_newer_one():
    obs = pd.DataFrame(
        {
            "observation_date": [utc("2010-01-05"), utc("2010-01-04")],
            "value": [5.0, 4.0],
            "available_at": [utc("2010-01-05"), utc("2010-01-06")],
        }
    )
    days = pd.date_range("2010-01-05", "2010-01-07", freq="D", tz="UTC")
    assert list(align_as_of(days, obs, "daily")[0]) == [5.0, 5.0, 5.0]


def test_an_instant_release_is_seen_from_its_release_time_and_carries_it():
    from portfolio_assets.timing import Clock

    release = Clock.parse("08:30 America/New_York")
    obs = monthly({"2010-01-01": 100.0, "2010-02-01": 101.0})
    obs["available_at"] = release.on(release_dates(obs, "monthly", 20, vintage=False))
    decisions = pd.DatetimeIndex(
        ["2010-03-22 00:00", "2010-03-22 12:29", "2010-03-22 12:30", "2010-03-22 16:00", "2010-03-23 00:00"], tz="UTC"
    )
    values, available = align_as_of(decisions, transform_series(obs, "level"), "monthly")
    # released Monday 2010-03-22 (month end + 20 is a Saturday) at 08:30 New York = 12:30 UTC (daylight saving
    # started 2010-03-14)
    assert list(values) == [100.0, 100.0, 101.0, 101.0, 101.0]
    assert available.iloc[0] == pd.Timestamp("2010-02-22 13:30", tz="UTC")  # standard time in February
    assert (available.iloc[2:] == pd.Timestamp("2010-03-22 12:30", tz="UTC")).all()
    assert (available <= pd.Series(decisions, index=decisions)).all()
