"""Social sentiment daily CSV parser."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources import social
from portfolio_assets.sources.social import parse_social_csv

DTYPES = {
    "timestamp": "datetime64[ns, UTC]",
    "asset_symbol": "object",
    "social_sentiment_score": "float64",
    "social_mention_count": "Int64",
}
HEADER = "timestamp,asset_symbol,social_sentiment_score,social_mention_count\n"
BODY = (
    HEADER
    + "2008-01-02T00:00:00Z,BTC-USD,0.3060,166\n"
    + "2008-01-01T00:00:00Z,GOOG,-0.5223,1068\n"
    + "2008-01-01T00:00:00Z,BTC-USD,-1,0\n"
    + "2008-01-02T00:00:00Z,GOOG,,\n"
)


def assert_schema(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES


def test_social_csv() -> None:
    frame = parse_social_csv(BODY.encode())
    assert_schema(frame)
    day1, day2 = pd.Timestamp("2008-01-01", tz="UTC"), pd.Timestamp("2008-01-02", tz="UTC")
    assert list(frame["timestamp"]) == [day1, day1, day2, day2]
    assert frame["asset_symbol"].tolist() == ["BTC-USD", "GOOG", "BTC-USD", "GOOG"]
    assert frame["social_sentiment_score"].tolist()[:3] == [-1.0, -0.5223, 0.306]
    assert math.isnan(frame["social_sentiment_score"].iloc[3])
    assert frame["social_mention_count"].tolist()[:3] == [0, 1068, 166]
    assert frame["social_mention_count"].isna().tolist() == [False, False, False, True]


def test_column_order_extra_columns_crlf_and_offsets() -> None:
    body = (
        "asset_symbol,social_mention_count,source,timestamp,social_sentiment_score\r\n"
        "ETH-USD,12,x,2008-01-01T01:00:00+01:00,0.5\r\n"
        "\r\n"
    )
    frame = parse_social_csv(body)
    assert_schema(frame)
    assert list(frame["timestamp"]) == [pd.Timestamp("2008-01-01", tz="UTC")]
    assert frame["social_mention_count"].tolist() == [12]


def test_header_only_is_empty() -> None:
    frame = parse_social_csv(HEADER)
    assert frame.empty
    assert_schema(frame)


MALFORMED = {
    "empty": ("", r"empty body \(no header\)"),
    "missing column": (
        "timestamp,asset_symbol,social_sentiment_score\n2008-01-01T00:00:00Z,GOOG,0.1\n",
        r"line 1: missing required column\(s\) \['social_mention_count'\]",
    ),
    "json instead of csv": ('{"error": "unauthorised"}', r"line 1: missing required column"),
    "duplicate column": (HEADER.strip() + ",timestamp\n", r"line 1: duplicate column names"),
    "truncated last line": (
        BODY + "2008-01-03T00:00:00Z,BTC-US",
        r"line 6: expected 4 fields, got 2 \(truncated line\?\)",
    ),
    "too many fields": (HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,1,extra\n", r"line 2: expected 4 fields, got 5$"),
    "bad timestamp": (HEADER + "2008-13-01T00:00:00Z,GOOG,0.1,1\n", r"line 2: .*month must be in 1..12"),
    "naive timestamp": (HEADER + "2008-01-01,GOOG,0.1,1\n", r"line 2: timestamp '2008-01-01' has no time zone"),
    "text score": (HEADER + "2008-01-01T00:00:00Z,GOOG,positive,1\n", r"line 2: not a number: 'positive'"),
    "score out of range": (
        HEADER + "2008-01-01T00:00:00Z,GOOG,1.5,1\n",
        r"line 2: sentiment score '1.5' outside -1..1",
    ),
    "negative count": (
        HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,-3\n",
        r"line 2: mention count '-3' is not a non-negative",
    ),
    "fractional count": (HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,2.5\n", r"line 2: mention count '2.5'"),
    "empty symbol": (HEADER + "2008-01-01T00:00:00Z, ,0.1,2\n", r"line 2: empty asset_symbol"),
    "duplicate row": (
        HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,2\n2008-01-01T00:00:00Z,GOOG,0.2,3\n",
        r"line 3: duplicate row for GOOG at 2008-01-01T00:00:00\+00:00 \(first on line 2\)",
    ),
    "unterminated quote": (
        HEADER + '2008-01-01T00:00:00Z,"GOOG,0.1,2\n',
        r"line \d+: (malformed CSV|expected 4 fields)",
    ),
}


@pytest.mark.parametrize("body, match", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_raise(body: str, match: str) -> None:
    with pytest.raises(SourceError, match=match) as info:
        parse_social_csv(body, where="feed=daily/20130301T000000Z.csv")
    assert str(info.value).startswith("social [feed=daily/20130301T000000Z.csv]: ")
    assert info.value.source == social.SOURCE == "social"
