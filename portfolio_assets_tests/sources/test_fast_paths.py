"""The column-wise fast paths give the frames and errors of the parsers before them.

Every body is parsed twice: as it comes (the fast path where it applies) and with the fast path switched
off (``_fast`` / ``_fast_values`` answering ``None``), so that the line-by-line reader the parser keeps
for every other body reads it. Both must return equal frames (dtypes, values, order, attrs) or raise
the same error text, and that outcome must be the one the parsers before the fast paths gave on the
same body, recorded in ``fixtures/fast_paths_golden.json`` (see ``golden``): that also pins what the
two readers share (``_wire``'s quick JSON and date reads, the frames' assembly).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from portfolio_assets.bench_data import av_body, ohlcv
from portfolio_assets.errors import SourceError
from portfolio_assets.sources import _wire, alphavantage, google_trends, social
from portfolio_assets_tests.golden import Golden, digest

SAMPLE = Path(__file__).resolve().parents[2] / "portfolio_assets" / "sample_data" / "landing"
GOLDEN = Golden("fast_paths_golden")
# source -> (module, parser, the fast path that answers None when unsure); looked up when called
PARSERS: dict[str, tuple[ModuleType, str, str]] = {
    "social": (social, "parse_social_csv", "_fast"),
    "google_trends": (google_trends, "parse_trends_csv", "_fast"),
    "alphavantage": (alphavantage, "parse_daily", "_fast_values"),
}


def outcome(source: str, body: bytes | str, *, fast: bool = True) -> pd.DataFrame | str:
    module, parser, fast_path = PARSERS[source]
    with pytest.MonkeyPatch.context() as patch:
        if not fast:
            patch.setattr(module, fast_path, lambda *args: None)
        try:
            return getattr(module, parser)(body, where="s/f")
        except SourceError as exc:
            return f"{type(exc).__name__}: {exc}"


def pinned(result: pd.DataFrame | str) -> str:
    return result if isinstance(result, str) else f"frame {digest(result)}"


def assert_same(source: str, key: str, body: bytes | str) -> None:
    """The parser gives on ``body`` what its line-by-line reader gives, and what was recorded for ``key``."""
    got, want = outcome(source, body), outcome(source, body, fast=False)
    if isinstance(want, str):
        assert got == want
    else:
        assert isinstance(got, pd.DataFrame), got
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.attrs == want.attrs
        assert type(got.index) is type(want.index)
    GOLDEN.check(f"{source}/{key}", pinned(got))


def assert_same_text(source: str, key: str, body: str) -> None:
    """``assert_same`` on ``body`` as text and as UTF-8 bytes."""
    assert_same(source, f"{key}/str", body)
    assert_same(source, f"{key}/bytes", body.encode())


@pytest.mark.parametrize("source", list(PARSERS))
def test_bundled_sample(source: str) -> None:
    paths = [p for p in sorted((SAMPLE / source).rglob("*.*")) if "function=SPLITS" not in str(p)]
    paths = [p for p in paths if "function=DIVIDENDS" not in str(p)]
    assert paths
    for path in paths:
        body = path.read_bytes()
        # the recorded outcome is of this very body: a changed sample file is a new case, not a regression
        key = f"sample/{path.relative_to(SAMPLE).as_posix()}/{hashlib.sha256(body).hexdigest()[:32]}"
        assert_same(source, key, body)


HEADER = "timestamp,asset_symbol,social_sentiment_score,social_mention_count"
ROW = "2008-01-01T00:00:00Z,BTC-USD,0.25,10"
SOCIAL = [
    f"{HEADER}\n{ROW}\n2008-01-01T00:00:00Z,AAA,-1,0\n2008-01-02T00:00:00Z,AAA,1,7\n",
    f"\ufeff{HEADER}\r\n{ROW}\r\n\r\n2007-12-31T00:00:00Z,ZZ,,\r\n",
    f"{HEADER}\n{ROW}",  # no final newline
    f"{HEADER}\n\n{ROW}\n   \n,,,\n",  # blank and all-blank rows are skipped
    f"{HEADER}\n{ROW}\r2008-01-02T00:00:00Z,X,.5,1\r",  # CR line ends
    f"{HEADER},extra\n{ROW},x\n",
    "asset_symbol,social_mention_count,timestamp,social_sentiment_score\nA,3,2008-01-01T01:00:00+01:00,0.1\n",
    f"{HEADER}\n 2008-01-01T00:00:00Z , A , 0.5 , 3 \n",
    f'{HEADER}\n"2008-01-01T00:00:00Z","A","0.5","3"\n',  # quoted fields
    f'{HEADER}\n2008-01-01T00:00:00Z,"A,B",0.5,3\n',
    f'{HEADER}\n2008-01-01T00:00:00Z,A,"0.5\n',  # unterminated quote
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0.5\n",  # truncated line
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0.5,3,4\n",
    f"{HEADER}\n{ROW}\n{ROW}\n",  # duplicate day
    f"{HEADER}\n{ROW}\n2008-01-01T12:00:00+12:00,BTC-USD,0.1,1\n",  # the same UTC day, written otherwise
    f"{HEADER}\n2008-01-01T00:00:00Z,,0.5,3\n",
    f"{HEADER}\n2008-01-01,A,0.5,3\n",
    f"{HEADER}\n2008-01-01T00:00:00,A,0.5,3\n",
    f"{HEADER}\n2008-01-01T01:00:00Z,A,0.5,3\n",
    f"{HEADER}\n2008-02-30T00:00:00Z,A,0.5,3\n",
    f"{HEADER}\n1600-01-01T00:00:00Z,A,0.5,3\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,1.5,3\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,nan,3\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,1e-400,3\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0x1,3\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,-0.0,-1\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0.1,1e3\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0.1,3.5\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0.1,9223372036854775807\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0.1,9223372036854775808\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,0.1,0007\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,Ä,0.1,7\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A\tB,0.1,7\n",
    f"{HEADER}\n2008-01-01T00:00:00Z,A,\u0661,7\n",
    f"{HEADER}\n",
    "timestamp,asset_symbol,social_sentiment_score\n",
    f"{HEADER},timestamp\n",
    f"\n{HEADER}\n{ROW}\n",
    "",
    "  \n",
]


@pytest.mark.parametrize(("index", "body"), list(enumerate(SOCIAL)))
def test_social_edge_cases(index: int, body: str) -> None:
    assert_same_text("social", f"edge/{index}", body)


def test_social_random_cells() -> None:
    rng = random.Random(5)
    tokens = [
        "",
        " ",
        "0.5",
        "-1",
        "1",
        "2",
        "1e0",
        ".5",
        "5.",
        "+0.3",
        "x",
        "-",
        "12",
        "3e2",
        '"',
        "A",
        "2008-01-03T00:00:00Z",
    ]
    rows = [f"2008-01-0{d}T00:00:00Z,S{s},0.{d}{s},{d * s}" for d in range(1, 4) for s in range(3)]
    for case in range(150):
        cells = [row.split(",") for row in rows]
        for _edit in range(rng.randint(1, 3)):
            cells[rng.randrange(len(cells))][rng.randrange(4)] = rng.choice(tokens)
        rng.shuffle(cells)
        body = HEADER + "\n" + "\n".join(",".join(row) for row in cells) + "\n"
        assert_same("social", f"random/{case}", body)


TRENDS_HEAD = "Category: All categories\n\nWeek,bitcoin: (Worldwide)\n"
TRENDS = [
    TRENDS_HEAD + "2008-01-06,<1\n2008-01-13,5\n2008-01-20,100\n",
    "\ufeff" + TRENDS_HEAD.replace("\n", "\r\n") + "2008-01-13,5\r\n\r\n2008-01-06,0\r\n",
    "Month,x: (US)\n2008-01,5\n2008-12,<1\n2008-02,100\n",
    "Day,x: (US)\n2008-01-01,1\n2008-01-03,2\n2008-01-02,3",
    TRENDS_HEAD,  # no rows
    TRENDS_HEAD + " 2008-01-06 , 7 \n",
    TRENDS_HEAD + '"2008-01-06","7"\n',
    TRENDS_HEAD + '2008-01-06,"7\n',
    TRENDS_HEAD + "2008-01-06,7,1\n",
    TRENDS_HEAD + "2008-01-06\n",
    TRENDS_HEAD + "2008-01-07,7\n",  # a Monday
    TRENDS_HEAD + "2008-01-06,7\n2008-01-06,8\n",
    TRENDS_HEAD + "2008-02-31,7\n",
    TRENDS_HEAD + "2008-1-6,7\n",
    TRENDS_HEAD + "1600-01-02,7\n",
    TRENDS_HEAD + "2262-04-06,7\n",
    TRENDS_HEAD + "2008-01-06,101\n",
    TRENDS_HEAD + "2008-01-06,50.5\n",
    TRENDS_HEAD + "2008-01-06,007\n",
    TRENDS_HEAD + "2008-01-06,-1\n",
    TRENDS_HEAD + "2008-01-06,\n",
    TRENDS_HEAD + "2008-01-06,nan\n",
    TRENDS_HEAD + "2008-01-06,<2\n",
    "Month,x: (US)\n2008-13,5\n",
    "Week,x\n2008-01-06,7\n",
    "Week,x: (US),y: (US)\n2008-01-06,7\n",
    "Year,x: (US)\n2008,7\n",
    '"Week","x: (US)"\n2008-01-06,7\n',
    "Category: All\n",
    "",
]


@pytest.mark.parametrize(("index", "body"), list(enumerate(TRENDS)))
def test_trends_edge_cases(index: int, body: str) -> None:
    assert_same_text("google_trends", f"edge/{index}", body)


def _daily(function: str) -> dict:
    days = pd.bdate_range("2019-01-01", periods=6)
    params = {"function": function, "symbol": "X", "from_symbol": "X", "to_symbol": "USD"}
    return json.loads(av_body(params, ohlcv(1, days, 0.01, function != "FX_DAILY")))


def _edits() -> list[tuple[str, Callable[[dict], None]]]:
    def field(value: object, day: int = 2, name: str = "4. close") -> Callable[[dict], None]:
        def edit(data: dict) -> None:
            series = data["Time Series (Daily)"]
            series[list(series)[day]][name] = value

        return edit

    def rename(old: str, new: str) -> Callable[[dict], None]:
        def edit(data: dict) -> None:
            for fields in data["Time Series (Daily)"].values():
                fields[new] = fields.pop(old)

        return edit

    def day(key: str, value: object = None) -> Callable[[dict], None]:
        def edit(data: dict) -> None:
            series = data["Time Series (Daily)"]
            series[key] = value if value is not None else dict(next(iter(series.values())))

        return edit

    return [
        ("valid", lambda data: None),
        ("spaces", field(" 12.5 ")),
        ("json number", field(12.5)),
        ("json int", field(12)),
        ("zero price", field("0")),
        ("negative price", field("-1.0")),
        ("nan text", field("NaN")),
        ("infinite", field("1e400")),
        ("empty", field("")),
        ("null", field(None)),
        ("unicode digits", field("\u0661\u0662")),
        ("lone surrogate", field("\ud800")),
        ("negative volume", field("-5", name="5. volume")),
        ("negative zero volume", field("-0", name="5. volume")),
        ("fractional volume", field("5.5", name="5. volume")),
        (
            "missing volume",
            lambda data: data["Time Series (Daily)"][list(data["Time Series (Daily)"])[1]].pop("5. volume"),
        ),
        ("extra field", field("1", name="9. note")),
        ("ambiguous", field("1", name="1. open ")),
        ("variant a", rename("1. open", "1a. open (USD)")),
        (
            "variants a and b",
            lambda data: (rename("1. open", "1a. open (USD)")(data), field("3", name="1b. open (USD)")(data)),
        ),
        ("bad day", day("2019-1-9")),
        ("no such day", day("2019-02-30")),
        ("out of range day", day("1500-01-01")),
        ("day not object", day("2020-01-01", [1, 2])),
        ("added day", day("2018-12-31")),
    ]


@pytest.mark.parametrize(("name", "edit"), _edits(), ids=[name for name, _ in _edits()])
def test_alphavantage_edge_cases(name: str, edit: Callable[[dict], None]) -> None:
    data = _daily("TIME_SERIES_DAILY")
    edit(data)
    assert_same("alphavantage", f"edge/{name}", json.dumps(data))


@pytest.mark.parametrize("function", ["FX_DAILY", "DIGITAL_CURRENCY_DAILY"])
def test_alphavantage_other_series(function: str) -> None:
    body = json.dumps(_daily(function))
    assert_same("alphavantage", function, body)
    key = "Time Series FX (Daily)" if function == "FX_DAILY" else "Time Series (Digital Currency Daily)"
    assert_same("alphavantage", f"{function}/renamed", body.replace(key, "Time Series (Daily)"))


JSON_TEXTS = [
    '{"a": 1, "b": {"c": 2, "c": 3}}',
    '{"a": 1, "a": 1}',
    '{"a": NaN}',
    '{"a": -Infinity}',
    '{"a": ' + "9" * 5000 + "}",
    '{"a": [1, 2',
    '{"a": "x',
    "[" * 100_000,
    "nope",
    '{"a": [1.5, -0, 2e3, "\\u00e9"], "b": null}',
    "  ",
]


@pytest.mark.parametrize(("index", "text"), list(enumerate(JSON_TEXTS)))
def test_load_json(index: int, text: str) -> None:
    try:
        result = repr(_wire.load_json("src", text, "f"))
    except SourceError as exc:
        result = str(exc)
    GOLDEN.check(f"load_json/{index}", result)


def test_plain_bodies_take_the_fast_paths() -> None:
    assert social._fast(SOCIAL[0]) is not None
    assert google_trends._fast(TRENDS[0].splitlines()) is not None
    data = _daily("TIME_SERIES_DAILY")
    assert alphavantage._fast_values(data["Time Series (Daily)"], (*alphavantage.PRICE_FIELDS, "volume")) is not None
