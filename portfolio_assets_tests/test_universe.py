from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.features.registry import MACRO_FIELDS
from portfolio_assets.universe import DEFAULT_UNIVERSE, UniverseError, load_universe, parse_universe


def test_default_universe_covers_every_class_and_macro_field():
    universe = load_universe()
    assert {a.asset_class for a in universe.assets} == set(ASSET_CLASSES)
    assert tuple(m.name for m in universe.macro) == MACRO_FIELDS
    assert all(a.news_query and a.trends_query for a in universe.assets)
    assert {a.symbol for a in universe.assets if a.fear_greed} == {
        a.symbol for a in universe.assets if a.asset_class == "crypto"
    }


def _data():
    return yaml.safe_load(DEFAULT_UNIVERSE.read_text())


def _error(mutate: Callable[[dict[str, Any]], object]) -> str:
    """The exact message ``parse_universe`` raises for the packaged universe after ``mutate``."""
    data = _data()
    mutate(data)
    with pytest.raises(UniverseError) as err:
        parse_universe(data, Path("u.yaml"))
    return str(err.value)


def _set(*keys: str | int, **fields: object) -> Callable[[dict[str, Any]], None]:
    """Mutation: update the entry at ``data[keys[0]][keys[1]]...`` with ``fields``."""

    def mutate(data: dict[str, Any]) -> None:
        entry = data
        for key in keys:
            entry = entry[key]
        entry.update(fields)

    return mutate


def _replace(*keys: str | int, value: object) -> Callable[[dict[str, Any]], None]:
    """Mutation: set ``data[keys[0]]...[keys[-1]] = value``."""

    def mutate(data: dict[str, Any]) -> None:
        entry = data
        for key in keys[:-1]:
            entry = entry[key]
        entry[keys[-1]] = value

    return mutate


ALL_FRED_MACRO = _set(
    "macro", "gold_price", source="fred", series_id="GOLDAMGBD228NLBM", symbol=None, release_time="11:30 Europe/London"
)


def _cases(cases: dict[str, tuple[Callable[[dict[str, Any]], object], str]]) -> Any:
    return pytest.mark.parametrize(("mutate", "message"), list(cases.values()), ids=list(cases))


@_cases(
    {
        "asset_class": (
            _set("assets", 0, asset_class="stonks"),
            "u.yaml: assets[0] (BTC-USD).asset_class: 'stonks' is not one of crypto, equity, fx, commodity, bond",
        ),
        "missing": (lambda d: d["assets"][1].pop("params"), "u.yaml: assets[1] (ETH-USD): missing 'params'"),
        "blank": (_set("assets", 1, news_query="  "), "u.yaml: assets[1] (ETH-USD): missing 'news_query'"),
        "duplicate": (
            lambda d: d["assets"].append(dict(d["assets"][0])),
            "u.yaml: duplicated symbols (ignoring case, as symbols name files): ['BTC-USD']",
        ),
        "macro-missing": (
            lambda d: d["macro"].pop("vix"),
            f"u.yaml: macro must define exactly {list(MACRO_FIELDS)}; missing ['vix'], unknown []",
        ),
        "macro-symbol": (
            _set("macro", "gold_price", symbol="NOPE"),
            "u.yaml: macro.gold_price.symbol: 'NOPE' is not a universe asset",
        ),
        "macro-frequency": (
            _set("macro", "cpi_yoy", frequency="weekly"),
            "u.yaml: macro.cpi_yoy.frequency: 'weekly' is not one of daily, monthly, quarterly",
        ),
        "macro-source": (
            _set("macro", "vix", source="ecb"),
            "u.yaml: macro.vix.source: 'ecb' is not one of fred, asset",
        ),
        "fred-without-series_id": (
            lambda d: d["macro"]["vix"].pop("series_id"),
            "u.yaml: macro.vix: missing 'series_id'",
        ),
    }
)
def test_malformed_universe_names_file_and_entry(mutate, message):
    assert _error(mutate) == message


