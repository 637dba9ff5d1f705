from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets.features.sentiment import asset_sentiment, trends_score


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def weekly(values: list[float], start: str = "2010-01-03") -> pd.DataFrame:
    starts = pd.date_range(start, periods=len(values), freq="7D", tz="UTC")
    return pd.DataFrame({"period_start": starts, "period_end": starts + pd.Timedelta(days=7), "value": values})


def test_trends_score_is_known_only_once_the_week_has_ended():
    days = pd.date_range("2010-01-03", "2010-01-17", freq="D", tz="UTC")
    score = trends_score(days, weekly([50.0, 100.0]))
    # Week 2010-01-03..09 completes at the close of Saturday 01-09.
    assert score[: utc("2010-01-08")].isna().all()
    assert score[utc("2010-01-09")] == 100.0  # 50 vs its own trailing max 50
    assert score[utc("2010-01-16")] == 100.0  # 100 vs max(50, 100)


def test_trends_score_does_not_depend_on_future_scaling():
    days = pd.date_range("2010-01-03", "2010-03-01", freq="D", tz="UTC")
    base = [20.0, 40.0, 30.0, 10.0, 50.0, 25.0, 35.0, 45.0]
    a = trends_score(days, weekly(base))
    # The same interest exported with a later spike: every value is rescaled by 0.5.
    rescaled = [v * 0.5 for v in base]
    b = trends_score(days, weekly(rescaled))
    pd.testing.assert_series_equal(a, b)


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
        days, asset_symbol="BBB", tone=tone, volume=volume, social=social, trends=weekly([1.0]), fear_greed=fng
    )
    assert list(out["news_sentiment_score"][:2]) == [-0.025, 0.01]
    assert np.isnan(out["news_sentiment_score"].iloc[2])  # no news that day: missing, not 0
    assert list(out["news_volume"]) == [10, 12, 0]
    assert list(out["social_sentiment_score"]) == [-0.1, -0.2, -0.3]
    assert list(out["fear_greed_index"]) == [10.0, 50.0, 90.0]
    equity = asset_sentiment(
        days, asset_symbol="AAA", tone=tone, volume=volume, social=social, trends=weekly([1.0]), fear_greed=None
    )
    assert equity["fear_greed_index"].isna().all()


def test_non_crypto_rows_use_the_previous_utc_day():
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
        trends=weekly([1.0]),
        fear_greed=None,
        daily_lag_days=1,
    )
    assert list(out["news_sentiment_score"]) == [-0.01, 0.02]
    assert list(out["social_mention_count"]) == [7, 8]


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
