"""Row rules that cross-check the JSON the model reads against the canonical columns.

``input`` against the feature columns and the last close of ``context_window`` against
``price_close``, to the 6 significant digits the JSON is written with; ``output`` against
the targets at the output format's precision (``text.current_output``: the returns' decimals,
the price's 6 significant digits); ``prompt`` / ``completion`` against the instruction, input,
output and messages they are made of. They are ``derived``: a row's messages list them after
its direct errors.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.features.sft import (
    SYSTEM_PROMPT,
    TIMESERIES_FIELDS,
    round_number,
)
from portfolio_assets.features.sft_output import OutputFormat, prompt_texts
from portfolio_assets.schemas.display import fmt
from portfolio_assets.schemas.row_rule import Problem, RowRule, all_true, num
from portfolio_assets.schemas.text import current_output, finite_number, parsed

# JSON numbers are written with 6 significant digits: |rounded − x| <= 5e-6 |x|.
JSON_RTOL = 1e-5


def close(a: np.ndarray, b: np.ndarray, rtol: float) -> np.ndarray:
    """Equal within ``rtol`` of ``b``, or both null / non-finite."""
    with np.errstate(invalid="ignore"):
        both_null = np.isnan(a) & ~np.isfinite(b)
        return both_null | (np.abs(a - b) <= rtol * np.abs(b))


def _json_numbers(records: list[object], keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(matrix of ``keys`` of each parsed JSON object, NaN for null; mask of rows that are such objects)."""
    usable = np.array([isinstance(r, dict) and all(k in r for k in keys) for r in records], dtype=bool)
    matrix = np.full((len(records), len(keys)), np.nan)
    for i, record in enumerate(records):
        if usable[i]:
            values = [record[k] for k in keys]
            if all(v is None or finite_number(v) for v in values):
                matrix[i] = [np.nan if v is None else float(v) for v in values]
            else:
                usable[i] = False
    return matrix, usable


def _mismatch_text(pairs: list[tuple[str, float, float]], what: str, limit: int = 3) -> str:
    """``rsi_14 (input 50.0, column 130.0), volume (input null, column 5.0) and 2 more``."""

    def show(x: float) -> str:
        return "null" if np.isnan(x) else fmt(x)

    shown = ", ".join(f"{k} ({what} {show(j)}, column {show(c)})" for k, j, c in pairs[:limit])
    more = f" and {len(pairs) - limit} more" if len(pairs) > limit else ""
    return shown + more