@_cases(
    {
        "symbol-number": (_set("assets", 2, symbol=123), "u.yaml: assets[2].symbol: expected a string, got 123"),
        "symbol-false": (_set("assets", 2, symbol=False), "u.yaml: assets[2].symbol: expected a string, got False"),
        "asset_class-list": (
            _set("assets", 0, asset_class=["crypto"]),
            "u.yaml: assets[0] (BTC-USD).asset_class: expected a string, got a list",
        ),
        "source-number": (_set("assets", 2, source=1), "u.yaml: assets[2] (GOOG).source: expected a string, got 1"),
        "news_query-list": (
            _set("assets", 0, news_query=["bitcoin", "BTC"]),
            "u.yaml: assets[0] (BTC-USD).news_query: expected a string, got a list",
        ),
        "trends_query-number": (
            _set("assets", 2, trends_query=2024),
            "u.yaml: assets[2] (GOOG).trends_query: expected a string, got 2024",
        ),
        "coingecko_id-number": (
            _set("assets", 0, coingecko_id=5),
            "u.yaml: assets[0] (BTC-USD).coingecko_id: expected a string, got 5",
        ),
        "fear_greed-string": (
            _set("assets", 0, fear_greed="false"),
            "u.yaml: assets[0] (BTC-USD).fear_greed: expected true or false, got 'false'",
        ),
        "fear_greed-number": (
            _set("assets", 0, fear_greed=1),
            "u.yaml: assets[0] (BTC-USD).fear_greed: expected true or false, got 1",
        ),
        "entry-scalar": (
            _replace("assets", 3, value="IXIC"),
            "u.yaml: assets[3]: expected a mapping of asset fields, got 'IXIC'",
        ),
        "params-scalar": (
            _set("assets", 2, params="GOOG"),
            "u.yaml: assets[2] (GOOG).params: expected a mapping of request parameters, got 'GOOG'",
        ),
        "params-value-list": (
            _set("assets", 2, "params", symbol=["GOOG"]),
            "u.yaml: assets[2] (GOOG).params.symbol: expected a string or a number, got a list",
        ),
        "params-value-null": (
            _set("assets", 2, "params", outputsize=None),
            "u.yaml: assets[2] (GOOG).params.outputsize: expected a string or a number, got None",
        ),
        "params-value-bool": (
            _set("assets", 2, "params", outputsize=True),
            "u.yaml: assets[2] (GOOG).params.outputsize: expected a string or a number, got True",
        ),
        "params-name-number": (
            _replace("assets", 2, "params", 1, value="x"),
            "u.yaml: assets[2] (GOOG).params: parameter names must be strings, got 1",
        ),
        "macro-not-mapping": (
            _replace("macro", value=[{"source": "fred"}]),
            "u.yaml: macro: expected a mapping of the macro fields, got a list",
        ),
        "macro-entry-scalar": (
            _replace("macro", "vix", value="fred"),
            "u.yaml: macro.vix: expected a mapping of series fields, got 'fred'",
        ),
        "series_id-list": (
            _set("macro", "us10y_yield", series_id=["DGS10"]),
            "u.yaml: macro.us10y_yield.series_id: expected a string, got a list",
        ),
        "transform-number": (
            _set("macro", "vix", transform=1),
            "u.yaml: macro.vix.transform: expected a string, got 1",
        ),
    }
)
def test_wrong_types_are_refused_not_coerced(mutate, message):
    assert _error(mutate) == message


@pytest.mark.parametrize("lag", [-400, 367, 1.5, True, "10", "ten"])
def test_release_lag_must_be_whole_days_from_0_to_366(lag):
    message = _error(_set("macro", "unemployment_rate", release_lag_days=lag))
    assert message == (
        f"u.yaml: macro.unemployment_rate.release_lag_days: expected a whole number of days from 0 to 366, got {lag!r}"
    )


@pytest.mark.parametrize("lag", [0, 366])
def test_release_lag_bounds_are_accepted(lag):
    data = _data()
    data["macro"]["unemployment_rate"]["release_lag_days"] = lag
    spec = {m.name: m for m in parse_universe(data, Path("u.yaml")).macro}["unemployment_rate"]
    assert spec.release_lag_days == lag


