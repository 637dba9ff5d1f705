"""join_features joins each input to the keys alone and puts the columns side by side: the frame the chain of
left merges gave, also where an input repeats a key (rows multiply) or a key is null."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.assets.sft_rows import join_features
from portfolio_assets.assets.windows import in_window
from portfolio_assets.columns import (
    AVAILABLE_AT,
    CROSS_ASSET_AVAILABILITY,
    DECISION_TIME,
    INDICATOR_COLUMNS,
    MACRO_AVAILABILITY,
    MACRO_COLUMNS,
    PRICE_COLUMNS,
    SENTIMENT_AVAILABILITY,
    TARGET_COLUMNS,
)
from portfolio_assets.features.adjustment import ADJUSTMENT_COLUMNS
from portfolio_assets.features.registry import SENTIMENT_FIELDS
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets_tests.sample_frames import group_frames

FIRST, LAST = pd.Timestamp("2010-04-01", tz="UTC"), pd.Timestamp("2010-05-31", tz="UTC")
KEYS = ["asset_symbol", "timestamp"]


def chained(
    prices: pd.DataFrame,
    indicators: pd.DataFrame,
    macro: pd.DataFrame,
    sentiment: pd.DataFrame,
    targets: pd.DataFrame,
) -> pd.DataFrame:
    """The join as written before: one left merge after the other."""
    own = prices[[c for c in PRICE_COLUMNS if c not in ("source", *ADJUSTMENT_COLUMNS)]]
    own = own.rename(columns={AVAILABLE_AT: DECISION_TIME})
    joined = own.merge(
        indicators[[*KEYS, *INDICATOR_COLUMNS, AVAILABLE_AT, *CROSS_ASSET_AVAILABILITY]], on=KEYS, how="left"
    )
    joined = joined.merge(sentiment[[*KEYS, *SENTIMENT_FIELDS, *SENTIMENT_AVAILABILITY]], on=KEYS, how="left")
    joined = joined.merge(
        macro[["timestamp", DECISION_TIME, *MACRO_COLUMNS, *MACRO_AVAILABILITY]],
        on=["timestamp", DECISION_TIME],
        how="left",
    )
    return joined.merge(targets[[*KEYS, *TARGET_COLUMNS]], on=KEYS, how="left")


@pytest.fixture(scope="module")
def inputs() -> dict[str, pd.DataFrame]:
    groups = group_frames(f"{FIRST:%Y-%m-%d}", f"{LAST:%Y-%m-%d}")
    prices = in_window(canonical_prices(LandingZoneResource(root=str(SAMPLE_LANDING_ROOT))), FIRST, LAST)
    return {"prices": prices, **{k: groups[k] for k in ("indicators", "macro", "sentiment", "targets")}}


def test_join_is_the_chain_of_merges(inputs: dict[str, pd.DataFrame]) -> None:
    frames = dict(inputs)
    frames["prices"] = frames["prices"].set_axis(range(7, 7 + len(frames["prices"])))  # any index
    joined = join_features(**frames)
    assert len(joined) == len(frames["prices"]) and joined["rsi_14"].notna().any()
    pdt.assert_frame_equal(joined, chained(**frames), check_exact=True)
    assert isinstance(joined.index, pd.RangeIndex)


def test_a_repeated_or_null_key_joins_as_the_merges_do(inputs: dict[str, pd.DataFrame]) -> None:
    frames = dict(inputs)
    frames["indicators"] = pd.concat([frames["indicators"], frames["indicators"].iloc[:3]], ignore_index=True)
    sentiment = frames["sentiment"].copy()
    sentiment.loc[:4, "asset_symbol"] = None
    frames["sentiment"] = sentiment
    joined = join_features(**frames)
    assert len(joined) == len(frames["prices"]) + 3
    pdt.assert_frame_equal(joined, chained(**frames), check_exact=True)
