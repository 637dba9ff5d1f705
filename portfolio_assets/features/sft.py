"""Instruction-tuning rows: instruction / input / output / context_window (and messages, prompt, completion).

Rounding policy for the JSON text (the canonical columns keep full float64):
every number of ``input`` and ``context_window`` (and the output's price) is written with 6
significant digits, which keeps prices to better than 1 part in 10^5 while not spending tokens on noise. Zero, a
negative zero included, is ``0.0`` (``-0.0`` never appears; a tiny nonzero
value keeps its sign and digits, e.g. ``-1e-12``). Missing and
not-applicable values are ``null``; ``NaN`` and ``Infinity`` never appear.
Keys keep a fixed order: the order of ``feature_columns``. The output's returns are written with a fixed
number of decimals, the log return first (``features.sft_output``: the output format and why).

Prompt formats (``format_rows(..., prompt_format=...)``):

``"features"`` (default, Alpaca style)
    ``instruction`` names the asset, its class, the date and the horizon; ``input`` is
    JSON of every feature in ``feature_columns`` order; ``output`` is JSON of the
    ``OutputFormat``'s fields (default ``OUTPUT_FIELDS``: log return, percent return, price).
``"timeseries"`` (time-series context)
    ``input`` is JSON of the row's context window of closes, the current price and a few
    indicators (``TIMESERIES_FIELDS``); ``output`` is JSON of the output's returns (default
    ``TIMESERIES_OUTPUT_FIELDS``).
    Needs the context window column on ``rows``.
``"chat"`` (TRL / OpenAI conversational)
    ``messages`` is a JSON array of system / user / assistant messages built from the
    features format, whose ``instruction`` / ``input`` / ``output`` are also kept.

Every format also gets ``prompt`` / ``completion`` (``sft_output``: strings, or for chat JSON arrays of
the ``[system, user]`` and ``[assistant]`` messages); ``mask_identity`` writes the instruction without
the ticker and the date.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets.features.adjustment import as_of_closes
from portfolio_assets.features.sft_output import (
    DEFAULT_OUTPUT,
    DEFAULT_PROMPT_FORMAT,
    MASKED_DAY,
    MASKED_SYMBOL,
    PROMPT_FORMATS,
    OutputFormat,
    output_value_texts,
    prompt_texts,
)
from portfolio_assets.features.sft_output import OUTPUT_RATIONALE as OUTPUT_RATIONALE  # the card quotes it
from portfolio_assets.features.sft_output import PROMPT_TEMPLATE as PROMPT_TEMPLATE
from portfolio_assets.features.sft_output import TextOptions as TextOptions
from portfolio_assets.features.sft_output import describe_output as describe_output
from portfolio_assets.numtext import json_number_texts, take_texts

SIGNIFICANT_DIGITS = 6
DEFAULT_CONTEXT_WINDOW = 30
OUTPUT_FIELDS = DEFAULT_OUTPUT.keys()
"""The default output's keys and their target columns, in order (``sft_output.OutputFormat``)."""
# Time-series format: input key -> row column, after the leading "context_window" key.
TIMESERIES_FIELDS = {
    "current_price": "price_close",
    "rsi_14": "rsi_14",
    "volatility_30d": "volatility_30d",
    "macd": "macd",
    "sma_50": "sma_50",
    "sma_200": "sma_200",
}
TIMESERIES_OUTPUT_FIELDS = DEFAULT_OUTPUT.keys(timeseries=True)
SYSTEM_PROMPT = (
    "You are a quantitative financial analyst model. Given an asset's technical, macroeconomic and "
    "sentiment features, forecast its price and return, answering only with a JSON object."
)