@_cases(
    {
        "asset-source": (
            _set("assets", 2, source="yahoo"),
            "u.yaml: assets[2] (GOOG).source: 'yahoo' is not one of alphavantage",
        ),
        "asset-key": (
            _set("assets", 0, fear_gred=True),
            "u.yaml: assets[0] (BTC-USD): unknown key 'fear_gred' (allowed: accepted_moves, asset_class, bar_end,"
            " coingecko_id,"
            " fear_greed, last_trading_day, news_query, params, source, symbol, trends_query)",
        ),
        "macro-key": (
            _set("macro", "vix", lag=3),
            "u.yaml: macro.vix: unknown key 'lag' (allowed: frequency, release_lag_days, release_time, series_id,"
            " source, symbol, transform)",
        ),
        "fred-with-symbol": (
            _set("macro", "vix", symbol="GOOG"),
            "u.yaml: macro.vix.symbol: only a source 'asset' series takes a symbol",
        ),
        "asset-with-series_id": (
            _set("macro", "gold_price", series_id="GOLD"),
            "u.yaml: macro.gold_price.series_id: only a source 'fred' series takes a series_id",
        ),
        "top-level-key": (lambda d: d.update(version=1), "u.yaml: unknown key 'version' (allowed: assets, macro)"),
        "no-assets": (lambda d: (d.update(assets=[]), ALL_FRED_MACRO(d)), "u.yaml: assets: the universe has no assets"),
    }
)
def test_unknown_sources_keys_and_an_empty_universe_are_refused(mutate, message):
    assert _error(mutate) == message


SYMBOL_RULE = (
    "symbols name files and partitions: 1 to 32 of A-Z a-z 0-9 . - _ ^ =, starting with a letter, digit or ^,"
    " and no '..'"
)


@pytest.mark.parametrize(
    "symbol",
    [
        "BTC/USD",
        "..",
        ".",
        "../../etc",
        "a\\b",
        "BTC USD",
        "BTC\nUSD",
        "BTC\x00",
        "BTC\t",
        "A..B",
        "-rf",
        ".hidden",
        "X" * 33,
        "BTC€",
    ],
)
def test_symbols_that_cannot_name_a_file_are_refused(symbol):
    message = _error(_set("assets", 0, symbol=symbol))
    assert message == f"u.yaml: assets[0].symbol: {symbol!r} is not a valid symbol ({SYMBOL_RULE})"


def test_symbols_differing_only_in_case_collide():
    message = _error(lambda d: d["assets"].append({**d["assets"][0], "symbol": "btc-usd"}))
    assert message == "u.yaml: duplicated symbols (ignoring case, as symbols name files): ['BTC-USD', 'btc-usd']"


def test_conservative_symbols_are_accepted():
    data = _data()
    symbols = ["^GSPC", "BRK.B", "EURUSD=X", "CL=F", "7203", "A_B", "X" * 32]
    data["assets"] = [{**data["assets"][2], "symbol": s} for s in symbols]
    ALL_FRED_MACRO(data)
    assert parse_universe(data, Path("u.yaml")).symbols == tuple(symbols)


def test_unreadable_file(tmp_path):
    with pytest.raises(UniverseError, match="cannot read"):
        load_universe(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("assets: [")
    with pytest.raises(UniverseError, match="not valid YAML"):
        load_universe(str(bad))


# --- the file itself -------------------------------------------------------


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "u.yaml"
    path.write_bytes(DEFAULT_UNIVERSE.read_bytes().replace(b"gold price", b"gold \xe9price", 1))
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(UniverseError) as err:
        load_universe(path)
    assert str(err.value) == f"{path}: not UTF-8 text (invalid continuation byte at byte {offset})"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        # Top level: the second `assets` list would silently replace the first.
        (DEFAULT_UNIVERSE.read_text(encoding="utf-8") + "assets: []\n", None, "assets"),
        # Inside an asset: the second `fear_greed` would silently win.
        ("assets:\n  - symbol: BTC-USD\n    fear_greed: true\n    fear_greed: false\n", 4, "fear_greed"),
        # Inside the macro mapping.
        ("macro:\n  vix: {source: fred}\n  vix: {source: asset}\n", 3, "vix"),
    ],
    ids=["top-level", "asset-entry", "macro-entry"],
)
def test_duplicate_keys_are_refused(tmp_path, text, line, key):
    path = tmp_path / "u.yaml"
    path.write_text(text, encoding="utf-8")
    line = line or text.count("\n")
    with pytest.raises(UniverseError) as err:
        load_universe(path)
    assert str(err.value) == f"{path}: line {line}: duplicate key {key!r} (YAML would silently keep the last one)"


