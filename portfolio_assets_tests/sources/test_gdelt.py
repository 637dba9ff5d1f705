"""GDELT DOC 2.0 timeline parser."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources import gdelt
from portfolio_assets.sources.gdelt import parse_timeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DTYPES = {"timestamp": "datetime64[ns, UTC]", "value": "float64", "norm": "float64"}

TONE = (
    '{"query_details":{"title":"bitcoin OR BTC","date_resolution":"day"},"timeline":[{"series":"Average Tone",'
    '"data":[{"date":"20080102T000000Z","value":0.5123},{"date":"20080101T000000Z","value":-1.2345}]}]}'
)
VOLRAW = (
    '{"query_details":{"title":"Nasdaq","date_resolution":"day"},"timeline":[{"series":"Article Count",'
    '"data":[{"date":"20080101T000000Z","value":123,"norm":45678},{"date":"20080102T000000Z","value":0,"norm":50001}]}]}'
)


def assert_schema(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES
    assert frame["timestamp"].is_monotonic_increasing and frame["timestamp"].is_unique


def test_timelinetone() -> None:
    frame = parse_timeline(TONE.encode())
    assert_schema(frame)
    assert list(frame["timestamp"]) == [pd.Timestamp("2008-01-01", tz="UTC"), pd.Timestamp("2008-01-02", tz="UTC")]
    assert frame["value"].tolist() == [-1.2345, 0.5123]
    assert frame["norm"].isna().all()


def test_timelinevolraw() -> None:
    frame = parse_timeline(VOLRAW)
    assert_schema(frame)
    assert frame["value"].tolist() == [123.0, 0.0]
    assert frame["norm"].tolist() == [45678.0, 50001.0]


def test_sub_daily_resolution_keeps_the_time() -> None:
    body = '{"timeline":[{"series":"Average Tone","data":[{"date":"20130228T151500Z","value":1}]}]}'
    assert parse_timeline(body)["timestamp"].tolist() == [pd.Timestamp("2013-02-28 15:15", tz="UTC")]


@pytest.mark.parametrize(
    "body",
    [
        '{"query_details":{"title":"x","date_resolution":"day"},"timeline":[]}',
        '{"timeline":[{"series":"Average Tone","data":[]}]}',
    ],
    ids=["no series", "no points"],
)
def test_empty_timeline_is_valid(body: str) -> None:
    frame = parse_timeline(body)
    assert frame.empty
    assert_schema(frame)
    assert math.isnan(frame["value"].sum()) is False


def _items(*items: object) -> str:
    return json.dumps({"timeline": [{"series": "Article Count", "data": list(items)}]})


MALFORMED = {
    "empty": ("   \n", r"empty body"),
    "truncated": (VOLRAW[: len(VOLRAW) // 2], r"truncated JSON"),
    "no timeline": ('{"query_details":{}}', r"no 'timeline' key"),
    "timeline not list": ('{"timeline":{}}', r"'timeline' is a dict, expected a list"),
    "two series": (
        '{"timeline":[{"series":"A","data":[]},{"series":"B","data":[]}]}',
        r"expected one timeline series, got 2",
    ),
    "series not object": ('{"timeline":[[]]}', r"timeline series is a list"),
    "no data": ('{"timeline":[{"series":"Average Tone"}]}', r"no 'data' key"),
    "item not object": (_items(["20080101T000000Z", 1]), r"'Article Count' item 0: expected an object"),
    "missing value": (_items({"date": "20080101T000000Z"}), r"'Article Count' item 0: missing 'value'"),
    "missing date": (_items({"value": 1}), r"'Article Count' item 0: missing 'date'"),
    "null value": (_items({"date": "20080101T000000Z", "value": None}), r"item 0 \('20080101T000000Z'\): not a number"),
    "text value": (
        _items({"date": "20080101T000000Z", "value": "lots"}),
        r"item 0 \('20080101T000000Z'\): not a number: 'lots'",
    ),
    "bad norm": (_items({"date": "20080101T000000Z", "value": 1, "norm": True}), r"item 0 .*not a number: 'True'"),
    "bad date": (_items({"date": "2008-01-01", "value": 1}), r"unparsable date '2008-01-01'"),
    "duplicate date": (
        _items({"date": "20080101T000000Z", "value": 1}, {"date": "20080101T000000Z", "value": 2}),
        r"'Article Count': duplicate date 2008-01-01T00:00:00Z",
    ),
}


@pytest.mark.parametrize("body, match", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_raise(body: str, match: str) -> None:
    with pytest.raises(SourceError, match=match) as info:
        parse_timeline(body, where="mode=timelinevolraw,query=Nasdaq/20130301T000000Z.json")
    assert str(info.value).startswith("gdelt [mode=timelinevolraw,query=Nasdaq/20130301T000000Z.json]: ")
    assert info.value.source == gdelt.SOURCE == "gdelt"


@pytest.mark.parametrize(
    "fixture, match",
    [
        (
            "gdelt_error.txt",
            r"^gdelt: API error \(plain-text answer\): 'Your search contained a keyword that was too short\.'$",
        ),
        ("gdelt_error_or.txt", r"^gdelt: API error \(plain-text answer\): .*OR'd terms must be surrounded by \(\)"),
        (
            "gdelt_rate_limit.txt",
            r"^gdelt: rate limited \(plain-text answer\): 'Please limit requests to one every 5 seconds",
        ),
    ],
)
def test_plain_text_error_bodies(fixture: str, match: str) -> None:
    with pytest.raises(SourceError, match=match):
        parse_timeline((FIXTURES / fixture).read_bytes())


def test_plain_text_error_quotes_only_the_first_line() -> None:
    with pytest.raises(SourceError) as info:
        parse_timeline(b"Invalid query.\nSecond line with details\n")
    assert "Invalid query." in str(info.value)
    assert "Second line" not in str(info.value)
