"""Which rows pass the text checks by construction: their texts are laid out as ``format_rows`` writes them.

``known_good(work, model)`` gives, per text check and row rule of ``model``, the rows of ``work``
known to pass it (``shortcut``), computed with column operations instead of parsing each row's JSON.
Every other row is judged by the check itself, so the result is the same; a mask only needs to be
sound (True only where the check passes), and it is, rule by rule:

* ``input`` laid out as ``{"<feature>": <v>, ...}``, every feature key in canonical order, each
  ``<v>`` ``null`` or a number token (``flatjson``, which reads the values as ``json.loads``
  does): strict JSON with exactly the feature keys, so ``non_empty`` passes, ``input_json`` where
  no value overflows to ±inf, and ``input_matches_columns`` where moreover ``close(value, column)``
  holds for every feature (on the values read and the columns, as the rule computes it).
* ``output`` (and the time-series ``output``): the same with the keys of the output format being judged
  (``text.current_output``); its ``*_json`` check also needs every value finite (and a positive predicted
  price), its agreement rule each value within the format's precision of its target (``output_agrees``).
* ``context_window`` written as ``[t, t, ...]``, each token ``json_number_texts(float(t))``: it
  parses to the numbers ``x = float(t)``; ``context_window_json`` passes where all are finite and
  positive, ``context_window_ends_at_close`` where the last agrees with price_close.
* time-series ``input``: ``{"context_window": <the row's canonical window>, `` then a flat object
  of the indicator keys: its keys, window and indicators are as above; a canonical token is already
  rounded (``round_significant(x) == x``, ``numtext``'s exact ``round_number``), as
  ``_context_agrees`` requires.
* ``instruction``: a text holding a printable ASCII character other than space is not empty
  (``non_empty``: not whitespace only).
* ``not_applicable_listed`` depends only on (not_applicable, asset_class, has_volume): judged once
  per distinct combination.
* chat ``messages`` equal to ``chat_texts`` of the row's own instruction / input / output (input and
  output printable ASCII, which ``chat_texts`` escapes as ``json.dumps`` does; output non-empty): it
  parses to the three messages with exactly those contents, so ``messages_json`` and
  ``messages_match_prompt`` pass; chat ``prompt`` / ``completion`` equal to ``chat_pair_texts`` of the same
  parse to those messages but the last, and the last: ``chat_prompt_json``, ``chat_completion_json`` and
  ``chat_pair_matches`` pass.
* ``prompt`` / ``completion`` of the other formats: ``prompt_matches`` is a vectorised string comparison
  already; ``non_empty`` passes where a printable character other than space is found.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.features.sft import TIMESERIES_FIELDS, chat_pair_texts, chat_texts
from portfolio_assets.features.sft_output import PRICE_KEY
from portfolio_assets.numtext import json_number_texts, round_significant
from portfolio_assets.schemas.agreement import JSON_RTOL, close, output_agrees
from portfolio_assets.schemas.applicability import NOT_APPLICABLE_LISTED, has_volume_of
from portfolio_assets.schemas.flatjson import flat_objects
from portfolio_assets.schemas.row_rule import num
from portfolio_assets.schemas.shortcut import KnownGood
from portfolio_assets.schemas.text import current_output

_NUMBER = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
_PRINTABLE = r"^[ -~]*$"
_ROWS = 8192  # rows of a flat-object block


def _strings(series: pd.Series) -> pyarrow.Array:
    """The column as an Arrow string array; null where a value is not a (UTF-8 encodable) string.

    Cached by column name while ``known_good`` runs on one frame (several masks read the same texts)."""
    if _STRINGS is None or series.name is None:
        return _to_strings(series)
    key = str(series.name)
    if key not in _STRINGS:
        _STRINGS[key] = _to_strings(series)
    return _STRINGS[key]


_STRINGS: dict[str, pyarrow.Array] | None = None


def _to_strings(series: pd.Series) -> pyarrow.Array:
    values = series.to_numpy(dtype=object)
    try:
        return pyarrow.array(values, pyarrow.string(), from_pandas=True)
    except (pyarrow.ArrowException, UnicodeEncodeError, TypeError, ValueError):
        out = []
        for v in values:
            try:
                out.append(v if isinstance(v, str) and v.encode("utf-8") is not None else None)
            except UnicodeEncodeError:
                out.append(None)
        return pyarrow.array(out, pyarrow.string())


def _bools(array: pyarrow.Array) -> np.ndarray:
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False).astype(bool)


def _equal(series: pd.Series, expected: pyarrow.Array) -> np.ndarray:
    """Rows whose value is a string equal to ``expected``'s."""
    return _bools(pc.equal(_strings(series), expected))


