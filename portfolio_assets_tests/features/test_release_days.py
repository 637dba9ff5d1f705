"""``roll_to_release_day`` is ``RELEASE_DAYS.rollforward`` day by day, at numpy speed."""

from __future__ import annotations

import pandas as pd

from portfolio_assets.features.macro import RELEASE_DAYS, roll_to_release_day


def test_roll_to_release_day_is_rollforward() -> None:
    days = pd.date_range("1965-01-01", "2205-12-31", freq="D")
    instants = days.append(pd.DatetimeIndex(["2019-12-28 16:15", "2019-12-25 09:30:00.5", "2019-12-27 23:59"]))
    instants = instants.insert(3, pd.NaT)
    want = pd.DatetimeIndex([RELEASE_DAYS.rollforward(day) if pd.notna(day) else day for day in instants])
    got = roll_to_release_day(instants)
    pd.testing.assert_index_equal(got, want.as_unit("ns"))
    assert got[-3] == pd.Timestamp("2019-12-30 16:15")  # a Saturday, to Monday, the time kept
