"""Reading a predictions file and turning each model generation into a 90-day log return.

A predictions file is JSONL, one object per line: ``{"row_id": ..., "generation": "<raw model text>"}`` or
parsed numbers ``{"row_id": ..., "predicted_return_90d": 0.0123}`` (any of ``PREDICTION_FIELDS``), optional
``"fold": int``. Blank lines are skipped; any other line that is not a JSON object with a string ``row_id`` is
an error naming the file and line (the file itself is broken, not the model's output), and so is a line with
neither a ``generation`` key nor any prediction field. ``"generation": null`` (a model that produced nothing)
is an unparseable generation, not a broken file.

Parsing a generation (``parse_generation``), in order; the first step that yields an object wins:

1. **strict**: the whole text (surrounding whitespace stripped) is one strict JSON object (no NaN/Infinity).
2. **lenient**, documented and deliberately narrow:
   a. Markdown code fences (```` ```json ... ``` ````) are removed;
   b. the first balanced ``{...}`` in the text (quotes respected) is taken, so prose around it is ignored;
   c. it is parsed as JSON; failing that, after normalising: single-quoted strings to double-quoted, bare
      keys quoted, trailing commas before ``}`` removed;
   d. failing that, ``key: number`` / ``key = number`` pairs of the known fields anywhere in the text
      (quoted or bare keys; a trailing ``%`` is allowed on the percent field), unless the text opens a ``{``
      that never closes: a truncated object is unparseable (its last number may be cut short).
   Numeric strings (``"0.0123"``) are accepted as numbers in the lenient path only.
3. Otherwise the row is **unparseable**.

The three fields are converted to a log return: ``predicted_return_90d`` as is, ``ln(1 + pct/100)`` from
``predicted_return_pct_90d``, ``ln(price / price_close)`` from ``predicted_price_90d``. A field that is not a
finite number (NaN, a string, null) or out of range (pct <= -100, price <= 0) does not count; with no usable
field the row is unparseable. When two or more fields are given they must agree within their stated rounding:
each number's rounding half-step is read from how it is written (``0.0123``: ±0.00005; ``1.24``: ±0.005;
``1234.5``: ±0.05; ``101``: ±0.5; ``1.5e-05``: ±5e-07), but never finer than half a unit of its 6th
significant digit (the exporter writes prices with 6 significant digits, and Python writes such a float as
``123457.0``, whose ``.0`` is not a significant digit: ±0.5; ``1234570.0``: ±5), carried into log space, and
the two tolerances are added. Fields that disagree beyond that
make the row **inconsistent**. The prediction is the log return field when given, else the percent, else the
price.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio_assets import strict_json
from portfolio_assets.numtext import SIGNIFICANT_DIGITS

__all__ = [
    "PREDICTION_FIELDS",
    "Parsed",
    "PredictionLine",
    "PredictionsFileError",
    "parse_generation",
    "parse_line",
    "parse_numbers",
    "read_predictions",
]

LOG_FIELD = "predicted_return_90d"
PCT_FIELD = "predicted_return_pct_90d"
PRICE_FIELD = "predicted_price_90d"
PREDICTION_FIELDS = (LOG_FIELD, PCT_FIELD, PRICE_FIELD)

OK, INCONSISTENT, UNPARSEABLE = "ok", "inconsistent", "unparseable"


class PredictionsFileError(ValueError):
    """A predictions file that cannot be read (not a line-level model failure): names the file and line."""


class _Num(float):
    """A float that remembers how it was written (for its rounding tolerance)."""

    text: str

    def __new__(cls, text: str) -> _Num:
        self = super().__new__(cls, float(text))
        self.text = text
        return self


@dataclass(frozen=True)
class Parsed:
    """One generation's outcome: ``status`` ok / inconsistent / unparseable, the log return (ok only; NaN
    otherwise), how it was read (strict / lenient / numbers), and why it failed."""

    status: str
    value: float
    method: str
    reason: str = ""


@dataclass(frozen=True)
class PredictionLine:
    """One line of a predictions file: its number, row id, optional fold, and the raw prediction."""

    line: int
    row_id: str
    fold: int | None
    generation: str | None
    numbers: dict[str, Any]


def _half_step(value: float) -> float:
    """The larger of half a unit of the last written digit of ``value`` (``0.0123`` -> 5e-5; ``1.2e-3`` ->
    5e-5; an integer ``101`` -> 0.5) and half a unit of its ``SIGNIFICANT_DIGITS``-th significant digit
    (``123457.0`` -> 0.5, not 0.05; ``1e+16`` -> 5e15 either way)."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = getattr(value, "text", None) or repr(float(value))
    match = re.fullmatch(r"\s*[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*%?\s*", text)
    written = 0.0 if match is None else 0.5 * 10.0 ** (int(match.group(3) or 0) - len(match.group(2) or ""))
    x = abs(float(value))
    if not (x > 0 and math.isfinite(x)):
        return written
    significant = 0.5 * 10.0 ** (math.floor(math.log10(x)) - (SIGNIFICANT_DIGITS - 1))
    return max(written, significant)


