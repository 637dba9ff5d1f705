"""The fetch cycle every HTTP source shares.

:meth:`HttpSourceClient.fetch` for one :class:`FetchRequest`:

1. **fresh?** If the stored responses of the series already cover the days
   the request needs (``clients.store``: a response covers up to the day before
   it was fetched, and today too when fetched today), nothing is sent and the
   stored response is reused. Otherwise the source asks only for what is new
   where its API allows it (Alpha Vantage ``outputsize=compact``, FRED
   ``observation_start``, a GDELT start date, CoinGecko ``days``).
2. **budget and rate**: one call is charged to the source's daily budget
   (``BudgetExhausted`` if spent) and the rate limiter spaces it.
3. **call**: ``GET`` through the retrying session (``clients.http``).
4. **store**: the body, verbatim (only a literal echo of the key is replaced
   by ``***``), atomically to ``_pending`` before anything parses it.
5. **parse** with the source's parser; accepted bodies move into the
   landing zone (with a fetch record), refused ones and error statuses into
   ``_failed`` with an ``.error.json``, and a :class:`~portfolio_assets.clients.errors.ClientError`
   subclass says what happened and what to do.

:meth:`HttpSourceClient.plan` counts the calls a list of requests will make;
:meth:`HttpSourceClient.fetch_all` runs a list and stops cleanly at the budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)

from portfolio_assets.clients.errors import (
    BudgetExhausted,
    ClientError,
    HttpStatusError,
    RangeBeyondFreeTierError,
    RateLimitedError,
    RejectedResponseError,
    TransportError,
)
from portfolio_assets.clients.http import (
    Clock,
    DailyBudget,
    RateLimiter,
    RetryPolicy,
    build_session,
    shared_limiter,
    utc_now,
)
from portfolio_assets.clients.model import DATA_START, DEFAULT, FetchRequest, FetchResult, HttpCall
from portfolio_assets.clients.redaction import register_secret, scrub, scrub_body, source_logger
from portfolio_assets.clients.store import Coverage, FetchRecord, ResponseStore, coverage
from portfolio_assets.errors import SourceError
from portfolio_assets.landing import FETCHED_AT_FORMAT, wire_extension


class HttpSourceClient:
    """Base of the HTTP clients: one source, one session, one rate limiter, one daily budget.

    Constructor arguments (all but the landing root are keywords):

    * ``landing_root`` - the landing zone the responses go to (and budgets, failures, records);
    * ``api_key`` - the credential, sent as the source requires; never logged, stored or shown;
    * ``base_url`` - the API root, to point at a mirror or a test server;
    * ``retry`` - :class:`~portfolio_assets.clients.http.RetryPolicy` (timeouts, retries, backoff);
    * ``min_interval`` - seconds between calls (default: the source's documented rate);
    * ``daily_budget`` - calls per UTC day, None for unlimited (default: the source's);
    * ``rate_limiter`` - share one explicitly (default: the process-wide one of the source);
    * ``clock`` - returns the current aware time (tests inject one);
    * ``session`` - a ready ``requests.Session`` (default: built from ``retry``).
    """

    source: ClassVar[str]
    default_base_url: ClassVar[str]
    default_min_interval: ClassVar[float]
    default_daily_budget: ClassVar[int | None] = None
    rate_hint: ClassVar[str] = ""

    def __init__(
        self,
        landing_root: str | Path,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        min_interval: float | None = None,
        daily_budget: int | Literal["default"] | None = DEFAULT,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.store = ResponseStore(landing_root)
        self._api_key = api_key or None
        register_secret(self._api_key)
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.retry = retry or RetryPolicy()
        self.min_interval = self.default_min_interval if min_interval is None else float(min_interval)
        self.limiter = rate_limiter or shared_limiter(self.source, self.min_interval)
        self._clock = clock or utc_now
        limit = self.default_daily_budget if isinstance(daily_budget, str) else daily_budget
        self.budget = DailyBudget(self.store.root, self.source, limit, clock=self._clock)
        self.session = session or build_session(self.retry)
        self.log = source_logger(self.source)

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(landing_root={str(self.store.root)!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpSourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # what each source defines ----------------------------------------------------------------------

    def _call(self, request: FetchRequest, covered: Coverage, today: date) -> HttpCall:
        """The call that gets what ``request`` still needs, given what is ``covered``."""
        raise NotImplementedError

    def _parse(self, request: FetchRequest, body: bytes, where: str) -> Any:
        """Parse a body with the source's parser (raises the parser's SourceError)."""
        raise NotImplementedError

    def _data_days(self, parsed: Any) -> tuple[date | None, date | None, int]:
        """First and last day in parsed data, and its rows."""
        raise NotImplementedError

    def _kind(self, request: FetchRequest) -> str:
        """Responses of different kinds never cover for each other."""
        return ""

    def _needed(self, request: FetchRequest, today: date) -> tuple[date | None, date]:
        """The first (None: the beginning) and last day the request needs."""
        through = today if request.through is None else min(request.through, today)
        return request.since, through

    # freshness and plans ---------------------------------------------------------------------------

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def covered(self, request: FetchRequest) -> Coverage:
        """What the stored responses of the request's series cover of the days it needs."""
        self._check(request)
        today = self._today()
        start, end = self._needed(request, today)
        return coverage(self.store.records(self.source, request.params, self._kind(request)), start, end, today)

    def is_fresh(self, request: FetchRequest) -> bool:
        """True when a fetch of ``request`` would send nothing."""
        return self.covered(request).fresh

    def plan(self, requests: Iterable[FetchRequest]) -> dict[str, int]:
        """How many calls fetching ``requests`` will make: ``{source: calls}`` (fresh ones cost nothing)."""
        seen: set[tuple[str, str, date | None, date | None, tuple[tuple[str, str], ...]]] = set()
        calls = 0
        for request in requests:
            key = (
                request.source,
                request.series,
                request.since,
                request.through,
                tuple(sorted(request.options.items())),
            )
            if key in seen:
                continue
            seen.add(key)
            calls += not self.is_fresh(request)
        return {self.source: calls}

    def _check(self, request: FetchRequest) -> None:
        if request.source != self.source:
            raise ValueError(f"{type(self).__name__} fetches {self.source!r} requests, not {request.source!r}")

    # fetching --------------------------------------------------------------------------------------

    def fetch_all(self, requests: Iterable[FetchRequest]) -> list[FetchResult]:
        """Fetch every request in order; stop at the first error.

        When the daily budget runs out, raise :class:`BudgetExhausted` saying how
        many calls this run made and how many planned calls are left (its
        ``results`` hold the fetches done); a later run resumes where this one
        stopped, since what was stored is fresh.
        """
        todo = list(requests)
        planned = self.plan(todo)[self.source]
        remaining = self.budget.remaining()
        budget_text = "unlimited" if remaining is None else f"{remaining} left today"
        self.log.info("%s: %d requests, %d need a call (budget: %s)", self.source, len(todo), planned, budget_text)
        results: list[FetchResult] = []
        made = 0
        for index, request in enumerate(todo):
            try:
                result = self.fetch(request)
            except BudgetExhausted as exc:
                left = self.plan(todo[index:])[self.source]
                stop = BudgetExhausted(
                    self.source,
                    day=exc.day,
                    budget=exc.budget,
                    made_today=exc.made_today,
                    made_in_run=made,
                    left=left,
                    results=results,
                )
                self.log.warning("%s", stop)
                break
            results.append(result)
            made += not result.reused
        else:
            return results
        raise stop

    def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch one request (see the module doc); reuse the stored response when it is fresh."""
        covered = self.covered(request)
        if covered.fresh:
            newest = self.store.zone.files(self.source, request.params)[-1]
            self.log.info("%s: fresh, reusing %s (no call)", request, self.store.relative(newest.path))
            return FetchResult(request, True, newest.path, newest.fetched_at)
        call = self._call(request, covered, self._today())
        try:
            self._url(call)  # before the budget is charged: a malformed URL costs no call
        except requests.RequestException as exc:
            cause = f"base_url {scrub(self.base_url)!r} gives no usable URL ({type(exc).__name__}); fix the base URL"
            raise ClientError(self.source, cause, where=request.series) from None
        day = self.budget.charge()
        self.limiter.wait()
        return self._send(request, call, day)

    def _url(self, call: HttpCall) -> tuple[str, str]:
        """The URL to request and its redacted form for messages."""
        url = self.base_url + call.path
        prepared = requests.Request("GET", url, params={**call.query, **call.secret_query}).prepare()
        return url, scrub(prepared.url or url)

    def _send(self, request: FetchRequest, call: HttpCall, day: date) -> FetchResult:
        url, shown = self._url(call)
        params = {**call.query, **call.secret_query}
        self.log.info("%s: GET %s", request, shown)
        started = time.monotonic()
        failure = ("", 1)
        response: requests.Response | None = None
        try:
            response = self.session.get(url, params=params, headers=dict(call.headers), timeout=self.retry.timeout)
        except requests.RequestException as exc:
            failure = self._describe(exc)
        if response is None:
            what, attempts = failure
            self.budget.add_requests(day, attempts)
            cause = f"{what}; check the network and base_url ({self.base_url}), then run again"
            error = self._error(TransportError, request, cause, shown, attempts=attempts)
            self.log.warning("%s", error)
            raise error

        retries = getattr(response.raw, "retries", None)
        attempts = 1 + len(retries.history) if retries is not None else 1
        self.budget.add_requests(day, attempts)
        elapsed = time.monotonic() - started
        body = scrub_body(response.content, self._api_key)
        fetched_at = self.store.fetch_time(self.source, request.params, self._clock())
        status = response.status_code
        content_type = response.headers.get("Content-Type", "")
        self.log.info("%s: HTTP %d, %d bytes, %d attempt(s), %.2f s", request, status, len(body), attempts, elapsed)

        reply = _Reply(fetched_at, status, content_type, shown, attempts)
        if not 200 <= status < 300:
            api_cause = self._api_cause(request, body, fetched_at)
            what = f"HTTP {status} {response.reason or ''}".rstrip()
            what += f" after {attempts} attempts" if attempts > 1 else ""
            what += f": {api_cause}" if api_cause else ""
            raise self._refuse(request, reply, self._classify(api_cause or "", status), what, body=body)

        staged = self.store.stage(self.source, request.params, body, fetched_at)
        where = self.store.where(request.params, staged.name)
        refused: ClientError | None = None
        try:
            parsed = self._parse(request, staged.read_bytes(), where)
        except SourceError as exc:
            cause = exc.cause
            if _looks_like_html(body, content_type):
                cause = f"an HTML page instead of the API's format ({cause})"
            refused = self._refuse(request, reply, self._classify(exc.cause, status), cause, staged=staged)
        except BaseException:
            self._refuse(request, reply, RejectedResponseError, "the parser crashed", staged=staged)
            raise
        if refused is not None:
            raise refused

        landed = self.store.accept(staged, self.source, request.params)
        first, last, rows = self._data_days(parsed)
        # a compact answer covers from its first day (an empty one, today only)
        since = (first or self._today()) if call.since == DATA_START else call.since
        record = FetchRecord(
            fetched_at=landed.fetched_at,
            file=landed.path.name,
            since=since,
            through=call.through,
            first=first,
            last=last,
            rows=rows,
            kind=self._kind(request),
            query=dict(call.query),
            attempts=attempts,
        )
        self.store.write_record(self.source, request.params, record)
        self.log.info("%s: stored %s (%d rows)", request, self.store.relative(landed.path), rows)
        return FetchResult(request, False, landed.path, landed.fetched_at, shown, parsed, attempts)

    # errors ----------------------------------------------------------------------------------------

    def _refuse(
        self,
        request: FetchRequest,
        reply: _Reply,
        kind: type[ClientError],
        what: str,
        *,
        staged: Path | None = None,
        body: bytes | None = None,
    ) -> ClientError:
        """Keep a refused body under ``_failed`` with why, log it, and build the error to raise."""
        details = {
            "status": reply.status,
            "content_type": reply.content_type,
            "request": reply.shown,
            "attempts": reply.attempts,
            "error": scrub(what),
        }
        failed = self.store.refuse(self.source, request.params, reply.fetched_at, details, staged=staged, body=body)
        hint = self._hint(kind, reply.status)
        cause = f"{what}; {hint}" if hint else what
        error = self._error(kind, request, cause, reply.shown, reply.status, failed, reply.attempts)
        self.log.warning("%s", error)
        return error

    def _api_cause(self, request: FetchRequest, body: bytes, fetched_at: datetime) -> str | None:
        """What the source's parser makes of an error-status body (e.g. FRED's error JSON)."""
        if not body.strip():
            return "empty body"
        name = f"{fetched_at.strftime(FETCHED_AT_FORMAT)}.{wire_extension(self.source)}"
        where = self.store.where(request.params, name)
        try:
            self._parse(request, body, where)
        except SourceError as exc:
            return exc.cause
        except Exception:  # the parser's own defect must not hide the HTTP error
            return None
        return None

    @staticmethod
    def _classify(cause: str, status: int | None) -> type[ClientError]:
        if "error 10012" in cause:
            return RangeBeyondFreeTierError
        if status == 429 or cause.startswith("rate limited") or "(rate limited)" in cause:
            return RateLimitedError
        if status is not None and not 200 <= status < 300:
            return HttpStatusError
        return RejectedResponseError

    def _hint(self, kind: type[ClientError], status: int | None) -> str:
        if kind is RangeBeyondFreeTierError:
            return ""  # the parser's cause already says what to do
        if kind is RateLimitedError:
            rate = f" ({self.rate_hint})" if self.rate_hint else ""
            return f"the provider is rate-limiting this key{rate}: wait, then run again (stored responses are reused)"
        if kind is HttpStatusError and status in (401, 403):
            return "check the API key (it is never shown) and the plan it belongs to"
        if kind is HttpStatusError and status is not None and status < 500:
            return "a client error is not retried: check the request parameters and base_url"
        if kind is HttpStatusError:
            return "the server kept failing: run again later"
        return f"not a usable {self.source} response, so nothing was stored as data"

    def _error(
        self,
        kind: type[ClientError],
        request: FetchRequest,
        cause: str,
        shown: str,
        status: int | None = None,
        failed: Path | None = None,
        attempts: int | None = None,
    ) -> ClientError:
        kept = f"; raw body kept at {self.store.relative(failed)}" if failed is not None else ""
        message = f"{cause} (request: GET {shown}{kept})"
        return kind(
            self.source,
            message,
            where=request.series,
            request=shown,
            status=status,
            failed_path=failed,
            attempts=attempts,
        )

    def _describe(self, exc: requests.RequestException) -> tuple[str, int]:
        """A transport failure in words (never its URL, which holds the key) and the requests it took."""
        reason: BaseException = exc
        inner = exc.args[0] if exc.args else None
        exhausted = isinstance(inner, MaxRetryError)
        if isinstance(inner, MaxRetryError):
            reason = inner.reason or inner
        elif isinstance(inner, BaseException):
            reason = inner
        attempts = self.retry.max_attempts if exhausted else 1
        after = f" after {attempts} attempts" if exhausted else ""
        if isinstance(reason, NewConnectionError):
            text = f"could not connect{after} (connection refused or host unreachable)"
        elif isinstance(reason, ConnectTimeoutError) or isinstance(exc, requests.ConnectTimeout):
            text = f"no connection within the {self.retry.connect_timeout:g} s connect timeout{after}"
        elif isinstance(reason, ReadTimeoutError) or isinstance(exc, requests.ReadTimeout):
            text = f"no answer within the {self.retry.read_timeout:g} s read timeout{after}"
        elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
            text = "the connection broke while the body was read (cut off in transit; not retried)"
        elif isinstance(reason, ProtocolError):
            detail = scrub(str(reason.args[0])) if reason.args else ""
            text = f"the connection broke{after} ({detail})"
        elif isinstance(reason, ResponseError):
            text = f"too many error answers{after}"
        else:
            text = f"{type(reason).__name__}{after}: {scrub(str(reason))}"
        return text, attempts


@dataclass(frozen=True)
class _Reply:
    """An answer received: when, its status and content type, the redacted request, the requests it took."""

    fetched_at: datetime
    status: int
    content_type: str
    shown: str
    attempts: int


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body.lstrip()[:64].lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))