def _object_masks(
    work: pd.DataFrame, text: str, fields: Mapping[str, str], *, price_key: str | None = None, output: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Rows whose ``text`` is a flat JSON object of ``fields``' keys (``flatjson``): (that; and its values null
    or finite; and all finite [price > 0]; and null or finite and agreeing with the columns: to 6 significant
    digits, or with ``output`` at the precision of ``current_output()``)."""
    columns = list(fields.values())
    if text not in work.columns or not set(columns) <= set(work.columns):
        return None
    texts, values = _strings(work[text]), [num(work, c) for c in columns]
    n = len(work)
    matched, usable, finite, agree = (np.zeros(n, dtype=bool) for _ in range(4))
    for start in range(0, n, _ROWS):  # a block of rows at a time: the row x key matrices stay small
        rows = slice(start, start + _ROWS)
        matched[rows], parsed = flat_objects(texts.slice(start, _ROWS), list(fields))
        usable[rows] = matched[rows] & ~np.isinf(parsed).any(axis=1)
        finite[rows] = matched[rows] & np.isfinite(parsed).all(axis=1)
        if price_key is not None:
            with np.errstate(invalid="ignore"):
                finite[rows] &= parsed[:, list(fields).index(price_key)] > 0
        block = np.column_stack([v[rows] for v in values])
        if output:
            agreed = output_agrees(parsed, block, list(fields), current_output())
        else:
            agreed = close(parsed, block, JSON_RTOL).all(axis=1)
        agree[rows] = usable[rows] & agreed
    return matched, usable, finite, agree


def canonical_windows(texts: pyarrow.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per window text: (written as ``format_rows`` writes it, all its numbers finite and > 0, its last number,
    its numbers already rounded). A canonical window parses to exactly these numbers."""
    n = len(texts)
    ok = _bools(pc.and_(pc.starts_with(texts, "["), pc.ends_with(texts, "]")))
    ok &= pc.fill_null(pc.utf8_length(texts), 0).to_numpy(zero_copy_only=False) > 2
    inner = pc.utf8_slice_codeunits(texts.filter(pyarrow.array(ok)), 1, -1)
    tokens = pc.split_pattern(inner, ", ")
    flat = tokens.flatten()
    encoded = flat.dictionary_encode()  # windows overlap: each distinct token is judged once
    words = encoded.dictionary
    numbers = np.full(len(words), np.nan)
    valid = _bools(pc.match_substring_regex(words, _NUMBER))
    if valid.any():
        candidates = words.filter(pyarrow.array(valid))
        try:
            numbers[valid] = candidates.cast(pyarrow.float64()).to_numpy(zero_copy_only=False)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError):  # e.g. an exponent out of range
            numbers[valid] = [float(w) for w in candidates.to_pylist()]
    rounded = round_significant(numbers)
    same = _bools(pc.equal(json_number_texts(numbers), words))
    good = same & np.isfinite(rounded) & (rounded > 0)
    settled = same & (np.isnan(rounded) | (round_significant(rounded) == rounded))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    offsets = tokens.offsets.to_numpy()
    starts = offsets[:-1]
    canonical, positive, rounded_out = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    last = np.full(n, np.nan)
    rows = np.flatnonzero(ok)
    if len(flat):
        canonical[rows] = np.minimum.reduceat(same[codes], starts)
        positive[rows] = np.minimum.reduceat(good[codes], starts)
        rounded_out[rows] = np.minimum.reduceat(settled[codes], starts)
        last[rows] = rounded[codes[offsets[1:] - 1]]
    positive &= canonical
    rounded_out &= canonical
    return canonical, positive, last, rounded_out


def _check_names(model: pa.DataFrameSchema) -> set[tuple[str, str | None]]:
    """(check, column) of every column check and (rule, None) of every dataframe check of ``model``."""
    names: set[tuple[str, str | None]] = {(str(c.name), None) for c in model.checks}
    for column, spec in model.columns.items():
        names |= {(str(c.name), str(column)) for c in spec.checks}
    return names


def known_good(work: pd.DataFrame, model: pa.DataFrameSchema) -> KnownGood:
    """Per (check, column) of ``model``'s text checks and (rule, None) of its text rules: the rows of ``work``
    known to pass it (see the module docstring). Checks without a mask judge every row."""
    global _STRINGS
    if work.empty:
        return {}
    _STRINGS = {}
    try:
        return _known_good(work, _check_names(model))
    finally:
        _STRINGS = None