def test_merge_keys_may_override_without_being_duplicates(tmp_path):
    text = DEFAULT_UNIVERSE.read_text(encoding="utf-8").replace(
        "  - symbol: ETH-USD\n", "  - <<: {asset_class: equity}\n    symbol: ETH-USD\n"
    )
    path = tmp_path / "u.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_universe(path).asset("ETH-USD").asset_class == "crypto"


@pytest.mark.parametrize(
    ("text", "got"),
    [("- symbol: BTC-USD\n", "a list"), ("", "None"), ("just text\n", "'just text'")],
    ids=["list", "empty", "scalar"],
)
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, text, got):
    path = tmp_path / "u.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UniverseError) as err:
        load_universe(path)
    assert str(err.value) == f"{path}: expected a mapping with 'assets' and 'macro', got {got}"


def test_accepted_moves_are_days(tmp_path):
    import pandas as pd

    data = yaml.safe_load(DEFAULT_UNIVERSE.read_text())
    data["assets"][0]["accepted_moves"] = ["2010-03-10", "2011-01-03"]
    spec = parse_universe(data, tmp_path / "u.yaml").assets[0]
    assert spec.accepted_moves == (pd.Timestamp("2010-03-10", tz="UTC"), pd.Timestamp("2011-01-03", tz="UTC"))
    data["assets"][0]["accepted_moves"] = ["March 10"]
    with pytest.raises(UniverseError) as raised:
        parse_universe(data, tmp_path / "u.yaml")
    assert str(raised.value) == (
        f"{tmp_path / 'u.yaml'}: assets[0] (BTC-USD).accepted_moves[0]: expected a day written YYYY-MM-DD, "
        "got 'March 10'"
    )


def test_last_trading_day_is_an_optional_day(tmp_path):
    import datetime

    import pandas as pd

    path = tmp_path / "u.yaml"
    universe = parse_universe(_data(), path)
    assert all(a.last_trading_day is None for a in universe.assets)
    for written in ("2010-05-14", datetime.date(2010, 5, 14)):
        data = _data()
        data["assets"][2]["last_trading_day"] = written
        universe = parse_universe(data, path)
        assert universe.asset("GOOG").last_trading_day == pd.Timestamp("2010-05-14", tz="UTC")
        assert [a.symbol for a in universe.assets if a.last_trading_day is not None] == ["GOOG"]
    days = pd.Series(pd.to_datetime(["2010-05-13", "2010-05-14", "2010-05-15"], utc=True))
    assert universe.asset("GOOG").traded_on(days).tolist() == [True, True, False]
    assert universe.asset("IXIC").traded_on(days).tolist() == [True, True, True]


@_cases(
    {
        "not-a-day": (
            _set("assets", 2, last_trading_day="May 14"),
            "u.yaml: assets[2] (GOOG).last_trading_day: expected a day written YYYY-MM-DD, got 'May 14'",
        ),
        "no-such-day": (
            _set("assets", 2, last_trading_day="2010-02-30"),
            "u.yaml: assets[2] (GOOG).last_trading_day: expected a day written YYYY-MM-DD, got '2010-02-30'",
        ),
        "a-number": (
            _set("assets", 2, last_trading_day=20100514),
            "u.yaml: assets[2] (GOOG).last_trading_day: expected a day written YYYY-MM-DD, got 20100514",
        ),
        "a-list": (
            _set("assets", 2, last_trading_day=["2010-05-14"]),
            "u.yaml: assets[2] (GOOG).last_trading_day: expected a day written YYYY-MM-DD, got a list",
        ),
        "a-macro-source": (
            _set("assets", 6, last_trading_day="2010-05-14"),
            "u.yaml: macro.gold_price.symbol: XAUUSD stopped trading on 2010-05-14 (last_trading_day); a macro"
            " field needs a series that runs through the whole window",
        ),
    }
)
def test_a_bad_last_trading_day_is_refused(mutate, message):
    assert _error(mutate) == message


def test_a_timestamp_is_not_a_last_trading_day(tmp_path):
    path = tmp_path / "u.yaml"
    text = DEFAULT_UNIVERSE.read_text().replace(
        "    trends_query: google stock\n",
        "    trends_query: google stock\n    last_trading_day: 2010-05-14 16:00:00\n",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UniverseError) as err:
        load_universe(path)
    assert str(err.value) == (
        f"{path}: assets[2] (GOOG).last_trading_day: expected a day written YYYY-MM-DD, "
        "got datetime.datetime(2010, 5, 14, 16, 0)"
    )


