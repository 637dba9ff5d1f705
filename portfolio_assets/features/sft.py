"""Instruction-tuning rows: instruction / input / output / context_window (and messages).

Rounding policy for the JSON text (the canonical columns keep full float64):
every number is written with 6 significant digits, which keeps prices to
better than 1 part in 10^5 while not spending tokens on noise. Zero, a
negative zero included, is ``0.0`` (``-0.0`` never appears; a tiny nonzero
value keeps its sign and digits, e.g. ``-1e-12``). Missing and
not-applicable values are ``null``; ``NaN`` and ``Infinity`` never appear.
Keys keep a fixed order: the order of ``feature_columns``.

Prompt formats (``format_rows(..., prompt_format=...)``):

``"features"`` (default, Alpaca style)
    ``instruction`` names the asset, its class, the date and the horizon; ``input`` is
    JSON of every feature in ``feature_columns`` order; ``output`` is JSON of
    ``OUTPUT_FIELDS`` (price, return and percent return).
``"timeseries"`` (time-series context)
    ``input`` is JSON of the row's context window of closes, the current price and a few
    indicators (``TIMESERIES_FIELDS``); ``output`` is JSON of ``TIMESERIES_OUTPUT_FIELDS``.
    Needs the context window column on ``rows``.
``"chat"`` (TRL / OpenAI conversational)
    ``messages`` is a JSON array of system / user / assistant messages built from the
    features format, whose ``instruction`` / ``input`` / ``output`` are also kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from portfolio_assets.features.adjustment import as_of_closes

SIGNIFICANT_DIGITS = 6
DEFAULT_CONTEXT_WINDOW = 30
OUTPUT_FIELDS = {
    "predicted_price_90d": "target_price_90d",
    "predicted_return_90d": "target_return_90d",
    "predicted_return_pct_90d": "target_return_pct_90d",
}
PROMPT_FORMATS = ("features", "timeseries", "chat")
DEFAULT_PROMPT_FORMAT = "features"
# Time-series format: input key -> row column, after the leading "context_window" key.
TIMESERIES_FIELDS = {
    "current_price": "price_close",
    "rsi_14": "rsi_14",
    "volatility_30d": "volatility_30d",
    "macd": "macd",
    "sma_50": "sma_50",
    "sma_200": "sma_200",
}
TIMESERIES_OUTPUT_FIELDS = {
    "predicted_return_90d": "target_return_90d",
    "predicted_return_pct_90d": "target_return_pct_90d",
}
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
    return [
        repr(float(f"{v:.{SIGNIFICANT_DIGITS}g}")) if v and math.isfinite(v) else ("0.0" if v == 0 else "null")
        for v in values.tolist()
    ]


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


def context_windows(prices: pd.DataFrame, length: int, factors: np.ndarray | None = None) -> pd.Series:
    """JSON array of each row's last ``length`` closes (oldest first, today last), per asset.

    Indexed like ``prices``; shorter at the start of a series; NaN where ``asset_symbol``
    is missing. ``factors`` (per row of ``prices``, e.g. ``adjustment_factor``): a window
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

    begin = starts[np.minimum(first, n - 1)].tolist()  # clipped: first == i + 1 when length < 1
    windows = np.empty(n, dtype=object)
    windows[:] = ["[" + text[b:e] + "]" for b, e in zip(begin, ends.tolist(), strict=True)]
    windows[first > positions] = "[]"
    if factors is not None:
        f = np.asarray(factors, dtype="float64")[order]
        steps = np.cumsum(np.r_[False, (f[1:] != f[:-1]) & ~new_asset[1:]])  # factor changes so far
        changed = np.flatnonzero((first <= positions) & (steps[np.minimum(first, n - 1)] != steps))
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


