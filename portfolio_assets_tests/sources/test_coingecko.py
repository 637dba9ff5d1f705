"""CoinGecko market_chart parser.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from portfolio_assets.sources.coingecko import parse_market_chart

DTYPES = {"timestamp": "datetime64[ns, UTC]", "price": "float64", "market_cap": "float64", "total_volume": "float64"}

# 2013-04-28 .. 2013-04-30 00:00 UTC, plus a last intraday point as CoinGecko returns for "today".
BODY = (
    '{"prices":[[1367107200000,135.3],[1367193600000,141.96],[1367280000000,135.3],[1367310123456,139.25]],'
    '"market_caps":[[1367107200000,1500517590.0],[1367193600000,1575032004.0],[1367280000000,1501657493.0]],'
    '"total_volumes":[[1367193600000,0.0],[1367280000000,0]]}'
)


def assert_schema(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES
    assert frame["timestamp"].is_monotonic_increasing and frame["timestamp"].is_unique


def test_market_chart_outer_join() -> None:
    frame = parse_market_chart(BODY.encode())
    assert_schema(frame)
    assert list(frame["timestamp"]) == [
        pd.Timestamp("2013-04-28", tz="UTC"),
        pd.Timestamp("2013-04-29", tz="UTC"),
        pd.Timestamp("2013-04-30", tz="UTC"),
        pd.Timestamp("2013-04-30 08:22:03.456", tz="UTC"),
    ]
    assert frame["timestamp"].iloc[-1].value == 1367310123456 * 1_000_000  # exact to the nanosecond
    assert frame["price"].tolist() == [135.3, 141.96, 135.3, 139.25]
    assert frame["market_cap"].tolist()[:3] == [1500517590.0, 1575032004.0, 1501657493.0]
    assert math.isnan(frame["market_cap"].iloc[3])
    assert math.isnan(frame["total_volume"].iloc[0])
    assert frame["total_volume"].tolist()[1:3] == [0.0, 0.0]


def test_unsorted_arrays_are_sorted_and_null_is_missing() -> None:
    body = json.dumps({"prices": [[86400000, 2.0], [0, 1.0]], "market_caps": [[0, None]], "total_volumes": []})
    frame = parse_market_chart(body)
    assert frame["price"].tolist() == [1.0, 2.0]
    assert list(frame["timestamp"]) == [pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("1970-01-02", tz="UTC")]
    assert frame["market_cap"].isna().all()
