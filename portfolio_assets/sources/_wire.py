"""Helpers shared by the wire-format parsers: decoding, strict JSON, redaction, numbers.

Private to :mod:`portfolio_assets.sources`; every failure becomes a
:class:`~portfolio_assets.errors.SourceError` naming the source.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import orjson
import pandas as pd

from portfolio_assets.errors import SECRET_PARAMS, SourceError

UTC_NS = "datetime64[ns, UTC]"
# Every timestamp column is datetime64[ns]: anything outside its range is refused by name.
DATE_RANGE = f"{pd.Timestamp.min:%Y-%m-%d}..{pd.Timestamp.max:%Y-%m-%d}"
OUT_OF_RANGE = f"is outside the supported date range {DATE_RANGE}"
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000}

# name=value, name: value, "name": "value", 'name': 'value' for every secret name but Authorization,
# any case, "-" and "_" interchangeable; the value ends at a space, quote, separator or bracket.
_NAMES = "|".join(
    sorted({re.sub(r"[-_]", "[-_]", name) for name in SECRET_PARAMS - {"authorization"}}, key=len, reverse=True)
)
_SECRET_ASSIGNMENT = re.compile(rf"(?i)(?<![A-Za-z0-9])({_NAMES})(\\?[\"']?\s*[=:]\s*\\?[\"']?)[^\s&\"'\\,;)}}\]]+")
# Authorization: <scheme> <credentials> (the scheme is kept), and a bare "Bearer <token>".
_AUTHORIZATION = re.compile(
    r"(?i)(?<![A-Za-z0-9])(authorization\\?[\"']?\s*[=:]\s*\\?[\"']?)((?:bearer|basic|digest|token)\s+)?"
    r"[^\s&\"'\\,;)}\]]+"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]+=*")
# "We have detected your API key as ABCD1234EFGH5678 ..." (Alpha Vantage rate-limit text).
_DETECTED_KEY = re.compile(r"((?i:\bapi\s?key)\s+(?i:as|is|was|of)\s+)((?=[A-Za-z]*\d)[A-Za-z0-9]{8,}|[A-Z0-9]{8,})")
# Bare key shapes: FRED (32 lower-case hex), Alpha Vantage (16 upper-case alphanumerics with a letter
# and a digit) - but not a compact ISO date-time such as GDELT's 20080101T000000Z, which has that shape.
_BARE_KEYS = re.compile(r"\b(?:[0-9a-f]{32}|(?![0-9]{8}T[0-9]{6}Z)(?=[A-Z]*[0-9])(?=[0-9]*[A-Z])[A-Z0-9]{16})\b")

REDACTED = "***"


def redact(text: str) -> str:
    """Replace every credential in ``text`` with ``***``.

    Values of :data:`~portfolio_assets.errors.SECRET_PARAMS` names (query strings,
    JSON, headers), ``Authorization`` and ``Bearer`` values, keys Alpha Vantage
    says it detected, and bare FRED / Alpha Vantage key shapes.
    """
    text = _AUTHORIZATION.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _DETECTED_KEY.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _BARE_KEYS.sub(REDACTED, text)


def quote(value: object, limit: int = 300) -> str:
    """Redacted, whitespace-collapsed, length-limited ``repr`` of external text."""
    text = " ".join(redact(str(value)).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def fail(source: str, cause: str, where: str) -> SourceError:
    """Build (not raise) the error, so callers can ``raise fail(...) from exc``; the cause is redacted."""
    return SourceError(source, redact(cause), where=where or None)


def decode_text(source: str, body: bytes | str, where: str) -> str:
    """Body as text: UTF-8 for bytes, byte-order mark removed."""
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail(source, f"body is not UTF-8 text ({exc.reason} at byte {exc.start})", where) from exc
    elif isinstance(body, str):
        text = body
    else:
        raise TypeError(f"body must be bytes or str, not {type(body).__name__}")
    return text.removeprefix("\ufeff")


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _ConstantError(ValueError):
    pass


class _LongIntegerError(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _reject_constant(name: str) -> float:
    raise _ConstantError(name)


def _parse_int(token: str) -> int:
    """``int(token)``, but a token beyond Python's int-string conversion limit raises our own error."""
    try:
        return int(token)
    except ValueError:
        raise _LongIntegerError(len(token.lstrip("-"))) from None


def _looks_truncated(text: str) -> bool:
    """True when the body ends inside a string or with unclosed brackets."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def _dict_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``dict(pairs)``, built in C; ``_DuplicateKeyError`` (which key is for the reference to say) on a repeat."""
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKeyError("")
    return out


