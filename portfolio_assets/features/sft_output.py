"""The text a model is trained to write (``output``), the prompt / completion pair, and identity masking.

Output
------
``output`` is a JSON object of ``OutputFormat.fields`` in their order. By default
(``DEFAULT_OUTPUT``)::

    {"predicted_return_90d": 0.0123, "predicted_return_pct_90d": 1.24, "predicted_price_90d": 1234.57}

* ``predicted_return_90d``: the 90-day LOG return ``ln(P_{t+90} / P_t)``, written with exactly
  ``return_decimals`` decimals (default 4: 0.0001 = 0.01 % of log return);
* ``predicted_return_pct_90d``: the simple return in percent, ``100 (e^r - 1)``, with 2 decimals;
* ``predicted_price_90d``: the price, with 6 significant digits (the rule of every other number).

A fixed number of decimals is written even when trailing digits are zero (``0.1000``): every answer
has the same shape, and the precision a reader sees is the one stated. Zero is never negative
(``-0.0000`` is written ``0.0000``). The time-series format leaves the price out (its input shows the
current price; the returns are what it forecasts).

Why the log return first
------------------------
A causal language model writes its answer left to right and commits to each token before it sees the
next: the first number it writes is the decision, and whatever follows is conditioned on it. That
first number should be the one the model is judged on. The log return is the scored quantity (the
evaluation harness's MAE, direction, IC and portfolio metrics are computed on it); it is additive
over time (the returns of consecutive periods add up), symmetric (a rise and the fall that undoes it
have the same size) and free of the price level, so one scale fits every asset and every era. The
derived fields follow from it, exactly: pct = 100 (e^r - 1) and price = close * e^r. Written
after it, they are a cheap consistency check of the model's own answer instead of an independent
guess the log return would have to agree with.

Prompt / completion
-------------------
``prompt`` / ``completion`` are added in every prompt format, so TRL's ``SFTTrainer`` reads a file as
it is: ``features`` / ``timeseries`` give strings, ``prompt = PROMPT_TEMPLATE.format(instruction=...,
input=...)`` (the instruction, a blank line, the input, a newline) and ``completion = output``; ``chat`` gives
JSON arrays of messages, ``prompt = [system, user]`` and ``completion = [assistant]``.

Identity masking (memorisation probes)
--------------------------------------
With ``mask_identity`` the prompt text names neither the asset nor the day: the ticker is written
``MASKED_SYMBOL`` and the date ``MASKED_DAY`` in the instruction (so in ``messages`` and ``prompt`` too).
The input never names them (feature values, the context window of closes). The canonical columns
(``asset_symbol``, ``timestamp``) keep both, so rows can still be joined and scored. The asset class is
kept. Masking hides the names, not the information: level features (``price_close``, the context window,
macro levels such as ``sp500_close``, ``vix``, the yields, ``cpi_yoy``) can still identify the asset and pin
the date for a model that has memorised them; a probe compares masked with unmasked scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets.numtext import SIGNIFICANT_DIGITS, json_number_texts

TARGETS = {
    "predicted_return_90d": "target_return_90d",
    "predicted_return_pct_90d": "target_return_pct_90d",
    "predicted_price_90d": "target_price_90d",
}
"""Every output key and the target column it writes, in the default order."""
RETURN_KEY, PCT_KEY, PRICE_KEY = TARGETS
DEFAULT_RETURN_DECIMALS = 4
PCT_DECIMALS = 2
MAX_RETURN_DECIMALS = 10
PROMPT_FORMATS = ("features", "timeseries", "chat")
DEFAULT_PROMPT_FORMAT = "features"
PROMPT_TEMPLATE = "{instruction}\n\n{input}\n"
"""``prompt`` of the features and time-series formats (the chat format's user message is the instruction, a blank
line and the input). It ends with a newline: a tokenizer trained on prompt + completion otherwise learns a ``}{``
token across the boundary, so the tokenized prompt is no longer a prefix of the tokenized pair and the trainer
counts the prompt's last brace as completion."""
PAIR_COLUMNS = ("prompt", "completion")
MASKED_SYMBOL = "ASSET"
MASKED_DAY = "day T"
OUTPUT_RATIONALE = (
    "A causal language model writes its answer left to right and commits to each token before it sees the "
    "next: the first number it writes is the decision, and whatever follows is conditioned on it. That "
    "first number should be the one the model is judged on. The log return is the scored quantity (the "
    "evaluation harness's MAE, direction, IC and portfolio metrics are computed on it); it is additive "
    "over time (the returns of consecutive periods add up), symmetric (a rise and the fall that undoes it "
    "have the same size) and free of the price level, so one scale fits every asset and every era. The "
    "derived fields follow from it, exactly: pct = 100 (e^r - 1) and price = close * e^r. Written after "
    "it, they are a cheap consistency check of the model's own answer instead of an independent guess the "
    "log return would have to agree with."
)
"""The section "Why the log return first" of this module's docstring, as one line (the dataset card quotes it)."""


def output_fields(text: str) -> tuple[str, ...]:
    """The output keys of a comma-separated list (``PORTFOLIO_OUTPUT_FIELDS``), checked: known keys, each once,
    ``predicted_return_90d`` among them (the scored quantity; a ValueError says what is wrong)."""
    fields = tuple(part.strip() for part in text.split(","))
    unknown = [f for f in fields if f not in TARGETS]
    if unknown:
        raise ValueError(f"names unknown output field(s) {unknown}; choose from {', '.join(TARGETS)}")
    if len(set(fields)) != len(fields):
        raise ValueError("names an output field twice")
    if RETURN_KEY not in fields:
        raise ValueError(f"must include {RETURN_KEY} (the log return, the quantity the evaluation scores)")
    return fields


@dataclass(frozen=True)
class OutputFormat:
    """Which target fields ``output`` holds, in which order, and the log return's decimals."""

    fields: tuple[str, ...] = tuple(TARGETS)
    return_decimals: int = DEFAULT_RETURN_DECIMALS

    def __post_init__(self) -> None:
        output_fields(",".join(self.fields))
        if isinstance(self.return_decimals, bool) or not 1 <= int(self.return_decimals) <= MAX_RETURN_DECIMALS:
            raise ValueError(f"return_decimals={self.return_decimals!r} must be between 1 and {MAX_RETURN_DECIMALS}")

    def keys(self, timeseries: bool = False) -> dict[str, str]:
        """Output key -> target column, in order (the time-series format leaves the price out)."""
        return {k: TARGETS[k] for k in self.fields if not (timeseries and k == PRICE_KEY)}

    def decimals(self, key: str) -> int | None:
        """The fixed decimals ``key`` is written with; None: 6 significant digits (the price)."""
        return {RETURN_KEY: int(self.return_decimals), PCT_KEY: PCT_DECIMALS}.get(key)

    def tolerance(self, key: str, target: np.ndarray) -> np.ndarray:
        """How far the number written for ``key`` may be from its ``target`` values (the rounding, plus the
        error of reading the decimal text back as a float)."""
        target = np.abs(np.asarray(target, dtype="float64"))
        places = self.decimals(key)
        if places is None:
            return 1e-5 * target  # 6 significant digits: |rounded - x| <= 5e-6 |x|
        return 0.5 * 10.0**-places * (1 + 1e-9) + 1e-15 * target

    def describe(self, timeseries: bool = False) -> list[dict[str, object]]:
        """The output's fields in order, each with its meaning and precision (the dataset card prints it)."""
        meaning = {
            RETURN_KEY: "90-day log return ln(P[t+90] / P[t])",
            PCT_KEY: "90-day simple return in percent, 100 (e^r - 1)",
            PRICE_KEY: "price 90 days ahead",
        }
        out = []
        for key, column in self.keys(timeseries).items():
            places = self.decimals(key)
            precision = f"{places} decimal places" if places is not None else f"{SIGNIFICANT_DIGITS} significant digits"
            out.append({"key": key, "target_column": column, "meaning": meaning[key], "precision": precision})
        return out


DEFAULT_OUTPUT = OutputFormat()


def describe_output(output: OutputFormat = DEFAULT_OUTPUT, *, timeseries: bool = False) -> str:
    """One line per output field: ``predicted_return_90d: 90-day log return ... (4 decimal places)``."""
    return "\n".join(
        f"{i}. `{d['key']}`: {d['meaning']} (`{d['target_column']}`), {d['precision']}"
        for i, d in enumerate(output.describe(timeseries), start=1)
    )


@dataclass(frozen=True)
class TextOptions:
    """How the export writes the text columns: the prompt format, the output and identity masking."""

    prompt_format: str = DEFAULT_PROMPT_FORMAT
    output: OutputFormat = field(default_factory=OutputFormat)
    mask_identity: bool = False

    def __post_init__(self) -> None:
        if self.prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"unknown prompt_format {self.prompt_format!r}; expected one of {PROMPT_FORMATS}")

    @property
    def as_stored(self) -> bool:
        """Whether the stored sft_rows' texts are this export's (the features prompt, default output, unmasked)."""
        return self.prompt_format == "features" and self.output == DEFAULT_OUTPUT and not self.mask_identity


