"""The gate's rows per asset on Spark when an input repeats a key (the join then adds rows): every row keeps
its own context window, on either engine, and both give the same rows."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from portfolio_assets.assets.sft_rows import join_features, sft_rows_of
from portfolio_assets.assets.windows import in_window
from portfolio_assets.engine import EngineResource
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets_tests.sample_frames import group_frames

FIRST, LAST = "2011-03-01", "2011-03-31"


@pytest.fixture(scope="module")
def inputs() -> dict[str, object]:
    groups = group_frames(FIRST, LAST, prices_from="2010-10-01", prices_to="2011-06-30")
    indicators = groups["indicators"]
    repeated = indicators[(indicators["asset_symbol"] == "GOOG") & (indicators["timestamp"].dt.day == 15)]
    groups["indicators"] = pd.concat([indicators, repeated], ignore_index=True)  # one key twice
    first, last = pd.Timestamp(FIRST, tz="UTC"), pd.Timestamp(LAST, tz="UTC")
    prices = groups["prices"]
    joined = join_features(
        in_window(prices, first, last), groups["indicators"], groups["macro"], groups["sentiment"], groups["targets"]
    )
    assert len(joined) == len(in_window(prices, first, last)) + 1  # the join added a row
    shared = {"context_window": 30, "first": first, "last": last, "universe": LandingZoneResource().universe()}
    return {"prices": prices, "joined": joined, "shared": shared}


def _own_windows_hold(rows: pd.DataFrame, prices: pd.DataFrame) -> None:
    closes = prices.set_index(["asset_symbol", "timestamp"])["price_close"]
    for row in rows.itertuples():
        last_close = closes[(row.asset_symbol, row.timestamp)]
        assert f"{last_close:.6g}"[:4] in row.context_window.split(",")[-1], (row.asset_symbol, row.timestamp)


def test_each_row_keeps_its_own_context_window_in_process(inputs):
    rows = sft_rows_of(inputs["prices"], inputs["joined"], **inputs["shared"])
    assert len(rows) == len(inputs["joined"])
    _own_windows_hold(rows, inputs["prices"])


def test_spark_gives_the_same_rows(inputs, spark):
    frames = {"prices": inputs["prices"], "joined": inputs["joined"]}
    here = EngineResource().by_asset(sft_rows_of, frames, shared=inputs["shared"], order=("timestamp", "asset_symbol"))
    there = EngineResource(master_url="local[2]").by_asset(
        sft_rows_of, frames, shared=inputs["shared"], order=("timestamp", "asset_symbol")
    )
    pdt.assert_frame_equal(there, here, check_exact=True)
