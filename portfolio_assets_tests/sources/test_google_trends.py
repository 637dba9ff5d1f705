"""Google Trends multiTimeline.csv parser."""

from __future__ import annotations

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.sources import google_trends
from portfolio_assets.sources.google_trends import parse_trends_csv

DTYPES = {"period_start": "datetime64[ns, UTC]", "period_end": "datetime64[ns, UTC]", "value": "float64"}

WEEKLY = "Category: All categories\n\nWeek,bitcoin: (Worldwide)\n2008-01-06,45\n2008-01-13,<1\n2008-01-20,100\n"


def utc(*days: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(day, tz="UTC") for day in days]


def assert_schema(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES
    assert frame["period_start"].is_monotonic_increasing and frame["period_start"].is_unique


def test_weekly() -> None:
    frame = parse_trends_csv(WEEKLY.encode())
    assert_schema(frame)
    assert list(frame["period_start"]) == utc("2008-01-06", "2008-01-13", "2008-01-20")
    assert list(frame["period_end"]) == utc("2008-01-13", "2008-01-20", "2008-01-27")
    assert frame["value"].tolist() == [45.0, 0.5, 100.0]


def test_daily_with_bom_and_crlf() -> None:
    body = "\ufeffCategory: All categories\r\n\r\nDay,eur usd: (United States)\r\n2013-02-28,7\r\n2013-02-27,3\r\n"
    frame = parse_trends_csv(body.encode())
    assert_schema(frame)
    assert list(frame["period_start"]) == utc("2013-02-27", "2013-02-28")
    assert list(frame["period_end"]) == utc("2013-02-28", "2013-03-01")
    assert frame["value"].tolist() == [3.0, 7.0]


def test_monthly_calendar_months() -> None:
    body = 'Category: All categories\n\nMonth,"gold, price: (Worldwide)"\n2012-01,20\n2012-02,21\n2012-12,0\n'
    frame = parse_trends_csv(body)
    assert_schema(frame)
    assert list(frame["period_start"]) == utc("2012-01-01", "2012-02-01", "2012-12-01")
    assert list(frame["period_end"]) == utc("2012-02-01", "2012-03-01", "2013-01-01")
    assert frame["value"].tolist() == [20.0, 21.0, 0.0]


def test_header_without_preamble_and_no_rows() -> None:
    frame = parse_trends_csv("Week,nasdaq: (Worldwide)\n")
    assert frame.empty
    assert_schema(frame)


MALFORMED = {
    "empty": ("", r"no Day/Week/Month header line found"),
    "preamble only": ("Category: All categories\n\n", r"no Day/Week/Month header line found"),
    "html": ("<html><title>429 Too Many Requests</title></html>", r"line 1: expected a Day/Week/Month header"),
    "wrong period": ("Category: All categories\n\nYear,bitcoin: (Worldwide)\n", r"line 3: expected a Day/Week/Month"),
    "no geo": ("Week,bitcoin\n2008-01-06,4\n", r"line 1: expected 'Week,<term>: \(<geo>\)' \(one term\)"),
    "two terms": ("Week,bitcoin: (Worldwide),ethereum: (Worldwide)\n", r"line 1: .*\(one term\)"),
    "truncated last line": (WEEKLY + "2008-01-27", r"line 7: expected 2 fields, got 1 \(truncated line\?\)"),
    "empty value": (WEEKLY + "2008-01-27,\n", r"line 7: not a number: ''"),
    "text value": (WEEKLY + "2008-01-27,high\n", r"line 7: not a number: 'high'"),
    "over 100": (WEEKLY + "2008-01-27,101\n", r"line 7: value '101' outside 0..100"),
    "bad date": (WEEKLY + "27/01/2008,5\n", r"line 7: week '27/01/2008' is not %Y-%m-%d"),
    "impossible date": (WEEKLY + "2008-02-31,5\n", r"line 7: invalid date '2008-02-31'"),
    "week not sunday": (WEEKLY + "2008-01-28,5\n", r"line 7: week 2008-01-28 does not start on a Sunday"),
    "month as day": ("Month,gold price: (Worldwide)\n2012-01-01,4\n", r"line 2: month '2012-01-01' is not %Y-%m"),
    "duplicate": (WEEKLY + "2008-01-20,5\n", r"line 7: duplicate period 2008-01-20"),
}


@pytest.mark.parametrize("body, match", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_raise(body: str, match: str) -> None:
    with pytest.raises(SourceError, match=match) as info:
        parse_trends_csv(body, where="q=bitcoin/20130301T000000Z.csv")
    assert str(info.value).startswith("google_trends [q=bitcoin/20130301T000000Z.csv]: ")
    assert info.value.source == google_trends.SOURCE == "google_trends"
