"""Transport failures against the local server: what is retried (with backoff, honouring Retry-After), what is not.

Every failure ends in a distinct error naming the source, the series and the
request with the key redacted; an answer's body is kept under ``_failed/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from werkzeug import Request, Response

from portfolio_assets.clients import (
    AlphaVantageClient,
    FredClient,
    HttpStatusError,
    RateLimitedError,
    RetryPolicy,
    TransportError,
)
from portfolio_assets_tests.clients.conftest import (
    Api,
    Clock,
    assert_clear_error,
    client_kwargs,
    fixture,
    reply,
    sample,
    unused_port,
)

GOOG = "function=TIME_SERIES_DAILY,symbol=GOOG"
GOOG_BODY = sample("alphavantage", GOOG)
QUERY = {"function": "TIME_SERIES_DAILY", "symbol": "GOOG"}


def _av(api: Api, clock: Clock, landing: Path, **overrides: object) -> AlphaVantageClient:
    return AlphaVantageClient(landing, **client_kwargs(api, clock, "/query", **overrides))


def _goog(client: AlphaVantageClient):
    return client.daily({**QUERY, "outputsize": "full"})


def _slow(seconds: float, body: bytes = GOOG_BODY):
    def handler(request: Request) -> Response:
        time.sleep(seconds)
        return reply(body)

    return handler


def test_read_timeouts_are_retried_with_backoff_then_a_clear_error(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/query", _slow(0.6), **QUERY)
    policy = RetryPolicy(total=2, backoff_factor=0.1, backoff_jitter=0.0, read_timeout=0.15, connect_timeout=1)
    client = _av(api, clock, landing, retry=policy)

    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        client.fetch(_goog(client))
    elapsed = time.monotonic() - started

    assert len(api.requests) == 3  # the first attempt and two retries
    assert elapsed >= 3 * 0.15 + 0.2  # three timeouts, and a backoff of 0.2 s before the third attempt
    assert "no answer within the 0.15 s read timeout after 3 attempts" in str(info.value)
    assert info.value.attempts == 3 and info.value.status is None
    assert_clear_error(info.value, "alphavantage", GOOG, landing, None)
    assert client.budget.used() == 1  # one call charged; its three requests recorded
    assert client.budget._read(clock().date())["requests"] == 3


def test_a_read_timeout_then_an_answer_succeeds(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/query", _slow(0.6), reply(GOOG_BODY), **QUERY)
    policy = RetryPolicy(total=2, backoff_factor=0.01, read_timeout=0.15)
    client = _av(api, clock, landing, retry=policy)
    result = client.fetch(_goog(client))
    assert result.attempts == 2 and not result.reused
    assert result.path is not None and result.path.read_bytes() == GOOG_BODY


def test_connection_errors_are_retried_with_backoff_then_a_clear_error(api: Api, clock: Clock, landing: Path) -> None:
    policy = RetryPolicy(total=3, backoff_factor=0.05, backoff_jitter=0.0, connect_timeout=0.5)
    client = AlphaVantageClient(
        landing, **client_kwargs(api, clock, retry=policy, base_url=f"http://127.0.0.1:{unused_port()}/query")
    )
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        client.fetch(_goog(client))
    elapsed = time.monotonic() - started
    assert elapsed >= 0.1 + 0.2  # backoffs before the 3rd and 4th attempts (the 2nd goes at once)
    assert "could not connect after 4 attempts" in str(info.value)
    assert_clear_error(info.value, "alphavantage", GOOG, landing, None)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(api: Api, clock: Clock, landing: Path, status: int) -> None:
    busy = fixture("fred_error_429.json") if status == 429 else b"Service Unavailable"
    api.on(
        "/fred/series/observations",
        reply(busy, status, headers={"Retry-After": "1"}),
        reply(sample("fred", "series_id=SP500")),
    )
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    result = client.fetch(client.observations("SP500"))
    assert result.attempts == 2
    first, second = api.requests
    assert second.at - first.at >= 0.95  # waited what Retry-After said, not the 0.01 s backoff


def test_429_with_retry_after_zero_is_retried_at_once(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/query", reply("", 429, headers={"Retry-After": "0"}), reply(GOOG_BODY), **QUERY)
    client = _av(api, clock, landing)
    assert client.fetch(_goog(client)).attempts == 2


def test_503_until_the_retries_run_out(api: Api, clock: Clock, landing: Path) -> None:
    page = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    api.on("/query", reply(page, 503, content_type="text/html", headers={"Retry-After": "0"}), **QUERY)
    client = _av(api, clock, landing)
    with pytest.raises(HttpStatusError) as info:
        client.fetch(_goog(client))
    assert len(api.requests) == 3
    assert info.value.status == 503 and info.value.attempts == 3
    assert "HTTP 503 SERVICE UNAVAILABLE after 3 attempts" in str(info.value)
    assert "the server kept failing: run again later" in str(info.value)
    assert_clear_error(info.value, "alphavantage", GOOG, landing, page)


def test_429_until_the_retries_run_out_is_a_rate_limit(api: Api, clock: Clock, landing: Path) -> None:
    body = fixture("fred_error_429.json")
    api.on("/fred/series/observations", reply(body, 429, headers={"Retry-After": "0"}))
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    with pytest.raises(RateLimitedError) as info:
        client.fetch(client.observations("SP500"))
    assert len(api.requests) == 3 and info.value.status == 429
    assert "HTTP 429 TOO MANY REQUESTS after 3 attempts: API error 429: 'Too Many Requests. Exceeded Rate Limit'" in (
        str(info.value)
    )
    assert_clear_error(info.value, "fred", "series_id=SP500", landing, body)


@pytest.mark.parametrize(
    "status, body, cause",
    [
        (404, b"<html><title>404 Not Found</title></html>", "HTTP 404 NOT FOUND: not JSON"),
        (400, fixture("fred_error_400.json"), "HTTP 400 BAD REQUEST: API error 400: 'Bad Request. The series does"),
        (401, fixture("fred_error_api_key.json"), "check the API key (it is never shown)"),
    ],
    ids=["404", "400 FRED error JSON", "401 bad key"],
)
def test_client_errors_are_not_retried(
    api: Api, clock: Clock, landing: Path, status: int, body: bytes, cause: str
) -> None:
    api.on("/fred/series/observations", reply(body, status, headers={"Retry-After": "0"}))
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    with pytest.raises(HttpStatusError) as info:
        client.fetch(client.observations("SP500"))
    assert len(api.requests) == 1  # exactly one request: a 4xx other than 429 is final
    assert info.value.status == status and info.value.attempts == 1
    assert cause in str(info.value)
    if status != 401:
        assert "a client error is not retried: check the request parameters and base_url" in str(info.value)
    assert_clear_error(info.value, "fred", "series_id=SP500", landing, body)


def test_a_body_cut_off_in_transit_is_a_transport_error(api: Api, clock: Clock, landing: Path) -> None:
    def cut(request: Request) -> Response:
        response = Response(GOOG_BODY[:1000], content_type="application/json")
        response.headers["Content-Length"] = str(len(GOOG_BODY))  # promises more than it sends
        response.headers["Connection"] = "close"
        return response

    api.on("/query", cut, **QUERY)
    client = _av(api, clock, landing, retry=RetryPolicy(total=1, backoff_factor=0.01, read_timeout=0.5))
    with pytest.raises(TransportError) as info:
        client.fetch(_goog(client))
    assert "the connection broke while the body was read (cut off in transit; not retried)" in str(info.value)
    assert_clear_error(info.value, "alphavantage", GOOG, landing, None)
