"""Strict JSON text: the one place that refuses NaN / Infinity constants.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity``, which are not
JSON; every reader of the project's JSON text (landed responses, exported rows,
schema checks) goes through :func:`loads`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

# A JSON number token that is a negative zero: -0, -0.0, -0e5, -0.00E-3 (not -0.5, -0.01).
_NEGATIVE_ZERO = re.compile(r"-0(?:\.0+)?(?:[eE][+-]?[0-9]+)?(?![0-9.eE])")


class NonStandardConstantError(ValueError):
    """A JSON text used ``NaN``, ``Infinity`` or ``-Infinity``."""

    def __init__(self, token: str) -> None:
        self.token = token
        super().__init__(f"non-standard JSON constant {token}")


def reject_constant(token: str) -> Any:
    """``parse_constant`` hook of ``json.loads``: raise on any non-standard constant."""
    raise NonStandardConstantError(token)


def loads(text: str | bytes, *, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """``json.loads`` that refuses non-standard constants (``ValueError`` subclasses on bad text)."""
    return json.loads(text, parse_constant=reject_constant, object_pairs_hook=object_pairs_hook)


def check(text: str) -> None:
    """Raise ``loads``' ``ValueError`` if ``text`` is not strict JSON; return nothing.

    orjson decides first (strict RFC 8259, a few times faster than ``json``); every text it
    refuses (it is stricter: lone surrogates, numbers beyond float range) goes to ``loads``,
    which decides, so this accepts exactly what ``loads`` accepts and raises its messages.
    """
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        loads(text)


def negative_zeros(text: str) -> list[str]:
    """The number tokens of the JSON ``text`` that write a negative zero (``-0``, ``-0.0``, ``-0e-3`` ...), in order.

    Numbers only: a ``"-0.0"`` inside a JSON string is text, not a number. Raises ``ValueError`` on bad text.
    """
    if _NEGATIVE_ZERO.search(text) is None:  # cheap filter; the parse below decides
        return []
    found: list[str] = []

    def number(token: str, kind: Callable[[str], float | int]) -> float | int:
        value = kind(token)
        if token.startswith("-") and value == 0 and _NEGATIVE_ZERO.fullmatch(token):
            found.append(token)
        return value

    json.loads(
        text,
        parse_constant=reject_constant,
        parse_float=lambda t: number(t, float),
        parse_int=lambda t: number(t, int),
    )
    return found
