"""Shared parser helpers: key redaction and quoting.

Strict-JSON errors are tested through every JSON parser in ``test_parser_contract``.
"""

from __future__ import annotations

import pytest

from portfolio_assets import landing
from portfolio_assets.errors import SECRET_PARAMS
from portfolio_assets.sources import alphavantage
from portfolio_assets.sources._wire import fail, quote, redact

SECRET = "s3cr3t-V4lue.x"
# every spelling the issue names, whatever the case
NAMED = (
    "apikey",
    "api_key",
    "access_token",
    "api-key",
    "x-cg-pro-api-key",
    "x-cg-demo-api-key",
    "apiToken",
    "client_secret",
    "token",
    "key",
)


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
        ("GET /coins/bitcoin?x_cg_pro_api_key=CG-AbCdEfGhIjKlMnOp&days=max", "CG-AbCdEfGhIjKlMnOp"),
        ('{"error": "bad", "access_token": "ya29.a0AfH6SMBx"}', "ya29.a0AfH6SMBx"),
        ("{'client_secret': 'shh-123'}", "shh-123"),
        ('body \\"apiToken\\": \\"tok123\\"', "tok123"),
        ("Authorization: Bearer eyJhbGciOi.J9-abc_d", "eyJhbGciOi.J9-abc_d"),
        ('headers={"authorization": "Basic dXNlcjpwYXNz"}', "dXNlcjpwYXNz"),
        ("AUTHORIZATION=abcdef", "abcdef"),
        ("retry with bearer abc.def~ghi/jk+l==", "abc.def~ghi/jk+l=="),
        ("my_token=abc123", "abc123"),
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
        "no 'timeline' key in the response (keys: 'query_details')",
        "duplicate key 'a' in a JSON object",
        "Your search contained a keyword that was too short.",
        "monkey=banana, tokens: 3",
    ],
)
def test_redact_keeps_ordinary_messages(text: str) -> None:
    assert redact(text) == text


def test_quote_collapses_whitespace_and_shortens() -> None:
    assert quote("a \n  b") == "'a b'"
    assert quote("x" * 500, limit=10) == "'" + "x" * 9 + "…'"


@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize(
    "template",
    [
        "https://api.example.com/v1?a=1&{name}={secret}&b=2",  # query string
        '{{"{name}": "{secret}", "b": 2}}',  # JSON body
        "{name}: {secret}",  # header as quoted in a message
        "{name} = '{secret}'",
    ],
    ids=["query", "json", "header", "assignment"],
)
@pytest.mark.parametrize("case", [str, str.upper, str.lower], ids=["as-is", "upper", "lower"])
def test_every_named_secret_is_redacted(name: str, template: str, case) -> None:
    text = template.format(name=case(name), secret=SECRET)
    redacted = redact(text)
    assert SECRET not in redacted
    assert "***" in redacted


def test_the_secret_names_live_in_one_place() -> None:
    assert landing.SECRET_PARAMS is SECRET_PARAMS
    for name in NAMED:
        assert name.lower() in SECRET_PARAMS
        with pytest.raises(ValueError, match="secret"):
            landing.series_key({"function": "FX_DAILY", name: SECRET})
    params = {"function": "FX_DAILY", **{name.upper(): SECRET for name in NAMED}}
    assert alphavantage.series_params(params) == {"function": "FX_DAILY"}


def test_source_errors_are_redacted_whatever_the_cause() -> None:
    """Causes that echo a body without :func:`quote` still never carry a secret."""
    error = fail("fred", f"observation 'api_key={SECRET}': value is not numeric", "series_id=SP500/x.json")
    assert SECRET not in str(error)
    assert error.cause == "observation 'api_key=***': value is not numeric"
