"""Live mode in the graph: the raw assets, prices, macro and sentiment against the local server.

The resources are built the way ``definitions.py`` builds them, from the
variables (keys, base URLs, paths, rates); the server replays the bundled
sample's bodies in each source's wire format, FRED's revised series as ALFRED
first releases. Nothing here reaches the internet.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.errors import DagsterResourceFunctionError

from portfolio_assets import definitions, replay, settings
from portfolio_assets.assets.macro import macro
from portfolio_assets.assets.prices import prices
from portfolio_assets.assets.raw import RAW_ASSETS, RAW_BY_SOURCE
from portfolio_assets.assets.sentiment import sentiment
from portfolio_assets.clients.status import excluded_assets
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone, parse_series_key
from portfolio_assets.runner import materialize_range
from portfolio_assets.universe import load_universe
from portfolio_assets_tests.clients.conftest import Api, reply
from portfolio_assets_tests.resources import run_evaluations
from portfolio_assets_tests.sample_frames import month_keys

AV_KEY = "AVKEY-live-graph-7f3e"
FRED_KEY = "FREDKEY-live-graph-9a1c"
CG_KEY = "CGKEY-live-graph-2b8d"
KEYS = (AV_KEY, FRED_KEY, CG_KEY)
FIRST, LAST = "2012-01-02", "2012-01-31"
ERROR_MESSAGE = json.dumps(
    {
        "Error Message": "Invalid API call. Please retry or visit the documentation "
        "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."
    }
)
VINTAGE_LAG = {"CPILFESL": 75, "UNRATE": 37, "GDPC1": 120}
"""Days after an observation's date that its (made-up) first release is dated, per revised series."""


def _sample_body(source: str, key: str) -> bytes:
    return LandingZone(SAMPLE_LANDING_ROOT).files(source, parse_series_key(key))[-1].read_bytes()


def alfred(series_id: str) -> bytes:
    """The sample's observations as an ALFRED ``output_type=4`` answer: each dated by its first release."""
    data = json.loads(_sample_body("fred", f"series_id={series_id}"))
    data.update({"output_type": 4, "realtime_start": "1776-07-04", "realtime_end": "9999-12-31"})
    for item in data["observations"]:
        released = date.fromisoformat(item["date"]) + timedelta(days=VINTAGE_LAG[series_id])
        item.update({"realtime_start": released.isoformat(), "realtime_end": "9999-12-31"})
    return json.dumps(data).encode()


def serve_sample(api: Api) -> None:
    """Every source's routes on the local server, answering with the bundled sample's bodies."""
    for source in ("alphavantage", "fred", "gdelt", "coingecko", "alternative_me"):
        for folder in sorted((SAMPLE_LANDING_ROOT / source).iterdir()):
            params = parse_series_key(folder.name)
            body = _sample_body(source, folder.name)
            if source == "alphavantage":  # prices, and the SPLITS / DIVIDENDS of every TIME_SERIES_DAILY asset
                api.on("/av/query", reply(body), **params)
            elif source == "fred":
                series_id = params["series_id"]
                if series_id in VINTAGE_LAG:
                    api.on("/fred/series/observations", reply(alfred(series_id)), series_id=series_id, output_type="4")
                else:
                    api.on("/fred/series/observations", reply(body), series_id=series_id)
            elif source == "gdelt":
                api.on("/gdelt", reply(body), **params)
            elif source == "coingecko":
                api.on(f"/cg/coins/{params['id']}/market_chart", reply(body))
            else:
                api.on("/fng/fng/", reply(body))


