"""``sentiment_frame`` puts every asset's rows together at once (``features.sentiment.sentiment_panel``): it gives
exactly what the loop over ``asset_sentiment`` asset by asset gave, and a build in many runs gives what one gives.

The reference below is the loop ``sentiment_frame`` ran before, verbatim but for its name.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache, partial

import numpy as np
import pandas as pd
import pytest
import yaml

from portfolio_assets import replay
from portfolio_assets.assets.sentiment import _near, sentiment_frame
from portfolio_assets.features.sentiment import asset_sentiment, trends_at
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets_tests.golden import digest


def loop_sentiment_frame(
    landing: LandingZoneResource, days: pd.DatetimeIndex, excluded: Collection[str] = ()
) -> pd.DataFrame:
    """``sentiment_frame`` as it was: ``asset_sentiment`` asset after asset, concatenated and sorted."""
    zone = landing.zone()
    kept = [spec for spec in landing.universe().assets if spec.symbol not in excluded]
    near = _near(days)
    social = near(replay.read_social(zone))
    social_of = dict(tuple(social.groupby("asset_symbol", sort=False))) if social is not None else {}
    no_social = social.iloc[:0] if social is not None else None
    read_gdelt = cache(lambda query, mode: near(replay.read_gdelt(zone, query, mode)))
    read_trends = cache(partial(replay.read_trends, zone))
    fng = near(replay.read_fear_greed(zone)) if any(a.fear_greed for a in kept) else None
    trends_scores = cache(lambda query, bar_end: trends_at(bar_end.on(days), read_trends(query)))
    frames = []
    for spec in kept:
        part = asset_sentiment(
            days,
            asset_symbol=spec.symbol,
            tone=read_gdelt(spec.news_query, "timelinetone"),
            volume=read_gdelt(spec.news_query, "timelinevolraw"),
            social=social_of.get(spec.symbol, no_social),
            trends=read_trends(spec.trends_query),
            fear_greed=fng if spec.fear_greed else None,
            bar_end=spec.bar_end,
            trends_scores=trends_scores(spec.trends_query, spec.bar_end),
        )
        part.insert(2, "asset_class", spec.asset_class)
        frames.append(part[spec.traded_on(part["timestamp"])])
    return pd.concat(frames, ignore_index=True).sort_values(["asset_symbol", "timestamp"]).reset_index(drop=True)


def assert_same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert digest(new) == digest(old)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> LandingZoneResource:
    """A synthetic landing zone (7 assets, every class, 3 years) whose first equity stopped trading mid-2018."""
    from portfolio_assets.bench_data import write_landing

    out = tmp_path_factory.mktemp("sentiment_panel")
    write_landing(out, 7, 3)
    universe = yaml.safe_load((out / "universe.yaml").read_text())
    equity = next(a for a in universe["assets"] if a["asset_class"] == "equity")
    equity["last_trading_day"] = "2018-06-13"
    (out / "universe.yaml").write_text(yaml.safe_dump(universe, sort_keys=False))
    return LandingZoneResource(root=str(out / "landing"), universe_file=str(out / "universe.yaml"))


WINDOWS = [
    ("2018-06-01", "2018-06-30"),  # across the equity's last trading day
    ("2018-07-01", "2018-07-31"),  # after it
    ("2017-01-01", "2017-12-31"),  # a whole year, the Trends downloads changing monthly
    ("2016-03-27", "2016-03-28"),  # across a daylight-saving change in Europe (the clocks are UTC or New York)
    ("2016-11-06", "2016-11-06"),  # New York's autumn change
    ("2005-01-01", "2005-01-31"),  # before any stored value: every field missing
]


@pytest.mark.parametrize(("first", "last"), WINDOWS)
def test_the_panel_gives_what_the_loop_gave(landing, first, last):
    days = pd.date_range(first, last, freq="D", tz="UTC")
    new = sentiment_frame(landing, days)
    assert_same(new, loop_sentiment_frame(landing, days))
    ended = next(spec for spec in landing.universe().assets if spec.last_trading_day is not None)
    assert (new.loc[new["asset_symbol"] == ended.symbol, "timestamp"] <= ended.last_trading_day).all()
    excluded = [spec.symbol for spec in landing.universe().assets][1:3]
    assert_same(sentiment_frame(landing, days, excluded), loop_sentiment_frame(landing, days, excluded))


def test_no_days_and_one_day(landing):
    for days in (pd.DatetimeIndex([], tz="UTC"), pd.date_range("2018-02-03", periods=1, tz="UTC")):
        assert_same(sentiment_frame(landing, days), loop_sentiment_frame(landing, days))


def test_gaps_missing_values_and_duplicated_days_in_the_feeds(landing, monkeypatch):
    """A social feed with assets and days missing, empty cells and two rows of one day (the later one counts),
    GDELT and Fear & Greed with holes: the panel follows the loop through all of them."""
    days = pd.date_range("2018-03-01", "2018-04-15", freq="D", tz="UTC")
    zone = landing.zone()
    symbols = [spec.symbol for spec in landing.universe().assets]
    feed = replay.read_social(zone)
    feed = feed[(feed["asset_symbol"] != symbols[0]) & (feed["timestamp"].dt.day % 5 != 0)].reset_index(drop=True)
    feed.loc[feed.index % 7 == 0, "social_sentiment_score"] = np.nan
    feed["social_mention_count"] = feed["social_mention_count"].mask(feed.index % 11 == 0)
    again = feed[feed["timestamp"] == pd.Timestamp("2018-03-12", tz="UTC")].assign(social_sentiment_score=0.5)
    feed = pd.concat([feed, again], ignore_index=True)
    read_gdelt, read_fng = replay.read_gdelt, replay.read_fear_greed
    monkeypatch.setattr(replay, "read_social", lambda zone: feed)
    monkeypatch.setattr(replay, "read_gdelt", lambda zone, q, mode: read_gdelt(zone, q, mode).iloc[::3])
    monkeypatch.setattr(replay, "read_fear_greed", lambda zone: read_fng(zone).iloc[1::2])
    new, old = sentiment_frame(landing, days), loop_sentiment_frame(landing, days)
    assert_same(new, old)
    assert new["social_mention_count"].isna().any() and new["news_volume"].isna().any()


def test_a_build_in_many_runs_gives_what_one_run_gives(landing):
    """Months materialised one by one, put together, equal the whole range materialised at once."""
    whole = pd.date_range("2017-11-01", "2018-08-31", freq="D", tz="UTC")
    month = whole.year * 100 + whole.month
    months = [whole[month == m] for m in np.unique(month)]
    chunked = pd.concat([sentiment_frame(landing, days) for days in months], ignore_index=True)
    chunked = chunked.sort_values(["asset_symbol", "timestamp"]).reset_index(drop=True)
    assert_same(chunked, sentiment_frame(landing, whole))
    assert_same(chunked, loop_sentiment_frame(landing, whole))


def test_the_sample_landing_zone():
    landing = LandingZoneResource()
    for first, last in (("2010-01-01", "2010-12-31"), ("2012-12-01", "2013-03-15")):
        days = pd.date_range(first, last, freq="D", tz="UTC")
        assert_same(sentiment_frame(landing, days), loop_sentiment_frame(landing, days))