def _json_records(rows: pd.DataFrame, fields: dict[str, str]) -> list[dict[str, object]]:
    """One {key: rounded value of rows[column]} per row, keys in ``fields`` order."""
    columns = {key: [round_number(v) for v in rows[col].to_numpy()] for key, col in fields.items()}
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _context_values(value: object) -> list[float | int | None] | None:
    """A context window cell (JSON array string, or a sequence) as rounded numbers; None if missing."""
    if isinstance(value, str):
        value = json.loads(value)
    elif value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    if not isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        raise ValueError(f"context window is not an array: {value!r}")
    return [round_number(v) for v in value]


def _instructions(
    rows: pd.DataFrame, horizon_days: int, text: Callable[[str, str, pd.Timestamp, int], str] = instruction_text
) -> list[str]:
    return [
        text(sym, cls, ts, horizon_days)
        for sym, cls, ts in zip(rows["asset_symbol"], rows["asset_class"], rows["timestamp"], strict=True)
    ]


def features_prompts(
    rows: pd.DataFrame, feature_columns: Sequence[str], horizon_days: int
) -> tuple[list[str], list[str], list[str]]:
    """(instruction, input, output) of the features format, one each per row."""
    records = rows[list(feature_columns)].to_dict(orient="records")
    inputs = [to_json({k: round_number(v) for k, v in rec.items()}) for rec in records]
    targets = rows[list(OUTPUT_FIELDS.values())].to_dict(orient="records")
    outputs = [to_json({out: round_number(rec[col]) for out, col in OUTPUT_FIELDS.items()}) for rec in targets]
    return _instructions(rows, horizon_days), inputs, outputs


def timeseries_prompts(
    rows: pd.DataFrame, horizon_days: int, context_column: str = "context_window"
) -> tuple[list[str], list[str], list[str]]:
    """(instruction, input, output) of the time-series context format, one each per row."""
    _require(rows, [context_column], "timeseries")
    _require(rows, [*TIMESERIES_FIELDS.values(), *TIMESERIES_OUTPUT_FIELDS.values()], "timeseries")
    contexts = [_context_values(v) for v in rows[context_column].to_numpy()]
    indicators = _json_records(rows, TIMESERIES_FIELDS)
    inputs = [to_json({"context_window": ctx, **rec}) for ctx, rec in zip(contexts, indicators, strict=True)]
    outputs = [to_json(rec) for rec in _json_records(rows, TIMESERIES_OUTPUT_FIELDS)]
    return _instructions(rows, horizon_days, timeseries_instruction_text), inputs, outputs


def chat_messages(instruction: str, input_json: str, output_json: str) -> str:
    """JSON array of the system / user / assistant messages of one row (TRL / OpenAI style)."""
    return to_json(
        [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"{instruction}\n\n{input_json}"},
            {"role": "assistant", "content": output_json},
        ]
    )


def format_rows(
    rows: pd.DataFrame,
    feature_columns: Sequence[str],
    horizon_days: int,
    *,
    prompt_format: str = DEFAULT_PROMPT_FORMAT,
    context_column: str = "context_window",
) -> pd.DataFrame:
    """Add ``instruction``, ``input`` and ``output`` (and ``messages`` for chat) to joined feature+target rows.

    ``prompt_format`` is one of ``PROMPT_FORMATS`` (see the module docstring). Every column of
    ``rows`` is kept; the added ones are overwritten if present. ``"timeseries"`` reads each
    row's context window (a JSON array string) from ``rows[context_column]``, so add it
    before calling; ``feature_columns`` is not used by that format.
    """
    if prompt_format not in PROMPT_FORMATS:
        raise ValueError(f"unknown prompt_format {prompt_format!r}; expected one of {PROMPT_FORMATS}")
    if prompt_format == "timeseries":
        instructions, inputs, outputs = timeseries_prompts(rows, horizon_days, context_column)
        return rows.assign(instruction=instructions, input=inputs, output=outputs)
    instructions, inputs, outputs = features_prompts(rows, feature_columns, horizon_days)
    if prompt_format == "chat":
        messages = [chat_messages(*texts) for texts in zip(instructions, inputs, outputs, strict=True)]
        return rows.assign(instruction=instructions, input=inputs, output=outputs, messages=messages)
    return rows.assign(instruction=instructions, input=inputs, output=outputs)
