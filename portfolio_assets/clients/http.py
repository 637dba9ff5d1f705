"""HTTP plumbing shared by the live clients: retrying sessions, rate limits, daily budgets.

* :class:`RetryPolicy` / :func:`build_session`: one ``requests.Session`` per
  client whose adapter retries with urllib3's :class:`~urllib3.util.retry.Retry`
  (no hand-written loop): connect errors, read errors and timeouts, HTTP 429 and
  every 5xx, with exponential backoff plus jitter, honouring ``Retry-After``
  (capped at ``retry_after_max``); never another 4xx. Only ``GET`` is sent.
* :class:`RateLimiter`: a minimum interval between the calls of one source.
* :class:`DailyBudget`: the calls a source may make per UTC day, counted in a
  small JSON ledger ``<landing root>/_budget/<source>/<YYYY-MM-DD>.json``
  written atomically, so that a run which reaches the budget stops with
  :class:`~portfolio_assets.clients.errors.BudgetExhausted` and the next run
  (or day) carries on.

Credentials never reach a message or a log line: see
:mod:`portfolio_assets.clients.redaction`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from portfolio_assets.clients.errors import BudgetExhausted
from portfolio_assets.clients.redaction import install_log_redaction, scrub, source_logger
from portfolio_assets.errors import SourceError
from portfolio_assets.fsutil import write_atomically

__all__ = [
    "BUDGET_DIR",
    "RETRY_STATUSES",
    "BudgetExhausted",
    "Clock",
    "DailyBudget",
    "RateLimiter",
    "RetryPolicy",
    "build_session",
    "scrub",
    "shared_limiter",
    "source_logger",
    "utc_now",
]

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (tests inject a fixed one)."""

RETRY_STATUSES = frozenset({429, *range(500, 600)})
"""Statuses retried with backoff (and ``Retry-After`` where sent); any other status is final."""

BUDGET_DIR = "_budget"
USER_AGENT = "portfolio_assets-live-clients/0.1"


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries and how long it waits, in seconds.

    ``total`` retries after the first attempt (so ``total + 1`` requests at
    most); the n-th consecutive retry waits ``backoff_factor * 2**(n-1)`` plus a
    uniform jitter in ``0..backoff_jitter`` (at most ``backoff_max``; urllib3
    sends the first retry at once), or what ``Retry-After`` says (at most
    ``retry_after_max``).
    """

    total: int = 5
    backoff_factor: float = 1.0
    backoff_jitter: float = 1.0
    backoff_max: float = 120.0
    retry_after_max: int = 300
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def __post_init__(self) -> None:
        for name in ("total", "backoff_factor", "backoff_jitter", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"RetryPolicy.{name} must be >= 0, got {value!r}")
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"RetryPolicy.{name} must be > 0 seconds, got {value!r}")

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeouts for ``requests``."""
        return (self.connect_timeout, self.read_timeout)

    @property
    def max_attempts(self) -> int:
        return self.total + 1

    def retry(self) -> Retry:
        """The urllib3 ``Retry`` this policy describes.

        ``raise_on_status=False``: when the retries of a 429/5xx run out, the
        last response is returned (its body is kept for diagnosis) rather than
        an exception without it. ``other=0``: errors that are neither connect
        nor read errors (TLS, invalid responses) are not retried.
        """
        return Retry(
            total=self.total,
            connect=self.total,
            read=self.total,
            status=self.total,
            other=0,
            redirect=5,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff_factor,
            backoff_jitter=self.backoff_jitter,
            backoff_max=self.backoff_max,
            respect_retry_after_header=True,
            retry_after_max=self.retry_after_max,
            raise_on_status=False,
        )


def build_session(policy: RetryPolicy, *, user_agent: str = USER_AGENT) -> requests.Session:
    """A ``requests.Session`` whose http and https adapters retry as ``policy`` says."""
    install_log_redaction()
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=policy.retry())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


