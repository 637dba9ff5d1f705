"""No look-ahead in the sentiment fields: inputs after t never change a row at or before t."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_assets.features.registry import SENTIMENT_FIELDS
from portfolio_assets.features.sentiment import asset_sentiment, trends_score

DAYS = pd.date_range("2019-01-01", "2020-06-30", freq="D", tz="UTC")
SYMBOLS = ("BTC-USD", "GOOG")


def daily(rng: np.random.Generator, low: float, high: float, *, gaps: float = 0.1) -> pd.DataFrame:
    keep = rng.random(len(DAYS)) > gaps
    days = DAYS[keep]
    return pd.DataFrame({"timestamp": days, "value": rng.uniform(low, high, len(days)), "norm": np.nan})


def inputs(seed: int = 7) -> dict[str, pd.DataFrame]:
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
    trends = pd.DataFrame(
        {"period_start": starts, "period_end": starts + pd.Timedelta(days=7), "value": rng.uniform(1, 100, len(starts))}
    )
    trends = trends[rng.random(len(trends)) > 0.05].reset_index(drop=True)
    return {
        "tone": daily(rng, -8.0, 8.0),
        "volume": daily(rng, 0.0, 500.0).assign(value=lambda f: f["value"].round()),
        "social": pd.concat(social, ignore_index=True),
        "trends": trends,
        "fear_greed": daily(rng, 0.0, 100.0, gaps=0.02),
    }


def sentiment(data: dict[str, pd.DataFrame], symbol: str) -> pd.DataFrame:
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
    trends = INPUTS["trends"].copy()
    # a Trends period ending after t + 1 day is not complete at t's close
    incomplete = (trends["period_end"] > cut + pd.Timedelta(days=1)).to_numpy()
    trends.loc[incomplete, "value"] = rng.uniform(1, 100, incomplete.sum())
    data["trends"] = trends[~incomplete | (rng.random(len(trends)) > 0.2)]
    out = sentiment(data, symbol)
    upto = out["timestamp"] <= cut
    pd.testing.assert_frame_equal(out[upto], BASE[symbol][upto], check_exact=True)


def test_the_case_is_not_trivial():
    for symbol, frame in BASE.items():
        fields = [f for f in SENTIMENT_FIELDS if symbol == "BTC-USD" or f != "fear_greed_index"]
        assert frame[fields].notna().mean().min() > 0.8, symbol


def test_trends_staleness_bound_does_not_depend_on_later_periods():
    """Each Trends value is held for its own period + 7 days, not for the longest period of the whole input."""
    april = pd.DataFrame(
        {"period_start": [pd.Timestamp("2019-04-01", tz="UTC")], "period_end": [pd.Timestamp("2019-05-01", tz="UTC")]}
    ).assign(value=50.0)
    july = pd.DataFrame(
        {"period_start": [pd.Timestamp("2019-07-01", tz="UTC")], "period_end": [pd.Timestamp("2019-08-01", tz="UTC")]}
    ).assign(value=80.0)
    day = pd.DatetimeIndex([pd.Timestamp("2019-06-07", tz="UTC")])  # 38 days after April became known
    alone = trends_score(day, april)
    with_july = trends_score(day, pd.concat([april, july], ignore_index=True))  # July ends after 06-08
    pd.testing.assert_series_equal(with_july, alone)