def round_number(value: object) -> float | int | None:
    """A JSON-safe number with the rounding policy applied (zero, also ``-0.0``, is ``0.0``), or None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return None
    if number == 0:
        return 0.0
    return float(f"{number:.{SIGNIFICANT_DIGITS}g}")


def json_numbers(values: np.ndarray) -> list[str]:
    """``json.dumps(round_number(v))`` for each value (as in a context window), fast for float arrays."""
    if values.dtype.kind != "f":
        return [json.dumps(round_number(v), allow_nan=False) for v in values]
    # json writes floats with float.__repr__; zero (also -0.0) is 0.0, NaN and +-inf are null.
    return json_number_texts(values).to_pylist()


def to_json(obj: dict[str, object] | list[object]) -> str:
    """Strict JSON (``allow_nan=False``), compact separators."""
    return json.dumps(obj, allow_nan=False, separators=(", ", ": "))


def instruction_text(asset_symbol: str, asset_class: str, day: pd.Timestamp, horizon_days: int) -> str:
    """The features-format instruction."""
    return (
        f"Predict the {horizon_days}-day forward price and return for {asset_symbol} ({asset_class}) "
        f"as of the close of {day:%Y-%m-%d}, based on the following technical, macroeconomic and "
        "sentiment features."
    )


def timeseries_instruction_text(asset_symbol: str, asset_class: str, day: pd.Timestamp, horizon_days: int) -> str:
    """The time-series-format instruction."""
    return (
        f"Predict the {horizon_days}-day forward return for {asset_symbol} ({asset_class}) "
        f"as of the close of {day:%Y-%m-%d} given the historical price context."
    )


def context_windows(
    prices: pd.DataFrame, length: int, factors: np.ndarray | None = None, wanted: np.ndarray | None = None
) -> pd.Series:
    """JSON array of each row's last ``length`` closes (oldest first, today last), per asset.

    Indexed like ``prices``; shorter at the start of a series; NaN where ``asset_symbol``
    is missing. ``wanted`` (a mask per row of ``prices``): only those rows' windows are
    written (the others are None; every row's close still counts in the windows after it).
    ``factors`` (per row of ``prices``, e.g. ``adjustment_factor``): a window
    holding a factor change shows its closes back-adjusted as of its last day,
    ``close_t × factor_t / factor_D`` (``features.adjustment.as_of_closes``), so a split
    is no move; its last close stays the as-traded one.

    Vectorised: every close is rounded and JSON-encoded once, the tokens of all rows
    (sorted by asset, then time) are joined into one string, and each row's window is a
    single slice of it, from the token ``length - 1`` rows back (or the asset's first
    row, if later) to the row's own.
    """
    keys = prices[["asset_symbol", "timestamp"]].reset_index(drop=True)
    order = keys.sort_values(["asset_symbol", "timestamp"]).index.to_numpy()
    n = len(order)
    symbols = keys["asset_symbol"].to_numpy()[order]
    closes = prices["price_close"].to_numpy()[order]
    tokens = json_numbers(closes)

    positions = np.arange(n)
    new_asset = np.ones(n, dtype=bool)
    new_asset[1:] = symbols[1:] != symbols[:-1]
    asset_start = np.maximum.accumulate(np.where(new_asset, positions, 0))
    first = np.maximum(asset_start, positions + 1 - length)  # first token of each window

    sizes = np.fromiter(map(len, tokens), dtype=np.int64, count=n)
    ends = np.cumsum(sizes + 2) - 2  # tokens are joined with ", "
    starts = ends - sizes
    text = ", ".join(tokens)

    want = np.ones(n, dtype=bool) if wanted is None else np.asarray(wanted, dtype=bool)[order]
    build = np.flatnonzero(want)
    begin = starts[np.minimum(first[build], n - 1)].tolist()  # clipped: first == i + 1 when length < 1
    windows = np.full(n, None, dtype=object)
    windows[build] = ["[" + text[b:e] + "]" for b, e in zip(begin, ends[build].tolist(), strict=True)]
    windows[(first > positions) & want] = "[]"
    if factors is not None:
        f = np.asarray(factors, dtype="float64")[order]
        steps = np.cumsum(np.r_[False, (f[1:] != f[:-1]) & ~new_asset[1:]])  # factor changes so far
        changed = np.flatnonzero(want & (first <= positions) & (steps[np.minimum(first, n - 1)] != steps))
        for i in changed.tolist():
            j = int(first[i])
            window_tokens = json_numbers(as_of_closes(closes[j : i + 1].astype("float64"), f[j : i + 1]))
            windows[i] = "[" + ", ".join(window_tokens) + "]"
    windows[pd.isna(symbols)] = np.nan
    out = np.empty(n, dtype=object)
    out[order] = windows
    return pd.Series(out, index=prices.index, dtype="object")


def _require(rows: pd.DataFrame, columns: Sequence[str], prompt_format: str) -> None:
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise ValueError(f"format_rows(prompt_format={prompt_format!r}) needs column(s) {missing} on rows")


def _value_texts(series: pd.Series) -> pa.Array:
    """``json.dumps(round_number(v))`` of every value of a column, vectorised for float and integer columns."""
    dtype = series.dtype
    if dtype.kind == "f":
        return _float_texts(series.to_numpy(dtype="float64", na_value=np.nan))
    if dtype.kind in "iu":
        nulls = series.isna().to_numpy(dtype=bool)
        ints = pa.array(series.to_numpy(dtype="int64", na_value=0)).cast(pa.string())
        return pc.if_else(pa.array(nulls), "null", ints) if nulls.any() else ints
    return pa.array([json.dumps(round_number(v), allow_nan=False) for v in series], pa.string())


def _float_texts(values: np.ndarray) -> pa.Array:
    """``json_number_texts(values)``; each distinct value written once where a sample shows values repeating (a
    macro field is one value a day for every asset). Equal values have equal texts (zero of either sign is 0.0)."""
    n = len(values)
    if n >= 4096:
        sample = values[:: n // 512]
        if len(np.unique(sample)) < len(sample) // 2:
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
            return json_number_texts(np.asarray(uniques, dtype="float64")).take(pa.array(codes))
    return json_number_texts(values)


def _json_objects(n: int, items: Sequence[tuple[str, pa.Array]]) -> pa.Array:
    """``to_json({key: value, ...})`` of each row, from each key's value texts (one C join per column set)."""
    if not items:
        return pa.array(["{}"] * n, pa.string())
    pieces: list[object] = []
    for i, (key, texts) in enumerate(items):
        pieces += [("{" if i == 0 else ", ") + json.dumps(key) + ": ", texts]
    return pc.binary_join_element_wise(*pieces, "}", "")


def json_records(rows: pd.DataFrame, fields: dict[str, str]) -> pa.Array:
    """``to_json({key: rounded value of rows[column]})`` of each row, keys in ``fields`` order."""
    return _json_objects(len(rows), [(key, _value_texts(rows[col])) for key, col in fields.items()])


def _context_values(value: object) -> list[float | int | None] | None:
    """A context window cell (JSON array string, or a sequence) as rounded numbers; None if missing."""
    if isinstance(value, str):
        value = json.loads(value)
    elif value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    if not isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        raise ValueError(f"context window is not an array: {value!r}")
    return [round_number(v) for v in value]


def _canonical_windows(texts: pa.Array) -> np.ndarray:
    """Which windows are already written as ``format_rows`` writes them: ``[t, t, ...]``, each token
    ``json.dumps(round_number(float(t)))`` (so parsing and rounding again gives the same text)."""
    ok = pc.fill_null(pc.and_(pc.starts_with(texts, "["), pc.ends_with(texts, "]")), False)
    ok = ok.to_numpy(zero_copy_only=False) & (pc.utf8_length(texts).to_numpy(zero_copy_only=False) > 2)
    inner = pc.utf8_slice_codeunits(texts.filter(pa.array(ok)), 1, -1)
    tokens = pc.split_pattern(inner, ", ")
    flat = tokens.flatten()
    try:
        numbers = flat.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        valid = pc.match_substring_regex(flat, r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
        numbers = np.full(len(flat), np.nan)
        mask = valid.to_numpy(zero_copy_only=False)
        numbers[mask] = flat.filter(valid).cast(pa.float64()).to_numpy(zero_copy_only=False)
    same = pc.equal(json_number_texts(numbers), flat).to_numpy(zero_copy_only=False)
    offsets = tokens.offsets.to_numpy()
    bad_tokens = np.add.reduceat(~same, offsets[:-1]) if len(flat) else np.zeros(len(inner), dtype=int)
    out = np.zeros(len(texts), dtype=bool)
    out[np.flatnonzero(ok)] = bad_tokens == 0
    return out


def _context_texts(values: np.ndarray) -> pa.Array:
    """``to_json(_context_values(v))`` of each context window cell; canonical windows are their own text."""
    strings = pa.array([v if isinstance(v, str) else None for v in values], pa.string())
    canonical = _canonical_windows(strings)
    rest = [to_json(ctx) if (ctx := _context_values(v)) is not None else "null" for v in values[~canonical]]
    return take_texts([strings.filter(pa.array(canonical)), pa.array(rest, pa.string())], (~canonical).astype(int))


class _Day(str):
    """A day already written ``%Y-%m-%d``: formatting it (``f"{day:%Y-%m-%d}"``) gives the same text."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return str(self)


def _day_texts(timestamps: pd.Series) -> np.ndarray | None:
    """Each timestamp's ``%Y-%m-%d`` day (in its own time zone), vectorised; None if not datetimes or one is NaT."""
    dtype = timestamps.dtype
    datetimes = isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)
    if not datetimes or timestamps.isna().any():
        return None
    local = timestamps.dt.tz_localize(None) if isinstance(dtype, pd.DatetimeTZDtype) else timestamps
    return local.to_numpy(dtype="datetime64[D]").astype(str)


def _days(timestamps: pd.Series) -> list[object]:
    """Each timestamp's ``%Y-%m-%d`` day as a ``_Day``; the values themselves if not datetimes (or one is NaT)."""
    days = _day_texts(timestamps)
    return list(timestamps) if days is None else [_Day(d) for d in days.tolist()]


_MARKS = ("\x00symbol\x00", "\x00class\x00", "\x00day\x00")


def _template(text: Callable[[str, str, pd.Timestamp, int], str], horizon_days: int) -> list[str] | None:
    """The four pieces of ``text``'s instruction around the symbol, the class and the day (each written once, in
    that order, as it is: a str, a ``_Day``), or None if it is not laid out so."""
    written = text(_MARKS[0], _MARKS[1], _Day(_MARKS[2]), horizon_days)  # type: ignore[arg-type]
    pieces = []
    for mark in _MARKS:
        head, found, written = written.partition(mark)
        if not found or "\x00" in head:
            return None
        pieces.append(head)
    return None if "\x00" in written else [*pieces, written]


def _all_str(values: pd.Series) -> bool:
    """Every value is a ``str`` itself (a subclass could format differently)."""
    return {type(v) for v in values.to_numpy(dtype=object)} <= {str}


def _instructions(
    rows: pd.DataFrame,
    horizon_days: int,
    text: Callable[[str, str, pd.Timestamp, int], str] = instruction_text,
    mask: bool = False,
) -> list[str]:
    """``text(symbol, class, day, horizon_days)`` of each row; joined in Arrow where the symbols and classes are
    str, the timestamps datetimes and the instruction written with each once. ``mask``: every symbol is
    ``MASKED_SYMBOL`` and every day ``MASKED_DAY``."""
    symbols, classes = rows["asset_symbol"], rows["asset_class"]
    days = _day_texts(rows["timestamp"])
    if mask:
        symbols = pd.Series([MASKED_SYMBOL] * len(rows), index=rows.index, dtype=object)
        days = np.array([MASKED_DAY] * len(rows), dtype=object)
    pieces = _template(text, horizon_days) if days is not None and len(rows) else None
    if pieces is not None and _all_str(symbols) and _all_str(classes):
        before, between, on, after = pieces
        try:
            sym, cls, day = (
                pa.array(v, pa.string()) for v in (symbols.to_numpy(dtype=object), classes.to_numpy(dtype=object), days)
            )
        except (pa.ArrowException, UnicodeEncodeError):  # e.g. a lone surrogate: row by row
            pass
        else:
            return pc.binary_join_element_wise(before, sym, between, cls, on, day, after, "").to_pylist()
    day_values = [_Day(MASKED_DAY)] * len(rows) if mask else _days(rows["timestamp"])
    return [
        text(sym, cls, day, horizon_days)  # type: ignore[arg-type]
        for sym, cls, day in zip(symbols, classes, day_values, strict=True)
    ]


def output_texts(rows: pd.DataFrame, output: OutputFormat = DEFAULT_OUTPUT, timeseries: bool = False) -> pa.Array:
    """``output`` of each row: JSON of the output format's fields of its targets (``sft_output``)."""
    return _json_objects(len(rows), output_value_texts(rows, output, timeseries))


def features_prompts(
    rows: pd.DataFrame,
    feature_columns: Sequence[str],
    horizon_days: int,
    output: OutputFormat = DEFAULT_OUTPUT,
    mask: bool = False,
) -> tuple[list[str], list[str], list[str]]:
    """(instruction, input, output) of the features format, one each per row."""
    _require(rows, list(output.keys().values()), "features")
    inputs = json_records(rows, {c: c for c in feature_columns})
    outputs = output_texts(rows, output)
    return _instructions(rows, horizon_days, mask=mask), inputs.to_pylist(), outputs.to_pylist()


def timeseries_prompts(
    rows: pd.DataFrame,
    horizon_days: int,
    context_column: str = "context_window",
    output: OutputFormat = DEFAULT_OUTPUT,
    mask: bool = False,
) -> tuple[list[str], list[str], list[str]]:
    """(instruction, input, output) of the time-series context format, one each per row."""
    _require(rows, [context_column], "timeseries")
    _require(rows, [*TIMESERIES_FIELDS.values(), *output.keys(timeseries=True).values()], "timeseries")
    contexts = _context_texts(rows[context_column].to_numpy(dtype=object))
    fields = [("context_window", contexts), *((k, _value_texts(rows[c])) for k, c in TIMESERIES_FIELDS.items())]
    inputs = _json_objects(len(rows), fields)
    outputs = output_texts(rows, output, timeseries=True)
    instructions = _instructions(rows, horizon_days, timeseries_instruction_text, mask=mask)
    return instructions, inputs.to_pylist(), outputs.to_pylist()


def chat_messages(instruction: str, input_json: str, output_json: str) -> str:
    """JSON array of the system / user / assistant messages of one row (TRL / OpenAI style)."""
    return to_json(
        [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"{instruction}\n\n{input_json}"},
            {"role": "assistant", "content": output_json},
        ]
    )


