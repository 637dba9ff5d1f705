"""Social sentiment daily CSV parser.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

import math

import pandas as pd

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


def test_mention_count_is_exact_up_to_int64_max() -> None:
    body = HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,9223372036854775807\n2008-01-02T00:00:00Z,GOOG,0.1,1e3\n"
    assert parse_social_csv(body)["social_mention_count"].tolist() == [2**63 - 1, 1000]