@pytest.fixture
def live_env(tmp_path: Path, api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Live mode through the variables: keys, base URLs at the local server, local files, no pacing."""
    landing = tmp_path / "landing"
    landing.mkdir()
    social = tmp_path / "social.csv"
    shutil.copy(LandingZone(SAMPLE_LANDING_ROOT).files("social", {"feed": "daily"})[-1].path, social)
    trends = tmp_path / "trends"
    trends.mkdir()
    for folder in (SAMPLE_LANDING_ROOT / "google_trends").iterdir():
        query = parse_series_key(folder.name)["q"]
        shutil.copy(sorted(folder.iterdir())[-1], trends / f"{query}.csv")  # the newest download
    env = {
        settings.ALPHAVANTAGE_API_KEY_ENV: AV_KEY,
        settings.FRED_API_KEY_ENV: FRED_KEY,
        settings.COINGECKO_API_KEY_ENV: CG_KEY,
        settings.ALPHAVANTAGE_BASE_URL_ENV: api.url("/av/query"),
        settings.FRED_BASE_URL_ENV: api.url("/fred"),
        settings.GDELT_BASE_URL_ENV: api.url("/gdelt"),
        settings.COINGECKO_BASE_URL_ENV: api.url("/cg"),
        settings.FEAR_GREED_BASE_URL_ENV: api.url("/fng"),
        settings.SOCIAL_CSV_PATH_ENV: str(social),
        settings.TRENDS_CSV_PATH_ENV: str(trends),
        settings.ALPHAVANTAGE_PER_MINUTE_ENV: "100000",
        settings.GDELT_SECONDS_PER_CALL_ENV: "0",
        settings.FRED_PER_SECOND_ENV: "100000",
        settings.COINGECKO_PER_MINUTE_ENV: "100000",
        settings.HTTP_RETRIES_ENV: "1",
        settings.HTTP_BACKOFF_ENV: "0",
        settings.HTTP_TIMEOUT_ENV: "5",
        settings.LANDING_DIR_ENV: str(landing),
        settings.DATA_DIR_ENV: str(tmp_path / "data"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(settings, "SOURCE_MODE", "live")
    serve_sample(api)
    yield landing


def _materialisations(result, name: str):
    return result.asset_materializations_for_node(name)


def _check(result, asset: str, name: str):
    """The evaluation of check ``asset/name`` in the run."""
    return next(e for e in run_evaluations(result) if e.asset_key == AssetKey(asset) and e.check_name == name)


SELECTION = [*RAW_ASSETS, prices, macro, sentiment]


def local_instance(home: Path) -> DagsterInstance:
    """A persistent (sqlite) instance under ``home``, so its storage can be searched for keys."""
    home.mkdir(parents=True, exist_ok=True)
    return DagsterInstance.local_temp(tempdir=str(home))


def run_live(selection: list, instance: DagsterInstance, **kwargs: object):
    """Materialise ``selection`` over FIRST..LAST with the resources the variables give (as definitions.py does)."""
    return materialize_range(
        selection, FIRST, LAST, resources=definitions.local_resources(), instance=instance, **kwargs
    )


def test_live_mode_end_to_end_against_the_local_server(live_env, api, tmp_path, caplog, capsys):
    instance_dir = tmp_path / "dagster_home"
    caplog.set_level(logging.DEBUG)
    with local_instance(instance_dir) as instance:
        resources = definitions.local_resources()
        result = materialize_range(SELECTION, FIRST, LAST, resources=resources, instance=instance)
        assert result.success
        meta = {
            name: _materialisations(result, name)[-1].metadata
            for name in ("raw_alphavantage", "raw_fred", "raw_gdelt", "raw_fear_greed", "raw_social")
        }
        universe = load_universe()
        equities = [a for a in universe.assets if a.params["function"] == "TIME_SERIES_DAILY"]
        assert meta["raw_alphavantage"]["calls_made"].value == len(universe.assets) + 2 * len(equities)
        assert meta["raw_fred"]["calls_made"].value == sum(m.source == "fred" for m in universe.macro)
        assert meta["raw_gdelt"]["calls_made"].value == 2 * len({a.news_query for a in universe.assets})
        assert meta["raw_fear_greed"]["calls_made"].value == 1
        coingecko = _materialisations(result, "raw_coingecko")[-1].metadata
        assert coingecko["calls_made"].value == 0
        assert "older than CoinGecko's free 365 days" in str(coingecko["notes"].value)
        for raw in RAW_ASSETS:
            assert _check(result, raw.key.path[-1], "fetch").passed

        # every request carried its key the way its API wants it, and FRED's revised series asked ALFRED
        av = [s for s in api.requests if s.path == "/av/query"]
        assert av and all(s.args["apikey"] == AV_KEY for s in av)
        cpi = api.calls(series_id="CPILFESL")
        assert cpi[0].args | {"api_key": "-"} == {
            "series_id": "CPILFESL",
            "file_type": "json",
            "realtime_start": "1776-07-04",
            "realtime_end": "9999-12-31",
            "output_type": "4",
            "api_key": "-",
        }
        assert cpi[0].args["api_key"] == FRED_KEY
        assert "output_type" not in api.calls(series_id="SP500")[0].args
        landing = live_env
        assert replay.read_fred(LandingZone(landing), "CPILFESL").vintage
        assert not replay.read_fred(LandingZone(landing), "SP500").vintage

        store = PartitionStore(tmp_path / "data")
        days = month_keys(FIRST, LAST)
        price_rows = store.read(["prices"], days)
        assert set(price_rows["asset_symbol"]) == set(universe.symbols)
        macro_rows = store.read(["macro"], days)
        assert macro_rows["cpi_yoy"].notna().all() and macro_rows["unemployment_rate"].notna().all()
        # decision times on live data: EURUSD's bar ends 16:00 UTC, before the S&P 500 closes (16:00 New York =
        # 21:00 UTC in January), so its macro row of Friday 2012-01-13 holds Thursday's close; GOOG's holds Friday's
        stamp = __import__("pandas").Timestamp
        friday = stamp("2012-01-13", tz="UTC")
        on_friday = price_rows[price_rows["timestamp"] == friday].set_index("asset_symbol")["available_at"]
        assert on_friday["EURUSD"] == stamp("2012-01-13 16:00", tz="UTC")
        assert on_friday["GOOG"] == stamp("2012-01-13 21:00", tz="UTC")
        assert on_friday["BTC-USD"] == stamp("2012-01-14 00:00", tz="UTC")
        by_decision = macro_rows[macro_rows["timestamp"] == friday].set_index("decision_time")
        assert by_decision.loc[on_friday["EURUSD"], "sp500_close_available_at"] == stamp("2012-01-12 21:00", tz="UTC")
        assert by_decision.loc[on_friday["GOOG"], "sp500_close_available_at"] == stamp("2012-01-13 21:00", tz="UTC")
        assert by_decision.loc[on_friday["GOOG"], "vix_available_at"] == stamp("2012-01-12 21:15", tz="UTC")
        # CPI is used as first published: November 2011's value from its ALFRED realtime_start (75 days after
        # 2011-11-01 here), not from the month-end + 20 days rule that would show it from 2011-12-20
        observations = json.loads(alfred("CPILFESL"))["observations"]
        level = {o["date"]: float(o["value"]) for o in observations}

        def yoy(month: str) -> float:
            return (level[f"2011-{month}-01"] / level[f"2010-{month}-01"] - 1) * 100

        on = macro_rows.set_index(macro_rows["timestamp"].dt.strftime("%Y-%m-%d"))["cpi_yoy"]
        # one row per decision time of the day (bar ends 16:00 UTC, 16:00 New York, 24:00 UTC): all after 08:30 NY
        assert len(on["2012-01-15"]) == 3
        assert on["2012-01-14"].tolist() == pytest.approx([yoy("10")] * 3, rel=1e-12)
        assert on["2012-01-15"].tolist() == pytest.approx([yoy("11")] * 3, rel=1e-12)
        assert set(store.read(["sentiment"], days)["asset_symbol"]) == set(universe.symbols)

        # a second run of the same range pays nothing: every stored response is fresh
        before = len(api.requests)
        again = run_live(RAW_ASSETS, instance)
        assert again.success
        assert len(api.requests) == before
        assert _materialisations(again, "raw_alphavantage")[-1].metadata["calls_made"].value == 0

        # the keys are nowhere: instance storage, landing zone, store, logs, console
        captured = capsys.readouterr()
        # our process's log records (not the test server's own access log, which plays the provider)
        ours = [caplog.handler.format(r) for r in caplog.records if not r.name.startswith("werkzeug")]
        texts = [*ours, captured.out, captured.err, repr(resources["sources"])]
        for run in instance.get_runs():
            texts += [str(e) for e in instance.all_logs(run.run_id)]
            texts.append(json.dumps(run.run_config))
    for root in (instance_dir, landing, tmp_path / "data"):
        for path in root.rglob("*"):
            texts.append(str(path))
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8", "replace"))
    for key in KEYS:
        leaks = [text[:200] for text in texts if key in text]
        assert not leaks, f"key {key} leaked: {leaks[:3]}"


def test_one_assets_failure_excludes_it_and_a_rerun_fills_it_in(live_env, api, tmp_path):
    api.on("/av/query", reply(ERROR_MESSAGE), function="TIME_SERIES_DAILY", symbol="TLT")
    with local_instance(tmp_path / "dagster_home") as instance:
        run = run_live([RAW_BY_SOURCE["alphavantage"], prices], instance)
        assert run.success
        fetch = _check(run, "raw_alphavantage", "fetch")
        assert not fetch.passed and fetch.severity.value == "ERROR"
        assert fetch.metadata["excluded_assets"].value == ["TLT"]
        assert "Invalid API call" in fetch.description or "TLT" in fetch.description
        store_root = tmp_path / "data"
        why = excluded_assets(store_root, ["TLT", "GOOG"], ["alphavantage"])
        assert list(why) == ["TLT"] and "Invalid API call" in why["TLT"] and AV_KEY not in why["TLT"]
        prices_meta = _materialisations(run, "prices")[-1].metadata
        assert list(prices_meta["excluded_assets"].value) == ["TLT"]
        days = month_keys(FIRST, LAST)
        store = PartitionStore(store_root)
        assert "TLT" not in set(store.read(["prices"], days)["asset_symbol"])
        assert store.exclusions(["prices"], days) == why
        assert list((live_env / "_failed" / "alphavantage").iterdir())  # the refused body is kept

        # the cause is fixed: the re-run fetches TLT only and fills it in
        api.routes = [
            r for r in api.routes if r.params.get("symbol") != "TLT" or r.params["function"] != "TIME_SERIES_DAILY"
        ]
        body = _sample_body("alphavantage", "function=TIME_SERIES_DAILY,symbol=TLT")
        api.on("/av/query", reply(body), function="TIME_SERIES_DAILY", symbol="TLT")
        before = len(api.requests)
        fixed = run_live([RAW_BY_SOURCE["alphavantage"], prices], instance)
        assert fixed.success and _check(fixed, "raw_alphavantage", "fetch").passed
        assert [s.args["symbol"] for s in api.requests[before:]] == ["TLT"]
        assert "TLT" in set(store.read(["prices"], days)["asset_symbol"])
        assert store.exclusions(["prices"], days) == {}


def test_crafted_splits_and_dividends_set_the_factors_and_a_failed_list_excludes_its_asset(live_env, api, tmp_path):
    """GOOG answers a split inside the run and a dividend declared for after it; USO's DIVIDENDS is an error body."""
    splits = {"symbol": "GOOG", "data": [{"effective_date": "2012-01-14", "split_factor": "2.0000"}]}  # a Saturday
    dividends = {
        "symbol": "GOOG",
        "data": [
            {"ex_dividend_date": "2012-03-01", "declaration_date": "2012-01-20", "record_date": "None",
             "payment_date": "None", "amount": "5.00"},
            {"ex_dividend_date": "2012-01-24", "declaration_date": "None", "record_date": "None",
             "payment_date": "None", "amount": "1.50"},
        ],
    }  # fmt: skip
    api.on("/av/query", reply(json.dumps(splits)), function="SPLITS", symbol="GOOG")
    api.on("/av/query", reply(json.dumps(dividends)), function="DIVIDENDS", symbol="GOOG")
    api.on("/av/query", reply(ERROR_MESSAGE), function="DIVIDENDS", symbol="USO")
    with local_instance(tmp_path / "dagster_home") as instance:
        run = run_live([RAW_BY_SOURCE["alphavantage"], prices], instance, raise_on_error=False)
        fetch = _check(run, "raw_alphavantage", "fetch")
        assert not fetch.passed and fetch.metadata["excluded_assets"].value == ["USO"]
        store = PartitionStore(tmp_path / "data")
        days = month_keys(FIRST, LAST)
        rows = store.read(["prices"], days)
        assert "USO" not in set(rows["asset_symbol"]) and "TLT" in set(rows["asset_symbol"])
        goog = rows[rows["asset_symbol"] == "GOOG"].set_index(rows.loc[rows["asset_symbol"] == "GOOG", "timestamp"])
        day = goog.index.strftime("%Y-%m-%d")
        # the split applies from Monday 2012-01-17 on, the dividend from its ex-date on, never before
        assert (goog.loc[day < "2012-01-17", "split_factor_cum"] == 1.0).all()
        assert (goog.loc[day >= "2012-01-17", "split_factor_cum"] == 2.0).all()
        before = goog.loc[day < "2012-01-24"]
        assert (before["adjustment_factor"] == before["split_factor_cum"]).all()
        ex_close = goog.loc[day == "2012-01-24", "price_close"].iloc[0]
        assert goog.loc[day >= "2012-01-24", "adjustment_factor"].tolist() == pytest.approx(
            [2.0 * (1 + 1.5 / ex_close)] * int((day >= "2012-01-24").sum()), rel=1e-15
        )
        # the as-traded levels are kept as the server sent them
        sample = replay.read_prices(LandingZone(SAMPLE_LANDING_ROOT), load_universe().asset("GOOG"))
        stored = sample.set_index("timestamp").loc[goog.index, "price_close"]
        assert goog["price_close"].tolist() == stored.tolist()


def test_a_spent_budget_stops_the_run_and_the_next_resumes_without_repeating(live_env, api, tmp_path, monkeypatch):
    monkeypatch.setenv(settings.ALPHAVANTAGE_DAILY_BUDGET_ENV, "5")
    with local_instance(tmp_path / "dagster_home") as instance:
        raw = RAW_BY_SOURCE["alphavantage"]
        stopped = run_live([raw], instance, raise_on_error=False)
        assert not stopped.success
        failure = next(e for e in stopped.all_events if e.event_type_value == "STEP_FAILURE")
        message = failure.event_specific_data.error.message
        universe = load_universe()
        planned = len(universe.assets) + 2 * sum(a.params["function"] == "TIME_SERIES_DAILY" for a in universe.assets)
        assert f"{planned - 5} planned calls left" in message and "budget of 5 calls" in message
        assert sum(1 for e in stopped.all_events if e.event_type_value == "STEP_RESTARTED") == 0  # not retried
        first_calls = [tuple(sorted(s.args.items())) for s in api.requests]
        assert len(first_calls) == 5

        monkeypatch.setenv(settings.ALPHAVANTAGE_DAILY_BUDGET_ENV, "100")
        resumed = run_live([raw], instance)
        assert resumed.success
        series = [(s.args["function"], s.args.get("symbol") or s.args.get("from_symbol")) for s in api.requests]
        assert len(series) == planned and len(set(series)) == planned  # every call once, none repeated


def test_live_mode_without_a_needed_key_fails_when_the_run_starts(live_env, api, tmp_path, monkeypatch):
    monkeypatch.delenv(settings.FRED_API_KEY_ENV)
    with local_instance(tmp_path / "dagster_home") as instance:
        with pytest.raises(DagsterResourceFunctionError) as raised:
            run_live([RAW_BY_SOURCE["fred"]], instance)
        cause = str(raised.value.__cause__)
        assert "PORTFOLIO_SOURCE_MODE=live needs FRED_API_KEY" in cause and "raw_fred" in cause
        # a run without FRED's raw asset does not need its key
        assert run_live([RAW_BY_SOURCE["gdelt"]], instance).success
    assert not api.calls(series_id="SP500")


def test_a_transient_failure_is_retried_by_dagster_and_then_succeeds(live_env, api, tmp_path, monkeypatch):
    body = _sample_body("alphavantage", "function=TIME_SERIES_DAILY,symbol=GOOG")
    api.on(
        "/av/query", reply("busy", 503), reply("busy", 503), reply(body), function="TIME_SERIES_DAILY", symbol="GOOG"
    )
    with local_instance(tmp_path / "dagster_home") as instance:
        run = run_live([RAW_BY_SOURCE["alphavantage"]], instance)
        assert run.success
        assert sum(1 for e in run.all_events if e.event_type_value == "STEP_RESTARTED") == 1
        assert _check(run, "raw_alphavantage", "fetch").passed
        goog = api.calls(function="TIME_SERIES_DAILY", symbol="GOOG")
        assert len(goog) == 3  # two 503s inside one attempt (one urllib3 retry), then the Dagster retry
        others = api.calls(function="TIME_SERIES_DAILY", symbol="TLT")
        assert len(others) == 1  # what the first attempt stored is reused, not fetched again


def test_sample_mode_raw_assets_find_every_series_and_send_nothing(api, tmp_path):
    from portfolio_assets_tests.resources import make_resources

    with local_instance(tmp_path / "dagster_home") as instance:
        result = materialize_range(
            RAW_ASSETS, FIRST, LAST, resources=make_resources(tmp_path / "data"), instance=instance
        )
    assert result.success and not api.requests
    for raw in RAW_ASSETS:
        name = raw.key.path[-1]
        meta = _materialisations(result, name)[-1].metadata
        assert meta["mode"].value == "sample" and meta["calls_made"].value == 0 and meta["failed"].value == 0, name
        assert meta["reused"].value == meta["requests"].value > 0, name
        assert _check(result, name, "fetch").passed


def test_sample_mode_leaves_out_an_asset_whose_stored_responses_are_missing(tmp_path):
    from portfolio_assets_tests.resources import make_resources

    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT, landing)
    shutil.rmtree(landing / "alphavantage" / "function=TIME_SERIES_DAILY,symbol=TLT")
    resources = make_resources(tmp_path / "data", landing_root=landing)
    with local_instance(tmp_path / "dagster_home") as instance:
        result = materialize_range(
            [RAW_BY_SOURCE["alphavantage"], prices], FIRST, LAST, resources=resources, instance=instance
        )
    assert result.success
    fetch = _check(result, "raw_alphavantage", "fetch")
    assert not fetch.passed and fetch.metadata["excluded_assets"].value == ["TLT"]
    assert "no stored response" in fetch.description or "TLT" in fetch.description
    assert list(_materialisations(result, "prices")[-1].metadata["excluded_assets"].value) == ["TLT"]