def _number(value: object, lenient: bool, percent: bool = False) -> float | None:
    """A finite float from a JSON value (numeric strings only when ``lenient``; a trailing ``%`` only on the
    ``percent`` field), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = value
    elif lenient and isinstance(value, str):
        text = value.strip()
        text = text.removesuffix("%").strip() if percent else text
        try:
            number = _Num(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(float(number)) else None  # type: ignore[return-value]


def parse_numbers(fields: dict[str, Any], price_close: float, method: str, lenient: bool = False) -> Parsed:
    """The log return from a mapping holding any of ``PREDICTION_FIELDS`` (see the module docstring)."""
    candidates: list[tuple[str, float, float]] = []  # (field, log return, tolerance in log space)
    bad: list[str] = []
    for field in PREDICTION_FIELDS:
        if field not in fields:
            continue
        number = _number(fields[field], lenient, percent=field == PCT_FIELD)
        if number is None:
            bad.append(f"{field}={fields[field]!r} is not a finite number")
            continue
        x, step = float(number), _half_step(number)
        if field == LOG_FIELD:
            candidates.append((field, x, step))
        elif field == PCT_FIELD:
            if x <= -100:
                bad.append(f"{field}={x} is -100% or below")
                continue
            candidates.append((field, math.log1p(x / 100), step / 100 / (1 + x / 100)))
        else:
            if x <= 0 or not (price_close > 0):
                bad.append(f"{field}={x} is not a positive price (close {price_close})")
                continue
            candidates.append((field, math.log(x / price_close), step / x))
    if not candidates:
        reason = "; ".join(bad) if bad else f"none of {', '.join(PREDICTION_FIELDS)} present"
        return Parsed(UNPARSEABLE, float("nan"), method, reason)
    first_field, first, first_tol = candidates[0]
    for field, value, tol in candidates[1:]:
        if abs(value - first) > first_tol + tol + 1e-12:
            return Parsed(
                INCONSISTENT,
                float("nan"),
                method,
                f"{first_field} gives log return {first:.6g}, {field} gives {value:.6g} "
                f"(tolerance {first_tol + tol:.2g})",
            )
    return Parsed(OK, first, method, "; ".join(bad))


_FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_PAIR = re.compile(
    r"""["']?(predicted_return_90d|predicted_return_pct_90d|predicted_price_90d)["']?\s*[:=]\s*["']?"""
    r"""([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(%?)""",
)


def _first_object(text: str) -> str | None:
    """The first balanced ``{...}`` of ``text``, braces inside quoted strings ignored; None if none closes."""
    start = text.find("{")
    while start != -1:
        depth, quote, escaped = 0, "", False
        for i in range(start, len(text)):
            c = text[i]
            if quote:
                if escaped:
                    escaped = False
                elif c == "\\":
                    escaped = True
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        start = text.find("{", start + 1)
    return None


def _loads_object(text: str) -> dict[str, Any] | None:
    try:
        value = _strict(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _strict(text: str) -> Any:
    """Strict JSON (no NaN / Infinity), floats kept with their text."""
    return json.loads(text, parse_float=_Num, parse_constant=strict_json.reject_constant)


def _normalised(obj: str) -> str:
    out = re.sub(r"'([^'\\]*)'", lambda m: json.dumps(m.group(1)), obj)  # single-quoted strings
    out = re.sub(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:", r'\1"\2":', out)  # bare keys
    return re.sub(r",\s*([}\]])", r"\1", out)  # trailing commas


def parse_generation(text: object, price_close: float) -> Parsed:
    """The log return a model's raw ``text`` states (strict JSON, else the lenient parse; module docstring)."""
    if text is None:
        return Parsed(UNPARSEABLE, float("nan"), "none", "generation is null")
    if not isinstance(text, str):
        return Parsed(UNPARSEABLE, float("nan"), "none", f"generation is {type(text).__name__}, not text")
    strict = _loads_object(text.strip())
    if strict is not None:
        parsed = parse_numbers(strict, price_close, "strict")
        if parsed.status == UNPARSEABLE:  # e.g. a number written as a string: the lenient reading
            parsed = parse_numbers(strict, price_close, "lenient", lenient=True)
        return parsed
    body = "\n".join(_FENCE.findall(text)) or text
    obj_text = _first_object(body)
    if obj_text is not None:
        for candidate in (obj_text, _normalised(obj_text)):
            found = _loads_object(candidate)
            if found is not None and any(f in found for f in PREDICTION_FIELDS):
                return parse_numbers(found, price_close, "lenient", lenient=True)
    elif "{" in body:
        return Parsed(UNPARSEABLE, float("nan"), "none", "truncated JSON: an object is opened and never closed")
    pairs: dict[str, Any] = {}
    for key, number, percent in _PAIR.findall(text):
        if percent and key != PCT_FIELD:  # "predicted_return_90d: 1.2%" is ambiguous: not read
            continue
        pairs.setdefault(key, _Num(number))
    if pairs:
        return parse_numbers(pairs, price_close, "lenient", lenient=True)
    shown = text.strip().replace("\n", " ")
    return Parsed(UNPARSEABLE, float("nan"), "none", f"no prediction found in {shown[:60]!r}")


def read_predictions(path: Path | str) -> list[PredictionLine]:
    """Every prediction line of a JSONL file, in order (duplicates kept: the caller counts them)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PredictionsFileError(f"{path}: cannot read the predictions file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is tolerated
    except UnicodeDecodeError as exc:
        raise PredictionsFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    out: list[PredictionLine] = []
    # JSONL lines end at "\n" only: str.splitlines() also splits at U+2028 / U+2029 / U+0085, which JSON strings
    # may hold raw (a generation written with ensure_ascii=False)
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line, parse_float=_Num, parse_constant=lambda c: float("nan"))
        except ValueError as exc:
            raise PredictionsFileError(f"{where}: not a JSON object ({exc})") from None
        if not isinstance(record, dict):
            raise PredictionsFileError(f"{where}: expected a JSON object, got {type(record).__name__}")
        row_id = record.get("row_id")
        if not isinstance(row_id, str) or not row_id:
            raise PredictionsFileError(f"{where}: missing a string 'row_id'")
        fold = record.get("fold")
        if fold is not None and (isinstance(fold, bool) or not isinstance(fold, int)):
            raise PredictionsFileError(f"{where}: 'fold' must be an integer, got {fold!r}")
        generation = record.get("generation")
        numbers = {k: record[k] for k in PREDICTION_FIELDS if k in record}
        if "generation" not in record and not numbers:
            raise PredictionsFileError(
                f"{where}: row {row_id!r} has neither 'generation' nor any of {', '.join(PREDICTION_FIELDS)}"
            )
        if generation is not None and not isinstance(generation, str):
            raise PredictionsFileError(f"{where}: 'generation' must be text, got {type(generation).__name__}")
        if "generation" in record and numbers:
            raise PredictionsFileError(
                f"{where}: row {row_id!r} has both 'generation' and numbers ({', '.join(numbers)}): give one, so "
                "it is clear which is scored"
            )
        out.append(PredictionLine(number, row_id, fold, generation, numbers))
    if not out:
        raise PredictionsFileError(f"{path}: no prediction lines (an empty file scores nothing)")
    return out


def parse_line(line: PredictionLine, price_close: float) -> Parsed:
    """A prediction line's outcome: its numbers when given (strictly: numbers, not strings), else its
    generation parsed."""
    if line.numbers:
        return parse_numbers(line.numbers, price_close, "numbers")
    return parse_generation(line.generation, price_close)