def _json_vs_columns(
    rows: pd.DataFrame, text_column: str, keys: list[str], columns: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(JSON numbers, column values, rows whose JSON is a usable object) for ``keys`` vs ``columns``."""
    matrix, usable = _json_numbers(parsed(rows[text_column]), keys)
    values = np.column_stack([num(rows, c) for c in columns]) if columns else np.empty((len(rows), 0))
    return matrix, values, usable


def _disagreements(rows: pd.DataFrame, text_column: str, keys: list[str], columns: list[str]) -> list[Problem]:
    matrix, values, _ = _json_vs_columns(rows, text_column, keys, columns)
    agree = close(matrix, values, JSON_RTOL)
    out = []
    for i in np.flatnonzero(~agree.all(axis=1)):
        pairs = [(columns[j], matrix[i, j], values[i, j]) for j in np.flatnonzero(~agree[i])]
        message = f"{text_column} disagrees with " + _mismatch_text(pairs, text_column)
        out.append((int(i), text_column, ", ".join(c for c, _, _ in pairs), message))
    return out


# --------------------------------------------------------------------------- input vs features


def _input_keys(df: pd.DataFrame) -> list[str]:
    return [k for k in FEATURE_COLUMNS if k in df.columns]


def _input_ok(df: pd.DataFrame) -> pd.Series:
    keys = _input_keys(df)
    if "input" not in df.columns or not keys:
        return all_true(df)
    matrix, values, usable = _json_vs_columns(df, "input", keys, keys)
    return pd.Series(~usable | close(matrix, values, JSON_RTOL).all(axis=1), index=df.index)


def _input_explain(rows: pd.DataFrame) -> list[Problem]:
    keys = _input_keys(rows)
    return _disagreements(rows, "input", keys, keys)


INPUT_MATCHES_COLUMNS = RowRule(
    ("input",),
    "input values equal the feature columns to 6 significant digits (null where the column is null)",
    _input_ok,
    _input_explain,
    derived=True,
)


# --------------------------------------------------------------------------- JSON fields vs columns


def matches_columns(text_column: str, fields: Mapping[str, str], constraint: str) -> RowRule:
    """The rule that each ``fields`` key of the JSON in ``text_column`` equals its column (6 significant digits)."""
    keys, columns = list(fields), list(fields.values())

    def ok(df: pd.DataFrame) -> pd.Series:
        if text_column not in df.columns or not set(columns) <= set(df.columns):
            return all_true(df)
        matrix, values, usable = _json_vs_columns(df, text_column, keys, columns)
        return pd.Series(~usable | close(matrix, values, JSON_RTOL).all(axis=1), index=df.index)

    def explain(rows: pd.DataFrame) -> list[Problem]:
        return _disagreements(rows, text_column, keys, columns)

    return RowRule((text_column,), constraint, ok, explain, derived=True)


def output_agrees(matrix: np.ndarray, values: np.ndarray, keys: list[str], output: OutputFormat) -> np.ndarray:
    """Per row: every ``keys`` number of the output (``matrix``) is its target (``values``) at the output format's
    precision, or both are null / non-finite."""
    agree = np.ones(len(matrix), dtype=bool)
    with np.errstate(invalid="ignore"):
        for j, key in enumerate(keys):
            a, b = matrix[:, j], values[:, j]
            both_null = np.isnan(a) & ~np.isfinite(b)
            agree &= both_null | (np.abs(a - b) <= output.tolerance(key, b))
    return agree


def _output_rule(timeseries: bool, constraint: str) -> RowRule:
    """``output``'s numbers equal their target columns at the precision of ``current_output()``."""

    def fields() -> tuple[list[str], list[str]]:
        keys = current_output().keys(timeseries)
        return list(keys), list(keys.values())

    def ok(df: pd.DataFrame) -> pd.Series:
        keys, columns = fields()
        if "output" not in df.columns or not set(columns) <= set(df.columns):
            return all_true(df)
        matrix, values, usable = _json_vs_columns(df, "output", keys, columns)
        return pd.Series(~usable | output_agrees(matrix, values, keys, current_output()), index=df.index)

    def explain(rows: pd.DataFrame) -> list[Problem]:
        keys, columns = fields()
        matrix, values, _ = _json_vs_columns(rows, "output", keys, columns)
        agree = np.column_stack(
            [output_agrees(matrix[:, [j]], values[:, [j]], [k], current_output()) for j, k in enumerate(keys)]
        )
        out = []
        for i in np.flatnonzero(~agree.all(axis=1)):
            pairs = [(columns[j], matrix[i, j], values[i, j]) for j in np.flatnonzero(~agree[i])]
            message = "output disagrees with " + _mismatch_text(pairs, "output")
            out.append((int(i), "output", ", ".join(c for c, _, _ in pairs), message))
        return out

    return RowRule(("output",), constraint, ok, explain, derived=True)


OUTPUT_MATCHES_TARGETS = _output_rule(
    False,
    "output values equal the target columns at the output format's precision (returns to their decimals, "
    "the price to 6 significant digits)",
)


# --------------------------------------------------------------------------- context window vs close


def _last_closes(series: pd.Series) -> np.ndarray:
    return np.array(
        [v[-1] if isinstance(v, list) and v and finite_number(v[-1]) else np.nan for v in parsed(series)],
        dtype="float64",
    )


def _context_ok(df: pd.DataFrame) -> pd.Series:
    if not {"context_window", "price_close"} <= set(df.columns):
        return all_true(df)
    last = _last_closes(df["context_window"])
    return pd.Series(np.isnan(last) | close(last, num(df, "price_close"), JSON_RTOL), index=df.index)


def _context_explain(rows: pd.DataFrame) -> list[Problem]:
    last, price = _last_closes(rows["context_window"]), num(rows, "price_close")
    return [
        (i, "context_window", last[i], f"context_window ends at {fmt(last[i])}, not at price_close={fmt(price[i])}")
        for i in range(len(rows))
    ]


CONTEXT_WINDOW_ENDS_AT_CLOSE = RowRule(
    ("context_window",),
    "context_window's last close is price_close (6 significant digits)",
    _context_ok,
    _context_explain,
    derived=True,
)


# --------------------------------------------------------------------------- the time-series prompt format

_TIMESERIES_INDICATORS = matches_columns("input", TIMESERIES_FIELDS, "")


def _context_agrees(df: pd.DataFrame) -> np.ndarray:
    """The input's context_window is the row's context_window column, rounded as the JSON text is."""
    out = []
    for text_value, column_value in zip(parsed(df["input"]), parsed(df["context_window"]), strict=True):
        if not isinstance(text_value, dict) or not isinstance(column_value, list):
            out.append(True)  # a column check reports unparsable text
            continue
        out.append(text_value.get("context_window") == [round_number(v) for v in column_value])
    return np.array(out, dtype=bool)


def _timeseries_input_ok(df: pd.DataFrame) -> pd.Series:
    if not {"input", "context_window"} <= set(df.columns):
        return all_true(df)
    return _TIMESERIES_INDICATORS.ok(df) & pd.Series(_context_agrees(df), index=df.index)


def _timeseries_input_explain(rows: pd.DataFrame) -> list[Problem]:
    return _TIMESERIES_INDICATORS.explain(rows) + [
        (int(i), "input", "context_window", "input's context_window differs from the context_window column")
        for i in np.flatnonzero(~_context_agrees(rows))
    ]


TIMESERIES_INPUT_MATCHES_COLUMNS = RowRule(
    ("input",),
    "time-series input: the context window is the context_window column and the indicators equal their "
    "columns, to 6 significant digits",
    _timeseries_input_ok,
    _timeseries_input_explain,
    derived=True,
)

TIMESERIES_OUTPUT_MATCHES_TARGETS = _output_rule(
    True, "time-series output values equal the return targets to the output format's decimals"
)


# --------------------------------------------------------------------------- the chat prompt format


def _expected_contents(df: pd.DataFrame) -> list[list[str]]:
    return [
        [SYSTEM_PROMPT, f"{instruction}\n\n{input_text}", output]
        for instruction, input_text, output in zip(df["instruction"], df["input"], df["output"], strict=True)
    ]


def _messages_agree(df: pd.DataFrame) -> np.ndarray:
    out = []
    for messages, expected in zip(parsed(df["messages"]), _expected_contents(df), strict=True):
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            out.append(True)  # a column check reports it
            continue
        out.append([m.get("content") for m in messages] == expected)
    return np.array(out, dtype=bool)


def _messages_ok(df: pd.DataFrame) -> pd.Series:
    if not {"messages", "instruction", "input", "output"} <= set(df.columns):
        return all_true(df)
    return pd.Series(_messages_agree(df), index=df.index)


def _messages_explain(rows: pd.DataFrame) -> list[Problem]:
    return [
        (int(i), "messages", "content", "messages are not the system prompt, instruction + input, and output")
        for i in np.flatnonzero(~_messages_agree(rows))
    ]


MESSAGES_MATCH_PROMPT = RowRule(
    ("messages",),
    "messages are the system prompt, then instruction and input as the user, then output as the assistant",
    _messages_ok,
    _messages_explain,
    derived=True,
)


# --------------------------------------------------------------------------- prompt / completion


def _texts(df: pd.DataFrame, column: str) -> pa.Array:
    """The column as Arrow strings; null where a value is not a string."""
    return pa.array([v if isinstance(v, str) else None for v in df[column].tolist()], pa.string())


def _pair_agrees(df: pd.DataFrame) -> np.ndarray:
    """``prompt`` is ``PROMPT_TEMPLATE`` of the instruction and input, ``completion`` the output (strings)."""
    instructions, inputs = _texts(df, "instruction"), _texts(df, "input")
    expected = prompt_texts(instructions, inputs)
    same = pc.and_(pc.equal(_texts(df, "prompt"), expected), pc.equal(_texts(df, "completion"), _texts(df, "output")))
    return pc.fill_null(same, False).to_numpy(zero_copy_only=False).astype(bool)


def _pair_ok(df: pd.DataFrame) -> pd.Series:
    if not {"prompt", "completion", "instruction", "input", "output"} <= set(df.columns):
        return all_true(df)
    return pd.Series(_pair_agrees(df), index=df.index)


def _pair_explain(rows: pd.DataFrame) -> list[Problem]:
    return [
        (
            int(i),
            "prompt",
            "prompt, completion",
            "prompt is not instruction + blank line + input + newline, or completion is not output",
        )
        for i in np.flatnonzero(~_pair_agrees(rows))
    ]


PROMPT_MATCHES = RowRule(
    ("prompt",),
    "prompt is the instruction, a blank line, the input and a newline (sft_output.PROMPT_TEMPLATE); "
    "completion is the output",
    _pair_ok,
    _pair_explain,
    derived=True,
)


def _chat_pair_agrees(df: pd.DataFrame) -> np.ndarray:
    out = []
    for prompt, completion, messages in zip(
        parsed(df["prompt"]), parsed(df["completion"]), parsed(df["messages"]), strict=True
    ):
        if not isinstance(messages, list):
            out.append(True)  # messages_json reports it
            continue
        out.append(prompt == messages[:-1] and completion == messages[-1:])
    return np.array(out, dtype=bool)


def _chat_pair_ok(df: pd.DataFrame) -> pd.Series:
    if not {"prompt", "completion", "messages"} <= set(df.columns):
        return all_true(df)
    return pd.Series(_chat_pair_agrees(df), index=df.index)


def _chat_pair_explain(rows: pd.DataFrame) -> list[Problem]:
    return [
        (int(i), "prompt", "prompt, completion", "prompt is not the messages but the last, or completion not the last")
        for i in np.flatnonzero(~_chat_pair_agrees(rows))
    ]


CHAT_PAIR_MATCHES = RowRule(
    ("prompt",),
    "chat prompt is the system and user messages, completion the assistant message (as in messages)",
    _chat_pair_ok,
    _chat_pair_explain,
    derived=True,
)
