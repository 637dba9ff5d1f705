from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.features.sentiment import TrendsSnapshot, asset_sentiment, trends_score
from portfolio_assets.timing import FX_BAR_END, NEW_YORK_CLOSE


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def weekly(values: list[float], start: str = "2010-01-03") -> pd.DataFrame:
    starts = pd.date_range(start, periods=len(values), freq="7D", tz="UTC")
    return pd.DataFrame({"period_start": starts, "period_end": starts + pd.Timedelta(days=7), "value": values})


def snapshots(values: list[float], fetched_at: str = "2010-01-10", start: str = "2010-01-03") -> list[TrendsSnapshot]:
    """One download of weekly ``values`` fetched at ``fetched_at``."""
    return [TrendsSnapshot(utc(fetched_at), weekly(values, start))]


def test_trends_score_uses_only_weeks_complete_at_the_fetch():
    days = pd.date_range("2010-01-03", "2010-02-10", freq="D", tz="UTC")
    # Fetched Wednesday 01-13 12:00: the week from 01-10 is still in progress (partial), so not used.
    score = trends_score(days, snapshots([50.0, 100.0, 80.0], fetched_at="2010-01-13 12:00"))
    assert score[: utc("2010-01-12")].isna().all()  # decision instant (24:00 UTC) before the fetch
    assert (score[utc("2010-01-13") : utc("2010-02-10")] == 100.0).all()  # 100 vs max(50, 100), never the 80
    fx = trends_score(days, snapshots([50.0, 100.0, 80.0], fetched_at="2010-01-13 17:00"), bar_end=FX_BAR_END)
    assert fx[: utc("2010-01-13")].isna().all()  # decided at 16:00 UTC of D, before the 17:00 fetch
    assert fx[utc("2010-01-14")] == 100.0
    equity = trends_score(days, snapshots([50.0, 100.0, 80.0], fetched_at="2010-01-13 17:00"), bar_end=NEW_YORK_CLOSE)
    assert equity[: utc("2010-01-12")].isna().all() and equity[utc("2010-01-13")] == 100.0  # 16:00 New York = 21:00


def test_each_day_uses_the_newest_download_and_only_its_own_scale():
    days = pd.date_range("2010-01-01", "2010-03-31", freq="D", tz="UTC")
    first = TrendsSnapshot(utc("2010-01-31"), weekly([40.0, 100.0, 80.0, 60.0, 30.0]))
    # A later spike rescales every past week (x0.5) in the next download.
    second = TrendsSnapshot(utc("2010-02-28"), weekly([20.0, 50.0, 40.0, 30.0, 15.0, 20.0, 100.0, 90.0, 70.0]))
    score = trends_score(days, [second, first])  # any order
    assert score[: utc("2010-01-29")].isna().all()  # nothing fetched yet: missing, not filled backwards
    assert (score[utc("2010-01-30") : utc("2010-02-26")] == 60.0).all()  # week 01-24 (60) / its high (100)
    assert (score[utc("2010-02-27") : utc("2010-03-31")] == 90.0).all()  # week 02-21 (90) / 100 in the 2nd
    alone = trends_score(days, [first])
    pd.testing.assert_series_equal(score[: utc("2010-02-26")], alone[: utc("2010-02-26")])


def test_a_stale_download_runs_dry():
    days = pd.date_range("2010-01-01", "2010-04-30", freq="D", tz="UTC")
    score = trends_score(days, snapshots([50.0, 100.0], fetched_at="2010-01-17"))  # week 01-10 ends 01-17
    held = score.dropna()
    assert held.index[0] == utc("2010-01-16") and held.index[-1] == utc("2010-02-27")  # ends + 7 days + 5 weeks
    assert (held == 100.0).all()


def test_two_downloads_fetched_at_the_same_instant_are_refused():
    days = pd.date_range("2010-01-01", "2010-01-02", freq="D", tz="UTC")
    with pytest.raises(ValueError, match="two snapshots fetched at 2010-01-10"):
        trends_score(days, snapshots([1.0]) + snapshots([2.0]))


