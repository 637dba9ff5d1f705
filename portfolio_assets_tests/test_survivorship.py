"""Survivorship: an asset that stopped trading (``last_trading_day``) keeps its rows up to that day; the gap
check does not flag its end, and a target whose horizon passes it is missing, with a stated reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from portfolio_assets import checks, fpmath
from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.assets.sentiment import sentiment_frame
from portfolio_assets.assets.sft_rows import held_rows
from portfolio_assets.features import compute_targets
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.universe import DEFAULT_UNIVERSE

END = "2010-05-14"  # a Friday
LAST = {"GOOG": pd.Timestamp(END, tz="UTC")}
TARGETS = ["target_timestamp", "target_price_90d", "target_return_90d", "target_return_pct_90d"]


def utc(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def weekdays(symbol: str, first: str, last: str) -> pd.DataFrame:
    days = pd.bdate_range(first, last, tz="UTC")
    return pd.DataFrame({"asset_symbol": symbol, "timestamp": days, "price_close": np.arange(1.0, len(days) + 1)})


@pytest.fixture(scope="module")
def ended_universe(tmp_path_factory) -> str:
    """The packaged universe with GOOG's last trading day set to END."""
    data = yaml.safe_load(DEFAULT_UNIVERSE.read_text())
    next(a for a in data["assets"] if a["symbol"] == "GOOG")["last_trading_day"] = END
    path = tmp_path_factory.mktemp("universe") / "universe.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


# --------------------------------------------------------------------------- temporal_gaps


def test_the_days_after_the_last_trading_day_are_not_a_gap():
    frame = weekdays("GOOG", "2010-05-03", END)
    cal = {"GOOG": "weekdays"}
    window = {"window_start": utc("2010-05-01"), "window_end": utc("2010-06-30")}
    # Without the rule, the stretch after the end is an open gap.
    unaware = checks.temporal_gaps(frame, calendars=cal, **window)
    assert unaware.summary == "GOOG: 1 gap of 33 days (2010-05-17..2010-06-30) exceeds 7"
    outcome = checks.temporal_gaps(frame, calendars=cal, last_trading_days=LAST, **window)
    assert outcome.passed, outcome.summary
    assert outcome.metadata["last_trading_days"] == {"GOOG": END}
    assert outcome.metadata["longest_gap_days"] == {"GOOG": 0}


def test_an_asset_that_stopped_trading_before_the_window_is_not_missing():
    others = weekdays("IXIC", "2010-06-01", "2010-06-30")
    cal = {"GOOG": "weekdays", "IXIC": "weekdays"}
    window = {"window_start": utc("2010-06-01"), "window_end": utc("2010-06-30")}
    unaware = checks.temporal_gaps(others, calendars=cal, **window)
    assert unaware.metadata["assets_without_observations"] == ["GOOG"] and not unaware.passed
    outcome = checks.temporal_gaps(others, calendars=cal, last_trading_days=LAST, **window)
    assert outcome.passed, outcome.summary
    assert outcome.metadata["assets_without_observations"] == []
    # Its last observation in ``previous`` is no open gap either.
    previous = weekdays("GOOG", "2010-05-10", END)
    assert checks.temporal_gaps(others, calendars=cal, previous=previous, last_trading_days=LAST, **window).passed


def test_data_that_stops_before_the_last_trading_day_is_still_a_gap():
    frame = weekdays("GOOG", "2010-04-01", "2010-04-30")
    outcome = checks.temporal_gaps(
        frame, calendars={"GOOG": "weekdays"}, window_end=utc("2010-06-30"), last_trading_days=LAST
    )
    assert outcome.summary == "GOOG: 1 gap of 10 days (2010-05-03..2010-05-14) exceeds 7"
    assert outcome.failures.iloc[0]["reason"] == (
        "10 missing weekdays from 2010-05-03 to 2010-05-14 (open: none through its last trading day 2010-05-14)"
    )
    # So is an asset without any observation in a window it still traded in, up to its last trading day.
    absent = checks.temporal_gaps(
        weekdays("IXIC", "2010-05-03", "2010-06-30"),
        calendars={"GOOG": "weekdays", "IXIC": "weekdays"},
        window_start=utc("2010-05-01"),
        window_end=utc("2010-06-30"),
        last_trading_days=LAST,
    )
    assert absent.summary == "GOOG: 1 gap of 10 days (2010-05-03..2010-05-14) exceeds 7"


# --------------------------------------------------------------------------- targets


