"""The contract every wire-format parser in ``portfolio_assets.sources`` keeps, tested once for all of them.

* every bundled sample file parses to a non-empty frame with exactly the
  parser's columns and dtypes, sorted and unique on its row key, nothing dated
  after the fetch;
* an empty-but-valid response parses to an empty frame with the same schema;
* ``bytes``, ``str`` and BOM-prefixed bytes give the same frame;
* every malformed body in :data:`MALFORMED` (broken JSON/CSV, wrong shapes,
  bad values, duplicate dates, the error bodies each API really sends) raises
  :class:`~portfolio_assets.errors.SourceError` with the source name, the
  ``where`` passed in and exactly the expected cause (API keys redacted);
* every strict prefix of a JSON body raises ``SourceError`` too;
* property tests (hypothesis, not slow): arbitrary bytes, mutated valid bodies
  and valid envelopes holding hostile values (huge ints, inf/nan/1e300, odd
  numeric strings, out-of-range and intraday stamps, Unicode digits) give either
  a frame that keeps the documented invariants (:func:`assert_invariants`) or a
  ``SourceError`` with the right ``source`` and ``where``, never another
  exception; a value that must be refused (:data:`REFUSED`) always raises.

What a parser makes of *valid* data (value transforms, vintages, timestamp
conventions) is tested in that source's own module. Parsers that share a
source (Alpha Vantage's corporate actions and commodity series) have entries
of their own, keyed by ``Contract.name``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_assets.errors import SourceError
from portfolio_assets.landing import FETCHED_AT_FORMAT, SAMPLE_LANDING_ROOT, parse_series_key
from portfolio_assets.sources import (
    alphavantage,
    coingecko,
    commodities,
    corporate_actions,
    fear_greed,
    fred,
    gdelt,
    google_trends,
    social,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
UTC_NS = "datetime64[ns, UTC]"
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Contract:
    source: str  # SourceError.source and the landing-zone directory
    parse: Callable[..., pd.DataFrame]  # parse(body, where=...) -> frame
    ext: str  # landing-zone file extension
    where: str  # a landing-zone location, passed as ``where`` in the malformed cases
    columns: dict[str, str]  # the exact columns, in order, with their dtypes
    key: tuple[str, ...]  # rows are sorted by and unique on this; key[0] is the time column
    valid: str  # a small valid response in the real wire format (not empty)
    name: str = ""  # the table key where several parsers share a source; default: the source
    optional: tuple[str, ...] = ()  # time columns that may be NaT (a date the provider does not know)

    @property
    def id(self) -> str:
        return self.name or self.source

    def __str__(self) -> str:
        return self.id


def _fred_frame(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    return fred.parse_observations(body, where=where).frame


ALPHAVANTAGE_DAILY = """{
    "Meta Data": {
        "1. Information": "Daily Prices (open, high, low, close) and Volumes",
        "2. Symbol": "GOOG",
        "3. Last Refreshed": "2013-02-28",
        "4. Output Size": "Full size",
        "5. Time Zone": "US/Eastern"
    },
    "Time Series (Daily)": {
        "2013-02-28": {
            "1. open": "801.1000",
            "2. high": "806.9900",
            "3. low": "801.0300",
            "4. close": "801.2000",
            "5. volume": "2265800"
        },
        "2013-02-27": {
            "1. open": "794.8000",
            "2. high": "804.7500",
            "3. low": "791.1100",
            "4. close": "799.7800",
            "5. volume": "2026100"
        }
    }
}"""
COINGECKO_CHART = (
    '{"prices":[[1367107200000,135.3],[1367193600000,141.96],[1367280000000,135.3],[1367310123456,139.25]],'
    '"market_caps":[[1367107200000,1500517590.0],[1367193600000,1575032004.0],[1367280000000,1501657493.0]],'
    '"total_volumes":[[1367193600000,0.0],[1367280000000,0]]}'
)
FNG = (
    '{"name":"Fear and Greed Index","data":['
    '{"value":"40","value_classification":"Fear","timestamp":"1551157200","time_until_update":"68499"},'
    '{"value":"47","value_classification":"Neutral","timestamp":"1551070800"},'
    '{"value":"8","value_classification":"Extreme Fear","timestamp":"1550984400"}],'
    '"metadata":{"error":null}}'
)
FRED_OBSERVATIONS = (
    '{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","observation_start":"1600-01-01",'
    '"observation_end":"9999-12-31","units":"lin","output_type":1,"file_type":"json",'
    '"order_by":"observation_date","sort_order":"asc","count":3,"offset":0,"limit":100000,'
    '"observations":[{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","date":"2008-01-01","value":"."},'
    '{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","date":"2008-01-02","value":"1447.16"},'
    '{"realtime_start":"2013-03-01","realtime_end":"2013-03-01","date":"2008-01-03","value":"-0.25"}]}'
)
GDELT_VOLRAW = (
    '{"query_details":{"title":"Nasdaq","date_resolution":"day"},"timeline":[{"series":"Article Count",'
    '"data":[{"date":"20080101T000000Z","value":123,"norm":45678},{"date":"20080102T000000Z","value":0,"norm":50001}]}]}'
)
TRENDS_WEEKLY = "Category: All categories\n\nWeek,bitcoin: (Worldwide)\n2008-01-06,45\n2008-01-13,<1\n2008-01-20,100\n"
SOCIAL_HEADER = "timestamp,asset_symbol,social_sentiment_score,social_mention_count\n"
SOCIAL_FEED = (
    SOCIAL_HEADER
    + "2008-01-02T00:00:00Z,BTC-USD,0.3060,166\n"
    + "2008-01-01T00:00:00Z,GOOG,-0.5223,1068\n"
    + "2008-01-01T00:00:00Z,BTC-USD,-1,0\n"
    + "2008-01-02T00:00:00Z,GOOG,,\n"
)

AV_SPLITS = (
    '{"symbol": "NVDA", "data": [{"effective_date": "2024-06-10", "split_factor": "10.0000"},'
    ' {"effective_date": "2021-07-20", "split_factor": "4.0000"}]}'
)
AV_DIVIDENDS = (
    '{"symbol": "IBM", "data": [{"ex_dividend_date": "2024-11-12", "declaration_date": "2024-10-29",'
    ' "record_date": "2024-11-12", "payment_date": "2024-12-10", "amount": "1.67"},'
    ' {"ex_dividend_date": "1999-02-08", "declaration_date": "None", "record_date": "None",'
    ' "payment_date": "None", "amount": "0.22"}]}'
)
AV_WTI = (
    '{"name": "Crude Oil Prices WTI", "interval": "daily", "unit": "dollars per barrel", "data": ['
    '{"date": "2020-04-21", "value": "8.91"}, {"date": "2020-04-20", "value": "-36.98"},'
    ' {"date": "2020-04-10", "value": "."}]}'
)

CONTRACTS: dict[str, Contract] = {
    contract.id: contract
    for contract in (
        Contract(
            source="alphavantage",
            parse=alphavantage.parse_daily,
            ext="json",
            where="function=TIME_SERIES_DAILY,symbol=GOOG/20130301T000000Z.json",
            columns={
                "timestamp": UTC_NS,
                "price_open": "float64",
                "price_high": "float64",
                "price_low": "float64",
                "price_close": "float64",
                "volume": "float64",
            },
            key=("timestamp",),
            valid=ALPHAVANTAGE_DAILY,
        ),
        Contract(
            source="coingecko",
            parse=coingecko.parse_market_chart,
            ext="json",
            where="id=bitcoin,vs_currency=usd/20130301T000000Z.json",
            columns={"timestamp": UTC_NS, "price": "float64", "market_cap": "float64", "total_volume": "float64"},
            key=("timestamp",),
            valid=COINGECKO_CHART,
        ),
        Contract(
            source="alternative_me",
            parse=fear_greed.parse_fng,
            ext="json",
            where="limit=0/20130301T000000Z.json",
            columns={"timestamp": UTC_NS, "value": "float64", "value_classification": "object"},
            key=("timestamp",),
            valid=FNG,
        ),
        Contract(
            source="fred",
            parse=_fred_frame,
            ext="json",
            where="series_id=SP500/20130301T000000Z.json",
            columns={"observation_date": UTC_NS, "value": "float64", "realtime_start": UTC_NS},
            key=("observation_date",),
            valid=FRED_OBSERVATIONS,
        ),
        Contract(
            source="gdelt",
            parse=gdelt.parse_timeline,
            ext="json",
            where="mode=timelinevolraw,query=Nasdaq/20130301T000000Z.json",
            columns={"timestamp": UTC_NS, "value": "float64", "norm": "float64"},
            key=("timestamp",),
            valid=GDELT_VOLRAW,
        ),
        Contract(
            source="google_trends",
            parse=google_trends.parse_trends_csv,
            ext="csv",
            where="q=bitcoin/20130301T000000Z.csv",
            columns={"period_start": UTC_NS, "period_end": UTC_NS, "value": "float64"},
            key=("period_start",),
            valid=TRENDS_WEEKLY,
        ),
        Contract(
            source="social",
            parse=social.parse_social_csv,
            ext="csv",
            where="feed=daily/20130301T000000Z.csv",
            columns={
                "timestamp": UTC_NS,
                "asset_symbol": "object",
                "social_sentiment_score": "float64",
                "social_mention_count": "Int64",
            },
            key=("timestamp", "asset_symbol"),
            valid=SOCIAL_FEED,
        ),
        Contract(
            source="alphavantage",
            name="alphavantage_splits",
            parse=corporate_actions.parse_splits,
            ext="json",
            where="function=SPLITS,symbol=NVDA/20240701T000000Z.json",
            columns={"effective_date": UTC_NS, "split_factor": "float64"},
            key=("effective_date",),
            valid=AV_SPLITS,
        ),
        Contract(
            source="alphavantage",
            name="alphavantage_dividends",
            parse=corporate_actions.parse_dividends,
            ext="json",
            where="function=DIVIDENDS,symbol=IBM/20241201T000000Z.json",
            columns={
                "ex_dividend_date": UTC_NS,
                "amount": "float64",
                "declaration_date": UTC_NS,
                "record_date": UTC_NS,
                "payment_date": UTC_NS,
            },
            key=("ex_dividend_date", "amount"),
            valid=AV_DIVIDENDS,
            optional=("declaration_date", "record_date", "payment_date"),
        ),
        Contract(
            source="alphavantage",
            name="alphavantage_commodity",
            parse=commodities.parse_commodity,
            ext="json",
            where="function=WTI,interval=daily/20200501T000000Z.json",
            columns={"timestamp": UTC_NS, "value": "float64"},
            key=("timestamp",),
            valid=AV_WTI,
        ),
    )
}
JSON_CONTRACTS = [contract for contract in CONTRACTS.values() if contract.ext == "json"]


PARSER_MODULES = (
    alphavantage,
    coingecko,
    commodities,
    corporate_actions,
    fear_greed,
    fred,
    gdelt,
    google_trends,
    social,
)


def test_every_parser_module_is_in_the_table() -> None:
    assert {module.SOURCE for module in PARSER_MODULES} == {contract.source for contract in CONTRACTS.values()}
    tabled = {contract.parse for contract in CONTRACTS.values()}
    for module in PARSER_MODULES:
        parsers = [
            getattr(module, name)
            for name in dir(module)
            if name.startswith("parse_") and getattr(getattr(module, name), "__module__", None) == module.__name__
        ]
        assert parsers, module.__name__
        if module is not fred:  # fred's frame goes through _fred_frame
            assert all(parser in tabled for parser in parsers), module.__name__


def assert_schema(contract: Contract, frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(contract.columns)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == contract.columns
    assert list(frame.index) == list(range(len(frame)))


# --- every bundled sample file parses ---------------------------------------------------------------


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE_LANDING_ROOT.glob("*/*/*") if p.is_file())


def _where(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _contract_of(path: Path) -> Contract:
    """The contract of a sample file: by source, and for Alpha Vantage's corporate actions by function."""
    source, series = path.parent.parent.name, path.parent.name
    function = parse_series_key(series).get("function")
    if source == "alphavantage" and function in ("SPLITS", "DIVIDENDS"):
        return CONTRACTS[f"alphavantage_{function.lower()}"]
    return CONTRACTS[source]