def _known_good(work: pd.DataFrame, checks: set[tuple[str, str | None]]) -> KnownGood:
    out: KnownGood = {}

    def put(check: str, column: str | None, mask: np.ndarray) -> None:
        if (check, column) in checks:
            out[(check, column)] = mask

    timeseries = ("timeseries_input_json", "input") in checks
    windows = None
    if "context_window" in work.columns:
        windows = canonical_windows(_strings(work["context_window"]))
        canonical, positive, last, _ = windows
        put("non_empty", "context_window", canonical)
        put("context_window_json", "context_window", positive)
        if "price_close" in work.columns:
            agree = np.isnan(last) | close(last, num(work, "price_close"), JSON_RTOL)
            put("context_window_ends_at_close", None, canonical & agree)
    if not timeseries:
        found = _object_masks(work, "input", {c: c for c in FEATURE_COLUMNS})
        if found is not None:
            matched, usable, _, agree = found
            put("non_empty", "input", matched)
            put("input_json", "input", usable)
            put("input_matches_columns", None, agree)
        fields = current_output().keys()
        found = _object_masks(work, "output", fields, price_key=PRICE_KEY if PRICE_KEY in fields else None, output=True)
        if found is not None:
            matched, _, finite, agree = found
            put("non_empty", "output", matched)
            put("output_json", "output", finite)
            put("output_matches_targets", None, agree)
    else:
        found = _object_masks(work, "output", current_output().keys(timeseries=True), output=True)
        if found is not None:
            matched, _, finite, agree = found
            put("non_empty", "output", matched)
            put("timeseries_output_json", "output", finite)
            put("timeseries_output_matches_targets", None, agree)
        if windows is not None:
            _timeseries_input(work, windows, put)
    if ("non_empty", "instruction") in checks and "instruction" in work.columns:
        # A text holding a printable ASCII character other than space is not whitespace only.
        put("non_empty", "instruction", _bools(pc.match_substring_regex(_strings(work["instruction"]), "[!-~]")))
    if ("not_applicable_listed", None) in checks:
        listed = _listed(work)
        if listed is not None:
            put("not_applicable_listed", None, listed)
    if ("messages_json", "messages") in checks:
        chat = _messages(work)
        if chat is not None:
            messages, prompts, completions = chat
            put("messages_json", "messages", messages)
            put("messages_match_prompt", None, messages)
            put("chat_prompt_json", "prompt", prompts)
            put("chat_completion_json", "completion", completions)
            put("chat_pair_matches", None, messages & prompts & completions)
    for column in ("prompt", "completion"):
        if ("non_empty", column) in checks and column in work.columns:
            put("non_empty", column, _bools(pc.match_substring_regex(_strings(work[column]), "[!-~]")))
    return out


def _timeseries_input(
    work: pd.DataFrame,
    windows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    put: Callable[[str, str | None, np.ndarray], None],
) -> None:
    """Masks of the time-series ``input``: the row's canonical window, then a flat object of the indicators."""
    columns = list(TIMESERIES_FIELDS.values())
    if "input" not in work.columns or not set(columns) <= set(work.columns):
        return
    canonical, positive, _, settled = windows
    head = '{"context_window": '
    rests: list[str | None] = []
    for text, window, ok in zip(work["input"], work["context_window"], canonical.tolist(), strict=True):
        prefix = f"{head}{window}, " if ok and isinstance(text, str) else None
        rests.append("{" + text[len(prefix) :] if prefix is not None and text.startswith(prefix) else None)
    matched, parsed = flat_objects(pyarrow.array(rests, pyarrow.string()), list(TIMESERIES_FIELDS))
    usable = matched & ~np.isinf(parsed).any(axis=1)
    agree = close(parsed, np.column_stack([num(work, c) for c in columns]), JSON_RTOL).all(axis=1)
    put("non_empty", "input", matched)
    put("timeseries_input_json", "input", usable & positive)
    put("timeseries_input_matches_columns", None, usable & settled & agree)


def _listed(work: pd.DataFrame) -> np.ndarray | None:
    """``not_applicable_listed`` of every row, judged once per (not_applicable, asset_class, has_volume)."""
    if not {"asset_class", "asset_symbol", "not_applicable"} <= set(work.columns):
        return None
    try:
        keys = pd.DataFrame(
            {
                "text": work["not_applicable"].to_numpy(dtype=object),
                "asset_class": work["asset_class"].to_numpy(dtype=object),
                "has_volume": has_volume_of(work).to_numpy(dtype=bool),
            }
        )
        codes = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    except (TypeError, ValueError):  # an unhashable cell: every row is judged by the rule itself
        return None
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    return NOT_APPLICABLE_LISTED.ok(work.iloc[first]).to_numpy(dtype=bool)[inverse]


def _messages(work: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Rows whose ``messages`` are ``chat_texts`` of their own instruction / input / output (printable ASCII), and
    rows whose ``prompt`` / ``completion`` are ``chat_pair_texts`` of the same (all False without the column)."""
    if not {"messages", "instruction", "input", "output"} <= set(work.columns):
        return None
    inputs, outputs = _strings(work["input"]), _strings(work["output"])
    usable = _bools(pc.match_substring_regex(inputs, _PRINTABLE))
    usable &= _bools(pc.match_substring_regex(outputs, _PRINTABLE))
    usable &= pc.fill_null(pc.utf8_length(outputs), 0).to_numpy(zero_copy_only=False) > 0
    instructions = work["instruction"].tolist()
    usable &= np.array([isinstance(v, str) for v in instructions], dtype=bool)
    instructions = [v if ok else "" for v, ok in zip(instructions, usable.tolist(), strict=True)]
    inputs = pc.if_else(pyarrow.array(usable), inputs, "")
    expected = chat_texts(instructions, inputs, outputs)
    messages = usable & _equal(work["messages"], pyarrow.array(expected, pyarrow.string()))
    pairs = []
    for column, texts in zip(("prompt", "completion"), chat_pair_texts(instructions, inputs, outputs), strict=True):
        found = column in work.columns
        pairs.append(usable & _equal(work[column], pyarrow.array(texts, pyarrow.string())) if found else usable & False)
    return messages, pairs[0], pairs[1]