def json_members(data: Any) -> int:
    """How many object members the parsed JSON ``data`` holds, all levels (``load_json``'s duplicate-key proof)."""
    total, level = 0, [data]
    while level:
        dicts = [v for v in level if type(v) is dict]
        total += sum(map(len, dicts))
        inner = chain(
            chain.from_iterable(map(dict.values, dicts)), chain.from_iterable(v for v in level if type(v) is list)
        )
        level = [v for v in inner if type(v) is dict or type(v) is list]
    return total


_TO_NINES = bytes.maketrans(b"0123456789", b"9999999999")
_LONG_RUN = b"9" * 19  # orjson reads an integer beyond 64 bits as a float; json as an int


def _quick_json(text: str, members: Callable[[Any], int]) -> Any:
    """``text`` read by orjson when that is provably what the reference read gives, else ``_NO_QUICK``.

    orjson refuses NaN / Infinity and more (lone surrogates, numbers beyond the float range, deep nesting) and
    rounds floats as ``float()`` does, but keeps the last of duplicate keys and reads integers beyond 64 bits as
    floats: so no run of 19 digits, and proof that no key repeats. Each member of the text has a colon after its
    key's closing quote and JSON whitespace, and a repeated key is one member fewer in the value read: so
    ``members`` (a lower bound of the members read) equal to the colons that follow a quote or whitespace (at
    least the members of the text) proves that none was dropped.
    """
    try:
        raw = text.encode("utf-8")
        if raw.translate(_TO_NINES).find(_LONG_RUN) >= 0:
            return _NO_QUICK
        data = orjson.loads(text)
    except (UnicodeEncodeError, orjson.JSONDecodeError):
        return _NO_QUICK
    found = members(data)
    if found == raw.count(b":") or found == sum(raw.count(before + b":") for before in _BEFORE_COLON):
        return data
    return _NO_QUICK


_BEFORE_COLON = (b'"', b" ", b"\t", b"\n", b"\r")
_NO_QUICK = object()


