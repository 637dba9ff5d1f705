"""compute_targets: hand-computed cases, a brute-force cross-check and the look-ahead boundary."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_assets import fpmath
from portfolio_assets.features import InvalidPricesError, compute_targets
from portfolio_assets_tests.features import price_frames

TARGET = [
    "target_timestamp",
    "target_price_90d",
    "target_return_90d",
    "target_return_pct_90d",
    "target_total_return_90d",
]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def series(points: dict[str, float], symbol: str = "GOOG") -> pd.DataFrame:
    """One asset's rows from {date: close} (other columns are not needed)."""
    return pd.DataFrame(
        {
            "asset_symbol": symbol,
            "timestamp": pd.DatetimeIndex([utc(d) for d in points]).as_unit("ns"),
            "price_close": list(points.values()),
        }
    )


def row(out: pd.DataFrame, day: str, symbol: str = "GOOG") -> pd.Series:
    return out[(out["asset_symbol"] == symbol) & (out["timestamp"] == utc(day))].iloc[0]


def assert_missing(target: pd.Series) -> None:
    assert pd.isna(target["target_timestamp"])
    assert all(math.isnan(target[c]) for c in TARGET[1:])


def test_output_columns_and_order():
    frame = pd.concat([series({"2021-01-05": 1.0, "2021-01-04": 2.0}, "B"), series({"2021-01-04": 3.0}, "A")])
    out = compute_targets(frame)
    assert list(out.columns) == ["asset_symbol", "timestamp", *TARGET]
    assert out["asset_symbol"].tolist() == ["A", "B", "B"]
    assert out["timestamp"].tolist() == [utc("2021-01-04"), utc("2021-01-04"), utc("2021-01-05")]
    assert out["target_timestamp"].dtype == frame["timestamp"].dtype
    assert out.index.equals(pd.RangeIndex(3))
    assert list(compute_targets(frame, horizon_days=30).columns)[3:] == [
        "target_price_30d",
        "target_return_30d",
        "target_return_pct_30d",
        "target_total_return_30d",
    ]


def test_horizon_on_a_weekend_takes_fridays_close():
    # Monday 2021-01-04 + 90 days = Sunday 2021-04-04: the last close at or before it is Friday's.
    assert utc("2021-04-04").day_name() == "Sunday"
    out = compute_targets(series({"2021-01-04": 100.0, "2021-04-01": 110.0, "2021-04-02": 120.0, "2021-04-05": 130.0}))
    target = row(out, "2021-01-04")
    assert target["target_timestamp"] == utc("2021-04-02")
    assert target["target_price_90d"] == 120.0
    assert target["target_return_90d"] == pytest.approx(math.log(1.2), rel=1e-15)
    assert target["target_return_pct_90d"] == pytest.approx(20.0, rel=1e-15)


def test_a_hole_of_more_than_seven_days_before_the_horizon_is_missing():
    # 10 days between the last close (2021-03-25) and the horizon (2021-04-04)
    out = compute_targets(series({"2021-01-04": 100.0, "2021-03-25": 90.0, "2021-04-05": 130.0}))
    assert_missing(row(out, "2021-01-04"))
    # exactly 7 days is still usable, 8 is not
    seven = compute_targets(series({"2021-01-04": 100.0, "2021-03-28": 90.0, "2021-04-05": 130.0}))
    assert row(seven, "2021-01-04")["target_price_90d"] == 90.0
    eight = compute_targets(series({"2021-01-04": 100.0, "2021-03-27": 90.0, "2021-04-05": 130.0}))
    assert_missing(row(eight, "2021-01-04"))
    wider = compute_targets(series({"2021-01-04": 100.0, "2021-03-25": 90.0, "2021-04-05": 130.0}), max_gap_days=10)
    assert row(wider, "2021-01-04")["target_price_90d"] == 90.0


