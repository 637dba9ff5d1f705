"""``sentiment._near`` keeps exactly the rows whose UTC day is within two days before the run's days and one after."""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets.assets.sentiment import _near


def test_near_keeps_the_rows_of_the_days_looked_up() -> None:
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2020-01-01", tz="UTC").value
    stamps = pd.to_datetime(rng.integers(start, start + 40 * 86_400 * 10**9, 2000), utc=True).as_unit("ns")
    edges = pd.DatetimeIndex(["2020-01-08", "2020-01-07 23:59:59.999999999", "2020-01-21", "2020-01-22"], tz="UTC")
    frame = pd.DataFrame({"timestamp": pd.DatetimeIndex(stamps).append(edges).insert(0, pd.NaT)})
    days = pd.date_range("2020-01-10", "2020-01-20", freq="D", tz="UTC")
    day = pd.DatetimeIndex(frame["timestamp"]).normalize()
    want = frame[np.asarray((day >= days[0] - pd.Timedelta(days=2)) & (day <= days[-1] + pd.Timedelta(days=1)))]
    got = _near(days)(frame)
    pd.testing.assert_frame_equal(got, want)
    assert got["timestamp"].min() == pd.Timestamp("2020-01-08", tz="UTC")
    assert got["timestamp"].max() < pd.Timestamp("2020-01-22", tz="UTC")
