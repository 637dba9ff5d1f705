"""Keep credentials out of messages, log lines and stored files.

:func:`scrub` applies the project's redactor (``sources._wire.redact``: values
of every :data:`~portfolio_assets.errors.SECRET_PARAMS` name in query strings,
headers and JSON, ``Authorization``/``Bearer`` values, key shapes) and then
replaces, verbatim and URL-encoded, every key a client was configured with
(:func:`register_secret`), so a key that a server echoes in free text
(``"... your API key SECRET-KEY-123 ..."``) is hidden too.

urllib3 logs the full request URL (query string included, so ``apikey=...``)
when it retries; :func:`install_log_redaction` puts a filter on its loggers
that scrubs every record before any handler sees it.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote, quote_plus

from portfolio_assets.sources._wire import REDACTED, redact

LOGGER_PREFIX = "portfolio_assets.clients"
MIN_SECRET_LENGTH = 4
"""Shorter values are not replaced verbatim (they would blank out ordinary text); name-based redaction still applies."""

_THIRD_PARTY_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def _spellings(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value, safe="")}


def register_secret(value: str | None) -> None:
    """Remember a credential so that :func:`scrub` hides it wherever it appears."""
    global _secrets
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        known = set(_secrets) | _spellings(value)
        _secrets = tuple(sorted(known, key=len, reverse=True))


def scrub(text: str) -> str:
    """``text`` with every credential replaced by ``***``."""
    text = redact(text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_body(body: bytes, secret: str | None) -> bytes:
    """``body`` with the literal ``secret`` (and its URL-encoded forms) replaced by ``***``; otherwise unchanged.

    A data response never contains the key; an error body sometimes echoes it,
    and stored files must not hold it.
    """
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return body
    for spelling in sorted(_spellings(secret), key=len, reverse=True):
        body = body.replace(spelling.encode("utf-8"), REDACTED.encode("ascii"))
    return body


class ScrubFilter(logging.Filter):
    """Rewrite a record's message through :func:`scrub` (formatting it first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed third-party record: leave it to the handler
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = ScrubFilter()


def _add_filter(logger: logging.Logger) -> None:
    if not any(isinstance(existing, ScrubFilter) for existing in logger.filters):
        logger.addFilter(_FILTER)


def install_log_redaction() -> None:
    """Scrub every record of urllib3's and requests' loggers (they log URLs with their query strings)."""
    for name in _THIRD_PARTY_LOGGERS:
        _add_filter(logging.getLogger(name))


def source_logger(source: str) -> logging.Logger:
    """The logger of one source's client, ``portfolio_assets.clients.<source>``, with the scrub filter."""
    logger = logging.getLogger(f"{LOGGER_PREFIX}.{source}")
    _add_filter(logger)
    return logger