def test_sample_covers_every_parser() -> None:
    files = _sample_files()
    # the sample has no commodity series: its entry shares the alphavantage source
    assert {path.parent.parent.name for path in files} == {contract.source for contract in CONTRACTS.values()}
    assert {_contract_of(path).id for path in files} >= {"alphavantage_splits", "alphavantage_dividends"}
    for path in files:
        assert path.suffix == f".{_contract_of(path).ext}", _where(path)


@pytest.mark.parametrize(
    "contract, path",
    [
        pytest.param(_contract_of(path), path, id=f"{path.parent.parent.name}/{_where(path)}")
        for path in _sample_files()
    ],
)
def test_sample_file_parses(contract: Contract, path: Path) -> None:
    parse_series_key(path.parent.name)  # the folder is a valid series key
    fetched = pd.Timestamp(datetime.strptime(path.stem, FETCHED_AT_FORMAT).replace(tzinfo=UTC))

    frame = contract.parse(path.read_bytes(), where=_where(path))

    # an empty corporate-action list is a valid "none" (only the synthetic TLT has events)
    assert len(frame) > 0 or (contract.id.startswith("alphavantage_") and "TLT" not in path.parent.name)
    assert_schema(contract, frame)
    key = pd.MultiIndex.from_frame(frame[list(contract.key)])
    assert key.is_monotonic_increasing
    assert key.is_unique
    # nothing in a response is dated after it was fetched (no look-ahead in the sample)
    assert frame.empty or frame[contract.key[0]].max() <= fetched


# --- valid bodies -----------------------------------------------------------------------------------

EMPTY_BUT_VALID = [
    ("coingecko", "empty arrays", '{"prices":[],"market_caps":[],"total_volumes":[]}'),
    ("alternative_me", "no metadata, empty data", '{"name":"Fear and Greed Index","data":[]}'),
    ("fred", "empty observations", '{"output_type": 1, "count": 0, "offset": 0, "observations": []}'),
    ("gdelt", "no series", '{"query_details":{"title":"x","date_resolution":"day"},"timeline":[]}'),
    ("gdelt", "no points", '{"timeline":[{"series":"Average Tone","data":[]}]}'),
    ("google_trends", "header without preamble, no rows", "Week,nasdaq: (Worldwide)\n"),
    ("social", "header only", SOCIAL_HEADER),
    ("alphavantage_splits", "no splits", '{"symbol": "NBIS", "data": []}'),
    ("alphavantage_dividends", "no dividends", '{"symbol": "BRK-B", "data": []}'),
    ("alphavantage_commodity", "no data", '{"name": "Crude Oil Prices WTI", "interval": "daily", "data": []}'),
]


@pytest.mark.parametrize(
    "contract, body",
    [pytest.param(CONTRACTS[source], body, id=f"{source}-{case}") for source, case, body in EMPTY_BUT_VALID],
)
def test_empty_but_valid_body_gives_an_empty_frame(contract: Contract, body: str) -> None:
    frame = contract.parse(body, where=contract.where)
    assert len(frame) == 0
    assert_schema(contract, frame)


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=str)
def test_bytes_str_and_bom_agree(contract: Contract) -> None:
    expected = contract.parse(contract.valid, where=contract.where)
    assert len(expected) > 0
    assert_schema(contract, expected)
    pd.testing.assert_frame_equal(contract.parse(contract.valid.encode(), where=contract.where), expected)
    pd.testing.assert_frame_equal(contract.parse(BOM + contract.valid.encode(), where=contract.where), expected)


