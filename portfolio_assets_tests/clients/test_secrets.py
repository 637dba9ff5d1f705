"""The API key never appears in a stored file name or content, a log record or an exception.

One run through successes and every kind of failure (an error body that echoes
the key, retries that urllib3 logs with the full URL, connection errors,
timeouts, the budget), then a grep for the key everywhere.
"""

from __future__ import annotations

import logging
import time
import traceback
from datetime import date
from pathlib import Path

import pytest
from werkzeug import Request, Response

from portfolio_assets.clients import AlphaVantageClient, CoinGeckoClient, FredClient, RetryPolicy
from portfolio_assets.universe import load_universe
from portfolio_assets_tests.clients.conftest import (
    KEY,
    Api,
    Clock,
    client_kwargs,
    fixture,
    landed_files,
    reply,
    sample,
    unused_port,
)

ECHO = (
    '{"Information": "We have detected your API key as ' + KEY + " and our standard API rate limit is 25 requests per"
    ' day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/."}'
)


def _echo_url(request: Request) -> Response:
    return reply(f"<html><body>Not found: {request.url}</body></html>", 404, content_type="text/html")


def _slow(request: Request) -> Response:
    time.sleep(0.4)
    return reply("{}")


def test_the_key_appears_nowhere(api: Api, clock: Clock, landing: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's debug lines with their URLs included
    universe = load_universe()
    api.on("/query", reply(sample("alphavantage", "function=TIME_SERIES_DAILY,symbol=GOOG")), symbol="GOOG")
    api.on("/query", reply(ECHO), symbol="IXIC")
    api.on("/query", _echo_url, symbol="USO")
    api.on("/query", reply("busy", 503, headers={"Retry-After": "0"}), symbol="TLT")
    api.on("/query", _slow, from_symbol="EUR")
    api.on("/fred/series/observations", reply(sample("fred", "series_id=SP500")), series_id="SP500")
    api.on("/fred/series/observations", reply(fixture("fred_error_api_key.json"), 400), series_id="BAD")
    api.on("/api/v3/coins/bitcoin/market_chart", reply(sample("coingecko", "id=bitcoin,vs_currency=usd")))
    api.on("/api/v3/coins/ethereum/market_chart", reply(b'{"status":{"error_code":10012,"error_message":"x"}}', 401))

    fast = RetryPolicy(total=1, backoff_factor=0.01, read_timeout=0.2, connect_timeout=0.5)
    av = AlphaVantageClient(landing, **client_kwargs(api, clock, "/query", retry=fast, daily_budget=6))
    fred = FredClient(landing, **client_kwargs(api, clock, "/fred", retry=fast))
    coingecko = CoinGeckoClient(landing, **client_kwargs(api, clock, "/api/v3", retry=fast))
    offline = FredClient(
        landing, **client_kwargs(api, clock, retry=fast, base_url=f"http://127.0.0.1:{unused_port()}/fred")
    )
    attempts = [
        lambda symbol=symbol: av.fetch(av.daily(universe.asset(symbol).params))
        for symbol in ("GOOG", "IXIC", "USO", "TLT", "EURUSD", "XAUUSD", "BTC-USD")  # the 7th is past the budget
    ] + [
        lambda: fred.fetch(fred.observations("SP500")),
        lambda: fred.fetch(fred.observations("BAD")),
        lambda: coingecko.fetch(coingecko.market_chart("bitcoin")),
        lambda: coingecko.fetch(coingecko.market_chart("ethereum", since=date(2010, 1, 1))),
        lambda: offline.fetch(offline.observations("DGS2")),
    ]
    errors: list[BaseException] = []
    for attempt in attempts:
        try:
            attempt()
        except Exception as error:
            errors.append(error)

    kinds = sorted(type(error).__name__ for error in errors)
    assert kinds == [
        "BudgetExhausted",  # BTC-USD: the 7th call, past the budget of 6
        "HttpStatusError",  # FRED 400 (bad key)
        "HttpStatusError",  # TLT 503 after the retries
        "HttpStatusError",  # USO 404 echoing the URL
        "HttpStatusError",  # XAUUSD: no route, 418
        "RangeBeyondFreeTierError",  # ethereum
        "RateLimitedError",  # IXIC: the body echoes the key
        "TransportError",  # EURUSD read timeout
        "TransportError",  # FRED offline
    ], errors
    seen_keys = [seen for seen in api.requests if KEY in seen.url or KEY in seen.headers.values()]
    assert seen_keys, "the server did receive the key (in the query or the header)"

    for error in errors:
        text = "".join(traceback.format_exception(error))  # chained causes included
        assert KEY not in text, text
        assert KEY not in repr(error.args)
        assert KEY not in str(getattr(error, "request", ""))

    for path in landed_files(landing):
        assert KEY not in str(path.relative_to(landing)), path
        assert KEY.encode() not in path.read_bytes(), path
    assert any(p.suffix == ".json" and "_failed" in p.parts for p in landed_files(landing))

    ours = [record for record in caplog.records if record.name != "werkzeug"]  # werkzeug: the test server's log
    assert any(record.name.startswith("urllib3") for record in ours)
    assert any(record.name.startswith("portfolio_assets.clients") for record in ours)
    for record in ours:
        message = record.getMessage()
        assert KEY not in message, (record.name, message)
        if record.exc_info:
            assert KEY not in "".join(traceback.format_exception(*record.exc_info))

    for client in (av, fred, coingecko, offline):
        assert KEY not in repr(client) and KEY not in repr(vars(client).get("store"))