def test_a_target_whose_horizon_passes_the_last_trading_day_is_missing():
    prices = pd.concat([weekdays("GOOG", "2010-01-04", END), weekdays("IXIC", "2010-01-04", "2010-08-31")])
    data_end = utc("2010-08-31")
    unaware = compute_targets(prices, horizon_days=90, data_end=data_end).set_index(["asset_symbol", "timestamp"])
    out = compute_targets(prices, horizon_days=90, data_end=data_end, last_trading_days=LAST)
    out = out.set_index(["asset_symbol", "timestamp"])
    goog = out.loc["GOOG"]
    # 2010-02-12 + 90 days = 2010-05-13 and 2010-02-13 + 90 = 2010-05-14: labelled; from 2010-02-15 (-> 05-16) none.
    labelled = goog.index <= utc("2010-02-12")
    assert goog.loc[labelled, TARGETS].notna().all().all()
    assert goog.loc[~labelled, TARGETS].isna().all().all() and (~labelled).sum() == 65
    assert goog.loc[utc("2010-02-12"), "target_timestamp"] == utc("2010-05-13")
    # Without the rule the horizon just past the end takes the last close before delisting.
    assert unaware.loc[("GOOG", utc("2010-02-15")), "target_timestamp"] == utc(END)
    # Other assets are untouched.
    pd.testing.assert_frame_equal(out.loc[["IXIC"]], unaware.loc[["IXIC"]])
    pd.testing.assert_frame_equal(out.loc[["GOOG"]][labelled], unaware.loc[["GOOG"]][labelled])


def test_target_coverage_accepts_no_target_past_the_end_and_refuses_one():
    rows = weekdays("GOOG", "2010-02-10", "2010-02-16")
    rows["target_timestamp"] = rows["timestamp"] + pd.Timedelta(days=88)
    rows["target_price_90d"] = rows["price_close"] * 2
    rows["target_return_90d"] = fpmath.log(2.0)
    rows["target_return_pct_90d"] = 100.0
    ended = rows["timestamp"] >= utc("2010-02-15")
    assert ended.sum() == 2
    clean = rows.copy()
    clean.loc[ended, TARGETS] = np.nan
    clean["target_timestamp"] = clean["target_timestamp"].where(~ended)
    assert not checks.target_coverage(clean).passed  # without the rule they lack a target
    outcome = checks.target_coverage(clean, last_trading_days=LAST)
    assert outcome.passed, outcome.summary
    assert outcome.metadata["rows_past_last_trading_day"] == {"GOOG": 2}
    assert "3 labelled rows" in outcome.summary and "2 rows whose horizon passes" in outcome.summary
    stale = checks.target_coverage(rows, last_trading_days=LAST)
    assert not stale.passed
    assert set(stale.failures["reason"]) == {"set past the asset's last trading day"}
    assert set(stale.failures["timestamp"]) == {utc("2010-02-15"), utc("2010-02-16")}


def test_no_target_reasons_name_the_asset_its_last_trading_day_and_the_horizon():
    rows = pd.concat([weekdays("GOOG", "2010-02-12", "2010-02-15"), weekdays("IXIC", "2010-02-15", "2010-02-15")])
    reasons = checks.no_target_reasons(rows.reset_index(drop=True), LAST)
    assert reasons.isna().tolist() == [True, False, True]
    assert reasons[1] == (
        "no target: the 90-day horizon 2010-05-16 passes GOOG's last trading day 2010-05-14 "
        "(the asset stopped trading; survivorship policy)"
    )
    assert checks.no_target_reasons(rows, {}).isna().all()


def test_the_quarantine_holds_no_target_rows_once_with_their_reason():
    rows = weekdays("GOOG", "2010-02-11", "2010-02-16").reset_index(drop=True)
    invalid = rows.iloc[[0]].assign(validation_status="invalid", validation_error="rsi_14=130.0 outside 0..100")
    no_target = checks.no_target_reasons(rows, LAST)
    suspect = pd.Series([None, "suspect move", None, "suspect move"], dtype="object")
    held = held_rows(rows, invalid, suspect, no_target)
    assert list(held["validation_status"]) == ["invalid", "suspect_move", "no_target", "no_target"]
    assert held["validation_error"].iloc[2].startswith("no target: the 90-day horizon 2010-05-16 passes GOOG's")
    # The gate as before: without a no_target series nothing changes.
    assert list(held_rows(rows, invalid, suspect)["validation_status"]) == ["invalid", "suspect_move", "suspect_move"]


# --------------------------------------------------------------------------- prices and sentiment end there


def test_prices_and_sentiment_stop_at_the_last_trading_day(ended_universe):
    landing = LandingZoneResource(universe_file=ended_universe)
    prices = canonical_prices(landing)
    full = canonical_prices(LandingZoneResource())
    goog, full_goog = (frame[frame["asset_symbol"] == "GOOG"] for frame in (prices, full))
    assert full_goog["timestamp"].max() > utc("2011-01-01")
    # Its history up to the end stays, row for row; nothing after it.
    pd.testing.assert_frame_equal(goog, full_goog[full_goog["timestamp"] <= utc(END)])
    pd.testing.assert_frame_equal(
        prices[prices["asset_symbol"] != "GOOG"].reset_index(drop=True),
        full[full["asset_symbol"] != "GOOG"].reset_index(drop=True),
    )
    days = pd.date_range("2010-05-10", "2010-05-20", tz="UTC")
    sentiment = sentiment_frame(landing, days)
    assert sentiment[sentiment["asset_symbol"] == "GOOG"]["timestamp"].max() == utc(END)
    assert (sentiment.groupby("asset_symbol").size().drop("GOOG") == len(days)).all()
