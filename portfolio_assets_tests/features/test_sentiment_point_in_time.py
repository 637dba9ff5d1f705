"""No look-ahead in the sentiment fields: inputs after t never change a row at or before t."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_assets.features.registry import SENTIMENT_FIELDS
from portfolio_assets.features.sentiment import TrendsSnapshot, asset_sentiment, trends_score

DAYS = pd.date_range("2019-01-01", "2020-06-30", freq="D", tz="UTC")
SYMBOLS = ("BTC-USD", "GOOG")


def daily(rng: np.random.Generator, low: float, high: float, *, gaps: float = 0.1) -> pd.DataFrame:
    keep = rng.random(len(DAYS)) > gaps
    days = DAYS[keep]
    return pd.DataFrame({"timestamp": days, "value": rng.uniform(low, high, len(days)), "norm": np.nan})


def trends_download(starts: pd.DatetimeIndex, interest: np.ndarray, fetched_at: pd.Timestamp) -> TrendsSnapshot:
    """The weeks started by ``fetched_at`` (the last in progress), scaled to their own maximum and rounded."""
    inside = np.asarray(starts <= fetched_at)
    values = interest[inside] / interest[inside].max() * 100.0
    frame = pd.DataFrame({"period_start": starts[inside], "period_end": starts[inside] + pd.Timedelta(days=7)})
    return TrendsSnapshot(fetched_at, frame.assign(value=np.maximum(np.rint(values), 0.5)))


def inputs(seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    social = []
    for symbol in SYMBOLS:
        keep = rng.random(len(DAYS)) > 0.1
        social.append(
            pd.DataFrame(
                {
                    "timestamp": DAYS[keep],
                    "asset_symbol": symbol,
                    "social_sentiment_score": rng.uniform(-1.0, 1.0, keep.sum()),
                    "social_mention_count": pd.array(rng.integers(0, 5000, keep.sum()), dtype="Int64"),
                }
            )
        )
    starts = pd.date_range("2017-12-31", "2020-06-28", freq="7D", tz="UTC")  # Sundays
    interest = rng.uniform(1, 100, len(starts))
    trends = [
        trends_download(starts, interest, fetched_at)
        for fetched_at in pd.date_range("2018-12-25 06:00", "2020-07-01", freq="10D", tz="UTC")
    ]
    return {
        "tone": daily(rng, -8.0, 8.0),
        "volume": daily(rng, 0.0, 500.0).assign(value=lambda f: f["value"].round()),
        "social": pd.concat(social, ignore_index=True),
        "trends": trends,
        "fear_greed": daily(rng, 0.0, 100.0, gaps=0.02),
    }


def sentiment(data: dict[str, Any], symbol: str) -> pd.DataFrame:
    return asset_sentiment(
        DAYS,
        asset_symbol=symbol,
        tone=data["tone"],
        volume=data["volume"],
        social=data["social"],
        trends=data["trends"],
        fear_greed=data["fear_greed"] if symbol == "BTC-USD" else None,
    )


INPUTS = inputs()
BASE = {symbol: sentiment(INPUTS, symbol) for symbol in SYMBOLS}


def _perturb_daily(
    frame: pd.DataFrame, cut: pd.Timestamp, rng: np.random.Generator, columns: list[str]
) -> pd.DataFrame:
    """New values for the days after cut, some of those days removed, some new days after cut added."""
    out = frame.copy()
    later = (out["timestamp"] > cut).to_numpy()
    for column in columns:
        values = out.loc[later, column].to_numpy(dtype="float64")
        changed = values * rng.uniform(0.0, 3.0, len(values))
        out.loc[later, column] = changed.round() if "count" in column else changed
    out = out[~later | (rng.random(len(out)) > 0.2)]
    keys = ["asset_symbol", "timestamp"] if "asset_symbol" in out else ["timestamp"]
    extra = out.tail(5).assign(timestamp=[cut + pd.Timedelta(days=int(d)) for d in rng.integers(1, 30, 5)])
    merged = pd.concat([out, extra], ignore_index=True)
    return merged[~merged.duplicated(subset=keys, keep="first")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    symbol=st.sampled_from(SYMBOLS),
    position=st.integers(min_value=0, max_value=len(DAYS) - 2),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_inputs_after_t_do_not_change_rows_up_to_t(symbol, position, seed):
    cut = DAYS[position]
    rng = np.random.default_rng(seed)
    data = {
        "tone": _perturb_daily(INPUTS["tone"], cut, rng, ["value"]),
        "volume": _perturb_daily(INPUTS["volume"], cut, rng, ["value"]).assign(value=lambda f: f["value"].abs()),
        "social": _perturb_daily(INPUTS["social"], cut, rng, ["social_sentiment_score", "social_mention_count"]),
        "fear_greed": _perturb_daily(INPUTS["fear_greed"], cut, rng, ["value"]),
    }
    # Trends downloads fetched after t's close (24:00 UTC) changed, rescaled, dropped; new ones added.
    close = cut + pd.Timedelta(days=1)
    trends = []
    for snapshot in INPUTS["trends"]:
        if snapshot.fetched_at <= close:
            trends.append(snapshot)
        elif rng.random() > 0.2:
            values = snapshot.frame["value"] * rng.uniform(0.0, 3.0, len(snapshot.frame))
            trends.append(TrendsSnapshot(snapshot.fetched_at, snapshot.frame.assign(value=values.clip(0.5, 100))))
    starts = pd.date_range("2017-12-31", "2020-06-28", freq="7D", tz="UTC")
    for hours in rng.integers(1, 24 * 60, 3):
        later = close + pd.Timedelta(hours=int(hours), seconds=1)
        if later not in {s.fetched_at for s in trends}:
            trends.append(trends_download(starts, rng.uniform(1, 100, len(starts)), later))
    data["trends"] = trends
    out = sentiment(data, symbol)
    upto = out["timestamp"] <= cut
    pd.testing.assert_frame_equal(out[upto], BASE[symbol][upto], check_exact=True)


def test_the_case_is_not_trivial():
    for symbol, frame in BASE.items():
        fields = [f for f in SENTIMENT_FIELDS if symbol == "BTC-USD" or f != "fear_greed_index"]
        assert frame[fields].notna().mean().min() > 0.8, symbol


def test_trends_staleness_bound_does_not_depend_on_later_periods():
    """Each Trends value is held for its own period + 5 weeks, not for the longest period of any download."""
    april = pd.DataFrame(
        {"period_start": [pd.Timestamp("2019-04-01", tz="UTC")], "period_end": [pd.Timestamp("2019-05-01", tz="UTC")]}
    ).assign(value=50.0)
    july = pd.DataFrame(
        {"period_start": [pd.Timestamp("2019-07-01", tz="UTC")], "period_end": [pd.Timestamp("2019-08-01", tz="UTC")]}
    ).assign(value=80.0)
    days = pd.DatetimeIndex([pd.Timestamp("2019-07-04", tz="UTC"), pd.Timestamp("2019-07-05", tz="UTC")])
    fetched = pd.Timestamp("2019-05-02", tz="UTC")
    alone = trends_score(days, [TrendsSnapshot(fetched, april)])
    assert alone.iloc[0] == 100.0 and np.isnan(alone.iloc[1])  # held to 05-01 + 30 days + 35 days = 07-05 00:00
    # July in the same download has not ended at its fetch: it changes neither the value nor the bound.
    with_july = trends_score(days, [TrendsSnapshot(fetched, pd.concat([april, july], ignore_index=True))])
    pd.testing.assert_series_equal(with_july, alone)
