"""alternative.me Fear & Greed parser.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

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
