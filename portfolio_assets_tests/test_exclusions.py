"""An asset a failed source left out of any prices partition of indicators' lookback is left out of indicators."""

from __future__ import annotations

import pandas as pd

from portfolio_assets.assets.benchmarks import benchmark_frame
from portfolio_assets.assets.indicators import indicators
from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.runner import materialize_range
from portfolio_assets_tests.resources import make_resources
from portfolio_assets_tests.sample_frames import month_keys

FIRST, LAST = "2010-03-01", "2010-03-31"
HOLE = "2009-06-01"  # the month TLT's source failed, long before the run but inside its lookback


def test_a_hole_in_the_lookback_leaves_the_asset_out_of_indicators(tmp_path, instance):
    store = PartitionStore(tmp_path)
    landing = LandingZoneResource()
    start, end = pd.Timestamp("2008-01-01", tz="UTC"), pd.Timestamp(LAST, tz="UTC")
    prices = canonical_prices(landing)
    prices = prices[(prices["timestamp"] >= start) & (prices["timestamp"] <= end)]
    monthly = {"granularity": "monthly"}
    store.write(["prices"], prices, month_keys(start, end), **monthly)
    bench = benchmark_frame(landing)
    store.write(
        ["benchmarks"],
        bench[(bench["timestamp"] >= start) & (bench["timestamp"] <= end)],
        month_keys(start, end),
        **monthly,
    )
    days = prices["timestamp"].dt.strftime("%Y-%m-01") == HOLE
    why = "alphavantage [function=TIME_SERIES_DAILY,symbol=TLT]: Invalid API call (failed at 2026-12-01T00:00:00Z)"
    store.write(["prices"], prices[days & (prices["asset_symbol"] != "TLT")], [HOLE], excluded={"TLT": why}, **monthly)

    result = materialize_range([indicators], FIRST, FIRST, resources=make_resources(tmp_path), instance=instance)
    assert result.success
    rows = store.read(["indicators"], [FIRST])
    assert "TLT" not in set(rows["asset_symbol"]) and {"GOOG", "BTC-USD"} <= set(rows["asset_symbol"])
    assert result.asset_materializations_for_node("indicators")[-1].metadata["excluded_assets"].value == {"TLT": why}
    assert store.exclusions(["indicators"], [FIRST]) == {"TLT": why}  # the gate reads it from the commit