def test_a_series_that_ends_before_the_horizon_has_no_target():
    # Friday 2021-04-02 is the last row: whether anything trades before Sunday's horizon is unknown.
    frame = series({"2021-01-04": 100.0, "2021-04-01": 110.0, "2021-04-02": 120.0})
    assert_missing(row(compute_targets(frame), "2021-01-04"))
    assert_missing(row(compute_targets(frame, data_end=utc("2021-04-03")), "2021-01-04"))
    # ... unless the caller knows the data is complete through the horizon (e.g. a Dagster look-ahead window)
    complete = row(compute_targets(frame, data_end=utc("2021-04-04")), "2021-01-04")
    assert complete["target_price_90d"] == 120.0 and complete["target_timestamp"] == utc("2021-04-02")
    # the last rows never get the last available price
    out = compute_targets(frame)
    assert out["target_price_90d"].isna().all()


def test_crypto_daily_targets_are_exactly_ninety_days_later():
    days = pd.date_range("2021-01-01", periods=200, freq="D", tz="UTC")
    closes = {d.strftime("%Y-%m-%d"): 100.0 + i for i, d in enumerate(days)}
    closes["2021-04-01"] = 150.0  # 2021-01-01 + 90 days
    out = compute_targets(series(closes, "BTC-USD"))
    target = row(out, "2021-01-01", "BTC-USD")
    assert target["target_timestamp"] == utc("2021-04-01")
    assert target["target_price_90d"] == 150.0
    assert target["target_return_90d"] == pytest.approx(math.log(1.5), rel=1e-15)
    assert target["target_return_pct_90d"] == 50.0
    known = out["target_price_90d"].notna()
    assert known.sum() == 200 - 90  # the last 90 days' horizons are beyond the data
    assert (out.loc[known, "target_timestamp"] - out.loc[known, "timestamp"] == pd.Timedelta(days=90)).all()
    assert out["target_timestamp"].iloc[-90:].isna().all()
    expected = fpmath.log(out["target_price_90d"] / np.asarray(list(closes.values())))
    np.testing.assert_array_equal(out["target_return_90d"], expected)


def test_input_order_and_other_assets_do_not_matter():
    frames = [price_frames.synthetic(s, c, 400, seed=i) for i, (s, c) in enumerate([("A", "crypto"), ("B", "equity")])]
    both = pd.concat(frames, ignore_index=True)
    out = compute_targets(both)
    pd.testing.assert_frame_equal(compute_targets(both.sample(frac=1.0, random_state=3)), out, check_exact=True)
    alone = compute_targets(frames[1])
    pd.testing.assert_frame_equal(alone, out[out["asset_symbol"] == "B"].reset_index(drop=True), check_exact=True)


def test_bad_input_raises():
    frame = series({"2021-01-04": 100.0, "2021-01-05": float("nan")})
    with pytest.raises(InvalidPricesError, match="'GOOG' at 2021-01-05 00:00:00\\+00:00: price_close"):
        compute_targets(frame)
    with pytest.raises(InvalidPricesError, match="duplicated timestamp"):
        compute_targets(series({"2021-01-04": 1.0}).pipe(lambda f: pd.concat([f, f])))
    with pytest.raises(ValueError, match="horizon_days"):
        compute_targets(series({"2021-01-04": 1.0}), horizon_days=0)
    with pytest.raises(InvalidPricesError, match="data_end must be timezone-aware"):
        compute_targets(series({"2021-01-04": 1.0}), data_end=pd.Timestamp("2021-05-01"))


# --- against a brute force, on random calendars -------------------------------------------------


def brute_force(frame: pd.DataFrame, horizon: int, gap: int) -> pd.DataFrame:
    rows = []
    for _symbol, group in frame.sort_values(["asset_symbol", "timestamp"]).groupby("asset_symbol", sort=False):
        stamps, closes = list(group["timestamp"]), list(group["price_close"])
        for stamp, close in zip(stamps, closes, strict=True):
            h = stamp + pd.Timedelta(days=horizon)
            before = [i for i, s in enumerate(stamps) if s <= h]
            i = before[-1]
            if h - stamps[i] <= pd.Timedelta(days=gap) and stamps[-1] >= h:
                rows.append((stamps[i], closes[i], math.log(closes[i] / close)))
            else:
                rows.append((pd.NaT, math.nan, math.nan))
    return pd.DataFrame(rows, columns=["target_timestamp", "price", "log_return"])


