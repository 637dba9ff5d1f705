"""feature_distribution walks its assets as slices of the sorted frame: the same assets, rows and order as
``groupby("asset_symbol", sort=True)``, a null symbol's rows left out as groupby leaves them out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets import checks
from portfolio_assets.checks.distribution import _asset_slices


def test_slices_are_the_groups_of_the_sorted_frame():
    frame = pd.DataFrame({"asset_symbol": ["B", "A", None, "B", "C", np.nan, "A"], "v": range(7)})
    frame = frame.sort_values("asset_symbol", kind="stable").reset_index(drop=True)
    slices = _asset_slices(frame)
    groups = frame.groupby("asset_symbol", sort=True).indices
    assert [s for s, _ in slices] == list(groups) == ["A", "B", "C"]
    for symbol, rows in slices:
        assert list(range(len(frame))[rows]) == list(groups[symbol])
    assert _asset_slices(frame.iloc[:0]) == []


def test_a_null_symbol_is_not_an_asset_and_the_others_are_flagged():
    days = pd.date_range("2020-01-01", periods=40, freq="D", tz="UTC")
    close = np.linspace(100.0, 110.0, 40)
    spiked = close.copy()
    spiked[20] *= 3.0  # a bad tick: up, then straight back
    frame = pd.DataFrame(
        {
            "asset_symbol": ["X"] * 40 + ["Y"] * 40 + [None] * 40,
            "asset_class": "crypto",
            "timestamp": list(days) * 3,
            "price_close": np.r_[close, spiked, spiked],
        }
    )
    outcome = checks.feature_distribution(frame)
    assert list(outcome.metadata["per_asset"]) == ["X", "Y"]
    assert outcome.failures["asset_symbol"].tolist() == ["Y"]
    assert outcome.failures["timestamp"].tolist() == [days[20]]
    assert outcome.failures["kind"].tolist() == ["bad_tick"]