def load_json(source: str, text: str, where: str, members: Callable[[Any], int] = json_members) -> Any:
    """Strict JSON: no duplicate keys, no NaN/Infinity, no integer too long to convert; truncation reported.

    ``members``: a lower bound of the object members of the parsed value (``json_members``: all of them), that a
    parser knowing its shape may count faster.
    """
    if not text.strip():
        raise fail(source, "empty body", where)
    quick = _quick_json(text, members)
    if quick is not _NO_QUICK:
        return quick
    try:  # the stdlib read of a valid body; on any doubt the reference read below names the error
        return json.loads(text, object_pairs_hook=_dict_once, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(text, object_pairs_hook=_unique_object, parse_constant=_reject_constant, parse_int=_parse_int)
    except _DuplicateKeyError as exc:
        raise fail(source, f"duplicate key {quote(exc.key)} in a JSON object", where) from exc
    except _ConstantError as exc:
        raise fail(source, f"non-standard JSON constant {exc.args[0]!r}", where) from exc
    except _LongIntegerError as exc:
        raise fail(source, f"JSON integer of {exc.digits} digits: too long to be a number", where) from exc
    except json.JSONDecodeError as exc:
        if _looks_truncated(text):
            # json's "Unterminated string starting at" already ends in "at"
            message = exc.msg.removesuffix(" at")
            cause = f"truncated JSON: the body ends early ({message} at char {exc.pos} of {len(text)})"
        else:
            first = text.strip().splitlines()[0]
            position = f"line {exc.lineno} column {exc.colno}"
            cause = f"not JSON ({exc.msg} at {position}); body starts with {quote(first, 120)}"
        raise fail(source, cause, where) from exc
    except RecursionError as exc:
        raise fail(source, "JSON nested too deeply", where) from exc


def expect_object(source: str, data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise fail(source, f"expected a JSON object at the top level, got {type(data).__name__}", where)
    return data


def expect_list(source: str, data: dict[str, Any], key: str, where: str) -> list[Any]:
    if key not in data:
        keys = ", ".join(quote(k, 60) for k in list(data)[:10])
        raise fail(source, f"no {key!r} key in the response (keys: {keys or 'none'})", where)
    value = data[key]
    if not isinstance(value, list):
        raise fail(source, f"{key!r} is a {type(value).__name__}, expected a list", where)
    return value


# The wire formats write numbers as ASCII decimals; float() and int() would also take "1_0" and any
# Unicode digits ("١٢٣", "１２３"), which no source sends.
ASCII_SPACE = " \t\r\n\f\v"
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"(?i)[+-]?(?:nan|inf|infinity)")
_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits and nothing else."""
    return _DIGITS.fullmatch(text) is not None


def to_float(value: object) -> float:
    """A finite float from a JSON number or an ASCII decimal string; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {quote(value, 40)}")
    if isinstance(value, str):
        text = value.strip(ASCII_SPACE)
        if _NON_FINITE.fullmatch(text):
            raise ValueError(f"not a finite number: {quote(value, 40)}")
        if not _DECIMAL.fullmatch(text):
            raise ValueError(f"not a number: {quote(value, 40)}")
        number = float(text)
    else:
        try:
            number = float(value)
        except OverflowError:  # an int beyond the float range
            raise ValueError(f"not a finite number: {quote(value, 40)}") from None
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {quote(value, 40)}")
    return number


INT64_MAX = 2**63 - 1


def to_count(value: object, what: str) -> int:
    """A non-negative whole number within int64 from a JSON number or an ASCII decimal string.

    ValueError naming ``what`` otherwise; integer strings are read exactly, not through float.
    """
    text = value.strip(ASCII_SPACE) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif text is not None and is_ascii_digits(text):
        digits = text.lstrip("0") or "0"
        number = INT64_MAX + 1 if len(digits) > len(str(INT64_MAX)) else int(digits)
    else:
        real = to_float(value)
        if not real.is_integer() or real < 0:
            raise ValueError(f"{what} {quote(value, 40)} is not a non-negative integer")
        number = INT64_MAX + 1 if real > INT64_MAX else int(real)
    if number < 0:
        raise ValueError(f"{what} {quote(value, 40)} is not a non-negative integer")
    if number > INT64_MAX:
        raise ValueError(f"{what} {quote(value, 40)} is beyond int64")
    return number


def _shown(digits: str, limit: int = 20) -> str:
    return digits if len(digits) <= limit else digits[:limit] + "…"


def epoch_ns(count: int | str, unit: str) -> int:
    """Unix ``count`` (``"s"`` or ``"ms"``; an int or a string of ASCII digits) as UTC nanoseconds.

    ValueError when the moment is outside pandas' ``datetime64[ns]`` range.
    """
    text = count if isinstance(count, str) else str(count)
    # a string too long for int() (4,300 digits) is far outside the range anyway
    too_long = isinstance(count, str) and len(count.lstrip("0")) > 20
    nanoseconds = 0 if too_long else int(count) * _NS_PER_UNIT[unit]
    if too_long or not pd.Timestamp.min.value <= nanoseconds <= pd.Timestamp.max.value:
        raise ValueError(f"timestamp {_shown(text)} {unit} {OUT_OF_RANGE}")
    return nanoseconds


def utc_timestamp(moment: datetime, raw: str) -> pd.Timestamp:
    """An aware ``moment`` as a UTC nanosecond Timestamp; ValueError (naming ``raw``) outside the range."""
    try:
        return pd.Timestamp(moment).tz_convert("UTC").as_unit("ns")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise ValueError(f"timestamp {quote(raw, 60)} {OUT_OF_RANGE}") from None


def matches_format(value: str, fmt: str) -> bool:
    """True when ``datetime.strptime`` reads ``value`` with ``fmt`` (whatever pandas' range)."""
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def parse_times(source: str, values: Sequence[object], fmt: str, what: str, where: str) -> pd.Series:
    """Strictly parse date strings with ``fmt`` to ``datetime64[ns, UTC]``; name the first bad one."""
    raw = pd.Series(list(values), dtype=object)
    # the quick way for ASCII strings that all parse; anything else is checked value by value below
    if all(type(v) is str and v.isascii() for v in values):
        quick = pd.to_datetime(raw, format=fmt, errors="coerce", utc=True)
        if not quick.isna().any():
            return quick.astype(UTC_NS).reset_index(drop=True)
    bad_type = raw.map(lambda v: not isinstance(v, str))
    if bad_type.any():
        raise fail(source, f"{what}: expected a date string, got {raw[bad_type].iloc[0]!r}", where)
    # pandas would read Unicode digits ("٢٠٠٨-01-02"); the wire formats are ASCII
    parsed = pd.to_datetime(raw, format=fmt, errors="coerce", utc=True).where(raw.map(str.isascii))
    if parsed.isna().any():
        bad = raw[parsed.isna()].iloc[0]
        if bad.isascii() and matches_format(bad, fmt):
            raise fail(source, f"{what}: date {quote(bad, 60)} {OUT_OF_RANGE}", where)
        raise fail(source, f"{what}: unparsable date {quote(bad, 60)} (expected {fmt})", where)
    return parsed.astype(UTC_NS).reset_index(drop=True)


def ends_inside_quotes(exc: Exception) -> bool:
    """True when a strict ``csv`` reader failed because the text ended inside a quoted field."""
    return str(exc) == "unexpected end of data"


def first_duplicate(stamps: pd.Series) -> object | None:
    dup = stamps[stamps.duplicated()]
    return None if dup.empty else dup.iloc[0]
