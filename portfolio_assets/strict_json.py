"""Strict JSON text: the one place that refuses NaN / Infinity constants.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity``, which are not
JSON; every reader of the project's JSON text (landed responses, exported rows,
schema checks) goes through :func:`loads`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


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
