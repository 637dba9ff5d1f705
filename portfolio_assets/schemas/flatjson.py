"""Vectorised strict parsing of flat JSON objects of numbers: ``{"k1": 1.5, "k2": null, ...}`` with known keys.

``flat_objects(texts, keys)`` tells which texts are exactly ``{"<k1>": <v1>, "<k2>": <v2>, ...}`` (the keys
in that order, ``", "`` and ``": "`` separators, each value ``null`` or a JSON number; the way
``features.sft.format_rows`` writes them) and gives their values, as ``json.loads`` would read them:
such a text is strict JSON whose object has exactly those keys in that order, each value None, a
float (the correctly rounded value of its token, as Arrow's cast also computes it) or an int of at
most 15 digits (exact as a float). One RE2 match per text checks the layout; the values are read
where they stand in the texts' ", "-separated pieces (a value never holds ", ") and cast by Arrow in one go.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["flat_objects"]

# An int token of at most 15 digits, or a float token (a fraction or an exponent), or null.
_VALUE = r"(?:null|-?(?:0|[1-9][0-9]{0,14})|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+))"
_CHUNK = 16384  # rows cut at once (bounds the temporary arrays)
_N = ord("n")


def _pattern(keys: list[str]) -> str:
    return "^\\{" + ", ".join(f'"{re.escape(k)}": {_VALUE}' for k in keys) + "\\}$"


def flat_objects(texts: pa.Array, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(texts that are such an object, rows x keys of their values: NaN for null, ±inf where a float token
    overflows; NaN rows for the other texts). Keys must be plain names (no quote, backslash, comma, colon)."""
    if any(set(k) & set('"\\,:{}') for k in keys) or not keys:
        raise ValueError(f"not plain keys: {keys}")
    n, k = len(texts), len(keys)
    matched = pc.fill_null(pc.match_substring_regex(texts, _pattern(keys)), False).to_numpy(zero_copy_only=False)
    matched = np.asarray(matched, dtype=bool)
    values = np.full((n, k), np.nan)
    rows = np.flatnonzero(matched)
    good = texts.filter(pa.array(matched))
    # Where each value starts in its ", "-separated piece: after '{"<key>": ' (the first), '"<key>": ' (the others).
    skip = np.array([len(f'"{key}": '.encode()) for key in keys], dtype=np.int32)  # bytes
    skip[0] += 1
    trim = np.zeros(k, dtype=np.int32)
    trim[-1] = 1  # the last piece ends with the closing brace
    for start in range(0, len(rows), _CHUNK):
        values[rows[start : start + _CHUNK]] = _values(good.slice(start, _CHUNK), skip, trim)
    return matched, values


def _values(texts: pa.Array, skip: np.ndarray, trim: np.ndarray) -> np.ndarray:
    """The values of matched texts (rows x k): each text split at ", " into its k ``"<key>": <value>`` pieces,
    each value read in place (a view of the pieces' bytes: Arrow casts the value slots, the others null)."""
    n, k = len(texts), len(skip)
    pieces = pc.split_pattern(texts, ", ").flatten()
    if len(pieces) != n * k or pieces.null_count:
        raise AssertionError("flat_objects: a matched text does not have the expected layout")
    offsets = np.frombuffer(pieces.buffers()[1], dtype=np.int32)[pieces.offset : pieces.offset + len(pieces) + 1]
    data = pieces.buffers()[2]
    starts = offsets[:-1] + np.tile(skip, n)
    ends = offsets[1:] - np.tile(trim, n)
    bounds = np.empty(2 * len(starts) + 1, dtype=np.int32)  # slot 2q: value q; slot 2q + 1: the gap after it
    bounds[0:-1:2], bounds[1::2], bounds[-1] = starts, ends, ends[-1] if len(ends) else 0
    first = np.frombuffer(data, dtype=np.uint8)[starts] if len(starts) else np.zeros(0, dtype=np.uint8)
    present = np.zeros(len(bounds) - 1, dtype=bool)
    present[0::2] = ~((ends - starts == 4) & (first == _N))
    slots = pa.Array.from_buffers(
        pa.string(),
        len(present),
        [pa.py_buffer(np.packbits(present, bitorder="little")), pa.py_buffer(bounds), data],
    )
    try:
        numbers = slots.cast(pa.float64()).to_numpy(zero_copy_only=False)[0::2]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a token Arrow will not read (e.g. 1e999)
        numbers = np.array([np.nan if t is None else float(t) for t in slots.to_pylist()[0::2]], dtype="float64")
    return np.asarray(numbers, dtype="float64").reshape(n, k)
