"""Daily sentiment fields for one asset, each as known at the day's close.

* ``news_sentiment_score``: GDELT DOC average tone of the day's matching
  articles divided by 100 (GDELT's tone scale is -100..+100), so -1..1.
* ``news_volume``: GDELT raw count of the day's matching articles.
* ``social_sentiment_score`` / ``social_mention_count``: the licensed daily feed.
* ``google_trends_score``: a Trends download is scaled to the maximum of its
  whole requested range and rounded, so a later week that rises rescales every
  past value, and values of two downloads are not comparable. Each download is
  therefore kept as fetched (:class:`TrendsSnapshot`) and a row's score comes
  from one download only: the newest fetched at or before the row's decision
  instant, its latest period complete at the fetch (a week Sunday..Saturday
  ends at Sunday 00:00 UTC; the week in progress is partial and not used),
  relative to the highest value of *that download's* trailing 52 weeks up to
  it, x100. Held at most one period + 5 weeks after the period ended (a
  download a month is enough); before the first download there is no score.
* ``fear_greed_index``: alternative.me's index for the day (crypto only).

Daily aggregates (news, social) cover UTC days and are complete at 24:00 UTC:
crypto's daily close. Every other class closes earlier (equities 16:00 New
York), so their day-D row uses day D-1's aggregates (``daily_lag_days``).
The decision instant of a day-D row is therefore 24:00 UTC of D for crypto and
00:00 UTC of D for every other class; Trends downloads count if fetched at or
before it. Values are matched to their own (lagged) day; nothing is filled from
other days except the Trends score (bounded, see above), and nothing backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_assets.timeutil import utc_index, utc_timestamp

TRENDS_TRAILING = pd.Timedelta(weeks=52)
TRENDS_HOLD = pd.Timedelta(weeks=5)
"""How long past its own period's length a Trends value is used after the period ended."""


@dataclass(frozen=True)
class TrendsSnapshot:
    """One Google Trends download as fetched: ``frame`` (``period_start``, ``period_end``
    exclusive, ``value``) scaled to its own range's maximum, and its UTC fetch instant."""

    fetched_at: pd.Timestamp
    frame: pd.DataFrame


def _on_days(days: pd.DatetimeIndex, frame: pd.DataFrame, column: str) -> pd.Series:
    if frame is None or frame.empty:
        return pd.Series(np.nan, index=days)
    series = frame.set_index(pd.DatetimeIndex(frame["timestamp"]).normalize())[column]
    series = series[~series.index.duplicated(keep="last")]
    return series.reindex(days)


def snapshot_score(snapshot: TrendsSnapshot) -> tuple[float, pd.Timestamp, pd.Timedelta]:
    """``(score, period end, period length)`` of the latest period complete at the snapshot's fetch.

    The score is that period's value / the highest value of the snapshot's trailing 52 weeks up to
    it x100; NaN (and NaT) when no period was complete at the fetch or the trailing high is 0.
    """
    fetched_at = utc_timestamp(snapshot.fetched_at)
    frame = snapshot.frame
    if frame is None or frame.empty:
        return np.nan, pd.NaT, pd.NaT
    ends = utc_index(frame["period_end"])
    complete = frame[np.asarray(ends <= fetched_at)].sort_values("period_start", kind="stable")
    if complete.empty:
        return np.nan, pd.NaT, pd.NaT
    starts = utc_index(complete["period_start"])
    values = complete["value"].to_numpy(dtype="float64")
    high = values[np.asarray(starts > starts[-1] - TRENDS_TRAILING)].max()
    score = values[-1] / high * 100.0 if high > 0 else np.nan
    end = utc_index(complete["period_end"])[-1]
    return float(score), end, end - starts[-1]


def trends_score(
    days: pd.DatetimeIndex, snapshots: Sequence[TrendsSnapshot] | None, *, daily_lag_days: int = 0
) -> pd.Series:
    """Google Trends score of each day from the newest snapshot fetched by the day's decision instant.

    The decision instant of day D is 24:00 UTC of D minus ``daily_lag_days`` (see the module
    docstring); a snapshot fetched after it never changes D's score. No snapshot by then: NaN.
    """
    days = pd.DatetimeIndex(days)
    if not snapshots:
        return pd.Series(np.nan, index=days, dtype="float64")
    fetched = utc_index([s.fetched_at for s in snapshots])
    if fetched.has_duplicates:
        raise ValueError(f"Google Trends: two snapshots fetched at {fetched[fetched.duplicated()][0]}")
    scores = [snapshot_score(s) for s in snapshots]
    known = pd.DataFrame(
        {
            "fetched_at": fetched,
            "score": np.array([s for s, _, _ in scores], dtype="float64"),
            "held_until": utc_index([end + length + TRENDS_HOLD for _, end, length in scores]),
        }
    ).sort_values("fetched_at", kind="stable")
    probe = pd.DataFrame({"decision": utc_index(days) + pd.Timedelta(days=1 - daily_lag_days)})
    merged = pd.merge_asof(probe, known, left_on="decision", right_on="fetched_at", direction="backward")
    fresh = (merged["decision"] <= merged["held_until"]).to_numpy()
    return pd.Series(np.where(fresh, merged["score"].to_numpy(), np.nan), index=days, dtype="float64")


def asset_sentiment(
    days: pd.DatetimeIndex,
    *,
    asset_symbol: str,
    tone: pd.DataFrame,
    volume: pd.DataFrame,
    social: pd.DataFrame,
    trends: Sequence[TrendsSnapshot] | None,
    fear_greed: pd.DataFrame | None,
    daily_lag_days: int = 0,
) -> pd.DataFrame:
    """The six sentiment fields of one asset on ``days`` (UTC midnights).

    ``fear_greed`` is None where the index does not apply (non-crypto): the
    column is then NaN, which the registry marks as not applicable.
    ``daily_lag_days``: news and social aggregates cover UTC days, complete at
    24:00 UTC; an asset whose daily close comes earlier (every class but
    crypto) must use the previous day's (``daily_lag_days=1``); the same lag moves the decision
    instant for ``trends``, the asset's Google Trends snapshots, from 24:00 to 00:00 UTC of D.
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
            "google_trends_score": trends_score(days, trends, daily_lag_days=daily_lag_days).to_numpy(),
            "fear_greed_index": (
                _on_days(days, fear_greed, "value").to_numpy() if fear_greed is not None else np.full(len(days), np.nan)
            ),
        }
    )
    return frame
