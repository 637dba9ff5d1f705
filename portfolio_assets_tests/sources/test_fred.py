"""FRED / ALFRED observations parser.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources.fred import FredObservations, parse_observations

DTYPES = {"observation_date": "datetime64[ns, UTC]", "value": "float64", "realtime_start": "datetime64[ns, UTC]"}

BODY = (
    '{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","observation_start":"1600-01-01",'
    '"observation_end":"9999-12-31","units":"lin","output_type":1,"file_type":"json",'
    '"order_by":"observation_date","sort_order":"asc","count":3,"offset":0,"limit":100000,'
    '"observations":[{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","date":"2008-01-01","value":"."},'
    '{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","date":"2008-01-02","value":"1447.16"},'
    '{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","date":"2008-01-03","value":"-0.25"}]}'
)

VINTAGE = json.dumps(
    {
        "realtime_start": "1776-07-04",
        "realtime_end": "9999-12-31",
        "observation_start": "1600-01-01",
        "observation_end": "9999-12-31",
        "units": "lin",
        "output_type": 4,
        "file_type": "json",
        "order_by": "observation_date",
        "sort_order": "asc",
        "count": 2,
        "offset": 0,
        "limit": 100000,
        "observations": [
            {"realtime_start": "2013-02-15", "realtime_end": "2013-03-14", "date": "2013-01-01", "value": "7.9"},
            {"realtime_start": "2013-01-04", "realtime_end": "2013-02-01", "date": "2012-12-01", "value": "7.8"},
        ],
    }
)


def assert_schema(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES
    assert frame["observation_date"].is_monotonic_increasing and frame["observation_date"].is_unique


def test_observations() -> None:
    parsed = parse_observations(BODY.encode(), series_id="SP500")
    assert isinstance(parsed, FredObservations)
    assert parsed.series_id == "SP500"
    assert parsed.vintage is False
    frame = parsed.frame
    assert_schema(frame)
    assert list(frame["observation_date"]) == [
        pd.Timestamp(d, tz="UTC") for d in ("2008-01-01", "2008-01-02", "2008-01-03")
    ]
    assert math.isnan(frame["value"].iloc[0])
    assert frame["value"].iloc[1:].tolist() == [1447.16, -0.25]
    assert (frame["realtime_start"] == pd.Timestamp("2013-03-01", tz="UTC")).all()


def test_vintage_output_type_4_keeps_first_release_dates_sorted_by_observation() -> None:
    parsed = parse_observations(VINTAGE)
    assert parsed.vintage is True
    assert parsed.series_id is None
    assert_schema(parsed.frame)
    assert parsed.frame["value"].tolist() == [7.8, 7.9]
    assert list(parsed.frame["realtime_start"]) == [
        pd.Timestamp("2013-01-04", tz="UTC"),
        pd.Timestamp("2013-02-15", tz="UTC"),
    ]


def test_series_id_names_the_request_when_where_is_not_given() -> None:
    with pytest.raises(SourceError) as info:
        parse_observations(BODY[:40], series_id="UNRATE")
    assert info.value.where == "series_id=UNRATE"
    assert str(info.value) == (
        "fred [series_id=UNRATE]: truncated JSON: the body ends early (Unterminated string starting at char 31 of 40)"
    )