class RateLimiter:
    """At least ``min_interval`` seconds between the starts of two calls, across threads.

    A monotonic-clock interval is all a per-source limit needs here: each source
    has one fixed rate ("5 a minute" is one call every 12 s) and a client's
    calls are sequential, so ``pyrate-limiter``'s buckets, bursts and storage
    backends would add a dependency without adding behaviour. Callers queue on a
    lock and each gets the next free slot. Retries inside one call are paced by
    the retry backoff, not by this limiter.
    """

    def __init__(
        self,
        min_interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval < 0 or math.isnan(min_interval):
            raise ValueError(f"min_interval must be >= 0 seconds, got {min_interval!r}")
        self.min_interval = float(min_interval)
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: float | None = None

    @classmethod
    def per_minute(cls, calls: float) -> RateLimiter:
        """``calls`` a minute, evenly spaced."""
        return cls(60.0 / calls)

    def wait(self) -> float:
        """Block until the next call may start; return the seconds waited."""
        with self._lock:
            now = self._monotonic()
            start = now if self._next is None else max(now, self._next)
            delay = start - now
            if delay > 0:
                self._sleep(delay)
            self._next = start + self.min_interval
            return delay


_limiters: dict[tuple[str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(source: str, min_interval: float) -> RateLimiter:
    """The process-wide limiter of ``source`` at ``min_interval``: every client of a source shares it."""
    key = (source, float(min_interval))
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = RateLimiter(min_interval)
        return _limiters[key]


_ledger_locks: dict[tuple[Path, str], threading.Lock] = {}
_ledger_locks_lock = threading.Lock()


class DailyBudget:
    """The calls ``source`` may make per UTC day, counted in ``<root>/_budget/<source>/<YYYY-MM-DD>.json``.

    A call is charged before it is sent (so a crash cannot under-count); the
    HTTP requests it took, retries included, are added afterwards for
    information. ``limit=None`` counts without limiting. The ledger is written
    atomically; one process's threads share a lock (one run per source at a
    time is assumed across processes).
    """

    def __init__(self, root: str | Path, source: str, limit: int | None, *, clock: Clock = utc_now) -> None:
        if limit is not None and limit < 0:
            raise ValueError(f"{source}: daily budget must be >= 0 or None, got {limit!r}")
        self.root = Path(root)
        self.source = source
        self.limit = limit
        self._clock = clock
        key = (self.root.resolve(), source)
        with _ledger_locks_lock:
            self._lock = _ledger_locks.setdefault(key, threading.Lock())

    def today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def path(self, day: date) -> Path:
        return self.root / BUDGET_DIR / self.source / f"{day.isoformat()}.json"

    def _read(self, day: date) -> dict[str, int]:
        path = self.path(day)
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {"calls": 0, "requests": 0}
        except (OSError, ValueError) as exc:
            raise SourceError(self.source, f"unreadable budget ledger {path}: {exc}; fix or delete it") from None
        counts: dict[str, int] = {}
        for key in ("calls", "requests"):
            value = data.get(key) if isinstance(data, dict) else None
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                cause = f"budget ledger {path} does not hold whole 'calls' and 'requests' counts; fix or delete it"
                raise SourceError(self.source, cause)
            counts[key] = value
        return counts

    def _write(self, day: date, counts: dict[str, int]) -> None:
        path = self.path(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "source": self.source,
            "day": day.isoformat(),
            "limit": self.limit,
            "calls": counts["calls"],
            "requests": counts["requests"],
            "updated_at": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        write_atomically(path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))

    def used(self, day: date | None = None) -> int:
        """Calls charged to ``day`` (default: today, UTC)."""
        return self._read(day or self.today())["calls"]

    def remaining(self) -> int | None:
        """Calls left today; None when unlimited."""
        if self.limit is None:
            return None
        return max(self.limit - self.used(), 0)

    def charge(self) -> date:
        """Charge one call to today and return the day; :class:`BudgetExhausted` (with one call left) if spent."""
        with self._lock:
            day = self.today()
            counts = self._read(day)
            if self.limit is not None and counts["calls"] >= self.limit:
                raise BudgetExhausted(self.source, day=day, budget=self.limit, made_today=counts["calls"], left=1)
            counts["calls"] += 1
            self._write(day, counts)
            return day

    def add_requests(self, day: date, requests_sent: int) -> None:
        """Record the HTTP requests one charged call took (its retries included)."""
        with self._lock:
            counts = self._read(day)
            counts["requests"] += requests_sent
            self._write(day, counts)
