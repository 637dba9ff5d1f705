"""alternative.me Fear & Greed parser."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources import fear_greed
from portfolio_assets.sources.fear_greed import parse_fng

DTYPES = {"timestamp": "datetime64[ns, UTC]", "value": "float64", "value_classification": "object"}

BODY = (
    '{"name":"Fear and Greed Index","data":['
    '{"value":"40","value_classification":"Fear","timestamp":"1551157200","time_until_update":"68499"},'
    '{"value":"47","value_classification":"Neutral","timestamp":"1551070800"},'
    '{"value":"8","value_classification":"Extreme Fear","timestamp":"1550984400"}],'
    '"metadata":{"error":null}}'
)


def test_fng_oldest_first() -> None:
    frame = parse_fng(BODY.encode())
    assert list(frame.columns) == list(DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES
    assert list(frame["timestamp"]) == [
        pd.Timestamp("2019-02-24 05:00", tz="UTC"),
        pd.Timestamp("2019-02-25 05:00", tz="UTC"),
        pd.Timestamp("2019-02-26 05:00", tz="UTC"),
    ]
    assert frame["value"].tolist() == [8.0, 47.0, 40.0]
    assert frame["value_classification"].tolist() == ["Extreme Fear", "Neutral", "Fear"]


def test_missing_metadata_and_empty_data_are_valid() -> None:
    frame = parse_fng('{"name":"Fear and Greed Index","data":[]}')
    assert frame.empty
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES


def _item(**item: object) -> str:
    base = {"value": "40", "value_classification": "Fear", "timestamp": "1551157200"}
    base.update(item)
    return json.dumps({"data": [{k: v for k, v in base.items() if v is not None}], "metadata": {"error": None}})


MALFORMED = {
    "api error": (
        '{"name":"Fear and Greed Index","data":[],"metadata":{"error":"Invalid limit parameter"}}',
        r"API error: 'Invalid limit parameter'",
    ),
    "truncated": (BODY[: len(BODY) // 2], r"truncated JSON"),
    "no data": ('{"name":"Fear and Greed Index","metadata":{"error":null}}', r"no 'data' key"),
    "item not object": ('{"data":[40]}', r"data\[0\]: expected an object"),
    "missing value": (_item(value=None), r"data\[0\]: missing 'value'"),
    "missing timestamp": (_item(timestamp=None), r"data\[0\]: missing 'timestamp'"),
    "text value": (_item(value="high"), r"data\[0\]: not a number: 'high'"),
    "value over 100": (_item(value="101"), r"data\[0\]: value 101.0 outside 0..100"),
    "negative value": (_item(value="-1"), r"data\[0\]: value -1.0 outside 0..100"),
    "date timestamp": (_item(timestamp="26-02-2019"), r"data\[0\]: timestamp is not Unix seconds: '26-02-2019'"),
    "empty classification": (_item(value_classification=" "), r"data\[0\]: bad value_classification"),
    "duplicate timestamp": (
        '{"data":[{"value":"1","value_classification":"Extreme Fear","timestamp":"1551157200"},'
        '{"value":"2","value_classification":"Extreme Fear","timestamp":"1551157200"}]}',
        r"duplicate timestamp 2019-02-26T05:00:00\+00:00",
    ),
}


@pytest.mark.parametrize("body, match", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_raise(body: str, match: str) -> None:
    with pytest.raises(SourceError, match=match) as info:
        parse_fng(body, where="limit=0/20130301T000000Z.json")
    assert str(info.value).startswith("alternative_me [limit=0/20130301T000000Z.json]: ")
    assert info.value.source == fear_greed.SOURCE == "alternative_me"
