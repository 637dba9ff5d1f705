"""CoinGecko market_chart parser."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources import coingecko
from portfolio_assets.sources.coingecko import parse_market_chart

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
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


def test_empty_arrays_are_valid() -> None:
    frame = parse_market_chart('{"prices":[],"market_caps":[],"total_volumes":[]}')
    assert frame.empty
    assert_schema(frame)


def _with(**changes: object) -> str:
    data = json.loads(BODY)
    data.update(changes)
    return json.dumps(data)


MALFORMED = {
    "html": ("<html>error code: 1015</html>", r"not JSON"),
    "truncated": (BODY[: len(BODY) // 2], r"truncated JSON"),
    "missing array": ('{"prices":[],"market_caps":[]}', r"no 'total_volumes' key"),
    "array not list": (_with(prices={}), r"'prices' is a dict, expected a list"),
    "point not pair": (_with(prices=[[1367107200000]]), r"prices\[0\]: expected \[ms, value\]"),
    "point not list": (_with(prices=[{"t": 1}]), r"prices\[0\]: expected \[ms, value\]"),
    "text timestamp": (_with(prices=[["1367107200000", 1.0]]), r"prices\[0\]: timestamp is not a number"),
    "fractional ms": (_with(prices=[[1367107200000.5, 1.0]]), r"prices\[0\]: timestamp is not whole milliseconds"),
    "text value": (_with(total_volumes=[[1367107200000, "lots"]]), r"total_volumes\[0\]: not a number: 'lots'"),
    "zero price": (_with(prices=[[1367107200000, 0]]), r"prices\[0\]: implausible value 0.0"),
    "negative cap": (_with(market_caps=[[1367107200000, -1]]), r"market_caps\[0\]: implausible value -1.0"),
    "duplicate timestamp": (
        _with(prices=[[1367107200000, 1.0], [1367107200000, 2.0]]),
        r"prices: duplicate timestamp 1367107200000 \(2013-04-28T00:00:00\+00:00\)",
    ),
}


@pytest.mark.parametrize("body, match", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_raise(body: str, match: str) -> None:
    with pytest.raises(SourceError, match=match) as info:
        parse_market_chart(body, where="id=bitcoin,vs_currency=usd/20130301T000000Z.json")
    assert str(info.value).startswith("coingecko [id=bitcoin,vs_currency=usd/20130301T000000Z.json]: ")
    assert info.value.source == coingecko.SOURCE == "coingecko"


@pytest.mark.parametrize(
    "fixture, match",
    [
        ("coingecko_rate_limit.json", r"^coingecko: rate limited \(429\): .*exceeded the Rate Limit"),
        ("coingecko_not_found.json", r"^coingecko: API error: 'coin not found'$"),
    ],
)
def test_error_bodies(fixture: str, match: str) -> None:
    with pytest.raises(SourceError, match=match):
        parse_market_chart((FIXTURES / fixture).read_bytes())


def test_other_status_error_and_key_redaction() -> None:
    body = {"status": {"error_code": 10002, "error_message": "Invalid key x_cg_demo_api_key=CG-abcdefghijk12345"}}
    with pytest.raises(SourceError, match=r"^coingecko: API error \(10002\): ") as info:
        parse_market_chart(json.dumps(body))
    assert "CG-abcdefghijk12345" not in str(info.value)
