"""Each source's client against the local server replaying its wire format (the bundled sample files as bodies).

A good answer is stored verbatim and replays like the sample; every error body
(sent with HTTP 200 or an error status) is a distinct, clear error naming the
source and the request with the key redacted, and its raw body is kept under
``_failed/``, never in the landing zone.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets import replay
from portfolio_assets.clients import (
    AlphaVantageClient,
    ClientError,
    CoinGeckoClient,
    FearGreedClient,
    FredClient,
    GdeltClient,
    HttpStatusError,
    LocalFilesClient,
    RangeBeyondFreeTierError,
    RateLimitedError,
    RateLimiter,
    RejectedResponseError,
)
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone, series_key
from portfolio_assets.sources import alphavantage, google_trends
from portfolio_assets.universe import load_universe
from portfolio_assets_tests.clients.conftest import (
    KEY,
    Api,
    Clock,
    assert_clear_error,
    client_kwargs,
    fixture,
    reply,
    sample,
)

UNIVERSE = load_universe()
SAMPLE = LandingZone(SAMPLE_LANDING_ROOT)
GOOG = "function=TIME_SERIES_DAILY,symbol=GOOG"
GOOG_QUERY = {"function": "TIME_SERIES_DAILY", "symbol": "GOOG"}


def _av(api: Api, clock: Clock, landing: Path, **overrides: object) -> AlphaVantageClient:
    return AlphaVantageClient(landing, **client_kwargs(api, clock, "/query", **overrides))


# --- Alpha Vantage ------------------------------------------------------------------------------------


def test_alphavantage_fetches_every_universe_asset_and_replays_like_the_sample(
    api: Api, clock: Clock, landing: Path
) -> None:
    for spec in UNIVERSE.assets:
        series = alphavantage.series_params(spec.params)
        api.on("/query", reply(sample("alphavantage", series_key(series))), **series)
    client = _av(api, clock, landing)
    requests = [client.daily(spec.params) for spec in UNIVERSE.assets]
    assert client.plan(requests) == {"alphavantage": len(UNIVERSE.assets)}

    results = client.fetch_all(requests)

    assert [r.reused for r in results] == [False] * len(UNIVERSE.assets)
    for spec, result in zip(UNIVERSE.assets, results, strict=True):
        series = series_key(alphavantage.series_params(spec.params))
        assert result.path is not None and result.path.read_bytes() == sample("alphavantage", series)  # verbatim
        pd.testing.assert_frame_equal(replay.read_prices(LandingZone(landing), spec), replay.read_prices(SAMPLE, spec))
    sent = {seen.args["symbol" if "symbol" in seen.args else "from_symbol"]: seen.args for seen in api.requests}
    assert sent["GOOG"]["outputsize"] == "full" and sent["EUR"]["outputsize"] == "full"
    assert "outputsize" not in sent["BTC"]  # DIGITAL_CURRENCY_DAILY always answers with the whole history
    assert all(seen.args["apikey"] == KEY for seen in api.requests)
    assert client.plan(requests) == {"alphavantage": 0}


SPLITS = '{"symbol": "GOOG", "data": [{"effective_date": "2022-07-18", "split_factor": "20.0000"}]}'
DIVIDENDS = (
    '{"symbol": "TLT", "data": [{"ex_dividend_date": "2013-02-01", "declaration_date": "None", "record_date":'
    ' "2013-02-05", "payment_date": "2013-02-07", "amount": "0.2717"}]}'
)
WTI = (
    '{"name": "Crude Oil Prices WTI", "interval": "daily", "unit": "dollars per barrel", "data": ['
    '{"date": "2013-02-28", "value": "92.03"}, {"date": "2013-02-27", "value": "."}]}'
)


def test_alphavantage_corporate_actions_and_commodities(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/query", reply(SPLITS), function="SPLITS", symbol="GOOG")
    api.on("/query", reply(DIVIDENDS), function="DIVIDENDS", symbol="TLT")
    api.on("/query", reply(WTI), function="WTI", interval="daily")
    client = _av(api, clock, landing)
    splits, dividends, wti = client.fetch_all([client.splits("GOOG"), client.dividends("TLT"), client.commodity("WTI")])
    assert splits.data["split_factor"].tolist() == [20.0]
    assert dividends.data["amount"].tolist() == [0.2717] and dividends.data["declaration_date"].isna().all()
    assert wti.data["value"].isna().tolist() == [True, False]
    assert [p.path.parent.name for p in (splits, dividends, wti)] == [
        "function=SPLITS,symbol=GOOG",
        "function=DIVIDENDS,symbol=TLT",
        "function=WTI,interval=daily",
    ]
    assert wti.path is not None and wti.path.read_bytes() == WTI.encode()


@pytest.mark.parametrize(
    "body, error, cause",
    [
        (fixture("alphavantage_note.json"), RateLimitedError, "rate limited: 'Thank you for using Alpha Vantage!"),
        (fixture("alphavantage_rate_limit.json"), RateLimitedError, "25 requests per day"),
        (fixture("alphavantage_premium.json"), RejectedResponseError, "API information instead of data"),
        (fixture("alphavantage_error.json"), RejectedResponseError, "API error: 'Invalid API call."),
        (sample("alphavantage", GOOG)[:5000], RejectedResponseError, "truncated JSON: the body ends early"),
        (b"Internal Server Error", RejectedResponseError, "not JSON (Expecting value at line 1 column 1)"),
        (b"", RejectedResponseError, "empty body"),
    ],
    ids=["Note", "Information daily limit", "Information premium", "Error Message", "truncated", "not JSON", "empty"],
)
def test_alphavantage_error_bodies_with_http_200(
    api: Api, clock: Clock, landing: Path, body: bytes, error: type[ClientError], cause: str
) -> None:
    api.on("/query", reply(body), **GOOG_QUERY)
    client = _av(api, clock, landing)
    with pytest.raises(ClientError) as info:
        client.fetch(client.daily(GOOG_QUERY))
    assert type(info.value) is error
    assert cause in str(info.value)
    assert len(api.requests) == 1  # a 200 is never retried
    assert_clear_error(info.value, "alphavantage", GOOG, landing, body)
    with pytest.raises(Exception, match="no stored response"):
        replay.read_prices(LandingZone(landing), UNIVERSE.asset("GOOG"))


@pytest.mark.parametrize("function", ["SPLITS", "DIVIDENDS"])
@pytest.mark.parametrize(
    "body, error, cause",
    [
        (fixture("alphavantage_note.json"), RateLimitedError, "rate limited: 'Thank you for using Alpha Vantage!"),
        (fixture("alphavantage_rate_limit.json"), RateLimitedError, "25 requests per day"),
        (fixture("alphavantage_premium.json"), RejectedResponseError, "API information instead of data"),
        (fixture("alphavantage_error.json"), RejectedResponseError, "API error: 'Invalid API call."),
        (b'{"symbol": "TLT", "data": [{"effective_da', RejectedResponseError, "truncated JSON: the body ends early"),
        (b"", RejectedResponseError, "empty body"),
    ],
    ids=["Note", "Information daily limit", "Information premium", "Error Message", "truncated", "empty"],
)
def test_corporate_action_error_bodies_with_http_200(
    api: Api, clock: Clock, landing: Path, function: str, body: bytes, error: type[ClientError], cause: str
) -> None:
    """SPLITS / DIVIDENDS answer errors and limits with HTTP 200 like the price series, and are classified alike."""
    api.on("/query", reply(body), function=function, symbol="TLT")
    client = _av(api, clock, landing)
    request = client.splits("TLT") if function == "SPLITS" else client.dividends("TLT")
    with pytest.raises(ClientError) as info:
        client.fetch(request)
    assert type(info.value) is error
    assert cause in str(info.value)
    assert len(api.requests) == 1  # a 200 is never retried
    assert_clear_error(info.value, "alphavantage", f"function={function},symbol=TLT", landing, body)


def test_a_rate_limited_answer_says_what_to_do(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/query", reply(fixture("alphavantage_note.json")), **GOOG_QUERY)
    client = _av(api, clock, landing)
    with pytest.raises(RateLimitedError, match=r"free keys: 5 calls a minute, 25 a day\): wait, then run again"):
        client.fetch(client.daily(GOOG_QUERY))


# --- FRED ---------------------------------------------------------------------------------------------


def test_fred_observations(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/fred/series/observations", reply(sample("fred", "series_id=SP500")), series_id="SP500")
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    result = client.fetch(client.observations("SP500"))
    (seen,) = api.requests
    assert seen.args == {"series_id": "SP500", "file_type": "json", "api_key": KEY}
    assert result.data.vintage is False
    stored = replay.read_fred(LandingZone(landing), "SP500")
    pd.testing.assert_frame_equal(stored.frame, replay.read_fred(SAMPLE, "SP500").frame)


def _vintage(body: bytes) -> bytes:
    return body.replace(b'"output_type":1', b'"output_type":4', 1)


def test_fred_first_release_vintages(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/fred/series/observations", reply(_vintage(sample("fred", "series_id=CPILFESL"))), output_type="4")
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    result = client.fetch(client.observations("CPILFESL", vintage=True))
    (seen,) = api.requests
    assert {k: seen.args[k] for k in ("realtime_start", "realtime_end", "output_type", "file_type")} == {
        "realtime_start": "1776-07-04",
        "realtime_end": "9999-12-31",
        "output_type": "4",
        "file_type": "json",
    }
    assert result.data.vintage is True
    assert replay.read_fred(LandingZone(landing), "CPILFESL").vintage is True


def test_fred_vintage_asked_but_latest_answered_is_refused(api: Api, clock: Clock, landing: Path) -> None:
    body = sample("fred", "series_id=DGS10")  # latest values (output_type=1)
    api.on("/fred/series/observations", reply(body))
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    with pytest.raises(RejectedResponseError, match=r"asked for first releases \(output_type=4\) but the response"):
        client.fetch(client.observations("DGS10", vintage=True))
    assert_clear_error(_last_error(client, "DGS10", vintage=True), "fred", "series_id=DGS10", landing, body)


def _last_error(client: FredClient, series_id: str, vintage: bool) -> ClientError:
    try:
        client.fetch(client.observations(series_id, vintage=vintage))
    except ClientError as error:
        return error
    raise AssertionError("expected an error")


def test_fred_error_json_with_http_200_is_an_error(api: Api, clock: Clock, landing: Path) -> None:
    body = fixture("fred_error_400.json")
    api.on("/fred/series/observations", reply(body))
    client = FredClient(landing, **client_kwargs(api, clock, "/fred"))
    with pytest.raises(RejectedResponseError) as info:
        client.fetch(client.observations("NOPE"))
    assert "API error 400: 'Bad Request. The series does not exist.'" in str(info.value)
    assert_clear_error(info.value, "fred", "series_id=NOPE", landing, body)


# --- GDELT --------------------------------------------------------------------------------------------

NASDAQ_TONE = "mode=timelinetone,query=Nasdaq"


def test_gdelt_timelines(api: Api, clock: Clock, landing: Path) -> None:
    for mode in ("timelinetone", "timelinevolraw"):
        api.on("/api/v2/doc/doc", reply(sample("gdelt", f"mode={mode},query=Nasdaq")), mode=mode)
    client = GdeltClient(landing, **client_kwargs(api, clock, "/api/v2/doc/doc", api_key=None))
    start, end = date(2008, 1, 1), date(2013, 2, 28)
    client.fetch_all([client.timeline("Nasdaq", mode, start, end) for mode in ("timelinetone", "timelinevolraw")])
    tone = api.requests[0].args
    assert tone == {
        "query": "Nasdaq",
        "mode": "timelinetone",
        "format": "json",
        "startdatetime": "20080101000000",
        "enddatetime": "20130228235959",
    }
    for mode in ("timelinetone", "timelinevolraw"):
        pd.testing.assert_frame_equal(
            replay.read_gdelt(LandingZone(landing), "Nasdaq", mode), replay.read_gdelt(SAMPLE, "Nasdaq", mode)
        )


@pytest.mark.parametrize(
    "body, content_type, error, cause",
    [
        (fixture("gdelt_rate_limit.txt"), "text/plain", RateLimitedError, "rate limited (plain-text answer)"),
        (fixture("gdelt_error.txt"), "text/plain", RejectedResponseError, "keyword that was too short"),
        (
            b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
            RejectedResponseError,
            "an HTML page instead of the API's format",
        ),
    ],
    ids=["throttle", "plain-text error", "HTML error page"],
)
def test_gdelt_error_answers(
    api: Api, clock: Clock, landing: Path, body: bytes, content_type: str, error: type[ClientError], cause: str
) -> None:
    api.on("/api/v2/doc/doc", reply(body, content_type=content_type))
    client = GdeltClient(landing, **client_kwargs(api, clock, "/api/v2/doc/doc", api_key=None))
    with pytest.raises(ClientError) as info:
        client.fetch(client.timeline("Nasdaq", "timelinetone", date(2013, 1, 1), date(2013, 2, 28)))
    assert type(info.value) is error and cause in str(info.value)
    assert len(api.requests) == 1
    assert_clear_error(info.value, "gdelt", NASDAQ_TONE, landing, body)


def test_gdelt_waits_between_requests(api: Api, clock: Clock, landing: Path) -> None:
    assert GdeltClient.default_min_interval == 5.0  # one request every 5 s, as GDELT asks
    api.on("/api/v2/doc/doc", reply(sample("gdelt", NASDAQ_TONE)))
    limiter = RateLimiter(0.3)
    client = GdeltClient(
        landing, **client_kwargs(api, clock, "/api/v2/doc/doc", api_key=None, min_interval=0.3, rate_limiter=limiter)
    )
    client.fetch_all([client.timeline(q, "timelinetone", date(2008, 1, 1), date(2013, 2, 28)) for q in ("a", "b")])
    first, second = api.requests
    assert second.at - first.at >= 0.29


# --- CoinGecko ----------------------------------------------------------------------------------------

BITCOIN = "id=bitcoin,vs_currency=usd"
ERROR_10012 = (
    b'{"error":{"status":{"timestamp":"2024-04-20T22:00:05.123+00:00","error_code":10012,"error_message":"Your'
    b" request exceeds the allowed time range. Public API users are limited to querying historical data within the"
    b" past 365 days. Upgrade to a paid plan to enjoy full historical data access:"
    b' https://www.coingecko.com/en/api/pricing. "}}}'
)


def test_coingecko_market_chart_sends_the_key_in_a_header_only(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/api/v3/coins/bitcoin/market_chart", reply(sample("coingecko", BITCOIN)))
    client = CoinGeckoClient(landing, **client_kwargs(api, clock, "/api/v3"))
    client.fetch(client.market_chart("bitcoin"))
    (seen,) = api.requests
    assert seen.headers["X-Cg-Demo-Api-Key"] == KEY
    assert KEY not in seen.url and "key" not in seen.url.lower()
    assert seen.args == {"vs_currency": "usd", "days": "365", "interval": "daily"}
    pd.testing.assert_frame_equal(
        replay.read_coingecko(LandingZone(landing), "bitcoin"), replay.read_coingecko(SAMPLE, "bitcoin")
    )


def test_coingecko_range(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/api/v3/coins/bitcoin/market_chart/range", reply(sample("coingecko", BITCOIN)))
    client = CoinGeckoClient(landing, **client_kwargs(api, clock, "/api/v3"))
    client.fetch(client.market_chart("bitcoin", since=date(2013, 1, 1), through=date(2013, 1, 31), use_range=True))
    (seen,) = api.requests
    assert seen.args["vs_currency"] == "usd"
    assert int(seen.args["to"]) - int(seen.args["from"]) > 90 * 86400  # wide enough for daily points


@pytest.mark.parametrize("status", [401, 200])
def test_coingecko_10012_is_a_distinct_error(api: Api, clock: Clock, landing: Path, status: int) -> None:
    api.on("/api/v3/coins/bitcoin/market_chart", reply(ERROR_10012, status))
    client = CoinGeckoClient(landing, **client_kwargs(api, clock, "/api/v3"))
    with pytest.raises(RangeBeyondFreeTierError) as info:
        client.fetch(client.market_chart("bitcoin", since=date(2010, 1, 1)))
    assert len(api.requests) == 1
    assert "error 10012" in str(info.value) and "request at most 365 days, or use a paid-plan API key" in str(
        info.value
    )
    assert_clear_error(info.value, "coingecko", BITCOIN, landing, ERROR_10012)


def test_coingecko_rate_limit_body(api: Api, clock: Clock, landing: Path) -> None:
    body = fixture("coingecko_rate_limit.json")
    api.on("/api/v3/coins/bitcoin/market_chart", reply(body))
    client = CoinGeckoClient(landing, **client_kwargs(api, clock, "/api/v3"))
    with pytest.raises(RateLimitedError, match=r"error 429 \(rate limited\)"):
        client.fetch(client.market_chart("bitcoin"))


def test_coingecko_unknown_coin(api: Api, clock: Clock, landing: Path) -> None:
    body = fixture("coingecko_not_found.json")
    api.on("/api/v3/coins/nocoin/market_chart", reply(body, 404))
    client = CoinGeckoClient(landing, **client_kwargs(api, clock, "/api/v3"))
    with pytest.raises(HttpStatusError, match="HTTP 404 NOT FOUND: API error: 'coin not found'") as info:
        client.fetch(client.market_chart("nocoin"))
    assert_clear_error(info.value, "coingecko", "id=nocoin,vs_currency=usd", landing, body)


# --- alternative.me Fear & Greed ----------------------------------------------------------------------


def test_fear_greed(api: Api, clock: Clock, landing: Path) -> None:
    api.on("/fng/", reply(sample("alternative_me", "limit=0")), limit="0", format="json")
    client = FearGreedClient(landing, **client_kwargs(api, clock, api_key=None))
    client.fetch(client.index())
    pd.testing.assert_frame_equal(replay.read_fear_greed(LandingZone(landing)), replay.read_fear_greed(SAMPLE))


def test_fear_greed_error(api: Api, clock: Clock, landing: Path) -> None:
    body = b'{"name":"Fear and Greed Index","data":[],"metadata":{"error":"Service unavailable"}}'
    api.on("/fng/", reply(body))
    client = FearGreedClient(landing, **client_kwargs(api, clock, api_key=None))
    with pytest.raises(RejectedResponseError, match="API error: 'Service unavailable'") as info:
        client.fetch(client.index())
    assert_clear_error(info.value, "alternative_me", "limit=0", landing, body)


# --- local files --------------------------------------------------------------------------------------


def test_local_files_are_validated_and_copied_verbatim(tmp_path: Path, clock: Clock, landing: Path) -> None:
    feed = tmp_path / "social.csv"
    feed.write_bytes(sample("social", "feed=daily"))
    trends = tmp_path / "multiTimeline.csv"
    trends.write_bytes(sample("google_trends", "q=bitcoin"))
    client = LocalFilesClient(landing, clock=clock)
    requests = [client.social(feed), client.trends("bitcoin", trends)]
    assert client.plan(requests) == {"social": 0, "google_trends": 0}

    first = client.fetch_all(requests)
    assert [r.reused for r in first] == [False, False]
    assert first[0].path is not None and first[0].path.read_bytes() == feed.read_bytes()
    pd.testing.assert_frame_equal(replay.read_social(LandingZone(landing)), replay.read_social(SAMPLE))
    copied = replay.read_trends(LandingZone(landing), "bitcoin")  # one download, as copied
    assert len(copied) == 1 and copied[0].fetched_at == pd.Timestamp(clock.now)
    pd.testing.assert_frame_equal(copied[0].frame, google_trends.parse_trends_csv(trends.read_bytes()))
    clock.advance(hours=1)
    assert [r.reused for r in client.fetch_all(requests)] == [True, True]  # unchanged files are not copied again


def test_a_bad_local_file_is_kept_under_failed(tmp_path: Path, clock: Clock, landing: Path) -> None:
    bad = b"timestamp,asset_symbol,social_sentiment_score,social_mention_count\n2008-01-01T00:00:00Z,GOOG,7,1\n"
    feed = tmp_path / "social.csv"
    feed.write_bytes(bad)
    client = LocalFilesClient(landing, clock=clock)
    with pytest.raises(RejectedResponseError, match=r"sentiment score '7' outside -1\.\.1") as info:
        client.fetch(client.social(feed))
    assert info.value.failed_path is not None and info.value.failed_path.read_bytes() == bad
    assert info.value.failed_path.relative_to(landing).parts[:2] == ("_failed", "social")
    assert not (landing / "social").exists()
    meta = json.loads(info.value.failed_path.with_suffix("").with_suffix(".error.json").read_text())
    assert meta["file"] == str(feed)


def test_a_missing_local_file(tmp_path: Path, clock: Clock, landing: Path) -> None:
    client = LocalFilesClient(landing, clock=clock)
    with pytest.raises(ClientError, match=r"^google_trends \[q=gold\]: cannot read the configured file"):
        client.fetch(client.trends("gold", tmp_path / "missing.csv"))


def test_gdelt_refuses_a_sub_daily_timeline_instead_of_keeping_one_point_a_day(api, clock, landing):
    from portfolio_assets.clients import GdeltClient, RejectedResponseError
    from portfolio_assets_tests.clients.conftest import client_kwargs, reply

    hourly = {
        "query_details": {"title": "bitcoin", "date_resolution": "hour"},
        "timeline": [
            {
                "series": "Average Tone",
                "data": [{"date": "20130301T000000Z", "value": -1.5}, {"date": "20130301T010000Z", "value": 2.0}],
            }
        ],
    }
    api.on("/gdelt", reply(json.dumps(hourly)), mode="timelinetone")
    client = GdeltClient(landing, **client_kwargs(api, clock, "/gdelt"))
    with pytest.raises(RejectedResponseError, match=r"sub-daily timeline .*2013-03-01T01:00Z.*8 days or more"):
        client.fetch(client.timeline("bitcoin", "timelinetone", date(2013, 2, 28), date(2013, 3, 1)))
    assert not (landing / "gdelt").exists()  # nothing stored as data
