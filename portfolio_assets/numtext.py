"""Vectorised number text: Python's ``repr`` of a float column and the 6-significant-digit JSON numbers.

Byte-for-byte what the per-value Python code writes, without a Python call per value:

* ``repr_texts(values)``: ``repr(float(v))`` of every value (null where NaN / ±inf).
  Integral values below 1e16 are their int64 text plus ``.0``; other values from
  1e-4 up take Arrow's shortest round-trip text, which is Python's there (same
  shortest digits, positional); below 1e-6 Arrow's exponent form gets its exponent
  zero-padded (``e-7`` -> ``e-07``); the rest (1e-6..1e-4, 1e16 and up, -0.0) is
  left to ``repr``.
* ``round_significant(values)``: ``float(f"{v:.6g}")`` of every finite value,
  computed by scaling with an exact power of ten and ``rint``; a value whose
  scaled form is near a rounding tie, or whose exponent is outside ±17, is left
  to Python's correctly rounded formatting.
* ``json_number_texts(values)``: ``json.dumps(features.sft.round_number(v))`` of a
  float column: ``null`` for NaN / ±inf, ``0.0`` for zero (also ``-0.0``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SIGNIFICANT_DIGITS", "json_number_texts", "repr_texts", "round_significant", "take_texts"]

SIGNIFICANT_DIGITS = 6
_POW10 = np.array([float(10**k) for k in range(23)])  # exact doubles
_TIE_TOLERANCE = 1e-6  # |frac(scaled) - 0.5| below this: the scaled value's rounding error might matter


def round_significant(values: np.ndarray) -> np.ndarray:
    """``float(f"{v:.6g}")`` of each finite value; NaN where not finite; ``0.0`` for zero (``-0.0`` too)."""
    v = np.asarray(values, dtype="float64")
    out = np.full(v.shape, np.nan)
    a = np.abs(v)
    finite = np.isfinite(v)
    nonzero = finite & (a != 0)
    out[finite & (a == 0)] = 0.0
    idx = np.flatnonzero(nonzero)
    if idx.size == 0:
        return out
    x = a[idx]
    e0 = np.floor(np.log10(x)).astype(np.int64)
    k = (SIGNIFICANT_DIGITS - 1) - e0
    usable = np.abs(k) <= 22
    kk = np.clip(k, -22, 22)
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = np.where(kk >= 0, x * _POW10[np.abs(kk)], x / _POW10[np.abs(kk)])
    r = np.rint(scaled)
    frac = scaled - np.floor(scaled)
    low, high = 10.0 ** (SIGNIFICANT_DIGITS - 1), 10.0**SIGNIFICANT_DIGITS
    usable &= (np.abs(frac - 0.5) > _TIE_TOLERANCE) & (r >= low) & (r <= high)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.where(kk >= 0, r / _POW10[np.abs(kk)], r * _POW10[np.abs(kk)])
    rounded = np.copysign(rounded, v[idx])
    out[idx] = rounded
    for i in idx[~usable].tolist():
        out[i] = float(f"{v[i]:.{SIGNIFICANT_DIGITS}g}")
    return out


def take_texts(parts: list[pa.Array], case: np.ndarray) -> pa.Array:
    """One array whose i-th value is ``parts[case[i]]``'s next value (each part holds its case's values in order)."""
    order = np.argsort(case, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return pa.concat_arrays([p.cast(pa.string()) for p in parts]).take(pa.array(inverse))


def _regex(texts: pa.Array, rules: list[tuple[str, str]]) -> pa.Array:
    if len(texts) == 0:
        return texts
    for pattern, replacement in rules:
        texts = pc.replace_substring_regex(texts, pattern, replacement)
    return texts


# Arrow writes 1e10 <= |x| < 1e16 in exponent form (``1.2345678901e+12``); Python positionally.
_POSITIONAL = [(rf"^(-?)([0-9])\.([0-9]{{{e}}})([0-9]+)e\+{e}$", r"\1\2\3.\4") for e in range(10, 16)]
# Arrow writes 1e-6 <= |x| < 1e-4 positionally (``0.0000123``); Python in exponent form.
_EXPONENT = [
    rule
    for zeros, e in ((4, "05"), (5, "06"))
    for rule in (
        (rf"^(-?)0\.0{{{zeros}}}([1-9])([0-9]+)$", rf"\1\2.\3e-{e}"),
        (rf"^(-?)0\.0{{{zeros}}}([1-9])$", rf"\1\2e-{e}"),
    )
]
# Arrow's exponent has one digit at least, Python's two.
_PAD_EXPONENT = [(r"e([+-])([0-9])$", r"e\10\2")]


def repr_texts(values: np.ndarray) -> pa.Array:
    """``repr(float(v))`` of each value as an Arrow string array; null where NaN or ±inf."""
    v = np.asarray(values, dtype="float64")
    a = np.abs(v)
    finite = np.isfinite(v)
    with np.errstate(invalid="ignore"):
        integral = finite & (a < 1e16) & (v == np.trunc(v)) & ~((v == 0) & np.signbit(v))
        fractional = finite & ~integral & (a != 0)
        plain = fractional & (a >= 1e-4) & (a < 1e10)
        big = fractional & (a >= 1e10) & (a < 1e16)
        huge = finite & (a >= 1e16)
        small = fractional & (a >= 1e-6) & (a < 1e-4)
        tiny = fractional & (a < 1e-6)
    cases = [~finite, integral, plain, big, huge, small, tiny]
    python = finite & ~np.logical_or.reduce(cases[1:])
    case = np.select([*cases, python], list(range(len(cases) + 1)))

    def arrow(mask: np.ndarray) -> pa.Array:
        return pa.array(v[mask]).cast(pa.string())

    parts: list[pa.Array] = [
        pa.nulls(int((~finite).sum()), pa.string()),
        pc.binary_join_element_wise(pa.array(v[integral].astype(np.int64)).cast(pa.string()), ".0", ""),
        arrow(plain),
        _regex(arrow(big), _POSITIONAL),
        _regex(arrow(huge), _PAD_EXPONENT),
        _regex(arrow(small), _EXPONENT),
        _regex(arrow(tiny), _PAD_EXPONENT),
        pa.array([repr(x) for x in v[python].tolist()], pa.string()),
    ]
    return take_texts(parts, case)


def json_number_texts(values: np.ndarray) -> pa.Array:
    """``json.dumps(round_number(v))`` of each float: the 6-digit number, ``0.0`` for zero, ``null`` if not finite."""
    rounded = round_significant(values)
    return pc.fill_null(repr_texts(rounded), "null")