def _escaped(texts: pa.Array) -> pa.Array:
    """JSON string content of printable-ASCII texts (what ``json.dumps`` writes between the quotes)."""
    return pc.replace_substring(pc.replace_substring(texts, "\\", "\\\\"), '"', '\\"')


def _chat_pieces(instructions: list[str], inputs: pa.Array, outputs: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(``[system, user`` without the closing bracket, ``{assistant}``) of each row, as JSON text."""
    system = to_json({"role": "system", "content": SYSTEM_PROMPT})
    users = pa.array([encode_basestring_ascii(text)[1:-1] for text in instructions], pa.string())
    head = pc.binary_join_element_wise(
        f'[{system}, {{"role": "user", "content": "', users, "\\n\\n", _escaped(inputs), '"}', ""
    )
    tail = pc.binary_join_element_wise('{"role": "assistant", "content": "', _escaped(outputs), '"}', "")
    return head, tail


def chat_texts(instructions: list[str], inputs: pa.Array, outputs: pa.Array) -> list[str]:
    """``chat_messages`` of each row. ``input`` / ``output`` are this module's JSON, printable ASCII only."""
    head, tail = _chat_pieces(instructions, inputs, outputs)
    return pc.binary_join_element_wise(head, ", ", tail, "]", "").to_pylist()


def chat_pair_texts(instructions: list[str], inputs: pa.Array, outputs: pa.Array) -> tuple[list[str], list[str]]:
    """(prompt, completion) of each row in the chat format: JSON arrays of the ``[system, user]`` and the
    ``[assistant]`` messages (``chat_messages``' first two and last). Printable ASCII input and output."""
    head, tail = _chat_pieces(instructions, inputs, outputs)
    prompts = pc.binary_join_element_wise(head, "]", "")
    completions = pc.binary_join_element_wise("[", tail, "]", "")
    return prompts.to_pylist(), completions.to_pylist()


def with_pairs(rows: pd.DataFrame, prompt_format: str) -> pd.DataFrame:
    """``rows`` (with instruction / input / output) with ``prompt`` and ``completion`` in ``prompt_format``."""
    if prompt_format == "chat":
        inputs, outputs = (pa.array(rows[c].tolist(), pa.string()) for c in ("input", "output"))
        prompts, completions = chat_pair_texts(rows["instruction"].tolist(), inputs, outputs)
        return rows.assign(prompt=prompts, completion=completions)
    return rows.assign(
        prompt=prompt_texts(rows["instruction"].tolist(), rows["input"].tolist()).to_pylist(),
        completion=rows["output"],
    )


def format_rows(
    rows: pd.DataFrame,
    feature_columns: Sequence[str],
    horizon_days: int,
    *,
    prompt_format: str = DEFAULT_PROMPT_FORMAT,
    context_column: str = "context_window",
    output: OutputFormat = DEFAULT_OUTPUT,
    mask_identity: bool = False,
    pairs: bool = True,
) -> pd.DataFrame:
    """Add ``instruction``, ``input`` and ``output`` (and ``messages`` for chat; ``prompt`` and ``completion``
    unless ``pairs`` is False) to joined feature+target rows.

    ``prompt_format`` is one of ``PROMPT_FORMATS`` (see the module docstring); ``output`` the output's fields
    and precision; ``mask_identity`` writes the instruction without the ticker and the date. Every column of
    ``rows`` is kept; the added ones are overwritten if present. ``"timeseries"`` reads each
    row's context window (a JSON array string) from ``rows[context_column]``, so add it
    before calling; ``feature_columns`` is not used by that format.
    """
    if prompt_format not in PROMPT_FORMATS:
        raise ValueError(f"unknown prompt_format {prompt_format!r}; expected one of {PROMPT_FORMATS}")
    if prompt_format == "timeseries":
        instructions, inputs, outputs = timeseries_prompts(rows, horizon_days, context_column, output, mask_identity)
        out = rows.assign(instruction=instructions, input=inputs, output=outputs)
    else:
        instructions, inputs, outputs = features_prompts(rows, feature_columns, horizon_days, output, mask_identity)
        out = rows.assign(instruction=instructions, input=inputs, output=outputs)
        if prompt_format == "chat":
            inputs_array, outputs_array = pa.array(inputs, pa.string()), pa.array(outputs, pa.string())
            out["messages"] = chat_texts(instructions, inputs_array, outputs_array)
            if pairs:
                out["prompt"], out["completion"] = chat_pair_texts(instructions, inputs_array, outputs_array)
                return out
    return with_pairs(out, prompt_format) if pairs else out
