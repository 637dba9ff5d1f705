"""GDELT DOC 2.0 timeline parser.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources.gdelt import parse_timeline

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


def test_daily_resolution_requires_midnight_stamps() -> None:
    """Only a response that declares ``date_resolution: day`` must be stamped at 00:00:00."""
    points = '"data":[{"date":"20130228T151500Z","value":1}]'
    hourly = '{"query_details":{"date_resolution":"hour"},"timeline":[{"series":"Average Tone",' + points + "}]}"
    assert parse_timeline(hourly)["timestamp"].tolist() == [pd.Timestamp("2013-02-28 15:15", tz="UTC")]
    daily = hourly.replace('"hour"', '"day"')
    with pytest.raises(SourceError, match="date 20130228T151500Z is not at 00:00:00 but date_resolution is 'day'"):
        parse_timeline(daily, where="mode=timelinetone,query=x/20130301T000000Z.json")


def test_article_counts_may_be_written_as_whole_floats() -> None:
    body = (
        '{"timeline":[{"series":"Article Count","data":[{"date":"20080101T000000Z","value":12.0,"norm":"345"},'
        '{"date":"20080102T000000Z","value":9007199254740992}]}]}'
    )
    frame = parse_timeline(body)
    assert frame["value"].tolist() == [12.0, 2.0**53]
    assert frame["norm"].tolist()[0] == 345.0
