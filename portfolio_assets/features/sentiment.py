"""Daily sentiment fields for one asset, each as known at the day's close.

* ``news_sentiment_score``: GDELT DOC average tone of the day's matching
  articles divided by 100 (GDELT's tone scale is -100..+100), so -1..1.
* ``news_volume``: GDELT raw count of the day's matching articles.
* ``social_sentiment_score`` / ``social_mention_count``: the licensed daily feed.
* ``google_trends_score``: Trends values are scaled so that the maximum over the
  whole requested range is 100, which would leak the future into the past. The
  score is therefore the latest *completed* period's value relative to the
  highest value of the trailing 52 weeks up to it, x100: a ratio in which the
  range-wide scale cancels out. A period is known once it has ended.
* ``fear_greed_index``: alternative.me's index for the day (crypto only).

Daily aggregates (news, social) cover UTC days and are complete at 24:00 UTC:
crypto's daily close. Every other class closes earlier (equities 16:00 New
York), so their day-D row uses day D-1's aggregates (``daily_lag_days``).
Values are matched to their own (lagged) day; nothing is filled from other
days except the Trends score, which holds for one period plus 7 days at most.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRENDS_TRAILING = pd.Timedelta(weeks=52)
TRENDS_FILL = pd.Timedelta(days=7)


def _on_days(days: pd.DatetimeIndex, frame: pd.DataFrame, column: str) -> pd.Series:
    if frame is None or frame.empty:
        return pd.Series(np.nan, index=days)
    series = frame.set_index(pd.DatetimeIndex(frame["timestamp"]).normalize())[column]
    series = series[~series.index.duplicated(keep="last")]
    return series.reindex(days)


def trends_score(days: pd.DatetimeIndex, trends: pd.DataFrame) -> pd.Series:
    """Scale-free Trends interest known at each day's close (see module docstring)."""
    if trends is None or trends.empty:
        return pd.Series(np.nan, index=days, dtype="float64")
    t = trends.sort_values("period_start").reset_index(drop=True)
    start = pd.DatetimeIndex(t["period_start"])
    values = t["value"].to_numpy(dtype="float64")
    trailing_max = pd.Series(values, index=start).rolling(TRENDS_TRAILING, min_periods=1).max().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(trailing_max > 0, values / trailing_max * 100.0, np.nan)
    ends = pd.DatetimeIndex(t["period_end"])
    # Each value may be used for its own period's length plus 7 days after it became known.
    known = pd.DataFrame({"known_at": ends, "score": score, "usable_for": (ends - start) + TRENDS_FILL})
    known = known.sort_values("known_at")
    # A period ending at 00:00 of day D+1 is complete at D's close.
    probe = pd.DataFrame({"day": days, "close": days + pd.Timedelta(days=1)})
    merged = pd.merge_asof(probe, known, left_on="close", right_on="known_at", direction="backward")
    stale = (merged["close"] - merged["known_at"]) > merged["usable_for"]
    return pd.Series(merged["score"].where(~stale).to_numpy(), index=days, dtype="float64")


def asset_sentiment(
    days: pd.DatetimeIndex,
    *,
    asset_symbol: str,
    tone: pd.DataFrame,
    volume: pd.DataFrame,
    social: pd.DataFrame,
    trends: pd.DataFrame,
    fear_greed: pd.DataFrame | None,
    daily_lag_days: int = 0,
) -> pd.DataFrame:
    """The six sentiment fields of one asset on ``days`` (UTC midnights).

    ``fear_greed`` is None where the index does not apply (non-crypto): the
    column is then NaN, which the registry marks as not applicable.
    ``daily_lag_days``: news and social aggregates cover UTC days, complete at
    24:00 UTC; an asset whose daily close comes earlier (every class but
    crypto) must use the previous day's (``daily_lag_days=1``).
    """
    days = pd.DatetimeIndex(days)
    source_days = days - pd.Timedelta(days=daily_lag_days)
    own_social = social[social["asset_symbol"] == asset_symbol] if social is not None else None
    frame = pd.DataFrame(
        {
            "timestamp": days,
            "asset_symbol": asset_symbol,
            "news_sentiment_score": (_on_days(source_days, tone, "value") / 100.0).to_numpy(),
            "news_volume": _on_days(source_days, volume, "value").round().astype("Int64").array,
            "social_sentiment_score": _on_days(source_days, own_social, "social_sentiment_score").to_numpy(),
            "social_mention_count": _on_days(source_days, own_social, "social_mention_count").astype("Int64").array,
            "google_trends_score": trends_score(days, trends).to_numpy(),
            "fear_greed_index": (
                _on_days(days, fear_greed, "value").to_numpy() if fear_greed is not None else np.full(len(days), np.nan)
            ),
        }
    )
    return frame