def test_the_providers_daily_limit_stops_the_run_cleanly_without_dagster_retries(live_env, api, tmp_path):
    from portfolio_assets_tests.clients.conftest import fixture

    api.on("/av/query", reply(fixture("alphavantage_rate_limit.json")), function="TIME_SERIES_DAILY", symbol="GOOG")
    with local_instance(tmp_path / "dagster_home") as instance:
        run = run_live([RAW_BY_SOURCE["alphavantage"]], instance, raise_on_error=False)
    assert not run.success
    assert not [e for e in run.all_events if e.event_type_value == "STEP_RESTARTED"]
    message = next(e for e in run.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error.message
    assert "daily limit is reached" in message and "planned calls left" in message and AV_KEY not in message
    assert len(api.calls(function="TIME_SERIES_DAILY", symbol="GOOG")) == 1  # asked once, not again by a retry


def test_a_setting_error_fails_at_once_without_retries(live_env, api, tmp_path, monkeypatch):
    monkeypatch.setenv(settings.TRENDS_CSV_PATH_ENV, str(tmp_path / "social.csv"))  # a file, not a directory
    with local_instance(tmp_path / "dagster_home") as instance:
        run = run_live([RAW_BY_SOURCE["google_trends"]], instance, raise_on_error=False)
    assert not run.success
    assert not [e for e in run.all_events if e.event_type_value == "STEP_RESTARTED"]
    message = next(e for e in run.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error.message
    assert "GOOGLE_TRENDS_CSV_PATH=" in message and "{query}" in message


def test_a_series_every_row_needs_fails_the_step(tmp_path):
    from portfolio_assets_tests.resources import make_resources

    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT, landing)
    shutil.rmtree(landing / "alphavantage" / "from_symbol=XAU,function=FX_DAILY,to_symbol=USD")  # gold: a macro field
    resources = make_resources(tmp_path / "data", landing_root=landing)
    with local_instance(tmp_path / "dagster_home") as instance:
        run = materialize_range(
            [RAW_BY_SOURCE["alphavantage"], macro],
            FIRST,
            LAST,
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    assert not run.success and "macro" not in {e.asset_key.path[-1] for e in run.get_asset_materialization_events()}
    message = next(e for e in run.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error.message
    assert "every row needs" in message and "from_symbol=XAU" in message
