"""FRED / ALFRED observations parser."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources import fred
from portfolio_assets.sources.fred import FredObservations, parse_observations

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
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


def test_empty_observations_are_valid() -> None:
    body = json.dumps({"output_type": 1, "count": 0, "offset": 0, "observations": []})
    frame = parse_observations(body).frame
    assert frame.empty
    assert_schema(frame)


def _with(**changes: object) -> str:
    data = json.loads(BODY)
    data.update(changes)
    return json.dumps(data)


def _obs(**item: object) -> str:
    base = {"realtime_start": "2013-03-01", "realtime_end": "2013-03-01", "date": "2008-01-02", "value": "1.0"}
    base.update(item)
    return _with(count=1, observations=[{k: v for k, v in base.items() if v is not None}])


MALFORMED = {
    "html": ("<!DOCTYPE html><html>Service Unavailable</html>", r"not JSON"),
    "truncated": (BODY[: len(BODY) // 2], r"truncated JSON"),
    "top-level list": ("[1, 2]", r"expected a JSON object at the top level"),
    "no observations": ('{"count": 0}', r"no 'observations' key"),
    "observations not list": (_with(observations={}), r"'observations' is a dict, expected a list"),
    "item not object": (_with(count=1, observations=["1.0"]), r"observation 0: expected an object"),
    "missing value": (_obs(value=None), r"observation 0: missing 'value'"),
    "missing date": (_obs(date=None), r"observation 0: missing 'date'"),
    "non-numeric": (_obs(value="n/a"), r"observation '2008-01-02': value is not numeric: 'n/a'"),
    "bad date": (_obs(date="2008-13-01"), r"observation date: unparsable date '2008-13-01'"),
    "bad realtime": (_obs(realtime_start="yesterday"), r"realtime_start: unparsable date 'yesterday'"),
    "duplicate date": (
        _with(count=2, observations=[{"realtime_start": "2013-03-01", "date": "2008-01-02", "value": "1"}] * 2),
        r"duplicate observation date 2008-01-02",
    ),
    "incomplete page": (_with(count=5), r"incomplete response: count is 5 but only 3 observations"),
    "output_type 2": (_with(output_type=2), r"unsupported output_type 2"),
}


@pytest.mark.parametrize("body, match", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_raise(body: str, match: str) -> None:
    with pytest.raises(SourceError, match=match) as info:
        parse_observations(body, where="series_id=SP500/20130301T000000Z.json")
    assert str(info.value).startswith("fred [series_id=SP500/20130301T000000Z.json]: ")
    assert info.value.source == fred.SOURCE == "fred"


def test_series_id_names_the_request_when_where_is_not_given() -> None:
    with pytest.raises(SourceError, match=r"^fred \[series_id=UNRATE\]: truncated JSON"):
        parse_observations(BODY[:40], series_id="UNRATE")


@pytest.mark.parametrize(
    "fixture, match",
    [
        ("fred_error_400.json", r"^fred: API error 400: 'Bad Request\. The series does not exist\.'"),
        ("fred_error_api_key.json", r"^fred: API error 400: .*Variable api_key is not a 32 character"),
        ("fred_error_429.json", r"^fred: API error 429: .*Exceeded Rate Limit"),
    ],
)
def test_error_bodies(fixture: str, match: str) -> None:
    with pytest.raises(SourceError, match=match):
        parse_observations((FIXTURES / fixture).read_bytes())


def test_api_key_is_redacted_from_error_message() -> None:
    key = "0123456789abcdef0123456789abcdef"
    body = json.dumps({"error_code": 400, "error_message": f"Bad Request.  api_key={key} is not registered."})
    with pytest.raises(SourceError) as info:
        parse_observations(body)
    assert key not in str(info.value)
    assert "api_key=***" in str(info.value)
