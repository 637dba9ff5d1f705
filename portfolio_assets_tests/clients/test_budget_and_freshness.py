"""The daily budget stops a run cleanly and the next run resumes; fresh responses are reused; daily runs ask for
only what is new (Alpha Vantage ``compact``, FRED ``observation_start``, a later GDELT start, fewer CoinGecko days).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets import replay
from portfolio_assets.clients import (
    AlphaVantageClient,
    BudgetExhausted,
    CoinGeckoClient,
    FearGreedClient,
    FetchRequest,
    FredClient,
    GdeltClient,
    HttpSourceClient,
)
from portfolio_assets.landing import LandingZone
from portfolio_assets.universe import load_universe
from portfolio_assets_tests.clients.conftest import Api, Clock, client_kwargs, reply, sample

UNIVERSE = load_universe()
EQUITIES = ("GOOG", "IXIC", "USO", "TLT")


def _route_universe(api: Api) -> None:
    for spec in UNIVERSE.assets:
        series = {k: v for k, v in spec.params.items() if k != "outputsize"}
        name = ",".join(f"{k}={v}" for k, v in sorted(series.items()))
        api.on("/query", reply(sample("alphavantage", name)), **series)


def test_the_budget_stops_a_run_cleanly_and_the_next_day_resumes(api: Api, clock: Clock, landing: Path) -> None:
    _route_universe(api)
    client = AlphaVantageClient(landing, **client_kwargs(api, clock, "/query", daily_budget=3))
    backfill_end = date(2013, 2, 28)  # a backfill: responses fetched after that day hold everything it needs
    specs = [UNIVERSE.asset(symbol) for symbol in ("GOOG", "IXIC", "USO", "TLT", "EURUSD")]
    planned = [client.daily(spec.params, through=backfill_end) for spec in specs]
    assert client.plan(planned) == {"alphavantage": 5}

    with pytest.raises(BudgetExhausted) as info:
        client.fetch_all(planned)

    stop = info.value
    assert (stop.made_in_run, stop.made_today, stop.left, stop.budget) == (3, 3, 2, 3)
    assert str(stop) == (
        "alphavantage: daily budget of 3 calls for 2013-03-01 (UTC) is spent: 3 made today, 3 in this run;"
        " 2 planned calls left. Run again after 00:00 UTC, or raise the daily budget: responses already stored"
        " are reused, so nothing is fetched twice"
    )
    assert [r.request.params["symbol"] for r in stop.results] == ["GOOG", "IXIC", "USO"]
    first_day = [seen.args.get("symbol") for seen in api.requests]
    assert first_day == ["GOOG", "IXIC", "USO"]
    ledger = json.loads((landing / "_budget" / "alphavantage" / "2013-03-01.json").read_text())
    assert (ledger["calls"], ledger["limit"]) == (3, 3)
    assert client.plan(planned) == {"alphavantage": 2}

    clock.advance(days=1)  # the next UTC day: a fresh budget
    results = client.fetch_all(planned)

    assert [r.reused for r in results] == [True, True, True, False, False]
    second_day = [seen.args.get("symbol", seen.args.get("from_symbol")) for seen in api.requests[3:]]
    assert second_day == ["TLT", "EUR"]  # exactly the two left, none of the first three again
    assert json.loads((landing / "_budget" / "alphavantage" / "2013-03-02.json").read_text())["calls"] == 2
    for spec in specs:
        assert not replay.read_prices(LandingZone(landing), spec).empty


def test_a_single_fetch_past_the_budget_sends_nothing(api: Api, clock: Clock, landing: Path) -> None:
    _route_universe(api)
    client = AlphaVantageClient(landing, **client_kwargs(api, clock, "/query", daily_budget=0))
    with pytest.raises(BudgetExhausted, match="0 made today; 1 planned call left"):
        client.fetch(client.daily(UNIVERSE.asset("GOOG").params))
    assert api.requests == []


def _clients(api: Api, clock: Clock, landing: Path) -> dict[str, tuple[HttpSourceClient, FetchRequest]]:
    av = AlphaVantageClient(landing, **client_kwargs(api, clock, "/query"))
    fred = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    gdelt = GdeltClient(landing, **client_kwargs(api, clock, "/api/v2/doc/doc", api_key=None))
    coingecko = CoinGeckoClient(landing, **client_kwargs(api, clock, "/api/v3"))
    fear_greed = FearGreedClient(landing, **client_kwargs(api, clock, api_key=None))
    api.on("/query", reply(sample("alphavantage", "function=TIME_SERIES_DAILY,symbol=GOOG")))
    api.on("/fred/series/observations", reply(sample("fred", "series_id=DGS10")))
    api.on("/api/v2/doc/doc", reply(sample("gdelt", "mode=timelinetone,query=Nasdaq")))
    api.on("/api/v3/coins/bitcoin/market_chart", reply(sample("coingecko", "id=bitcoin,vs_currency=usd")))
    api.on("/fng/", reply(sample("alternative_me", "limit=0")))
    return {
        "alphavantage": (av, av.daily(UNIVERSE.asset("GOOG").params)),
        "fred": (fred, fred.observations("DGS10")),
        "gdelt": (gdelt, gdelt.timeline("Nasdaq", "timelinetone", date(2008, 1, 1))),
        "coingecko": (coingecko, coingecko.market_chart("bitcoin")),
        "alternative_me": (fear_greed, fear_greed.index()),
    }


@pytest.mark.parametrize("source", ["alphavantage", "fred", "gdelt", "coingecko", "alternative_me"])
def test_a_second_fetch_the_same_day_makes_no_call(api: Api, clock: Clock, landing: Path, source: str) -> None:
    client, request = _clients(api, clock, landing)[source]
    first = client.fetch(request)
    clock.advance(hours=10)  # 22:00 UTC, still the same day
    assert client.plan([request]) == {source: 0}
    second = client.fetch(request)
    assert len(api.requests) == 1
    assert second.reused and second.path == first.path and second.data is None


def test_a_backfill_never_pays_twice(api: Api, clock: Clock, landing: Path) -> None:
    client, _ = _clients(api, clock, landing)["fred"]
    backfill = client.observations("DGS10", through=date(2013, 2, 28))
    client.fetch(backfill)
    clock.advance(days=30)
    assert client.fetch(backfill).reused
    assert len(api.requests) == 1
    assert not client.is_fresh(client.observations("DGS10"))  # "up to now" a month later needs a call


def _av_daily(symbol: str, days: pd.DatetimeIndex, size: str) -> bytes:
    series = {
        f"{day:%Y-%m-%d}": {"1. open": "10.0", "2. high": "11.0", "3. low": "9.0", "4. close": "10.5", "5. volume": "7"}
        for day in days[::-1]
    }
    meta = {"2. Symbol": symbol, "4. Output Size": size}
    return json.dumps({"Meta Data": meta, "Time Series (Daily)": series}).encode()


def test_alphavantage_asks_compact_once_the_full_history_is_stored(api: Api, clock: Clock, landing: Path) -> None:
    full = _av_daily("GOOG", pd.bdate_range("2012-01-02", "2013-02-28"), "Full size")
    compact = _av_daily("GOOG", pd.bdate_range(end="2013-03-01", periods=100), "Compact")
    api.on("/query", reply(full), outputsize="full")
    api.on("/query", reply(compact), outputsize="compact")
    client = AlphaVantageClient(landing, **client_kwargs(api, clock, "/query"))
    goog = client.daily(UNIVERSE.asset("GOOG").params)

    client.fetch(goog)
    clock.advance(days=1)
    result = client.fetch(goog)
    clock.advance(hours=3)
    assert client.fetch(goog).reused  # the compact answer completes the history for the day

    assert [seen.args["outputsize"] for seen in api.requests] == ["full", "compact"]
    assert not result.reused
    prices = replay.read_prices(LandingZone(landing), UNIVERSE.asset("GOOG"))
    assert prices["timestamp"].max() == pd.Timestamp("2013-03-01", tz="UTC")
    assert prices["timestamp"].min() == pd.Timestamp("2012-01-02", tz="UTC")

    clock.advance(days=150)  # too long a gap for the latest 100 points to close: full again
    client.fetch(goog)
    assert api.requests[-1].args["outputsize"] == "full"


def test_fred_asks_from_the_newest_stored_observation(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/fred/series/observations", reply(sample("fred", "series_id=DGS10")))
    newer = {
        "output_type": 1,
        "count": 2,
        "offset": 0,
        "observations": [
            {"realtime_start": "2013-03-04", "realtime_end": "9999-12-31", "date": "2013-02-28", "value": "1.89"},
            {"realtime_start": "2013-03-04", "realtime_end": "9999-12-31", "date": "2013-03-01", "value": "1.86"},
        ],
    }
    api.on("/fred/series/observations", reply(json.dumps(newer)), observation_start="2013-02-28")
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    request = client.observations("DGS10")
    client.fetch(request)
    clock.advance(days=3)
    client.fetch(request)

    assert "observation_start" not in api.requests[0].args
    assert api.requests[1].args["observation_start"] == "2013-02-28"
    frame = replay.read_fred(LandingZone(landing), "DGS10").frame
    assert frame["observation_date"].max() == pd.Timestamp("2013-03-01", tz="UTC")
    assert client.is_fresh(request)


def test_gdelt_and_coingecko_ask_from_the_first_day_not_covered(api: Api, clock: Clock, landing: Path) -> None:
    clients = _clients(api, clock, landing)
    gdelt, timeline = clients["gdelt"]
    coingecko, chart = clients["coingecko"]
    gdelt.fetch(timeline)
    coingecko.fetch(chart)
    clock.advance(days=1)
    gdelt.fetch(timeline)
    coingecko.fetch(chart)

    tone = [seen.args for seen in api.requests if seen.path.endswith("/doc/doc")]
    assert [(a["startdatetime"], a["enddatetime"]) for a in tone] == [
        ("20080101000000", "20130301235959"),
        # yesterday was partial when fetched: asked again, within a span of 8 days (GDELT is daily beyond a week)
        ("20130223000000", "20130302235959"),
    ]
    days = [seen.args["days"] for seen in api.requests if "market_chart" in seen.path]
    assert days == ["365", "2"]


def test_fresh_records_need_their_landed_file(api: Api, clock: Clock, landing: Path) -> None:
    client, request = _clients(api, clock, landing)["alternative_me"]
    result = client.fetch(request)
    assert result.path is not None
    result.path.unlink()  # someone removed the stored response: it no longer counts
    assert not client.is_fresh(request)


def test_fetch_times_are_unique_per_series(api: Api, clock: Clock, landing: Path) -> None:
    client, request = _clients(api, clock, landing)["alternative_me"]
    first = client.fetch(request)
    (landing / "_fetches").rename(landing / "_fetches_moved")  # forget the record: the next fetch calls again
    second = client.fetch(request)
    assert first.fetched_at == datetime(2013, 3, 1, 12, tzinfo=UTC)
    assert second.fetched_at == first.fetched_at + timedelta(seconds=1)  # a new file, not an overwrite
    assert len(LandingZone(landing).files("alternative_me", {"limit": "0"})) == 2


def test_a_body_left_pending_by_a_dead_fetch_is_moved_to_failed(landing: Path) -> None:
    import json
    import os

    from portfolio_assets.clients.store import ResponseStore

    store = ResponseStore(landing)
    params = {"limit": "0"}
    old = store.stage("alternative_me", params, b'{"data": [', datetime(2013, 3, 1, 12, tzinfo=UTC))
    young = store.stage("alternative_me", params, b"{}", datetime(2013, 3, 1, 13, tzinfo=UTC))
    os.utime(old, (old.stat().st_mtime - 7200, old.stat().st_mtime - 7200))
    moved = store.recover_pending()
    assert [p.name for p in moved] == ["20130301T120000Z.json"]
    assert not old.exists() and young.exists()  # a young one may belong to a fetch still running
    assert moved[0].read_bytes() == b'{"data": ['
    why = json.loads(moved[0].with_name("20130301T120000Z.error.json").read_text())
    assert "stopped before its parse finished" in why["error"] and why["series"] == "limit=0"