def test_asset_sentiment_fields_and_not_applicable_fear_greed():
    days = pd.date_range("2010-01-01", "2010-01-03", freq="D", tz="UTC")
    tone = pd.DataFrame({"timestamp": days[:2], "value": [-2.5, 1.0], "norm": np.nan})
    volume = pd.DataFrame({"timestamp": days, "value": [10.0, 12.0, 0.0], "norm": [1e5] * 3})
    social = pd.DataFrame(
        {
            "timestamp": list(days) * 2,
            "asset_symbol": ["AAA"] * 3 + ["BBB"] * 3,
            "social_sentiment_score": [0.1, 0.2, 0.3, -0.1, -0.2, -0.3],
            "social_mention_count": pd.array([1, 2, 3, 4, 5, 6], dtype="Int64"),
        }
    )
    fng = pd.DataFrame({"timestamp": days, "value": [10.0, 50.0, 90.0]})
    out = asset_sentiment(
        days, asset_symbol="BBB", tone=tone, volume=volume, social=social, trends=snapshots([1.0]), fear_greed=fng
    )
    assert list(out["news_sentiment_score"][:2]) == [-0.025, 0.01]
    assert np.isnan(out["news_sentiment_score"].iloc[2])  # no news that day: missing, not 0
    assert list(out["news_volume"]) == [10, 12, 0]
    assert list(out["social_sentiment_score"]) == [-0.1, -0.2, -0.3]
    assert list(out["fear_greed_index"]) == [10.0, 50.0, 90.0]
    # crypto (24:00 UTC) uses its own day, complete at its end; trends fetched 2010-01-10 is not before it
    assert list(out["fear_greed_index_available_at"]) == list(days + pd.Timedelta(days=1))
    assert pd.isna(out["news_sentiment_score_available_at"].iloc[2])  # no value, no availability
    assert out["google_trends_score_available_at"].isna().all()
    equity = asset_sentiment(
        days, asset_symbol="AAA", tone=tone, volume=volume, social=social, trends=snapshots([1.0]), fear_greed=None
    )
    assert equity["fear_greed_index"].isna().all()


def test_rows_closing_before_24_utc_use_the_previous_utc_day_and_carry_its_end():
    days = pd.date_range("2010-01-02", "2010-01-03", freq="D", tz="UTC")
    tone = pd.DataFrame({"timestamp": days - pd.Timedelta(days=1), "value": [-1.0, 2.0]})
    social = pd.DataFrame(
        {
            "timestamp": days - pd.Timedelta(days=1),
            "asset_symbol": "AAA",
            "social_sentiment_score": [0.5, 0.6],
            "social_mention_count": pd.array([7, 8], dtype="Int64"),
        }
    )
    out = asset_sentiment(
        days,
        asset_symbol="AAA",
        tone=tone,
        volume=tone,
        social=social,
        trends=snapshots([1.0]),
        fear_greed=None,
        bar_end=NEW_YORK_CLOSE,
    )
    assert list(out["news_sentiment_score"]) == [-0.01, 0.02]
    assert list(out["social_mention_count"]) == [7, 8]
    # each day's aggregate is complete at the end of its UTC day: 00:00 UTC of the row's day
    assert list(out["news_sentiment_score_available_at"]) == list(days)
    assert list(out["social_mention_count_available_at"]) == list(days)
    assert out["fear_greed_index_available_at"].isna().all() and out["google_trends_score_available_at"].isna().all()
    assert (out["news_sentiment_score_available_at"] <= pd.Series(NEW_YORK_CLOSE.on(days))).all()


def test_counts_keep_a_nullable_integer_dtype_with_or_without_gaps():
    days = pd.date_range("2010-01-01", "2010-01-02", freq="D", tz="UTC")
    volume = pd.DataFrame({"timestamp": days[:1], "value": [3.0]})
    empty_social = pd.DataFrame(
        {"timestamp": days[:0], "asset_symbol": [], "social_sentiment_score": [], "social_mention_count": []}
    )
    gappy = asset_sentiment(
        days, asset_symbol="A", tone=volume, volume=volume, social=empty_social, trends=None, fear_greed=None
    )
    full = asset_sentiment(
        days[:1], asset_symbol="A", tone=volume, volume=volume, social=empty_social, trends=None, fear_greed=None
    )
    assert str(gappy["news_volume"].dtype) == str(full["news_volume"].dtype) == "Int64"
    assert str(gappy["social_mention_count"].dtype) == "Int64"
