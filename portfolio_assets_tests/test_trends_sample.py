"""Google Trends downloads through the landing zone and the sentiment asset: kept apart, used point in time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portfolio_assets import replay
from portfolio_assets.assets.sentiment import sentiment_frame
from portfolio_assets.features.sentiment import trends_score
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.sources.google_trends import parse_trends_csv

SAMPLE = LandingZone(SAMPLE_LANDING_ROOT)
MONTH_ENDS = pd.date_range("2008-01-31", "2013-02-28", freq="ME", tz="UTC")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_read_trends_returns_each_download_apart_with_its_fetch_time(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    header = "Category: All categories\n\nWeek,gold: (Worldwide)\n"
    early = header + "2010-01-03,50\n2010-01-10,100\n"
    late = header + "2010-01-03,25\n2010-01-10,50\n2010-01-17,100\n"  # a spike rescales the past
    zone.store("google_trends", {"q": "gold"}, late.encode(), fetched_at=datetime(2010, 1, 24, 9, 30, tzinfo=UTC))
    zone.store("google_trends", {"q": "gold"}, early.encode(), fetched_at=datetime(2010, 1, 17, tzinfo=UTC))
    snapshots = replay.read_trends(zone, "gold")
    assert [s.fetched_at for s in snapshots] == [utc("2010-01-17"), utc("2010-01-24 09:30")]  # oldest first
    pd.testing.assert_frame_equal(snapshots[0].frame, parse_trends_csv(early))
    pd.testing.assert_frame_equal(snapshots[1].frame, parse_trends_csv(late))  # not merged: 25, not 50


def test_the_sample_has_a_download_per_term_at_the_end_of_every_month() -> None:
    snapshots = replay.read_trends(SAMPLE, "bitcoin")
    assert pd.DatetimeIndex([s.fetched_at for s in snapshots]).equals(MONTH_ENDS)
    for snapshot in snapshots:
        frame = snapshot.frame
        assert frame["value"].max() == 100.0  # each scaled to its own maximum
        assert frame["period_start"].iloc[-1] <= snapshot.fetched_at < frame["period_end"].iloc[-1]
        assert len(frame) in (261, 262)  # 5 years of weeks


def test_the_sentiment_asset_has_no_trends_score_before_the_first_download() -> None:
    days = pd.date_range("2008-01-01", "2008-03-31", freq="D", tz="UTC")
    frame = sentiment_frame(LandingZoneResource(), days)
    first = {True: utc("2008-01-30"), False: utc("2008-01-31")}  # crypto decides at 24:00 UTC, others at 00:00
    for symbol, rows in frame.groupby("asset_symbol"):
        crypto = rows["asset_class"].iloc[0] == "crypto"
        score = rows.set_index("timestamp")["google_trends_score"]
        assert score[: first[crypto] - pd.Timedelta(days=1)].isna().all(), symbol
        assert score[first[crypto] :].notna().all(), symbol


@pytest.mark.parametrize("query", ["bitcoin", "nasdaq"])
def test_the_sample_score_is_the_newest_downloads_own(query: str) -> None:
    """While the 2009-01-31 download is the newest, a crypto day's score is that download's alone."""
    snapshots = replay.read_trends(SAMPLE, query)
    days = pd.date_range("2009-01-30", "2009-02-26", freq="D", tz="UTC")  # decided 01-31 00:00 .. 02-27 00:00 UTC
    score = trends_score(days, snapshots)
    (january,) = (s for s in snapshots if s.fetched_at == utc("2009-01-31"))
    complete = january.frame[january.frame["period_end"] <= january.fetched_at]
    last = complete.iloc[-1]
    high = complete.loc[complete["period_start"] > last["period_start"] - pd.Timedelta(weeks=52), "value"].max()
    assert (score == last["value"] / high * 100.0).all()


def test_every_labelled_sample_day_has_a_trends_score() -> None:
    """The labelled window starts 2009-01-01, long after the first download: the completeness gate is unaffected."""
    days = pd.date_range("2009-01-01", "2013-02-28", freq="D", tz="UTC")
    frame = sentiment_frame(LandingZoneResource(), days)
    assert not frame.empty
    assert np.isfinite(frame["google_trends_score"]).all()
    assert frame["google_trends_score"].between(0, 100).all()
