"""Vectorised strict parsing of flat JSON objects of numbers: ``{"k1": 1.5, "k2": null, ...}`` with known keys.

``flat_objects(texts, keys)`` tells which texts are exactly ``{"<k1>": <v1>, "<k2>": <v2>, ...}`` (the keys
in that order, ``", "`` and ``": "`` separators, each value ``null`` or a JSON number; the way
``features.sft.format_rows`` writes them) and gives their values, as ``json.loads`` would read them:
such a text is strict JSON whose object has exactly those keys in that order, each value None, a
float (the correctly rounded value of its token, as Arrow's cast also computes it) or an int of at
most 15 digits (exact as a float). One RE2 match per text checks the layout; the values are cut out
of the texts' bytes with numpy and cast by Arrow in one go.
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
_COLON, _COMMA, _BRACE, _N = ord(":"), ord(","), ord("}"), ord("n")


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
    for start in range(0, len(rows), _CHUNK):
        values[rows[start : start + _CHUNK]] = _values(good.slice(start, _CHUNK), k)
    return matched, values


def _values(texts: pa.Array, k: int) -> np.ndarray:
    """The values of matched texts (rows x k)."""
    texts = pa.concat_arrays([texts]).cast(pa.large_string())  # own buffers, 64-bit offsets
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset : texts.offset + len(texts) + 1]
    data = np.frombuffer(texts.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    # In a matched text ":" only follows a key and "," / "}" only end a value.
    starts = np.flatnonzero(data == _COLON) + 2
    ends = np.flatnonzero((data == _COMMA) | (data == _BRACE))
    if len(starts) != len(texts) * k or len(ends) != len(starts):
        raise AssertionError("flat_objects: a matched text does not have the expected layout")
    bounds = np.concatenate([[0], np.cumsum(ends - starts)])
    step = np.zeros(len(data) + 1, dtype=np.int8)  # +1 where a value starts, -1 where it ends
    step[starts], step[ends] = 1, -1
    chars = data[np.cumsum(step[:-1], dtype=np.int8).view(bool)]
    present = ~((ends - starts == 4) & (data[starts] == _N))
    tokens = pa.Array.from_buffers(
        pa.large_string(),
        len(starts),
        [pa.py_buffer(np.packbits(present, bitorder="little")), pa.py_buffer(bounds), pa.py_buffer(chars)],
    )
    try:
        numbers = tokens.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a token Arrow will not read (e.g. 1e999)
        numbers = np.array([np.nan if t is None else float(t) for t in tokens.to_pylist()], dtype="float64")
    return np.asarray(numbers, dtype="float64").reshape(len(texts), k)