@_cases(
    {
        "no-release-time": (
            lambda d: d["macro"]["vix"].pop("release_time"),
            "u.yaml: macro.vix: missing 'release_time'",
        ),
        "not-a-clock": (
            _set("macro", "vix", release_time="4pm"),
            "u.yaml: macro.vix.release_time: expected a clock 'HH:MM Area/City' (e.g. '16:00 America/New_York'),"
            " got '4pm'",
        ),
        "unknown-zone": (
            _set("macro", "vix", release_time="16:15 America/Gotham"),
            "u.yaml: macro.vix.release_time: '16:15 America/Gotham': 'America/Gotham' is not a known time zone"
            " (IANA name such as America/New_York)",
        ),
        "not-a-time": (
            _set("macro", "vix", release_time="25:00 UTC"),
            "u.yaml: macro.vix.release_time: '25:00 UTC': 25:00 is not a time of day (00:00..23:59, or 24:00)",
        ),
        "asset-with-release-time": (
            _set("macro", "gold_price", release_time="16:00 UTC"),
            "u.yaml: macro.gold_price.release_time: a source 'asset' series is available at its asset's bar end;"
            " remove it",
        ),
        "function-without-bar-end": (
            _set("assets", 2, params={"function": "TIME_SERIES_DAILY_ADJUSTED", "symbol": "GOOG"}),
            "u.yaml: assets[2] (GOOG).params.function: 'TIME_SERIES_DAILY_ADJUSTED' has no known bar end, so its"
            " rows would have no decision time (known: ['DIGITAL_CURRENCY_DAILY', 'FX_DAILY', 'TIME_SERIES_DAILY'])",
        ),
    }
)
def test_release_times_and_bar_ends_are_checked(mutate, message):
    assert _error(mutate) == message


def test_decision_times_per_price_series_follow_daylight_saving():
    universe = parse_universe(_data(), Path("u.yaml"))
    days = pd.DatetimeIndex(["2010-01-04", "2010-07-01"], tz="UTC")
    ends = {spec.symbol: list(spec.bar_end.on(days)) for spec in universe.assets}
    assert ends["BTC-USD"] == [pd.Timestamp("2010-01-05", tz="UTC"), pd.Timestamp("2010-07-02", tz="UTC")]
    assert ends["GOOG"] == [pd.Timestamp("2010-01-04 21:00", tz="UTC"), pd.Timestamp("2010-07-01 20:00", tz="UTC")]
    assert (
        ends["EURUSD"] == ends["XAUUSD"] == [pd.Timestamp(f"{d} 16:00", tz="UTC") for d in ("2010-01-04", "2010-07-01")]
    )
    assert ends["USO"] == ends["GOOG"]  # an ETF closes with its exchange, whatever its class
    release = {m.name: m.release_time for m in universe.macro}
    assert str(release["vix"]) == "16:15 America/New_York" and release["gold_price"] is None


def test_a_universe_file_is_parsed_once_per_content_and_each_load_is_its_own_copy(tmp_path, monkeypatch):
    import portfolio_assets.universe as module

    parsed: list[Path] = []
    real = module._parse_file
    monkeypatch.setattr(module, "_parse_file", lambda file, raw: parsed.append(file) or real(file, raw))
    path = tmp_path / "u.yaml"
    path.write_text(DEFAULT_UNIVERSE.read_text(encoding="utf-8"), encoding="utf-8")
    first, second = load_universe(path), load_universe(path)
    assert parsed == [path] and first == second and first is not second
    first.assets[0].params["function"] = "changed"  # a caller's change does not reach the next load
    assert load_universe(path).assets[0].params == second.assets[0].params != first.assets[0].params
    # the same size and modification time but other bytes: parsed again, never served stale
    stat = path.stat()
    edited = DEFAULT_UNIVERSE.read_text(encoding="utf-8").replace("symbol: ETH-USD", "symbol: ETH-USX")
    assert len(edited) == stat.st_size
    path.write_text(edited, encoding="utf-8")
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "ETH-USX" in load_universe(path).symbols and len(parsed) == 2
    path.write_text("assets:\n  - symbol: BTC-USD\n    fear_greed: true\n    fear_greed: false\n", encoding="utf-8")
    with pytest.raises(UniverseError, match="duplicate key"):
        load_universe(path)