calendars = st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(steps_a=calendars, steps_b=calendars, horizon=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_matches_a_brute_force(steps_a, steps_b, horizon, seed):
    rng = np.random.default_rng(seed)
    frames = []
    for symbol, steps in (("A", steps_a), ("B", steps_b)):
        stamps = utc("2020-01-01") + pd.to_timedelta(np.cumsum(steps), unit="D")
        frames.append(
            pd.DataFrame({"asset_symbol": symbol, "timestamp": stamps, "price_close": rng.uniform(1, 100, len(steps))})
        )
    frame = pd.concat(frames, ignore_index=True)
    out = compute_targets(frame, horizon_days=horizon)
    expected = brute_force(frame, horizon, 7)
    assert out["target_timestamp"].tolist() == expected["target_timestamp"].tolist()
    np.testing.assert_array_equal(out[f"target_price_{horizon}d"], expected["price"])
    # numpy's vectorised log and math.log may differ in the last ulp
    np.testing.assert_allclose(out[f"target_return_{horizon}d"], expected["log_return"], rtol=1e-15, atol=1e-300)


# --- look-ahead boundary ------------------------------------------------------------------------

FRAME = pd.concat(
    [
        price_frames.synthetic("BTC-USD", "crypto", 300, seed=1),
        price_frames.synthetic("GOOG", "equity", 300, seed=2),
    ],
    ignore_index=True,
)
BASE = compute_targets(FRAME)


@settings(max_examples=60, deadline=None)
@given(
    asset=st.sampled_from(["BTC-USD", "GOOG"]),
    position=st.integers(0, 299),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_target_changes_only_through_prices_in_its_horizon(asset, position, seed):
    """Perturbing every close outside (t, t + 90 days] (t's own close aside) leaves t's target price unchanged."""
    rng = np.random.default_rng(seed)
    mine = FRAME["asset_symbol"] == asset
    t = FRAME.loc[mine, "timestamp"].iloc[position]
    inside = mine & (FRAME["timestamp"] > t) & (FRAME["timestamp"] <= t + pd.Timedelta(days=90))
    outside = ~inside & ~(mine & (FRAME["timestamp"] == t))
    perturbed = FRAME.copy()
    perturbed.loc[outside, "price_close"] *= rng.uniform(0.5, 2.0, int(outside.sum()))
    out = compute_targets(perturbed)
    here = (BASE["asset_symbol"] == asset) & (BASE["timestamp"] == t)
    pd.testing.assert_frame_equal(out[here], BASE[here], check_exact=True)

    # the close at t moves the returns, not the target; a close inside the horizon can move the target
    perturbed = FRAME.copy()
    perturbed.loc[mine & (FRAME["timestamp"] == t), "price_close"] *= 1.5
    moved = compute_targets(perturbed)[here].iloc[0]
    before = BASE[here].iloc[0]
    same_stamp = moved["target_timestamp"] == before["target_timestamp"]
    assert same_stamp or (pd.isna(moved["target_timestamp"]) and pd.isna(before["target_timestamp"]))
    if not pd.isna(before["target_timestamp"]):
        assert moved["target_price_90d"] == before["target_price_90d"]
        assert moved["target_return_90d"] == pytest.approx(before["target_return_90d"] - math.log(1.5), abs=1e-12)
        perturbed = FRAME.copy()
        perturbed.loc[mine & (FRAME["timestamp"] == before["target_timestamp"]), "price_close"] *= 2.0
        assert compute_targets(perturbed)[here].iloc[0]["target_price_90d"] == 2.0 * before["target_price_90d"]