# --- malformed bodies -------------------------------------------------------------------------------
# source -> case -> (body, cause): the cause is the exact text after "<source> [<where>]: ", or a
# compiled pattern it must fullmatch where the text depends on a sample file.


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _half(body: str | bytes) -> str | bytes:
    return body[: len(body) // 2]


NOT_JSON = "not JSON (Expecting value at line 1 column 1); body starts with "
TRUNCATED = "truncated JSON: the body ends early "
# pandas' datetime64[ns] range: a timestamp outside it raised OutOfBoundsDatetime / OverflowError
OUT_OF_RANGE = "is outside the supported date range 1677-09-21..2262-04-11"
# Broken JSON, wrong top-level types and encodings: the same body and cause for every JSON parser.
JSON_GENERIC: dict[str, tuple[str | bytes, str]] = {
    "empty body": ("", "empty body"),
    "whitespace body": (" \r\n\t", "empty body"),
    "html": ("<html><body>502 Bad Gateway</body></html>", NOT_JSON + "'<html><body>502 Bad Gateway</body></html>'"),
    "plain text": ("Internal Server Error", NOT_JSON + "'Internal Server Error'"),
    "trailing data": (
        '{"a": 1} trailing',
        "not JSON (Extra data at line 1 column 10); body starts with '{\"a\": 1} trailing'",
    ),
    "truncated in array": (
        '{"a": [1, 2',
        TRUNCATED + "(Expecting ',' delimiter at char 11 of 11)",
    ),
    "truncated in string": (
        '{"a": "unterminated',
        TRUNCATED + "(Unterminated string starting at char 6 of 19)",
    ),
    "truncated in literal": ('{"a": tr', TRUNCATED + "(Expecting value at char 6 of 8)"),
    # beyond Python's int-string conversion limit (4,300 digits): a ValueError from json, not a SourceError
    "integer of 5000 digits": ('{"a": ' + "1" * 5000 + "}", "JSON integer of 5000 digits: too long to be a number"),
    "negative integer of 4301 digits": (
        '{"a": [0, -' + "9" * 4301 + "]}",
        "JSON integer of 4301 digits: too long to be a number",
    ),
    "top-level list": ("[]", "expected a JSON object at the top level, got list"),
    "top-level string": ('"ok"', "expected a JSON object at the top level, got str"),
    "top-level number": ("42", "expected a JSON object at the top level, got int"),
    "top-level null": ("null", "expected a JSON object at the top level, got NoneType"),
    "NaN constant": ('{"a": NaN}', "non-standard JSON constant 'NaN'"),
    "Infinity constant": ('{"a": Infinity}', "non-standard JSON constant 'Infinity'"),
    "-Infinity constant": ('{"a": [-Infinity]}', "non-standard JSON constant '-Infinity'"),
    "duplicate key": ('{"a": 1, "a": 2}', "duplicate key 'a' in a JSON object"),
    "nested too deeply": ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    "not UTF-8": (b'{"a": "\xff\xfe"}', "body is not UTF-8 text (invalid start byte at byte 7)"),
}


def _json_malformed(specific: dict[str, tuple[str | bytes, str | re.Pattern[str]]]) -> dict:
    """The generic JSON cases plus the source's own; a source case with a generic name replaces it."""
    return {**JSON_GENERIC, **specific}


def _sample_body(source: str) -> bytes:
    return next(p for p in _sample_files() if p.parent.parent.name == source).read_bytes()


def _truncated_sample(source: str) -> tuple[bytes, re.Pattern[str]]:
    cut = _half(_sample_body(source))
    return cut, re.compile(rf"truncated JSON: the body ends early \(.+ at char \d+ of {len(cut.decode())}\)")


# Alpha Vantage ---------------------------------------------------------------------------------------

_AV_DAY = {"1. open": "1.0", "2. high": "2.0", "3. low": "0.5", "4. close": "1.5", "5. volume": "10"}
_AV_FIELDS_WITHOUT_CLOSE = "['1. open', '2. high', '3. low', '5. volume']"


def _av_daily_with(day: dict[str, object], date: str = "2013-02-28") -> str:
    return json.dumps({"Meta Data": {}, "Time Series (Daily)": {date: day}})


def _av_without(field: str) -> dict[str, object]:
    return {k: v for k, v in _AV_DAY.items() if k != field}


ALPHAVANTAGE_MALFORMED = _json_malformed(
    {
        "truncated": (
            _half(ALPHAVANTAGE_DAILY),
            TRUNCATED + "(Expecting property name enclosed in double quotes at char 355 of 355)",
        ),
        "truncated sample": _truncated_sample("alphavantage"),
        "no time series": (
            '{"Meta Data": {"2. Symbol": "GOOG"}}',
            "no 'Time Series ...' key in the response (keys: 'Meta Data')",
        ),
        "empty object": ("{}", "no 'Time Series ...' key in the response (keys: none)"),
        "two time series": (
            '{"Time Series (Daily)": {}, "Time Series FX (Daily)": {}}',
            "several time-series keys: ['Time Series (Daily)', 'Time Series FX (Daily)']",
        ),
        "empty time series": ('{"Time Series (Daily)": {}}', "'Time Series (Daily)' is empty"),
        "series not object": (
            '{"Time Series (Daily)": []}',
            "'Time Series (Daily)' is a list, expected an object of days",
        ),
        "day not object": (
            '{"Time Series (Daily)": {"2013-02-28": "801.1"}}',
            "2013-02-28: expected an object of fields, got str",
        ),
        "missing close": (
            _av_daily_with(_av_without("4. close")),
            f"2013-02-28: missing field 'close' (fields: {_AV_FIELDS_WITHOUT_CLOSE})",
        ),
        "missing volume": (
            _av_daily_with(_av_without("5. volume")),
            "2013-02-28: missing field 'volume' (fields: ['1. open', '2. high', '3. low', '4. close'])",
        ),
        "non-numeric": (_av_daily_with({**_AV_DAY, "2. high": "n/a"}), "2013-02-28: high is not numeric: 'n/a'"),
        # float() and int() accept underscores and any Unicode digits; the wire formats are ASCII decimals
        "underscore digits": (_av_daily_with({**_AV_DAY, "1. open": "1_0"}), "2013-02-28: open is not numeric: '1_0'"),
        "Arabic-Indic digits": (
            _av_daily_with({**_AV_DAY, "5. volume": "١٢٣"}),
            "2013-02-28: volume is not numeric: '١٢٣'",
        ),
        "full-width digits in date": (
            _av_daily_with(_AV_DAY, "２０１３-02-28"),
            "'Time Series (Daily)': date '２０１３-02-28' is not YYYY-MM-DD",
        ),
        "null value": (_av_daily_with({**_AV_DAY, "2. high": None}), "2013-02-28: high is not numeric: 'None'"),
        "nan string": (_av_daily_with({**_AV_DAY, "2. high": "NaN"}), "2013-02-28: high is not numeric: 'NaN'"),
        "zero price": (_av_daily_with({**_AV_DAY, "3. low": "0.0000"}), "2013-02-28: non-positive low price 0.0"),
        "negative price": (_av_daily_with({**_AV_DAY, "1. open": "-3"}), "2013-02-28: non-positive open price -3.0"),
        "negative volume": (_av_daily_with({**_AV_DAY, "5. volume": "-1"}), "2013-02-28: negative volume -1.0"),
        "impossible date": (
            _av_daily_with(_AV_DAY, "2013-02-30"),
            "Time Series (Daily): unparsable date '2013-02-30' (expected %Y-%m-%d)",
        ),
        "intraday stamp": (
            _av_daily_with(_AV_DAY, "2013-02-28 16:00:00"),
            "'Time Series (Daily)': date '2013-02-28 16:00:00' is not YYYY-MM-DD",
        ),
        "duplicate dates": (
            '{"Time Series (Daily)": {"2013-02-28": '
            + json.dumps(_AV_DAY)
            + ', "2013-02-28": '
            + json.dumps(_AV_DAY)
            + "}}",
            "duplicate key '2013-02-28' in a JSON object",
        ),
        "ambiguous fields": (
            _av_daily_with({**_av_without("1. open"), "1a. open (USD)": "1", "1a. open (EUR)": "1"}),
            "2013-02-28: ambiguous fields for open: ['1a. open (USD)', '1a. open (EUR)']",
        ),
        "NaN literal": ('{"Time Series (Daily)": {"2013-02-28": NaN}}', "non-standard JSON constant 'NaN'"),
        # what Alpha Vantage answers, with HTTP 200, instead of a time series
        "rate limit (Information)": (
            _fixture("alphavantage_rate_limit.json"),
            "rate limited: 'Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. "
            "Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly "
            "remove all daily rate limits.'",
        ),
        "rate limit (Note)": (
            _fixture("alphavantage_note.json"),
            "rate limited: 'Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute "
            "and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you would like to target a "
            "higher API call frequency.'",
        ),
        "Error Message": (
            _fixture("alphavantage_error.json"),
            "API error: 'Invalid API call. Please retry or visit the documentation "
            "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY.'",
        ),
        "premium endpoint (Information)": (
            _fixture("alphavantage_premium.json"),
            "API information instead of data: 'Thank you for using Alpha Vantage! This is a premium endpoint. You may "
            "subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all "
            "premium endpoints'",
        ),
        # ... and the API key they may echo never reaches the message
        "key detected (Information)": (
            json.dumps(
                {
                    "Information": "We have detected your API key as ABCD1234EFGH5678 and our standard API rate "
                    "limit is 25 requests per day."
                }
            ),
            "rate limited: 'We have detected your API key as *** and our standard API rate limit is 25 requests per "
            "day.'",
        ),
        "key in URL (Error Message)": (
            json.dumps(
                {
                    "Error Message": "Invalid API call: https://www.alphavantage.co/query?function=X&apikey=ABCD1234EFGH5678"
                }
            ),
            "API error: 'Invalid API call: https://www.alphavantage.co/query?function=X&apikey=***'",
        ),
        "key after colon (Note)": (
            json.dumps({"Note": "apikey: ABCD1234EFGH5678 exceeded the call frequency"}),
            "rate limited: 'apikey: *** exceeded the call frequency'",
        ),
    }
)

# CoinGecko -------------------------------------------------------------------------------------------


def _cg_with(**changes: object) -> str:
    return json.dumps({**json.loads(COINGECKO_CHART), **changes})


COINGECKO_MALFORMED = _json_malformed(
    {
        "cloudflare html": (
            "<html>error code: 1015</html>",
            NOT_JSON + "'<html>error code: 1015</html>'",
        ),
        "truncated": (
            _half(COINGECKO_CHART),
            TRUNCATED + "(Expecting ',' delimiter at char 130 of 130)",
        ),
        "truncated sample": _truncated_sample("coingecko"),
        "missing array": (
            '{"prices":[],"market_caps":[]}',
            "no 'total_volumes' key in the response (keys: 'prices', 'market_caps')",
        ),
        "array not list": (_cg_with(prices={}), "'prices' is a dict, expected a list"),
        "point not pair": (
            _cg_with(prices=[[1367107200000]]),
            "prices[0]: expected [ms, value], got '[1367107200000]'",
        ),
        "point not list": (_cg_with(prices=[{"t": 1}]), "prices[0]: expected [ms, value], got \"{'t': 1}\""),
        "text timestamp": (
            _cg_with(prices=[["1367107200000", 1.0]]),
            "prices[0]: timestamp is not a number: '1367107200000'",
        ),
        "fractional ms": (
            _cg_with(prices=[[1367107200000.5, 1.0]]),
            "prices[0]: timestamp is not whole milliseconds: 1367107200000.5",
        ),
        "timestamp 1e15 ms": (
            _cg_with(prices=[[1e15, 1.0]]),
            f"prices[0]: timestamp 1000000000000000 ms {OUT_OF_RANGE}",
        ),
        "timestamp beyond int64": (
            _cg_with(total_volumes=[[2**64, 1.0]]),
            f"total_volumes[0]: timestamp 18446744073709551616 ms {OUT_OF_RANGE}",
        ),
        "timestamp before 1677": (
            _cg_with(market_caps=[[-(10**16), 1.0]]),
            f"market_caps[0]: timestamp -10000000000000000 ms {OUT_OF_RANGE}",
        ),
        "text value": (_cg_with(total_volumes=[[1367107200000, "lots"]]), "total_volumes[0]: not a number: 'lots'"),
        "NaN string value": (_cg_with(prices=[[1367107200000, "NaN"]]), "prices[0]: not a finite number: 'NaN'"),
        "underscore value": (_cg_with(prices=[[1367107200000, "1_0"]]), "prices[0]: not a number: '1_0'"),
        "full-width value": (
            _cg_with(market_caps=[[1367107200000, "１２３"]]),
            "market_caps[0]: not a number: '１２３'",
        ),
        "zero price": (_cg_with(prices=[[1367107200000, 0]]), "prices[0]: implausible value 0.0"),
        "negative cap": (_cg_with(market_caps=[[1367107200000, -1]]), "market_caps[0]: implausible value -1.0"),
        "duplicate timestamp": (
            _cg_with(prices=[[1367107200000, 1.0], [1367107200000, 2.0]]),
            "prices: duplicate timestamp 1367107200000 (2013-04-28T00:00:00+00:00)",
        ),
        # daily points are stamped 00:00 UTC; only the newest ("now") point may be intraday
        "intraday point before the newest": (
            _cg_with(prices=[[1367110800000, 1.0], [1367193600000, 2.0]]),
            "prices[0]: timestamp 2013-04-28T01:00:00+00:00 is not 00:00 UTC (only the newest point may be intraday)",
        ),
        # what CoinGecko answers instead of a chart
        "rate limit 429": (
            _fixture("coingecko_rate_limit.json"),
            "error 429 (rate limited): \"You've exceeded the Rate Limit. Please visit "
            'https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits."',
        ),
        "coin not found": (_fixture("coingecko_not_found.json"), "API error: 'coin not found'"),
        "status error 10002 with key": (
            json.dumps(
                {"status": {"error_code": 10002, "error_message": "Invalid key x_cg_demo_api_key=CG-abcdefghijk12345"}}
            ),
            "error 10002: 'Invalid key x_cg_demo_api_key=***'",
        ),
        # the error object wraps the status for 10012 (public API, range beyond 365 days): reported with its code
        # and what to do, not as a quoted Python dict cut at 300 characters
        "time range error 10012": (
            '{"error":{"status":{"timestamp":"2024-04-20T22:00:05.123+00:00","error_code":10012,'
            '"error_message":"Your request exceeds the allowed time range. Public API users are limited to querying '
            "historical data within the past 365 days. Upgrade to a paid plan to enjoy full historical data access: "
            'https://www.coingecko.com/en/api/pricing. "}}}',
            "error 10012: 'Your request exceeds the allowed time range. Public API users are limited to querying "
            "historical data within the past 365 days. Upgrade to a paid plan to enjoy full historical data access: "
            "https://www.coingecko.com/en/api/pricing.' - the requested range is beyond the free tier (public and "
            "demo keys reach back 365 days): request at most 365 days, or use a paid-plan API key",
        ),
        "top-level error 10012": (
            json.dumps(
                {"status": {"error_code": 10012, "error_message": "Your request exceeds the allowed time range."}}
            ),
            "error 10012: 'Your request exceeds the allowed time range.' - the requested range is beyond the free tier "
            "(public and demo keys reach back 365 days): request at most 365 days, or use a paid-plan API key",
        ),
        "unhashable error code": ('{"status":{"error_code":[1],"error_message":"x"}}', "error '[1]': 'x'"),
        "nested error without status": (
            '{"error":{"detail":"bad"}}',
            "API error: \"{'detail': 'bad'}\"",
        ),
    }
)

# alternative.me Fear & Greed -------------------------------------------------------------------------


def _fng_item(**item: object) -> str:
    base = {"value": "40", "value_classification": "Fear", "timestamp": "1551157200", **item}
    return json.dumps({"data": [{k: v for k, v in base.items() if v is not None}], "metadata": {"error": None}})


FEAR_GREED_MALFORMED = _json_malformed(
    {
        "api error": (
            '{"name":"Fear and Greed Index","data":[],"metadata":{"error":"Invalid limit parameter"}}',
            "API error: 'Invalid limit parameter'",
        ),
        "truncated": (
            _half(FNG),
            TRUNCATED + "(Unterminated string starting at char 151 of 157)",
        ),
        "truncated sample": _truncated_sample("alternative_me"),
        "no data": (
            '{"name":"Fear and Greed Index","metadata":{"error":null}}',
            "no 'data' key in the response (keys: 'name', 'metadata')",
        ),
        "data not list": ('{"data":{"value":"40"}}', "'data' is a dict, expected a list"),
        "item not object": ('{"data":[40]}', "data[0]: expected an object, got int"),
        "missing value": (
            _fng_item(value=None),
            "data[0]: missing 'value' (keys: ['value_classification', 'timestamp'])",
        ),
        "missing timestamp": (
            _fng_item(timestamp=None),
            "data[0]: missing 'timestamp' (keys: ['value', 'value_classification'])",
        ),
        "text value": (_fng_item(value="high"), "data[0]: not a number: 'high'"),
        "underscore value": (_fng_item(value="4_0"), "data[0]: not a number: '4_0'"),
        "Arabic-Indic value": (_fng_item(value="٤٠"), "data[0]: not a number: '٤٠'"),
        "Arabic-Indic timestamp": (
            _fng_item(timestamp="١٥٥١١٥٧٢٠٠"),
            "data[0]: timestamp is not Unix seconds: '١٥٥١١٥٧٢٠٠'",
        ),
        "underscore timestamp": (
            _fng_item(timestamp="1_551_157_200"),
            "data[0]: timestamp is not Unix seconds: '1_551_157_200'",
        ),
        "Infinity string value": (_fng_item(value="Infinity"), "data[0]: not a finite number: 'Infinity'"),
        "value over 100": (_fng_item(value="101"), "data[0]: value 101.0 outside 0..100"),
        "negative value": (_fng_item(value="-1"), "data[0]: value -1.0 outside 0..100"),
        "date timestamp": (_fng_item(timestamp="26-02-2019"), "data[0]: timestamp is not Unix seconds: '26-02-2019'"),
        "timestamp in year 5138": (
            _fng_item(timestamp="100000000000"),
            f"data[0]: timestamp 100000000000 s {OUT_OF_RANGE}",
        ),
        "timestamp of 5000 digits": (
            _fng_item(timestamp="9" * 5000),
            f"data[0]: timestamp {'9' * 20}… s {OUT_OF_RANGE}",
        ),
        "JSON-number timestamp beyond int64": (
            _fng_item(timestamp=2**64),
            f"data[0]: timestamp 18446744073709551616 s {OUT_OF_RANGE}",
        ),
        "empty classification": (_fng_item(value_classification=" "), "data[0]: bad value_classification ''"),
        # the label must agree with alternative.me's band for the value
        "99 labelled Extreme Fear": (
            _fng_item(value="99", value_classification="Extreme Fear"),
            "data[0]: value 99 is labelled 'Extreme Fear' but its band (76..100) is 'Extreme Greed'",
        ),
        "24 labelled Fear": (
            _fng_item(value="24", value_classification="Fear"),
            "data[0]: value 24 is labelled 'Fear' but its band (0..24) is 'Extreme Fear'",
        ),
        "55 labelled Neutral": (
            _fng_item(value="55", value_classification="Neutral"),
            "data[0]: value 55 is labelled 'Neutral' but its band (55..75) is 'Greed'",
        ),
        "unknown classification": (
            _fng_item(value_classification="fear"),
            "data[0]: unknown value_classification 'fear' "
            "(expected 'Extreme Fear', 'Fear', 'Neutral', 'Greed' or 'Extreme Greed')",
        ),
        "duplicate timestamp": (
            '{"data":[{"value":"1","value_classification":"Extreme Fear","timestamp":"1551157200"},'
            '{"value":"2","value_classification":"Extreme Fear","timestamp":"1551157200"}]}',
            "duplicate timestamp 2019-02-26T05:00:00+00:00",
        ),
        # the index is daily: two values for one UTC day would leave the day's value to chance downstream
        "two values on one UTC day": (
            '{"data":[{"value":"1","value_classification":"Extreme Fear","timestamp":"1551157200"},'
            '{"value":"2","value_classification":"Extreme Fear","timestamp":"1551139200"}]}',
            "data[1]: a second value for the UTC day 2019-02-26 (the index is daily)",
        ),
    }
)

# FRED ------------------------------------------------------------------------------------------------


def _fred_with(**changes: object) -> str:
    return json.dumps({**json.loads(FRED_OBSERVATIONS), **changes})


def _fred_observation(**item: object) -> str:
    base = {"realtime_start": "2013-03-01", "realtime_end": "2013-03-01", "date": "2008-01-02", "value": "1.0", **item}
    return _fred_with(count=1, observations=[{k: v for k, v in base.items() if v is not None}])


FRED_MALFORMED = _json_malformed(
    {
        "html": (
            "<!DOCTYPE html><html>Service Unavailable</html>",
            NOT_JSON + "'<!DOCTYPE html><html>Service Unavailable</html>'",
        ),
        "truncated": (
            _half(FRED_OBSERVATIONS),
            TRUNCATED + "(Unterminated string starting at char 274 of 280)",
        ),
        "truncated sample": _truncated_sample("fred"),
        "top-level list": ("[1, 2]", "expected a JSON object at the top level, got list"),
        "no observations": ('{"count": 0}', "no 'observations' key in the response (keys: 'count')"),
        "observations not list": (_fred_with(observations={}), "'observations' is a dict, expected a list"),
        "item not object": (_fred_with(count=1, observations=["1.0"]), "observation 0: expected an object, got str"),
        "missing value": (
            _fred_observation(value=None),
            "observation 0: missing 'value' (keys: ['realtime_start', 'realtime_end', 'date'])",
        ),
        "missing date": (
            _fred_observation(date=None),
            "observation 0: missing 'date' (keys: ['realtime_start', 'realtime_end', 'value'])",
        ),
        "non-numeric": (_fred_observation(value="n/a"), "observation '2008-01-02': value is not numeric: 'n/a'"),
        "NaN string value": (_fred_observation(value="NaN"), "observation '2008-01-02': value is not numeric: 'NaN'"),
        "underscore value": (
            _fred_observation(value="1_447.16"),
            "observation '2008-01-02': value is not numeric: '1_447.16'",
        ),
        "full-width value": (
            _fred_observation(value="１４４７"),
            "observation '2008-01-02': value is not numeric: '１４４７'",
        ),
        "Arabic-Indic date": (
            _fred_observation(date="٢٠٠٨-01-02"),
            "observation date: unparsable date '٢٠٠٨-01-02' (expected %Y-%m-%d)",
        ),
        "Arabic-Indic output_type": (_fred_with(output_type="٤"), "output_type is not an integer: '٤'"),
        "bad date": (
            _fred_observation(date="2008-13-01"),
            "observation date: unparsable date '2008-13-01' (expected %Y-%m-%d)",
        ),
        "bad realtime": (
            _fred_observation(realtime_start="yesterday"),
            "realtime_start: unparsable date 'yesterday' (expected %Y-%m-%d)",
        ),
        "date beyond 2262": (
            _fred_observation(date="2263-01-01", realtime_start="2263-01-01"),
            f"observation date: date '2263-01-01' {OUT_OF_RANGE}",
        ),
        "duplicate date": (
            _fred_with(
                count=2, observations=[{"realtime_start": "2013-03-01", "date": "2008-01-02", "value": "1"}] * 2
            ),
            "duplicate observation date 2008-01-02",
        ),
        "incomplete page": (
            _fred_with(count=5),
            "incomplete response: count is 5 but only 3 observations from offset 0",
        ),
        "count below the observations": (
            _fred_with(count=2),
            "count is 2 but there are 3 observations from offset 0 (more than the count)",
        ),
        "count disagrees at an offset": (
            _fred_with(count=4, offset=2),
            "count is 4 but there are 3 observations from offset 2 (more than the count)",
        ),
        "count not an integer": (_fred_with(count=2.5), "count '2.5' is not a non-negative integer"),
        "negative offset": (_fred_with(offset=-1), "offset '-1' is not a non-negative integer"),
        # ALFRED first-release dates: a value cannot be known before the period it measures begins
        "realtime_start before the date": (
            _fred_with(
                output_type=4,
                count=1,
                observations=[
                    {"realtime_start": "2012-12-15", "realtime_end": "2013-03-14", "date": "2013-01-01", "value": "7.9"}
                ],
            ),
            "observation 2013-01-01: realtime_start 2012-12-15 is before its own date (visible before it existed)",
        ),
        "output_type 2": (_fred_with(output_type=2), "unsupported output_type 2 (only 1 and 4 are one row per date)"),
        # what FRED answers instead of observations
        "error 400 unknown series": (
            _fixture("fred_error_400.json"),
            "API error 400: 'Bad Request. The series does not exist.'",
        ),
        "error 400 bad api_key": (
            _fixture("fred_error_api_key.json"),
            "API error 400: 'Bad Request. Variable api_key is not a 32 character alphanumeric lower-case string. "
            "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information.'",
        ),
        "error 429": (_fixture("fred_error_429.json"), "API error 429: 'Too Many Requests. Exceeded Rate Limit'"),
        # a secret echoed in a JSON body is redacted too, in a quoted body and in any other cause
        "error with key in JSON": (
            json.dumps({"error_code": 400, "error_message": 'Bad Request. {"api_key": "0123456789abcdef"}'}),
            'API error 400: \'Bad Request. {"api_key": "***"}\'',
        ),
        "key echoed in a date": (
            _fred_observation(date="access_token=ya29.a0Af", value="n/a"),
            "observation 'access_token=***': value is not numeric: 'n/a'",
        ),
        "error with key": (
            json.dumps(
                {
                    "error_code": 400,
                    "error_message": "Bad Request.  api_key=0123456789abcdef0123456789abcdef is not registered.",
                }
            ),
            "API error 400: 'Bad Request. api_key=*** is not registered.'",
        ),
    }
)

# GDELT -----------------------------------------------------------------------------------------------


def _gdelt_items(*items: object) -> str:
    return json.dumps({"timeline": [{"series": "Article Count", "data": list(items)}]})


def _plain_text(first_line: str) -> str:
    return f"API error (plain-text answer): {first_line!r}"


GDELT_MALFORMED = _json_malformed(
    {
        # GDELT answers in plain text, so any body that is not a JSON object or array is its error message
        "whitespace body": ("   \n", "empty body"),
        "html": ("<html><body>502 Bad Gateway</body></html>", _plain_text("<html><body>502 Bad Gateway</body></html>")),
        "plain text": ("Internal Server Error", _plain_text("Internal Server Error")),
        "top-level string": ('"ok"', _plain_text('"ok"')),
        "top-level number": ("42", _plain_text("42")),
        "top-level null": ("null", _plain_text("null")),
        "truncated": (_half(GDELT_VOLRAW), TRUNCATED + "(Expecting value at char 106 of 106)"),
        "truncated sample": _truncated_sample("gdelt"),
        "no timeline": ('{"query_details":{}}', "no 'timeline' key in the response (keys: 'query_details')"),
        "timeline not list": ('{"timeline":{}}', "'timeline' is a dict, expected a list"),
        "two series": (
            '{"timeline":[{"series":"A","data":[]},{"series":"B","data":[]}]}',
            "expected one timeline series, got 2: \"['A', 'B']\"",
        ),
        "series not object": ('{"timeline":[[]]}', "timeline series is a list, expected an object"),
        "no data": ('{"timeline":[{"series":"Average Tone"}]}', "no 'data' key in the response (keys: 'series')"),
        "item not object": (
            _gdelt_items(["20080101T000000Z", 1]),
            "'Article Count' item 0: expected an object, got list",
        ),
        "missing value": (
            _gdelt_items({"date": "20080101T000000Z"}),
            "'Article Count' item 0: missing 'value' (keys: ['date'])",
        ),
        "missing date": (_gdelt_items({"value": 1}), "'Article Count' item 0: missing 'date' (keys: ['value'])"),
        "null value": (
            _gdelt_items({"date": "20080101T000000Z", "value": None}),
            "'Article Count' item 0 ('20080101T000000Z'): not a number: 'None'",
        ),
        "text value": (
            _gdelt_items({"date": "20080101T000000Z", "value": "lots"}),
            "'Article Count' item 0 ('20080101T000000Z'): not a number: 'lots'",
        ),
        "NaN string value": (
            _gdelt_items({"date": "20080101T000000Z", "value": "NaN"}),
            "'Article Count' item 0 ('20080101T000000Z'): not a finite number: 'NaN'",
        ),
        "bad norm": (
            _gdelt_items({"date": "20080101T000000Z", "value": 1, "norm": True}),
            "'Article Count' item 0 ('20080101T000000Z'): not a number: 'True'",
        ),
        "underscore value": (
            _gdelt_items({"date": "20080101T000000Z", "value": "1_0"}),
            "'Article Count' item 0 ('20080101T000000Z'): not a number: '1_0'",
        ),
        # article counts are non-negative whole numbers within int64 (1e300 failed the sentiment asset)
        "count 1e300": (
            _gdelt_items({"date": "20080101T000000Z", "value": 1e300}),
            "'Article Count' item 0 ('20080101T000000Z'): article count '1e+300' is beyond int64",
        ),
        "count 2**63": (
            _gdelt_items({"date": "20080101T000000Z", "value": 2**63}),
            "'Article Count' item 0 ('20080101T000000Z'): article count '9223372036854775808' is beyond int64",
        ),
        "count int64 max rounds beyond int64 as float64": (
            _gdelt_items({"date": "20080101T000000Z", "value": 2**63 - 1}),
            "'Article Count' item 0 ('20080101T000000Z'): article count '9223372036854775807' is beyond int64",
        ),
        "negative count": (
            _gdelt_items({"date": "20080101T000000Z", "value": -5}),
            "'Article Count' item 0 ('20080101T000000Z'): article count '-5' is not a non-negative integer",
        ),
        "fractional count": (
            _gdelt_items({"date": "20080101T000000Z", "value": 2.5}),
            "'Article Count' item 0 ('20080101T000000Z'): article count '2.5' is not a non-negative integer",
        ),
        "negative norm": (
            _gdelt_items({"date": "20080101T000000Z", "value": 1, "norm": -1}),
            "'Article Count' item 0 ('20080101T000000Z'): norm '-1' is not a non-negative integer",
        ),
        "tone beyond -100..100": (
            json.dumps(
                {"timeline": [{"series": "Average Tone", "data": [{"date": "20080101T000000Z", "value": 1e300}]}]}
            ),
            "'Average Tone' item 0 ('20080101T000000Z'): tone 1e+300 outside -100..100",
        ),
        "unknown series": (
            json.dumps({"timeline": [{"series": "Volume Intensity", "data": []}]}),
            "unknown timeline series 'Volume Intensity' (expected 'Average Tone' or 'Article Count')",
        ),
        "unnamed series": (
            '{"timeline":[{"data":[]}]}',
            "unknown timeline series None (expected 'Average Tone' or 'Article Count')",
        ),
        "full-width digits in date": (
            _gdelt_items({"date": "２００８0101T000000Z", "value": 1}),
            "'Article Count' date: unparsable date '２００８0101T000000Z' (expected %Y%m%dT%H%M%SZ)",
        ),
        "bad date": (
            _gdelt_items({"date": "2008-01-01", "value": 1}),
            "'Article Count' date: unparsable date '2008-01-01' (expected %Y%m%dT%H%M%SZ)",
        ),
        # a compact ISO date-time has the shape of an Alpha Vantage key: it must not be redacted
        "impossible date": (
            _gdelt_items({"date": "20081301T000000Z", "value": 1}),
            "'Article Count' date: unparsable date '20081301T000000Z' (expected %Y%m%dT%H%M%SZ)",
        ),
        "date before 1677": (
            _gdelt_items({"date": "16000101T000000Z", "value": 1}),
            f"'Article Count' date: date '16000101T000000Z' {OUT_OF_RANGE}",
        ),
        "duplicate date": (
            _gdelt_items({"date": "20080101T000000Z", "value": 1}, {"date": "20080101T000000Z", "value": 2}),
            "'Article Count': duplicate date 2008-01-01T00:00:00Z",
        ),
        # at daily resolution every point is stamped 00:00:00 (read_gdelt keyed them by day and dropped the rest)
        "intraday stamp at day resolution": (
            json.dumps(
                {
                    "query_details": {"title": "Nasdaq", "date_resolution": "day"},
                    "timeline": [
                        {
                            "series": "Article Count",
                            "data": [
                                {"date": "20080101T000000Z", "value": 1},
                                {"date": "20080101T120000Z", "value": 2},
                            ],
                        }
                    ],
                }
            ),
            "'Article Count': date 20080101T120000Z is not at 00:00:00 but date_resolution is 'day'",
        ),
        # what GDELT answers (HTTP 200, plain text) instead of a timeline; only the first line is quoted
        "keyword too short": (
            _fixture("gdelt_error.txt"),
            _plain_text("Your search contained a keyword that was too short."),
        ),
        "OR without parentheses": (
            _fixture("gdelt_error_or.txt"),
            _plain_text("Queries containing OR'd terms must be surrounded by ()."),
        ),
        "rate limit": (
            _fixture("gdelt_rate_limit.txt"),
            "rate limited (plain-text answer): 'Please limit requests to one every 5 seconds or contact "
            "kalev.leetaru5@gmail.com for larger queries.'",
        ),
        "two-line error": (b"Invalid query.\nSecond line with details\n", _plain_text("Invalid query.")),
    }
)

# Google Trends ---------------------------------------------------------------------------------------

GOOGLE_TRENDS_MALFORMED = {
    "empty body": ("", "no Day/Week/Month header line found"),
    "whitespace body": (" \r\n\n", "no Day/Week/Month header line found"),
    "preamble only": ("Category: All categories\n\n", "no Day/Week/Month header line found"),
    "not UTF-8": (b"Week,caf\xe9: (Worldwide)\n", "body is not UTF-8 text (invalid continuation byte at byte 8)"),
    "html": (
        "<html><title>429 Too Many Requests</title></html>",
        "line 1: expected a Day/Week/Month header, got '<html><title>429 Too Many Requests</title></html>'",
    ),
    "json": ('{"error": "quota"}', 'line 1: expected a Day/Week/Month header, got \'{"error": "quota"}\''),
    "wrong period": (
        "Category: All categories\n\nYear,bitcoin: (Worldwide)\n",
        "line 3: expected a Day/Week/Month header, got 'Year,bitcoin: (Worldwide)'",
    ),
    "no geo": (
        "Week,bitcoin\n2008-01-06,4\n",
        "line 1: expected 'Week,<term>: (<geo>)' (one term), got 'Week,bitcoin'",
    ),
    "two terms": (
        "Week,bitcoin: (Worldwide),ethereum: (Worldwide)\n",
        "line 1: expected 'Week,<term>: (<geo>)' (one term), got 'Week,bitcoin: (Worldwide),ethereum: (Worldwide)'",
    ),
    "truncated last line": (TRENDS_WEEKLY + "2008-01-27", "line 7: expected 2 fields, got 1 (truncated line?)"),
    # csv's default (non-strict) reader reads `2008-01-27,"5` as 5
    "unterminated quote": (TRENDS_WEEKLY + '2008-01-27,"5', "line 7: unterminated quote (truncated line?)"),
    "unterminated quote, newline": (TRENDS_WEEKLY + '2008-01-27,"5\n', "line 7: unterminated quote (truncated line?)"),
    "text after closing quote": (
        TRENDS_WEEKLY + '2008-01-27,"5"0\n',
        "line 7: malformed CSV (',' expected after '\"')",
    ),
    "unterminated quote in header": (
        'Month,"gold, price: (Worldwide)\n2012-01,20\n',
        "line 1: unterminated quote (truncated line?)",
    ),
    "too many fields": (TRENDS_WEEKLY + "2008-01-27,5,6\n", "line 7: expected 2 fields, got 3"),
    "empty value": (TRENDS_WEEKLY + "2008-01-27,\n", "line 7: not a number: ''"),
    "text value": (TRENDS_WEEKLY + "2008-01-27,high\n", "line 7: not a number: 'high'"),
    "underscore value": (TRENDS_WEEKLY + "2008-01-27,1_0\n", "line 7: not a number: '1_0'"),
    "Arabic-Indic value": (TRENDS_WEEKLY + "2008-01-27,٥\n", "line 7: not a number: '٥'"),
    "full-width digits in date": (
        TRENDS_WEEKLY + "２００８-01-27,5\n",
        "line 7: week '２００８-01-27' is not %Y-%m-%d",
    ),
    "NaN value": (TRENDS_WEEKLY + "2008-01-27,NaN\n", "line 7: not a finite number: 'NaN'"),
    "over 100": (TRENDS_WEEKLY + "2008-01-27,101\n", "line 7: value '101' outside 0..100"),
    "bad date": (TRENDS_WEEKLY + "27/01/2008,5\n", "line 7: week '27/01/2008' is not %Y-%m-%d"),
    "impossible date": (TRENDS_WEEKLY + "2008-02-31,5\n", "line 7: invalid date '2008-02-31'"),
    "day before 1677": ("Day,gold: (Worldwide)\n1600-01-01,5\n", f"line 2: day '1600-01-01' {OUT_OF_RANGE}"),
    # period_end wrapped round to 1677 silently
    "week ending past 2262": (
        TRENDS_WEEKLY + "2262-04-06,5\n",
        f"line 7: the end of week 2262-04-06 {OUT_OF_RANGE}",
    ),
    "month ending past 2262": (
        "Month,gold: (Worldwide)\n2262-04,5\n",
        f"line 2: the end of month 2262-04 {OUT_OF_RANGE}",
    ),
    "week not sunday": (TRENDS_WEEKLY + "2008-01-28,5\n", "line 7: week 2008-01-28 does not start on a Sunday"),
    "month as day": ("Month,gold price: (Worldwide)\n2012-01-01,4\n", "line 2: month '2012-01-01' is not %Y-%m"),
    "duplicate": (TRENDS_WEEKLY + "2008-01-20,5\n", "line 7: duplicate period 2008-01-20"),
}

# Social sentiment feed -------------------------------------------------------------------------------

_SOCIAL_MISSING_COUNT = "line 1: missing required column(s) ['social_mention_count']"

SOCIAL_MALFORMED = {
    "empty body": ("", "empty body (no header)"),
    "whitespace body": (" \r\n", "empty body (no header)"),
    "not UTF-8": (
        SOCIAL_HEADER.encode() + b"2008-01-01T00:00:00Z,G\xf6OG,0.1,1\n",
        "body is not UTF-8 text (invalid start byte at byte 89)",
    ),
    "missing column": (
        "timestamp,asset_symbol,social_sentiment_score\n2008-01-01T00:00:00Z,GOOG,0.1\n",
        _SOCIAL_MISSING_COUNT + " (header: \"['timestamp', 'asset_symbol', 'social_sentiment_score']\")",
    ),
    "json instead of csv": (
        '{"error": "unauthorised"}',
        "line 1: missing required column(s) ['timestamp', 'asset_symbol', 'social_sentiment_score', "
        "'social_mention_count'] (header: '[\\'{\"error\": \"unauthorised\"}\\']')",
    ),
    "html": (
        "<html><body>401 Unauthorized</body></html>",
        "line 1: missing required column(s) ['timestamp', 'asset_symbol', 'social_sentiment_score', "
        "'social_mention_count'] (header: \"['<html><body>401 Unauthorized</body></html>']\")",
    ),
    "duplicate column": (
        SOCIAL_HEADER.strip() + ",timestamp\n",
        "line 1: duplicate column names in header \"['timestamp', 'asset_symbol', 'social_sentiment_score', "
        "'social_mention_count', 'timestamp']\"",
    ),
    "truncated last line": (
        SOCIAL_FEED + "2008-01-03T00:00:00Z,BTC-US",
        "line 6: expected 4 fields, got 2 (truncated line?)",
    ),
    "too many fields": (SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,1,extra\n", "line 2: expected 4 fields, got 5"),
    "bad timestamp": (
        SOCIAL_HEADER + "2008-13-01T00:00:00Z,GOOG,0.1,1\n",
        "line 2: timestamp '2008-13-01T00:00:00Z' is not an ISO 8601 date-time (month must be in 1..12)",
    ),
    "naive timestamp": (SOCIAL_HEADER + "2008-01-01,GOOG,0.1,1\n", "line 2: timestamp '2008-01-01' has no time zone"),
    "intraday timestamp": (
        SOCIAL_HEADER + "2008-01-01T12:00:00Z,GOOG,0.1,1\n",
        "line 2: timestamp '2008-01-01T12:00:00Z' is not 00:00 UTC (the feed is daily)",
    ),
    "timestamp past 2262": (
        SOCIAL_HEADER + "2263-01-01T00:00:00Z,GOOG,0.1,1\n",
        f"line 2: timestamp '2263-01-01T00:00:00Z' {OUT_OF_RANGE}",
    ),
    "timestamp in year 1 with an offset": (
        SOCIAL_HEADER + "0001-01-01T00:00:00+01:00,GOOG,0.1,1\n",
        f"line 2: timestamp '0001-01-01T00:00:00+01:00' {OUT_OF_RANGE}",
    ),
    "text score": (SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,positive,1\n", "line 2: not a number: 'positive'"),
    "underscore score": (SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0_5,1\n", "line 2: not a number: '0_5'"),
    "underscore count": (SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,1_000\n", "line 2: not a number: '1_000'"),
    "Arabic-Indic count": (SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,١٢\n", "line 2: not a number: '١٢'"),
    "NaN score": (SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,nan,1\n", "line 2: not a finite number: 'nan'"),
    "infinite count": (SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,inf\n", "line 2: not a finite number: 'inf'"),
    "score out of range": (
        SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,1.5,1\n",
        "line 2: sentiment score '1.5' outside -1..1",
    ),
    "negative count": (
        SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,-3\n",
        "line 2: mention count '-3' is not a non-negative integer",
    ),
    "fractional count": (
        SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,2.5\n",
        "line 2: mention count '2.5' is not a non-negative integer",
    ),
    # beyond int64: the Int64 column raised TypeError / OverflowError
    "count 1e19": (
        SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,1e19\n",
        "line 2: mention count '1e19' is beyond int64",
    ),
    "count 1e30": (
        SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,1e30\n",
        "line 2: mention count '1e30' is beyond int64",
    ),
    "count 2**63": (
        SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,9223372036854775808\n",
        "line 2: mention count '9223372036854775808' is beyond int64",
    ),
    "empty symbol": (SOCIAL_HEADER + "2008-01-01T00:00:00Z, ,0.1,2\n", "line 2: empty asset_symbol"),
    "duplicate row": (
        SOCIAL_HEADER + "2008-01-01T00:00:00Z,GOOG,0.1,2\n2008-01-01T00:00:00Z,GOOG,0.2,3\n",
        "line 3: duplicate row for GOOG at 2008-01-01T00:00:00+00:00 (first on line 2)",
    ),
    "unterminated quote": (
        SOCIAL_HEADER + '2008-01-01T00:00:00Z,"GOOG,0.1,2\n',
        "line 2: unterminated quote: the body ends inside a quoted field (truncated?)",
    ),
    # csv's default (non-strict) reader reads a last cell `"2` as 2
    "unterminated quote in the last cell": (
        SOCIAL_HEADER + '2008-01-01T00:00:00Z,GOOG,0.1,"2',
        "line 2: unterminated quote: the body ends inside a quoted field (truncated?)",
    ),
    "text after closing quote": (
        SOCIAL_HEADER + '2008-01-01T00:00:00Z,GOOG,0.1,"2"0\n',
        "line 2: malformed CSV (',' expected after '\"')",
    ),
}

# Alpha Vantage corporate actions and commodity series --------------------------------------------

_AV_NOTE = (
    "rate limited: 'Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500"
    " calls per day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call"
    " frequency.'"
)
_AV_PREMIUM = (
    "API information instead of data: 'Thank you for using Alpha Vantage! This is a premium endpoint. You may"
    " subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium"
    " endpoints'"
)
# the HTTP-200 error bodies every Alpha Vantage function answers with, classified as for the price series
AV_API_MESSAGES: dict[str, tuple[str | bytes, str | re.Pattern[str]]] = {
    "rate limit note": (_fixture("alphavantage_note.json"), _AV_NOTE),
    "daily limit": (_fixture("alphavantage_rate_limit.json"), re.compile(r"rate limited: '.*25 requests per day.*'")),
    "premium endpoint": (_fixture("alphavantage_premium.json"), _AV_PREMIUM),
    "error message": (_fixture("alphavantage_error.json"), re.compile(r"API error: 'Invalid API call\. .*'")),
}


def _split(day: object = "2024-06-10", factor: object = "10.0000") -> str:
    return json.dumps({"symbol": "NVDA", "data": [{"effective_date": day, "split_factor": factor}]})


def _dividend(**fields: object) -> dict[str, object]:
    return {
        "ex_dividend_date": "2024-11-12",
        "declaration_date": "None",
        "record_date": "None",
        "payment_date": "None",
        "amount": "1.67",
        **fields,
    }


def _dividends(*items: dict[str, object]) -> str:
    return json.dumps({"symbol": "IBM", "data": list(items)})


def _wti(*items: dict[str, object]) -> str:
    return json.dumps({"name": "Crude Oil Prices WTI", "interval": "daily", "data": list(items)})


SPLITS_MALFORMED = _json_malformed(
    {
        **AV_API_MESSAGES,
        "truncated": (_half(AV_SPLITS), TRUNCATED + "(Unterminated string starting at char 61 of 74)"),
        "no data": ('{"symbol": "NVDA"}', "no 'data' key in the response (keys: 'symbol')"),
        "empty object": ("{}", "no 'data' key in the response (keys: none)"),
        "data not a list": ('{"data": {"2024-06-10": "10"}}', "'data' is a dict, expected a list"),
        "item not an object": ('{"data": ["2024-06-10"]}', "data[0]: expected an object, got str"),
        "missing factor": (
            '{"data": [{"effective_date": "2024-06-10"}]}',
            "data[0]: missing 'split_factor' (keys: ['effective_date'])",
        ),
        "text factor": (_split(factor="abc"), "data[0]: split_factor is not numeric: 'abc'"),
        "NaN factor": (_split(factor="NaN"), "data[0]: split_factor is not numeric: 'NaN'"),
        "underscore factor": (_split(factor="1_0"), "data[0]: split_factor is not numeric: '1_0'"),
        "zero factor": (_split(factor="0.0000"), "data[0]: split_factor 0 is not positive"),
        "negative factor": (_split(factor="-2"), "data[0]: split_factor -2 is not positive"),
        "impossible date": (
            _split(day="2024-13-01"),
            "effective_date: unparsable date '2024-13-01' (expected %Y-%m-%d)",
        ),
        "date before 1677": (_split(day="1600-01-01"), f"effective_date: date '1600-01-01' {OUT_OF_RANGE}"),
        "null date": (_split(day=None), "effective_date: expected a date string, got None"),
        "two splits a day": (
            json.dumps({"data": [{"effective_date": "2024-06-10", "split_factor": f} for f in ("2", "3")]}),
            "two splits on 2024-06-10",
        ),
    }
)

DIVIDENDS_MALFORMED = _json_malformed(
    {
        **AV_API_MESSAGES,
        "no data": ('{"symbol": "IBM"}', "no 'data' key in the response (keys: 'symbol')"),
        "missing amount": (
            _dividends({k: v for k, v in _dividend().items() if k != "amount"}),
            "data[0]: missing 'amount' (keys: ['ex_dividend_date', 'declaration_date', 'record_date', 'payment_date'])",
        ),
        "missing payment date": (
            _dividends({k: v for k, v in _dividend().items() if k != "payment_date"}),
            "data[0]: missing 'payment_date' (keys: ['ex_dividend_date', 'declaration_date', 'record_date', 'amount'])",
        ),
        "negative amount": (_dividends(_dividend(amount="-0.5")), "data[0]: negative amount -0.5"),
        "NaN amount": (_dividends(_dividend(amount="NaN")), "data[0]: amount is not numeric: 'NaN'"),
        "Arabic-Indic amount": (_dividends(_dividend(amount="١٫٥")), "data[0]: amount is not numeric: '١٫٥'"),
        "unknown ex-date": (
            _dividends(_dividend(ex_dividend_date="None")),
            "data[0]: the ex_dividend_date is unknown ('None'); a dividend needs one",
        ),
        "impossible payment date": (
            _dividends(_dividend(payment_date="2024-02-30")),
            "payment_date: unparsable date '2024-02-30' (expected %Y-%m-%d)",
        ),
        "empty declaration date": (
            _dividends(_dividend(declaration_date="")),
            "declaration_date: unparsable date '' (expected %Y-%m-%d)",
        ),
        "record date past 2262": (
            _dividends(_dividend(record_date="2263-01-01")),
            f"record_date: date '2263-01-01' {OUT_OF_RANGE}",
        ),
        "listed twice": (_dividends(_dividend(), _dividend()), "dividend 1.67 on 2024-11-12 listed twice"),
    }
)

COMMODITY_MALFORMED = _json_malformed(
    {
        **AV_API_MESSAGES,
        "no data": (
            '{"name": "Crude Oil Prices WTI", "interval": "daily"}',
            "no 'data' key in the response (keys: 'name', 'interval')",
        ),
        "missing value": (_wti({"date": "2020-04-21"}), "data[0]: missing 'value' (keys: ['date'])"),
        "text value": (
            _wti({"date": "2020-04-21", "value": "n/a"}),
            "data[0] ('2020-04-21'): value is not numeric: 'n/a'",
        ),
        "infinite value": (
            _wti({"date": "2020-04-21", "value": "Infinity"}),
            "data[0] ('2020-04-21'): value is not numeric: 'Infinity'",
        ),
        "bad date": (
            _wti({"date": "21/04/2020", "value": "8.91"}),
            "date: unparsable date '21/04/2020' (expected %Y-%m-%d)",
        ),
        "duplicate date": (
            _wti({"date": "2020-04-21", "value": "8.91"}, {"date": "2020-04-21", "value": "9"}),
            "duplicate date 2020-04-21",
        ),
    }
)

MALFORMED: dict[str, dict[str, tuple[str | bytes, str | re.Pattern[str]]]] = {
    "alphavantage": ALPHAVANTAGE_MALFORMED,
    "coingecko": COINGECKO_MALFORMED,
    "alternative_me": FEAR_GREED_MALFORMED,
    "fred": FRED_MALFORMED,
    "gdelt": GDELT_MALFORMED,
    "google_trends": GOOGLE_TRENDS_MALFORMED,
    "social": SOCIAL_MALFORMED,
    "alphavantage_splits": SPLITS_MALFORMED,
    "alphavantage_dividends": DIVIDENDS_MALFORMED,
    "alphavantage_commodity": COMMODITY_MALFORMED,
}


def test_malformed_table_covers_every_parser() -> None:
    assert set(MALFORMED) == set(CONTRACTS)


@pytest.mark.parametrize(
    "contract, body, cause",
    [
        pytest.param(CONTRACTS[source], body, cause, id=f"{source}-{case}")
        for source, cases in MALFORMED.items()
        for case, (body, cause) in cases.items()
    ],
)
def test_malformed_body_raises_source_error(
    contract: Contract, body: str | bytes, cause: str | re.Pattern[str]
) -> None:
    with pytest.raises(SourceError) as info:
        contract.parse(body, where=contract.where)
    error = info.value
    assert error.source == contract.source
    assert error.where == contract.where
    if isinstance(cause, re.Pattern):
        assert cause.fullmatch(error.cause), error.cause
    else:
        assert error.cause == cause
    assert str(error) == f"{contract.source} [{contract.where}]: {error.cause}"


@pytest.mark.parametrize("contract", JSON_CONTRACTS, ids=str)
def test_every_prefix_of_a_json_body_raises_source_error(contract: Contract) -> None:
    body = contract.valid.strip()
    for cut in range(len(body)):
        with pytest.raises(SourceError) as info:
            contract.parse(body[:cut], where=contract.where)
        assert info.value.source == contract.source
        assert str(info.value).startswith(f"{contract.source} [{contract.where}]: ")


# --- property tests: whatever arrives, parsed rows that keep the invariants or a SourceError ---------
# (a) arbitrary bytes and mutated valid bodies; (b) valid envelopes holding hypothesis-generated hostile
# values (huge ints, inf/nan/1e300, odd numeric strings, out-of-range and intraday stamps, Unicode
# digits); (c) a valid body with one value that must be refused. Any other exception fails the test.

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INT64_MAX = 2**63 - 1
MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class Raw:
    """A JSON token spliced into a body verbatim (numbers json.dumps cannot write, such as 5,000 digits)."""

    token: str


def render(value: object) -> str:
    """JSON text of ``value``, with :class:`Raw` tokens as they are."""
    if isinstance(value, Raw):
        return value.token
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value)


# hostile values ---------------------------------------------------------------------------------------

SPECIAL_INTS = [0, -1, 1, 2**53, 2**53 + 1, INT64_MAX, 2**63, 2**64, -(2**63) - 1, 10**19, 10**30, 10**400]
NUMBER_TOKENS = st.one_of(
    st.integers().map(str),
    st.sampled_from(SPECIAL_INTS).map(str),
    st.integers(min_value=4250, max_value=4400).map(lambda n: "9" * n),  # around the int-string limit
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e300", "-1e300", "1e999", "-1e999", "1e-400", "0.0", "-0.0", "1E+19", "NaN", "Infinity"]),
).map(Raw)
UNICODE_DIGITS = st.text(st.characters(categories=["Nd"]), min_size=1, max_size=6).filter(lambda t: not t.isascii())
UNDERSCORED = st.from_regex(r"[0-9]{1,3}(_[0-9]{1,3})+(\.[0-9]{1,2})?", fullmatch=True)
NON_FINITE = st.sampled_from(["NaN", "nan", "-nan", "inf", "+inf", "-Infinity", "1e999", "-1e999"])
ODD_STRINGS = st.one_of(
    UNICODE_DIGITS,
    UNDERSCORED,
    NON_FINITE,
    st.sampled_from(["", " ", "1,000", "0x10", "1e19", "1e30", "+5", "-0", "²", "\u00a012", "12\u200b", " 12 "]),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=8),
)
HOSTILE = st.one_of(NUMBER_TOKENS, ODD_STRINGS, st.none(), st.booleans(), st.just([]))


@st.composite
def date_parts(draw: st.DrawFn) -> tuple[int, int, int, int, int, int]:
    """Year 0..9999 (mostly near the datetime64 range), month 0..13, day 0..32, a time of day or midnight."""
    year = draw(st.one_of(st.integers(1990, 2030), st.integers(0, 9999), st.sampled_from([1677, 1678, 2261, 2262])))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    time = draw(st.one_of(st.just((0, 0, 0)), st.tuples(st.integers(0, 24), st.integers(0, 60), st.integers(0, 60))))
    return (year, month, day, *time)


def _unicode_digits(text: str, draw: st.DrawFn) -> str:
    """``text`` with its ASCII digits swapped for one Unicode digit set (Arabic-Indic, full-width, ...)."""
    zero = draw(st.sampled_from(["\u0660", "\uff10", "\u0966", "\u06f0", "\U0001d7ce"]))
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in text)


def hostile_date(fmt: str) -> st.SearchStrategy[str]:
    """Dates in ``fmt``: valid, impossible, out of range, intraday, or with Unicode digits."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        y, mo, d, h, mi, s = draw(date_parts())
        text = fmt.format(y=y, mo=mo, d=d, h=h, mi=mi, s=s)
        return _unicode_digits(text, draw) if draw(st.integers(0, 9)) == 0 else text

    return st.one_of(build(), st.text(max_size=20))


# per-source structured bodies ---------------------------------------------------------------------
# Each body is valid except where ``hostile`` swaps a value: none, a few or most of them, so that both
# parsed frames (whose invariants are then checked) and refusals come up often.

BASE_DAY = pd.Timestamp("2008-01-06", tz="UTC")  # a Sunday
# alternative.me's bands, written out here independently of the parser
FNG_BANDS = [
    ("Extreme Fear", 0, 24),
    ("Fear", 25, 46),
    ("Neutral", 47, 54),
    ("Greed", 55, 75),
    ("Extreme Greed", 76, 100),
]


def hostile(draw: st.DrawFn, good: st.SearchStrategy, bad: st.SearchStrategy, percent: int) -> object:
    """A draw from ``bad`` with probability ``percent`` %, else from ``good``."""
    return draw(bad) if percent and draw(st.integers(0, 99)) < percent else draw(good)


def hostility() -> st.SearchStrategy[int]:
    return st.sampled_from([0, 0, 5, 15, 50])


def days(size: int = 4, step: int = 1) -> st.SearchStrategy[list[pd.Timestamp]]:
    """Distinct days (multiples of ``step`` after :data:`BASE_DAY`), in random order."""
    offsets = st.lists(st.integers(0, 3000), min_size=0, max_size=size, unique=True)
    return offsets.map(lambda found: [BASE_DAY + pd.Timedelta(days=step * n) for n in found])


def prices() -> st.SearchStrategy[str]:
    return st.floats(0.0001, 1e6).map(lambda x: f"{x:.4f}")


def counts() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 10**6), st.sampled_from([0, 2**53, 2**62]))


AV_DATE = hostile_date("{y:04d}-{mo:02d}-{d:02d}")
GDELT_DATE = hostile_date("{y:04d}{mo:02d}{d:02d}T{h:02d}{mi:02d}{s:02d}Z")


@st.composite
def hostile_alphavantage(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    key = draw(
        st.sampled_from(["Time Series (Daily)", "Time Series FX (Daily)", "Time Series (Digital Currency Daily)"])
    )
    series: dict[str, dict[str, object]] = {}
    for day in draw(days()) or [BASE_DAY]:
        date = hostile(draw, st.just(f"{day:%Y-%m-%d}"), AV_DATE, pct // 3)
        fields = {f"{n}. {name}": hostile(draw, prices(), HOSTILE, pct) for n, name in enumerate(PRICE_NAMES, 1)}
        fields["5. volume"] = hostile(draw, counts().map(str), HOSTILE, pct)
        series[str(date)] = fields
    return render({"Meta Data": {"2. Symbol": "GOOG"}, key: series})


PRICE_NAMES = ("open", "high", "low", "close")
CG_STAMP_HOSTILE = st.one_of(
    st.integers(-(2**70), 2**70).map(lambda ms: Raw(str(ms))),
    NUMBER_TOKENS,
    st.sampled_from([Raw("1e15"), Raw("-1e16"), Raw("1367107200000.5"), Raw(str(2**64))]),
    st.integers(1, MS_PER_DAY - 1).map(lambda ms: Raw(str(1367107200000 + ms))),  # intraday
)


@st.composite
def hostile_coingecko(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    arrays: dict[str, list[list[object]]] = {}
    for key in ("prices", "market_caps", "total_volumes"):
        points = []
        for day in draw(days()):
            stamp = hostile(draw, st.just(Raw(str(day.value // 1_000_000))), CG_STAMP_HOSTILE, pct // 3)
            good = st.one_of(st.floats(0.01, 1e12).map(repr).map(Raw), st.none())
            points.append([stamp, hostile(draw, good, HOSTILE, pct)])
        if points and draw(st.booleans()):  # CoinGecko's "now": an intraday newest point
            points.append([Raw(str(BASE_DAY.value // 1_000_000 + 3001 * MS_PER_DAY + 12_345)), Raw("1.5")])
        arrays[key] = points
    return render(arrays)


@st.composite
def hostile_fear_greed(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    items = []
    for day in draw(days()):
        value = draw(st.integers(0, 100))
        label = next(name for name, low, high in FNG_BANDS if low <= value <= high)
        stamp_bad = st.one_of(
            st.integers(0, 10**12).map(str),
            st.integers(4250, 4400).map(lambda n: "9" * n),
            ODD_STRINGS,
            NUMBER_TOKENS,
        )
        items.append(
            {
                "value": hostile(draw, st.just(str(value)), HOSTILE, pct),
                "value_classification": hostile(draw, st.just(label), st.sampled_from([n for n, *_ in FNG_BANDS]), pct),
                "timestamp": hostile(draw, st.just(str(day.value // 10**9)), stamp_bad, pct // 3),
            }
        )
    return render({"name": "Fear and Greed Index", "data": items[::-1], "metadata": {"error": None}})


@st.composite
def hostile_fred(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    observations = []
    for day in draw(days()):
        lag = draw(st.integers(0, 60))
        release = day + pd.Timedelta(days=lag)
        good_value = st.one_of(st.just("."), st.floats(-1e6, 1e6).map(lambda x: f"{x:.3f}"))
        observations.append(
            {
                "realtime_start": hostile(draw, st.just(f"{release:%Y-%m-%d}"), AV_DATE, pct // 3),
                "realtime_end": "9999-12-31",
                "date": hostile(draw, st.just(f"{day:%Y-%m-%d}"), AV_DATE, pct // 3),
                "value": hostile(draw, good_value, HOSTILE, pct),
            }
        )
    count = hostile(draw, st.just(len(observations)), st.one_of(NUMBER_TOKENS, ODD_STRINGS), pct // 3)
    output_type = hostile(draw, st.sampled_from([1, 4, "4"]), st.sampled_from(["٤", 2, 4.0, None]), pct // 3)
    return render({"output_type": output_type, "count": count, "offset": 0, "observations": observations})


@st.composite
def hostile_gdelt(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    series = draw(st.sampled_from(["Article Count", "Average Tone"]))
    resolution = draw(st.sampled_from(["day", "hour", None]))
    items = []
    for day in draw(days()):
        moment = day if resolution == "day" else day + pd.Timedelta(minutes=15 * draw(st.integers(0, 95)))
        if series == "Article Count":
            value, norm = counts().map(lambda n: Raw(str(n))), counts().map(lambda n: Raw(str(n)))
        else:
            value, norm = st.floats(-100, 100).map(repr).map(Raw), st.none()
        item: dict[str, object] = {
            "date": hostile(draw, st.just(f"{moment:%Y%m%dT%H%M%SZ}"), GDELT_DATE, pct // 3),
            "value": hostile(draw, value, HOSTILE, pct),
        }
        if series == "Article Count" or draw(st.booleans()):
            item["norm"] = hostile(draw, norm, HOSTILE, pct)
        items.append(item)
    details = {"title": "x"} if resolution is None else {"title": "x", "date_resolution": resolution}
    return render({"query_details": details, "timeline": [{"series": series, "data": items}]})


@st.composite
def hostile_google_trends(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    period = draw(st.sampled_from(["Day", "Week", "Month"]))
    lines = []
    for day in draw(days(step=7 if period == "Week" else 1)):
        if period == "Month":
            start = f"{BASE_DAY + pd.DateOffset(months=(day - BASE_DAY).days):%Y-%m}"
            bad_date = hostile_date("{y:04d}-{mo:02d}")
        else:
            start, bad_date = f"{day:%Y-%m-%d}", AV_DATE
        value = st.one_of(st.integers(0, 100).map(str), st.just("<1"))
        cell = hostile(draw, value, st.one_of(ODD_STRINGS, value.map(lambda v: f'"{v}')), pct)
        lines.append(f"{hostile(draw, st.just(start), bad_date, pct // 3)},{cell}".replace("\n", " "))
    return f"Category: All categories\n\n{period},bitcoin: (Worldwide)\n" + "\n".join(lines)


@st.composite
def hostile_social(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    stamp_bad = st.builds(
        lambda d, zone: d + zone,
        hostile_date("{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"),
        st.sampled_from(["Z", "+01:00", "-23:59", ""]),
    )
    rows = []
    for day in draw(days()):
        for symbol in draw(
            st.lists(st.sampled_from(["GOOG", "BTC-USD", "ÄPFEL"]), min_size=1, max_size=2, unique=True)
        ):
            hours = draw(st.integers(-12, 14))
            local = day + pd.Timedelta(hours=hours)
            good_stamp = st.sampled_from([f"{day:%Y-%m-%d}T00:00:00Z", f"{local:%Y-%m-%dT%H:%M:%S}{hours:+03d}:00"])
            score = st.one_of(st.floats(-1, 1).map(lambda x: f"{x:.4f}"), st.just(""))
            count = st.one_of(counts().map(str), st.just(""))
            cells = [
                hostile(draw, good_stamp, stamp_bad, pct // 3),
                symbol,
                hostile(draw, score, ODD_STRINGS, pct),
                hostile(draw, count, ODD_STRINGS, pct),
            ]
            rows.append(",".join(str(cell).replace(",", ";").replace('"', "'") for cell in cells))
    return SOCIAL_HEADER + "".join(f"{row}\n" for row in rows)


@st.composite
def hostile_splits(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    factor = st.floats(0.01, 1000).map(lambda x: f"{x:.4f}")
    items = [
        {
            "effective_date": hostile(draw, st.just(f"{day:%Y-%m-%d}"), AV_DATE, pct // 3),
            "split_factor": hostile(draw, factor, HOSTILE, pct),
        }
        for day in draw(days())
    ]
    return render({"symbol": "NVDA", "data": items[::-1]})


@st.composite
def hostile_dividends(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    items = []
    for day in draw(days()):
        known = st.one_of(
            st.just("None"), st.integers(-30, 60).map(lambda n, d=day: f"{d + pd.Timedelta(days=n):%Y-%m-%d}")
        )
        items.append(
            {
                "ex_dividend_date": hostile(draw, st.just(f"{day:%Y-%m-%d}"), AV_DATE, pct // 3),
                "declaration_date": hostile(draw, known, AV_DATE, pct // 3),
                "record_date": hostile(draw, known, AV_DATE, pct // 3),
                "payment_date": hostile(draw, known, AV_DATE, pct // 3),
                "amount": hostile(draw, st.floats(0, 100).map(lambda x: f"{x:.4f}"), HOSTILE, pct),
            }
        )
    return render({"symbol": "IBM", "data": items[::-1]})


@st.composite
def hostile_commodity(draw: st.DrawFn) -> str:
    pct = draw(hostility())
    value = st.one_of(st.just("."), st.floats(-1e4, 1e4).map(lambda x: f"{x:.2f}"))
    items = [
        {
            "date": hostile(draw, st.just(f"{day:%Y-%m-%d}"), AV_DATE, pct // 3),
            "value": hostile(draw, value, HOSTILE, pct),
        }
        for day in draw(days())
    ]
    return render({"name": "Crude Oil Prices WTI", "interval": "daily", "unit": "dollars per barrel", "data": items})


HOSTILE_BODIES: dict[str, st.SearchStrategy[str]] = {
    "alphavantage": hostile_alphavantage(),
    "coingecko": hostile_coingecko(),
    "alternative_me": hostile_fear_greed(),
    "fred": hostile_fred(),
    "gdelt": hostile_gdelt(),
    "google_trends": hostile_google_trends(),
    "social": hostile_social(),
    "alphavantage_splits": hostile_splits(),
    "alphavantage_dividends": hostile_dividends(),
    "alphavantage_commodity": hostile_commodity(),
}


# the invariants of a parsed frame -------------------------------------------------------------------


def _midnight(stamps: pd.Series) -> bool:
    return bool((stamps == stamps.dt.normalize()).all())


def _gdelt_context(body: str | bytes) -> tuple[str | None, bool]:
    """The series name and whether the body declares a daily resolution."""
    data = json.loads(body)
    details = data.get("query_details")
    daily = isinstance(details, dict) and details.get("date_resolution") == "day"
    timeline = data.get("timeline") or [{}]
    return timeline[0].get("series"), daily


def assert_invariants(contract: Contract, frame: pd.DataFrame, body: str | bytes) -> None:
    """Exactly the documented columns and dtypes, sorted and unique on the key, values as documented."""
    assert_schema(contract, frame)
    key = pd.MultiIndex.from_frame(frame[list(contract.key)])
    assert key.is_monotonic_increasing and key.is_unique
    for name, dtype in contract.columns.items():
        if dtype == UTC_NS and name not in contract.optional:
            assert frame[name].notna().all(), name
    source = contract.id
    if source == "alphavantage":
        assert _midnight(frame["timestamp"])
        prices = frame[["price_open", "price_high", "price_low", "price_close"]].to_numpy()
        assert np.isfinite(prices).all() and (prices > 0).all()
        volume = frame["volume"].dropna().to_numpy()
        assert np.isfinite(volume).all() and (volume >= 0).all()
    elif source == "coingecko":
        price = frame["price"].dropna().to_numpy()
        assert np.isfinite(price).all() and (price > 0).all()
        for name in ("market_cap", "total_volume"):
            other = frame[name].dropna().to_numpy()
            assert np.isfinite(other).all() and (other >= 0).all()
        assert (frame["timestamp"] != frame["timestamp"].dt.normalize()).sum() <= 3  # each array's newest only
    elif source == "alternative_me":
        values = frame["value"].to_numpy()
        assert np.isfinite(values).all() and ((values >= 0) & (values <= 100)).all()
        assert [fear_greed.band(v)[0] for v in values] == frame["value_classification"].tolist()
        assert frame["timestamp"].dt.normalize().is_unique
    elif source == "fred":
        assert _midnight(frame["observation_date"]) and _midnight(frame["realtime_start"])
        assert np.isfinite(frame["value"].dropna().to_numpy()).all()
        assert (frame["realtime_start"] >= frame["observation_date"]).all()
    elif source == "gdelt":
        series, daily = _gdelt_context(body)
        values, norms = frame["value"].to_numpy(), frame["norm"].dropna().to_numpy()
        assert np.isfinite(values).all()
        if series == "Article Count":
            counts = np.concatenate([values, norms])
            assert (counts >= 0).all() and (counts == np.round(counts)).all() and (counts < 2.0**63).all()
        else:
            assert series == "Average Tone" and ((values >= -100) & (values <= 100)).all()
        if daily:
            assert _midnight(frame["timestamp"])
    elif source == "google_trends":
        assert _midnight(frame["period_start"]) and (frame["period_end"] > frame["period_start"]).all()
        values = frame["value"].to_numpy()
        assert np.isfinite(values).all() and ((values >= 0) & (values <= 100)).all()
    elif source == "social":
        assert _midnight(frame["timestamp"])
        scores = frame["social_sentiment_score"].dropna().to_numpy()
        assert np.isfinite(scores).all() and ((scores >= -1) & (scores <= 1)).all()
        counts = frame["social_mention_count"].dropna()
        assert ((counts >= 0) & (counts <= INT64_MAX)).all()
    elif source == "alphavantage_splits":
        assert _midnight(frame["effective_date"])
        factors = frame["split_factor"].to_numpy()
        assert np.isfinite(factors).all() and (factors > 0).all()
    elif source == "alphavantage_dividends":
        for name in ("ex_dividend_date", *contract.optional):
            assert _midnight(frame[name].dropna())
        amounts = frame["amount"].to_numpy()
        assert np.isfinite(amounts).all() and (amounts >= 0).all()
    elif source == "alphavantage_commodity":
        assert _midnight(frame["timestamp"])
        assert np.isfinite(frame["value"].dropna().to_numpy()).all()
    else:  # pragma: no cover - a new parser needs its invariants here
        raise AssertionError(f"no invariants for {source}")


def parse_or_refuse(contract: Contract, body: str | bytes) -> pd.DataFrame | SourceError:
    """Parse ``body``: a frame keeping the invariants, or the SourceError naming the source and where."""
    try:
        frame = contract.parse(body, where=contract.where)
    except SourceError as error:
        assert error.source == contract.source
        assert error.where == contract.where
        assert error.cause and str(error) == f"{contract.source} [{contract.where}]: {error.cause}"
        return error
    assert_invariants(contract, frame, body)
    return frame


@st.composite
def mutated(draw: st.DrawFn, body: str) -> str:
    """``body`` with up to three random deletions, insertions or replacements."""
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(body)))
        end = draw(st.integers(start, min(len(body), start + 8)))
        body = body[:start] + draw(st.text(max_size=4)) + body[end:]
    return body


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=str)
@FUZZ
@given(data=st.data())
def test_any_bytes_parse_or_raise_source_error(contract: Contract, data: st.DataObject) -> None:
    body = data.draw(
        st.one_of(st.binary(max_size=200), mutated(contract.valid), mutated(contract.valid).map(str.encode))
    )
    parse_or_refuse(contract, body)


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=str)
@FUZZ
@given(data=st.data())
def test_hostile_values_parse_or_raise_source_error(contract: Contract, data: st.DataObject) -> None:
    parse_or_refuse(contract, data.draw(HOSTILE_BODIES[contract.id]))


# (c) one value that must be refused, in an otherwise valid body -----------------------------------

REFUSED_NUMBER = st.one_of(UNICODE_DIGITS, UNDERSCORED, NON_FINITE)  # refused in every numeric field


@st.composite
def out_of_range_date(draw: st.DrawFn, fmt: str) -> str:
    year = draw(st.one_of(st.integers(1000, 1676), st.integers(2263, 9999)))
    return fmt.format(y=year, mo=draw(st.integers(1, 12)), d=draw(st.integers(1, 28)), h=0, mi=0, s=0)


@st.composite
def intraday(draw: st.DrawFn, fmt: str) -> str:
    seconds = draw(st.integers(1, 86_399))
    return fmt.format(y=2008, mo=1, d=2, h=seconds // 3600, mi=seconds // 60 % 60, s=seconds % 60)


@st.composite
def unicode_date(draw: st.DrawFn, fmt: str) -> str:
    return _unicode_digits(fmt.format(y=2008, mo=1, d=2, h=0, mi=0, s=0), draw)


def dates_refused(fmt: str) -> st.SearchStrategy[str]:
    """Out of range, Unicode digits, or (for a format with a time of day, in a daily series) intraday."""
    found = [out_of_range_date(fmt), unicode_date(fmt)]
    return st.one_of(*found, intraday(fmt)) if "{h" in fmt else st.one_of(*found)


def json_string(token: str) -> str:
    return json.dumps(token)


def as_is(token: object) -> str:
    return str(token)


GDELT_DAILY = GDELT_VOLRAW.replace('"Nasdaq"}', '"Nasdaq","date_resolution":"day"}', 1)


@dataclass(frozen=True)
class Slot:
    """A valid body with one value cut out (``@@``), what must be refused there and how it is written."""

    source: str  # the contract's key (its source, or its name where parsers share a source)
    body: str
    original: str  # the text the slot replaces (once)
    values: st.SearchStrategy
    write: Callable[[Any], str] = json_string
    replacement: str = "@@"  # the slot with its surroundings, when those are part of ``original``

    @property
    def template(self) -> str:
        return self.body.replace(self.original, self.replacement, 1)

    @property
    def refilled(self) -> str:
        """The template with the original value put back: the valid body again."""
        kept = self.replacement.split("@@")
        return self.template.replace("@@", self.original.removeprefix(kept[0]).removesuffix(kept[1]))

    def __str__(self) -> str:
        return f"{self.source}-{re.sub(r'[^A-Za-z0-9.]+', '_', self.original).strip('_')[:24]}"


DAY_FMT = "{y:04d}-{mo:02d}-{d:02d}"
REFUSED: list[Slot] = [
    Slot("alphavantage", ALPHAVANTAGE_DAILY, '"806.9900"', REFUSED_NUMBER),
    Slot("alphavantage", ALPHAVANTAGE_DAILY, '"2265800"', REFUSED_NUMBER),
    Slot("alphavantage", ALPHAVANTAGE_DAILY, '"2013-02-27"', dates_refused(DAY_FMT)),
    Slot("coingecko", COINGECKO_CHART, "141.96", REFUSED_NUMBER),
    Slot(
        "coingecko",
        COINGECKO_CHART,
        "[1367107200000,135.3]",
        st.one_of(st.integers(max_value=-(10**16)), st.integers(min_value=10**16)),
        as_is,
        "[@@,135.3]",
    ),
    Slot("alternative_me", FNG, '"value":"47"', REFUSED_NUMBER, json_string, '"value":@@'),
    Slot(
        "alternative_me",
        FNG,
        '"timestamp":"1551070800"',
        st.one_of(st.integers(10**11, 10**30).map(str), UNICODE_DIGITS, UNDERSCORED),
        json_string,
        '"timestamp":@@',
    ),
    Slot(
        "alternative_me",
        FNG,
        '"value":"47","value_classification":"Neutral"',
        st.integers(0, 100).flatmap(
            lambda v: st.sampled_from([n for n, low, high in FNG_BANDS if not low <= v <= high]).map(
                lambda label: f'"value":"{v}","value_classification":"{label}"'
            )
        ),
        as_is,
    ),
    Slot("fred", FRED_OBSERVATIONS, '"1447.16"', REFUSED_NUMBER),
    Slot("fred", FRED_OBSERVATIONS, '"2008-01-02"', dates_refused(DAY_FMT)),
    Slot("fred", FRED_OBSERVATIONS, '"count":3', st.integers(0, 10**6).filter(lambda n: n != 3), as_is, '"count":@@'),
    Slot("gdelt", GDELT_VOLRAW, '"value":123', REFUSED_NUMBER, json_string, '"value":@@'),
    Slot(
        "gdelt",
        GDELT_VOLRAW,
        '"value":123',
        st.one_of(st.integers(max_value=-1), st.integers(min_value=2**63), st.floats(0.5, 1e6).filter(lambda x: x % 1)),
        as_is,
        '"value":@@',
    ),
    Slot("gdelt", GDELT_DAILY, '"20080102T000000Z"', dates_refused("{y:04d}{mo:02d}{d:02d}T{h:02d}{mi:02d}{s:02d}Z")),
    Slot("google_trends", TRENDS_WEEKLY, ",45\n", REFUSED_NUMBER, as_is, ",@@\n"),
    Slot("google_trends", TRENDS_WEEKLY, ",45\n", st.integers(0, 100).map(lambda v: f'"{v}'), as_is, ",@@\n"),
    Slot("social", SOCIAL_FEED, ",166\n", REFUSED_NUMBER, as_is, ",@@\n"),
    Slot("social", SOCIAL_FEED, ",0.3060,", REFUSED_NUMBER, as_is, ",@@,"),
    Slot(
        "social",
        SOCIAL_FEED,
        ",166\n",
        st.one_of(st.integers(min_value=2**63).map(str), st.integers(max_value=-1).map(str), st.just("1e19")),
        as_is,
        ",@@\n",
    ),
    Slot(
        "social",
        SOCIAL_FEED,
        "2008-01-02T00:00:00Z,BTC-USD",
        dates_refused("{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"),
        as_is,
        "@@,BTC-USD",
    ),
    Slot("alphavantage_splits", AV_SPLITS, '"10.0000"', REFUSED_NUMBER),
    Slot("alphavantage_splits", AV_SPLITS, '"2021-07-20"', dates_refused(DAY_FMT)),
    Slot("alphavantage_dividends", AV_DIVIDENDS, '"1.67"', REFUSED_NUMBER),
    Slot("alphavantage_dividends", AV_DIVIDENDS, '"2024-12-10"', dates_refused(DAY_FMT)),
    Slot("alphavantage_commodity", AV_WTI, '"8.91"', REFUSED_NUMBER),
    Slot("alphavantage_commodity", AV_WTI, '"2020-04-20"', dates_refused(DAY_FMT)),
]


@pytest.mark.parametrize("slot", REFUSED, ids=str)
def test_every_refused_slot_is_cut_from_a_valid_body(slot: Slot) -> None:
    assert slot.template.count("@@") == 1
    assert slot.refilled == slot.body
    assert len(CONTRACTS[slot.source].parse(slot.refilled)) > 0


def test_every_parser_has_refused_slots() -> None:
    assert {slot.source for slot in REFUSED} == set(CONTRACTS)


@pytest.mark.parametrize("slot", REFUSED, ids=str)
@FUZZ
@given(data=st.data())
def test_a_refused_value_raises_source_error(slot: Slot, data: st.DataObject) -> None:
    body = slot.template.replace("@@", slot.write(data.draw(slot.values)))
    assert isinstance(parse_or_refuse(CONTRACTS[slot.source], body), SourceError), body
