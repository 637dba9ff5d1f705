"""``load_json``'s orjson read gives exactly what the stdlib reference read gives, or hands over to it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_assets.errors import SourceError
from portfolio_assets.sources import _wire, alphavantage


def reference(text: str) -> str:
    """What ``load_json`` gave before orjson: its stdlib reads alone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_wire, "_quick_json", lambda text, members: _wire._NO_QUICK)
        return outcome(text)


def outcome(text: str) -> str:
    try:
        value = _wire.load_json("src", text, "f")
    except SourceError as exc:
        return f"error: {exc}"
    return f"{type(value).__name__}: {value!r}"


@pytest.mark.parametrize(
    "text",
    [
        '{"a" : 1, "a": 2}',  # whitespace between a repeated key and its colon
        '{"a"\n:1,"a"\t: 2}',
        '{"a": "x:y", "a": 1}',  # a colon inside a string, and a repeated key
        '{"t": "16:00:00", "b": {"c": 1, "c": 2}}',
        '{"k\\u003a": 1, "k\\u003a": 2}',  # an escaped colon
        '{"k\\":": 1, "k\\":": 2}',
        '[{"a": 1}, {"a": 1, "a": 1}]',
    ],
)
def test_a_repeated_key_is_refused_however_the_text_hides_it(text: str) -> None:
    assert outcome(text).startswith("error: src [f]: duplicate key")
    assert outcome(text) == reference(text)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{"a": 18446744073709551616}', 18446744073709551616),  # orjson alone would give a float
        ('{"a": -9223372036854775809}', -9223372036854775809),
        ('{"a": 123456789012345678901234567890}', 123456789012345678901234567890),
    ],
)
def test_integers_beyond_64_bits_stay_exact(text: str, want: int) -> None:
    value = _wire.load_json("src", text, "f")["a"]
    assert type(value) is int and value == want


def test_a_plain_body_takes_the_quick_read() -> None:
    text = '{"Meta Data": {"3. Last Refreshed": "2019-12-31 16:00:00"}, "s": {"d": {"1. open": "1.5"}}}'
    assert _wire._quick_json(text, _wire.json_members) == json.loads(text)
    assert _wire._quick_json(text, alphavantage._members) == json.loads(text)
    assert _wire._quick_json('{"a": 1, "a": 2}', _wire.json_members) is _wire._NO_QUICK


def test_members_counts_every_level() -> None:
    data: Any = {"a": [{"b": 1, "c": {"d": 2}}, [{"e": 3}]], "f": {}}
    assert _wire.json_members(data) == 6
    assert alphavantage._members({"x": {"y": {"z": 1, "w": [{"v": 1}]}}}) == 4  # a lower bound (5): three levels


KEYS = st.sampled_from(["a", "b", "a:", " :", "\\", '"', "é", "\u2028", "1. open"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from(["a", ":", '"', "\\", " ", "\n", "é", "0", "9"]), max_size=6),
)


def _json_texts() -> st.SearchStrategy[str]:
    """Objects written with repeated keys possible, odd spacing and escapes."""
    values = st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(map(_text, items)) + "]"),
            st.lists(st.tuples(KEYS, inner), max_size=4).map(
                lambda pairs: (
                    "{"
                    + ",".join(
                        f"{json.dumps(k)} {sep}: {_text(v)}" for (k, v), sep in zip(pairs, "  \n\t", strict=False)
                    )
                    + "}"
                )
            ),
        ),
        max_leaves=12,
    )
    return values.map(_text)


def _text(value: object) -> str:
    return value if isinstance(value, str) and value[:1] in "[{" else json.dumps(value)


@settings(max_examples=400, deadline=None)
@given(_json_texts())
def test_quick_read_agrees_with_the_reference(text: str) -> None:
    assert outcome(text) == reference(text)
