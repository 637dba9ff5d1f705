"""Shared parser helpers: key redaction and quoting.

Strict-JSON errors are tested through every JSON parser in ``test_parser_contract``.
"""

from __future__ import annotations

import pytest

from portfolio_assets.sources._wire import quote, redact


@pytest.mark.parametrize(
    "text, secret",
    [
        ("GET /query?function=TIME_SERIES_DAILY&symbol=GOOG&apikey=ABCD1234EFGH5678", "ABCD1234EFGH5678"),
        (
            "observations?series_id=SP500&api_key=0123456789abcdef0123456789abcdef&file_type=json",
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "We have detected your API key as demo12345 and our standard API rate limit is 25 requests per day.",
            "demo12345",
        ),
        ("header x-cg-demo-api-key: CG-AbCdEfGhIjKlMnOp", "CG-AbCdEfGhIjKlMnOp"),
        ("bad key 0123456789abcdef0123456789abcdef in request", "0123456789abcdef0123456789abcdef"),
        ("token='s3cr3t-t0ken'", "s3cr3t-t0ken"),
    ],
)
def test_redact_removes_keys(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "***" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day.",
        "The **demo** API key is for demo purposes only. Please claim your free API key at "
        "(https://www.alphavantage.co/support/#api-key) to explore our full API offerings.",
        "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information.",
        "Invalid API call. Please retry or visit the documentation for TIME_SERIES_DAILY.",
        "'Article Count' date: unparsable date '20081301T000000Z' (expected %Y%m%dT%H%M%SZ)",
    ],
)
def test_redact_keeps_ordinary_messages(text: str) -> None:
    assert redact(text) == text


def test_quote_collapses_whitespace_and_shortens() -> None:
    assert quote("a \n  b") == "'a b'"
    assert quote("x" * 500, limit=10) == "'" + "x" * 9 + "…'"
