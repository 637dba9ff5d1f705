"""Shared HTTP machinery: the urllib3 Retry a policy builds, the rate limiter, the budget ledger, scrubbing."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from requests.adapters import HTTPAdapter

from portfolio_assets.clients import BudgetExhausted, DailyBudget, RateLimiter, RetryPolicy
from portfolio_assets.clients.http import RETRY_STATUSES, build_session, shared_limiter
from portfolio_assets.clients.redaction import install_log_redaction, register_secret, scrub, scrub_body
from portfolio_assets.errors import SourceError
from portfolio_assets_tests.clients.conftest import Clock


def test_policy_builds_a_urllib3_retry_that_retries_429_and_5xx_only() -> None:
    policy = RetryPolicy(total=4, backoff_factor=0.5, backoff_jitter=0.25, retry_after_max=30)
    retry = policy.retry()
    assert (retry.total, retry.connect, retry.read, retry.status) == (4, 4, 4, 4)
    assert retry.backoff_factor == 0.5 and retry.backoff_jitter == 0.25
    assert retry.respect_retry_after_header and retry.retry_after_max == 30
    assert retry.raise_on_status is False  # the last 429/5xx answer comes back, so its body is kept
    assert retry.allowed_methods == frozenset({"GET"})
    for status in (429, 500, 502, 503, 504, 599):
        assert retry.is_retry("GET", status), status
    for status in (400, 401, 403, 404, 410, 422):
        assert not retry.is_retry("GET", status, has_retry_after=True), status
    assert set(RETRY_STATUSES) == {429, *range(500, 600)}
    assert RetryPolicy().total == 5
    assert policy.timeout == (policy.connect_timeout, policy.read_timeout)


def test_session_mounts_the_policy_for_http_and_https() -> None:
    policy = RetryPolicy(total=3)
    session = build_session(policy)
    for prefix in ("http://", "https://"):
        adapter = session.get_adapter(f"{prefix}example.org")
        assert isinstance(adapter, HTTPAdapter)
        assert adapter.max_retries.total == 3
        assert adapter.max_retries.status_forcelist == RETRY_STATUSES


@pytest.mark.parametrize("bad", [{"total": -1}, {"read_timeout": 0}, {"connect_timeout": -2}])
def test_policy_refuses_nonsense(bad: dict) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**bad)


def test_rate_limiter_spaces_calls_by_the_interval() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(12.0, monotonic=lambda: now[0], sleep=sleep)
    assert limiter.wait() == 0  # the first call goes at once
    assert limiter.wait() == pytest.approx(12.0)
    now[0] += 5
    assert limiter.wait() == pytest.approx(7.0)
    now[0] += 60
    assert limiter.wait() == 0
    assert slept == [pytest.approx(12.0), pytest.approx(7.0)]
    assert RateLimiter.per_minute(5).min_interval == 12.0


def test_rate_limiter_is_thread_safe() -> None:
    limiter = RateLimiter(0.05)
    starts: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        limiter.wait()
        with lock:
            starts.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 4 and min(gaps) >= 0.04, gaps


def test_limiters_are_shared_per_source() -> None:
    assert shared_limiter("gdelt", 5.0) is shared_limiter("gdelt", 5.0)
    assert shared_limiter("gdelt", 5.0) is not shared_limiter("fred", 5.0)


def test_budget_ledger_counts_calls_per_utc_day(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 5, 1, 23, 0, tzinfo=UTC))
    budget = DailyBudget(tmp_path, "alphavantage", 2, clock=clock)
    assert budget.remaining() == 2
    day = budget.charge()
    budget.add_requests(day, 3)  # one call that took two retries
    budget.charge()
    ledger = tmp_path / "_budget" / "alphavantage" / "2024-05-01.json"
    assert json.loads(ledger.read_text()) == {
        "source": "alphavantage",
        "day": "2024-05-01",
        "limit": 2,
        "calls": 2,
        "requests": 3,
        "updated_at": "2024-05-01T23:00:00Z",
    }
    assert [p.name for p in ledger.parent.iterdir()] == ["2024-05-01.json"]  # written atomically, no temporaries
    with pytest.raises(BudgetExhausted) as info:
        budget.charge()
    assert info.value.made_today == 2 and info.value.left == 1 and info.value.day == date(2024, 5, 1)
    assert str(info.value).startswith("alphavantage: daily budget of 2 calls for 2024-05-01 (UTC) is spent")
    assert isinstance(info.value, SourceError)

    clock.advance(hours=2)  # 01:00 UTC the next day: a new ledger
    assert budget.remaining() == 2
    assert budget.charge() == date(2024, 5, 2)
    assert budget.used(date(2024, 5, 1)) == 2


def test_unlimited_budget_still_counts(tmp_path: Path) -> None:
    budget = DailyBudget(tmp_path, "fred", None)
    for _ in range(3):
        budget.charge()
    assert budget.remaining() is None and budget.used() == 3


def test_a_damaged_ledger_is_a_clear_error(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 5, 1, tzinfo=UTC))
    budget = DailyBudget(tmp_path, "alphavantage", 25, clock=clock)
    budget.path(date(2024, 5, 1)).parent.mkdir(parents=True)
    budget.path(date(2024, 5, 1)).write_text('{"calls": "many"}')
    with pytest.raises(SourceError, match=r"budget ledger .* does not hold whole"):
        budget.charge()


def test_scrub_hides_keys_in_urls_headers_and_echoes() -> None:
    register_secret("SCRUB-ME-98765")
    text = (
        "GET /query?function=FX_DAILY&apikey=SCRUB-ME-98765 and /obs?api_key=SCRUB-ME-98765&x=1; "
        "{'x-cg-demo-api-key': 'SCRUB-ME-98765'}; detected your key SCRUB-ME-98765"
    )
    clean = scrub(text)
    assert "SCRUB" not in clean
    assert "apikey=***" in clean and "api_key=***" in clean
    register_secret("k+y/with=odd&chars")  # URL-encoded spellings are hidden too
    assert scrub("echo k%2By%2Fwith%3Dodd%26chars and k+y/with=odd&chars") == "echo *** and ***"
    assert scrub_body(b'{"Note": "your key SCRUB-ME-98765"}', "SCRUB-ME-98765") == b'{"Note": "your key ***"}'
    assert scrub_body(b"unchanged", None) == b"unchanged"


def test_urllib3_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").warning("Retrying after error: %s", "/query?apikey=LEAKY-VALUE-1")
    assert "LEAKY" not in caplog.text and "apikey=***" in caplog.text
