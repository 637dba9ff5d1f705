from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from portfolio_assets.errors import PartitionWindowError
from portfolio_assets.partitions import (
    LABELLED_PARTITIONS,
    OBSERVATION_PARTITIONS,
    day_bounds,
    keys_holding,
    labelled_partitions,
    observation_partitions,
    partition_keys_of,
)
from portfolio_assets.settings import SettingError, Window, read_partitions, read_window
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS, INDICATOR_LOOKBACK_DAYS


def test_sample_window_partitions_are_months_by_default():
    assert OBSERVATION_PARTITIONS.get_first_partition_key() == "2008-01-01"
    assert OBSERVATION_PARTITIONS.get_last_partition_key() == "2013-02-01"
    assert len(OBSERVATION_PARTITIONS.get_partition_keys()) == 62
    assert LABELLED_PARTITIONS.get_first_partition_key() == "2009-01-01"
    assert LABELLED_PARTITIONS.get_last_partition_key() == "2012-11-01"
    # The days they stand for: the last labelled day's horizon is the last observation day.
    assert day_bounds(labelled=False) == (date(2008, 1, 1), date(2013, 2, 28))
    assert day_bounds(labelled=True) == (date(2009, 1, 1), date(2012, 11, 30))
    assert (date(2013, 2, 28) - date(2012, 11, 30)).days == HORIZON_DAYS


def test_daily_partitions_are_the_days_themselves():
    window = Window(date(2008, 1, 1), date(2013, 2, 28))
    daily = observation_partitions(window, "daily")
    assert (daily.get_first_partition_key(), daily.get_last_partition_key()) == ("2008-01-01", "2013-02-28")
    labelled = labelled_partitions(window, "daily")
    assert (labelled.get_first_partition_key(), labelled.get_last_partition_key()) == ("2009-01-01", "2012-11-30")


def test_a_window_inside_months_keeps_its_days():
    window = Window(date(2010, 3, 17), date(2011, 9, 20))
    monthly = observation_partitions(window, "monthly")
    assert (monthly.get_first_partition_key(), monthly.get_last_partition_key()) == ("2010-03-01", "2011-09-01")
    assert day_bounds(labelled=False, window=window) == (date(2010, 3, 17), date(2011, 9, 20))
    labelled = labelled_partitions(window, "monthly")
    assert labelled.get_first_partition_key() == "2011-03-01"  # the warm-up ends on 2011-03-18
    assert day_bounds(labelled=True, window=window) == (date(2011, 3, 18), date(2011, 6, 22))


def test_live_partitions_reach_the_newest_day():
    window = Window(date(2020, 1, 1), None)
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    newest_label = yesterday - timedelta(days=HORIZON_DAYS)
    # Daily: the last complete observation day is yesterday; a labelled day's horizon must have passed.
    assert labelled_partitions(window, "daily").get_last_partition_key() == newest_label.isoformat()
    assert observation_partitions(window, "daily").get_last_partition_key() == yesterday.isoformat()
    # Monthly: the running month is a partition, re-materialised each day; the newest labelled day is inside
    # the last labelled partition or the one before it.
    assert observation_partitions(window, "monthly").get_last_partition_key() == today.replace(day=1).isoformat()
    last_labelled = date.fromisoformat(labelled_partitions(window, "monthly").get_last_partition_key())
    assert last_labelled <= newest_label.replace(day=1) + timedelta(days=31)
    assert newest_label < (last_labelled + timedelta(days=32)).replace(day=1)
    assert day_bounds(labelled=True, window=window, today=today) == (window.labelled_start, newest_label)
    assert day_bounds(labelled=False, window=window, today=today) == (window.start, yesterday)


@pytest.mark.parametrize("granularity", ["daily", "monthly"])
@pytest.mark.parametrize("days", [0, 1, 27, 28, 29, 90, CONTEXT_LOOKBACK_DAYS, INDICATOR_LOOKBACK_DAYS])
def test_a_lookback_or_look_ahead_reads_the_partitions_holding_its_days_and_no_more(granularity, days):
    partitions = observation_partitions(Window(date(2000, 1, 1), date(2024, 12, 31)), granularity)
    for first in pd.date_range("2003-01-01", "2020-12-31", freq="37D"):  # leap years and every month length
        last = first + pd.Timedelta(days=days % 40)
        for lo, hi in ((first - pd.Timedelta(days=days), last), (first, last + pd.Timedelta(days=days))):
            keys = keys_holding(partitions, lo.date(), hi.date())
            if granularity == "daily":
                assert keys == [d.strftime("%Y-%m-%d") for d in pd.date_range(lo, hi)]
            else:
                assert keys == [m.strftime("%Y-%m-01") for m in pd.period_range(lo, hi, freq="M")]


def test_days_outside_the_partitions_are_refused_naming_them():
    with pytest.raises(PartitionWindowError, match=r"2007-12-31\.\.2008-01-05 are not all in the partitions 2008"):
        keys_holding(OBSERVATION_PARTITIONS, date(2007, 12, 31), date(2008, 1, 5))
    with pytest.raises(PartitionWindowError, match="2013-03-01"):
        keys_holding(OBSERVATION_PARTITIONS, date(2013, 1, 1), date(2013, 3, 1))


def test_rows_are_keyed_by_the_partition_of_their_day():
    stamps = pd.Series(pd.to_datetime(["2010-03-17 00:00", "2010-03-31 23:59", "2010-04-01 00:00"], utc=True))
    assert partition_keys_of(stamps, "monthly").tolist() == ["2010-03-01", "2010-03-01", "2010-04-01"]
    assert partition_keys_of(stamps, "daily").tolist() == ["2010-03-17", "2010-03-31", "2010-04-01"]


def test_the_granularity_is_a_setting():
    assert read_partitions({}) == "monthly"
    assert read_partitions({"PORTFOLIO_PARTITIONS": "daily"}) == "daily"
    with pytest.raises(SettingError, match="PORTFOLIO_PARTITIONS='weekly' must be one of monthly, daily"):
        read_partitions({"PORTFOLIO_PARTITIONS": "weekly"})


def test_the_window_is_read_from_the_settings_variables():
    assert read_window({}) == Window(date(2008, 1, 1), date(2013, 2, 28))
    assert read_window({"PORTFOLIO_START_DATE": "2015-01-01", "PORTFOLIO_END_DATE": "open"}) == Window(
        date(2015, 1, 1), None
    )
    with pytest.raises(SettingError, match="too short"):
        read_window({"PORTFOLIO_START_DATE": "2015-01-01", "PORTFOLIO_END_DATE": "2015-06-01"})
    with pytest.raises(SettingError, match="YYYY-MM-DD"):
        read_window({"PORTFOLIO_END_DATE": "June"})
