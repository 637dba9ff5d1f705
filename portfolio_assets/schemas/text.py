"""Text columns: strict JSON (``input``, ``output``, ``context_window``, ``not_applicable``), ISO timestamps.

Each ``*_problem`` function returns None for a good value, else the phrase that
follows the column name in a failure message ("is not strict JSON (...)").
``COLUMN_CHECKS`` are the custom column checks built on them: their constraint
text (``table_schema``) and the problem of a failing value (``validate_rows``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.features.sft import OUTPUT_FIELDS, TIMESERIES_FIELDS, TIMESERIES_OUTPUT_FIELDS
from portfolio_assets.features.sft_output import DEFAULT_OUTPUT, PRICE_KEY, OutputFormat
from portfolio_assets.schemas.display import is_null
from portfolio_assets.schemas.shortcut import known
from portfolio_assets.strict_json import NonStandardConstantError, loads
from portfolio_assets.timeutil import ISO_UTC_FORMAT

# --------------------------------------------------------------------------- strict JSON


_PARSED: dict[str, tuple[object, str | None]] | None = None
"""While ``parse_cache`` is open: every text parsed so far (a frame's column and row checks share it)."""


@contextmanager
def parse_cache() -> Iterator[None]:
    """Parse each JSON text once while open (``validate_rows`` runs every check of a frame inside one)."""
    global _PARSED
    previous, _PARSED = _PARSED, {}
    try:
        yield
    finally:
        _PARSED = previous


def parse_json(text: object) -> tuple[object, str | None]:
    """``(value, None)`` or ``(None, problem)``: strict JSON (no NaN / Infinity). Do not mutate the value."""
    if not isinstance(text, str):
        return None, "is not a string"
    if _PARSED is None:
        return _parse(text)
    found = _PARSED.get(text)
    if found is None:
        found = _PARSED[text] = _parse(text)
    return found


def _parse(text: str) -> tuple[object, str | None]:
    try:
        return loads(text), None
    except NonStandardConstantError as exc:
        # The schemas' documented wording ("non-standard constant NaN"), not strict_json's own.
        return None, f"is not strict JSON (non-standard constant {exc.token})"
    except ValueError as exc:
        return None, f"is not strict JSON ({exc})"


def parsed(series: pd.Series) -> list[object]:
    """Each value parsed as strict JSON, or None where it does not parse (a column check reports it)."""
    return [parse_json(v)[0] for v in series]


def finite_number(value: object) -> bool:
    """A JSON number that is finite (``bool`` is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- the output format judged

_OUTPUT: OutputFormat = DEFAULT_OUTPUT
"""The output format the ``output`` checks expect (``validate_rows(..., output=...)`` sets it while it runs)."""


@contextmanager
def output_format(output: OutputFormat) -> Iterator[None]:
    """Judge ``output`` texts (keys, order, precision) against ``output`` while open."""
    global _OUTPUT
    previous, _OUTPUT = _OUTPUT, output
    try:
        yield
    finally:
        _OUTPUT = previous


def current_output() -> OutputFormat:
    """The output format being judged (default: ``sft_output.DEFAULT_OUTPUT``)."""
    return _OUTPUT


# --------------------------------------------------------------------------- problems of one value


def input_problem(text: object) -> str | None:
    """``input``: a JSON object of every feature in canonical order, numbers or null."""
    value, problem = parse_json(text)
    if problem:
        return problem
    if not isinstance(value, dict):
        return "is not a JSON object"
    if list(value) != FEATURE_COLUMNS:
        missing = [k for k in FEATURE_COLUMNS if k not in value]
        unexpected = [k for k in value if k not in FEATURE_COLUMNS]
        if missing or unexpected:
            return f"does not have the {len(FEATURE_COLUMNS)} feature keys (missing {missing}, unexpected {unexpected})"
        return "has the feature keys out of their canonical order"
    bad = [k for k, v in value.items() if v is not None and not finite_number(v)]
    return f"has values that are neither numbers nor null: {bad}" if bad else None


def output_problem(text: object, timeseries: bool = False) -> str | None:
    """``output``: a JSON object of the output format's targets (``current_output``), in order, finite numbers,
    a positive predicted price."""
    value, problem = parse_json(text)
    if problem:
        return problem
    keys = list(_OUTPUT.keys(timeseries))
    if not isinstance(value, dict) or list(value) != keys:
        return f"is not a JSON object with keys {keys}"
    bad = [k for k, v in value.items() if not finite_number(v)]
    if bad:
        return f"has non-numeric or null targets: {bad}"
    if PRICE_KEY in value and value[PRICE_KEY] <= 0:
        return f"has {PRICE_KEY} <= 0"
    return None


def context_window_problem(text: object) -> str | None:
    """``context_window``: a non-empty JSON array of positive closes."""
    value, problem = parse_json(text)
    if problem:
        return problem
    if not isinstance(value, list) or not value:
        return "is not a non-empty JSON array"
    if not all(finite_number(v) and v > 0 for v in value):
        return "has closes that are not positive numbers"
    return None


def not_applicable_problem(text: object) -> str | None:
    """``not_applicable``: a JSON array of distinct feature names."""
    value, problem = parse_json(text)
    if problem:
        return problem
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "is not a JSON array of feature names"
    unknown = [v for v in value if v not in FEATURE_COLUMNS]
    if unknown:
        return f"lists unknown features {unknown}"
    if len(set(value)) != len(value):
        return "lists a feature twice"
    return None


TIMESERIES_INPUT_KEYS = ["context_window", *TIMESERIES_FIELDS]
CHAT_ROLES = ["system", "user", "assistant"]


def timeseries_input_problem(text: object) -> str | None:
    """Time-series ``input``: a JSON object of the context window (an array) and the few indicators."""
    value, problem = parse_json(text)
    if problem:
        return problem
    if not isinstance(value, dict) or list(value) != TIMESERIES_INPUT_KEYS:
        return f"is not a JSON object with keys {TIMESERIES_INPUT_KEYS}"
    closes = value["context_window"]
    if not isinstance(closes, list) or not closes or not all(finite_number(v) and v > 0 for v in closes):
        return "has a context_window that is not a non-empty array of positive closes"
    bad = [k for k in TIMESERIES_FIELDS if value[k] is not None and not finite_number(value[k])]
    return f"has values that are neither numbers nor null: {bad}" if bad else None


def timeseries_output_problem(text: object) -> str | None:
    """Time-series ``output``: a JSON object of the output format's return targets, finite numbers."""
    return output_problem(text, timeseries=True)


def messages_problem(text: object, roles: list[str] = CHAT_ROLES) -> str | None:
    """Chat ``messages``: a JSON array of a system, a user and an assistant message (``roles``) with text content."""
    value, problem = parse_json(text)
    if problem:
        return problem
    if (
        not isinstance(value, list)
        or [m.get("role") if isinstance(m, dict) else None for m in value] != roles
        or not all(list(m) == ["role", "content"] and isinstance(m["content"], str) and m["content"] for m in value)
    ):
        return f"is not a JSON array of {roles} messages, each {{role, content}} with text"
    return None


CHAT_PROMPT_ROLES = CHAT_ROLES[:2]
CHAT_COMPLETION_ROLES = CHAT_ROLES[2:]


def chat_prompt_problem(text: object) -> str | None:
    """Chat ``prompt``: a JSON array of the system and the user message."""
    return messages_problem(text, CHAT_PROMPT_ROLES)


def chat_completion_problem(text: object) -> str | None:
    """Chat ``completion``: a JSON array of the assistant message."""
    return messages_problem(text, CHAT_COMPLETION_ROLES)


def iso_problem(text: object) -> str | None:
    """A timestamp written as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not isinstance(text, str):
        return "is not a string"
    try:
        datetime.strptime(text, ISO_UTC_FORMAT)
    except ValueError:
        return "is not an ISO 8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)"
    return None


def non_empty_problem(text: object) -> str | None:
    """A string that is not only whitespace."""
    return "is empty" if isinstance(text, str) and not text.strip() else None


# --------------------------------------------------------------------------- column checks


@dataclass(frozen=True)
class ColumnCheck:
    """A custom column check: its constraint text (table_schema) and the message of a failing value."""

    constraint: str
    problem: Callable[[object], str | None]
    shows_value: bool = False


COLUMN_CHECKS: dict[str, ColumnCheck] = {
    "finite": ColumnCheck("finite (no ±inf)", lambda v: "not finite", shows_value=True),
    "non_empty": ColumnCheck("non-empty string", non_empty_problem),
    "input_json": ColumnCheck(
        f"strict JSON object of the {len(FEATURE_COLUMNS)} features in canonical order, numbers or null",
        input_problem,
    ),
    "output_json": ColumnCheck(
        f"strict JSON object of the output format's fields (default {list(OUTPUT_FIELDS)}), finite numbers",
        output_problem,
    ),
    "context_window_json": ColumnCheck("strict JSON non-empty array of positive closes", context_window_problem),
    "not_applicable_json": ColumnCheck("strict JSON array of feature names", not_applicable_problem),
    "iso_utc": ColumnCheck("ISO 8601 UTC string YYYY-MM-DDTHH:MM:SSZ", iso_problem, shows_value=True),
    "timeseries_input_json": ColumnCheck(
        f"strict JSON object {TIMESERIES_INPUT_KEYS}: an array of positive closes, then numbers or null",
        timeseries_input_problem,
    ),
    "timeseries_output_json": ColumnCheck(
        f"strict JSON object of the output format's returns (default {list(TIMESERIES_OUTPUT_FIELDS)}), finite numbers",
        timeseries_output_problem,
    ),
    "messages_json": ColumnCheck(f"strict JSON array of {CHAT_ROLES} messages {{role, content}}", messages_problem),
    "chat_prompt_json": ColumnCheck(
        f"strict JSON array of {CHAT_PROMPT_ROLES} messages {{role, content}}", chat_prompt_problem
    ),
    "chat_completion_json": ColumnCheck(
        f"strict JSON array of {CHAT_COMPLETION_ROLES} messages {{role, content}}", chat_completion_problem
    ),
}


def passes(series: pd.Series, name: str) -> pd.Series:
    """The column check ``COLUMN_CHECKS[name]`` of every value (a null passes: nullability is judged apart).

    Rows ``shortcut.known`` to pass are not judged again.
    """
    skip = known(name, str(series.name), series.index)
    if skip is not None:
        out = np.ones(len(series), dtype=bool)
        rest = np.flatnonzero(~skip)
        out[rest] = _passes(series.iloc[rest], name).to_numpy(dtype=bool)
        return pd.Series(out, index=series.index)
    return _passes(series, name)


def _passes(series: pd.Series, name: str) -> pd.Series:
    problem = COLUMN_CHECKS[name].problem
    try:  # each distinct value judged once (timestamps, not_applicable lists and classes repeat)
        codes, uniques = pd.factorize(series, use_na_sentinel=False)
    except TypeError:  # an unhashable value
        return series.map(lambda v: is_null(v) or problem(v) is None).astype(bool)
    good = np.array([is_null(v) or problem(v) is None for v in uniques], dtype=bool)
    return pd.Series(good[codes] if len(codes) else np.zeros(0, dtype=bool), index=series.index)