def text_options(value: str | TextOptions) -> TextOptions:
    """``value`` as ``TextOptions`` (a prompt format alone means the default output, unmasked)."""
    return value if isinstance(value, TextOptions) else TextOptions(prompt_format=value)


def decimal_texts(values: np.ndarray, places: int) -> pa.Array:
    """JSON number text of each value with exactly ``places`` decimals (``format(v, '.4f')``); zero is never
    negative (``-0.0000`` -> ``0.0000``); NaN and ±inf are ``null``."""
    v = np.asarray(values, dtype="float64")
    spec = f".{places}f"
    zero = format(0.0, spec)
    texts = []
    for x in v.tolist():
        if x != x or x in (float("inf"), float("-inf")):
            texts.append("null")
            continue
        text = format(x, spec)
        texts.append(zero if text == "-" + zero else text)
    return pa.array(texts, pa.string())


def output_value_texts(
    rows: pd.DataFrame, output: OutputFormat, timeseries: bool = False
) -> list[tuple[str, pa.Array]]:
    """(key, number texts) of each output field of ``rows`` (their target columns), in order."""
    items = []
    for key, column in output.keys(timeseries).items():
        values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        places = output.decimals(key)
        items.append((key, json_number_texts(values) if places is None else decimal_texts(values, places)))
    return items


def prompt_texts(instructions: Sequence[str] | pa.Array, inputs: Sequence[str] | pa.Array) -> pa.Array:
    """``PROMPT_TEMPLATE`` of each row's instruction and input, as Arrow strings (null where either is)."""
    before, middle, after = _template_pieces()
    return pc.binary_join_element_wise(
        before, pa.array(instructions, pa.string()), middle, pa.array(inputs, pa.string()), after, ""
    )


def _template_pieces() -> tuple[str, str, str]:
    head, rest = PROMPT_TEMPLATE.split("{instruction}")
    middle, tail = rest.split("{input}")
    return head, middle, tail
