"""alternative.me Fear & Greed parser.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

import json

import pandas as pd

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


def test_classification_bands_are_inclusive_at_both_ends() -> None:
    """alternative.me's bands: 0-24 Extreme Fear, 25-46 Fear, 47-54 Neutral, 55-75 Greed, 76-100 Extreme Greed."""
    edges = {
        0: "Extreme Fear",
        24: "Extreme Fear",
        25: "Fear",
        46: "Fear",
        47: "Neutral",
        54: "Neutral",
        55: "Greed",
        75: "Greed",
        76: "Extreme Greed",
        100: "Extreme Greed",
    }
    items = [
        {"value": str(value), "value_classification": label, "timestamp": str(1551139200 - 86400 * day)}
        for day, (value, label) in enumerate(edges.items())
    ]
    frame = parse_fng(json.dumps({"data": items, "metadata": {"error": None}}))
    assert dict(zip(frame["value"], frame["value_classification"], strict=True)) == edges
