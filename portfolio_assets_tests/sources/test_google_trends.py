"""Google Trends multiTimeline.csv parser.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

import pandas as pd

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
