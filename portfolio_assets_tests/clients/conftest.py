"""A real local HTTP server (pytest-httpserver on 127.0.0.1) that replays each source's wire format.

The server is started once for this package and stopped at its end (werkzeug
needs up to half a second to stop); every test gets it cleared, with an
:class:`Api` that routes requests by path and query parameters and records
every request it saw, in order, with its arrival time.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from portfolio_assets.clients import RateLimiter, RetryPolicy
from portfolio_assets.landing import SAMPLE_LANDING_ROOT

KEY = "SECRET-KEY-123"
"""A distinctive API key: it must never appear in a message, a log record or a stored file."""

FAST = RetryPolicy(
    total=2, backoff_factor=0.01, backoff_jitter=0.01, retry_after_max=2, connect_timeout=1.0, read_timeout=1.0
)
"""Tiny delays so the retry tests stay fast."""

Reply = Response | Callable[[Request], Response]


def reply(
    body: bytes | str, status: int = 200, *, content_type: str = "application/json", headers: dict | None = None
) -> Response:
    return Response(body, status=status, content_type=content_type, headers=headers or {})


def sample(source: str, series: str) -> bytes:
    """A bundled sample response (fetched 2013-03-01)."""
    return next((SAMPLE_LANDING_ROOT / source / series).iterdir()).read_bytes()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    """A verbatim error body from ``portfolio_assets_tests/fixtures``."""
    return (FIXTURES / name).read_bytes()


@dataclass
class Seen:
    """One request the server received."""

    path: str
    args: dict[str, str]
    headers: dict[str, str]
    at: float
    url: str


@dataclass
class _Route:
    path: str
    params: dict[str, str]
    replies: list[Reply]
    served: int = 0

    def matches(self, request: Request) -> bool:
        args = request.args.to_dict()
        return request.path == self.path and all(args.get(k) == v for k, v in self.params.items())

    def next(self, request: Request) -> Response:
        item = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return item(request) if callable(item) and not isinstance(item, Response) else item


@dataclass
class Api:
    """Routes on the local server: the newest matching route answers; unmatched requests get a 418."""

    server: HTTPServer
    requests: list[Seen] = field(default_factory=list)
    routes: list[_Route] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    def url(self, path: str = "") -> str:
        return self.server.url_for(path).rstrip("/") if path else f"http://127.0.0.1:{self.server.port}"

    def on(self, path: str, *replies: Reply, **params: str) -> None:
        """Answer ``GET path`` whose query holds ``params`` with ``replies`` in turn (the last one repeats)."""
        self.routes.append(_Route(path, params, list(replies)))

    def _handle(self, request: Request) -> Response:
        self.requests.append(
            Seen(request.path, request.args.to_dict(), dict(request.headers), time.monotonic(), request.url)
        )
        for route in reversed(self.routes):
            if route.matches(request):
                return route.next(request)
        return Response(f"no route for {request.path}", status=418)

    def calls(self, **params: str) -> list[Seen]:
        """The requests whose query holds ``params``."""
        return [seen for seen in self.requests if all(seen.args.get(k) == v for k, v in params.items())]


@pytest.fixture(scope="package")
def http_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def api(http_server: HTTPServer) -> Iterator[Api]:
    http_server.clear()
    yield Api(http_server)
    http_server.clear()


class Clock:
    """An injectable UTC clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2013, 3, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


def client_kwargs(api: Api, clock: Clock, path: str = "", **overrides: object) -> dict[str, object]:
    """Constructor keywords for a client pointed at the local server, without delays."""
    kwargs: dict[str, object] = {
        "api_key": KEY,
        "base_url": api.url(path),
        "retry": FAST,
        "min_interval": 0,
        "rate_limiter": RateLimiter(0),
        "clock": clock,
    }
    kwargs.update(overrides)
    return kwargs


def unused_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def landed_files(root: Path) -> list[Path]:
    """Every file under the landing root."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def assert_clear_error(error: BaseException, source: str, series: str, landing: Path, body: bytes | None) -> None:
    """The error names the source, the series and the request (key redacted); the raw body is kept in _failed/.

    ``body`` None: no answer, so nothing was kept. Nothing of the refused series reaches the landing zone
    proper (replay reads only ``<root>/<source>/``).
    """
    message = str(error)
    assert message.startswith(f"{source} [{series}]: "), message
    assert "(request: GET http://127.0.0.1:" in message, message
    assert KEY not in message
    if "apikey" in message or "api_key" in message:
        assert "apikey=***" in message or "api_key=***" in message, message
    replayed = landing / source / series
    assert not replayed.exists() or not any(replayed.iterdir()), "a refused body reached the landing zone"
    failed_path = getattr(error, "failed_path", None)
    if body is None:
        assert failed_path is None
        return
    assert failed_path is not None and failed_path.is_file(), message
    assert failed_path.relative_to(landing).parts[:3] == ("_failed", source, series)
    assert failed_path.read_bytes() == body  # verbatim
    assert f"raw body kept at _failed/{source}/{series}/" in message
    meta = json.loads(failed_path.with_name(failed_path.name.split(".")[0] + ".error.json").read_text())
    assert meta["source"] == source and meta["series"] == series and KEY not in json.dumps(meta)
