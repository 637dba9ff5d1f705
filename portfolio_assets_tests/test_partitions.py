from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS, labelled_partitions
from portfolio_assets.settings import SettingError, Window, read_window
from portfolio_assets.spans import HORIZON_DAYS


def test_sample_window_partitions():
    assert OBSERVATION_PARTITIONS.get_first_partition_key() == "2008-01-01"
    assert OBSERVATION_PARTITIONS.get_last_partition_key() == "2013-02-28"
    assert LABELLED_PARTITIONS.get_first_partition_key() == "2009-01-01"
    # The last labelled day's horizon is the last observation day.
    assert LABELLED_PARTITIONS.get_last_partition_key() == "2012-11-30"
    assert (date(2013, 2, 28) - date(2012, 11, 30)).days == HORIZON_DAYS


def test_live_labelled_partitions_trail_today_by_the_horizon():
    live = labelled_partitions(Window(date(2020, 1, 1), None))
    today = datetime.now(UTC).date()
    # The last complete observation day is yesterday; its horizon must have passed.
    assert live.get_last_partition_key() == (today - timedelta(days=1 + HORIZON_DAYS)).isoformat()


def test_the_window_is_read_from_the_settings_variables():
    assert read_window({}) == Window(date(2008, 1, 1), date(2013, 2, 28))
    assert read_window({"PORTFOLIO_START_DATE": "2015-01-01", "PORTFOLIO_END_DATE": "open"}) == Window(
        date(2015, 1, 1), None
    )
    with pytest.raises(SettingError, match="too short"):
        read_window({"PORTFOLIO_START_DATE": "2015-01-01", "PORTFOLIO_END_DATE": "2015-06-01"})
    with pytest.raises(SettingError, match="YYYY-MM-DD"):
        read_window({"PORTFOLIO_END_DATE": "June"})
