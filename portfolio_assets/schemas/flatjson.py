"""Vectorised strict parsing of flat JSON objects of numbers: ``{"k1": 1.5, "k2": null, ...}`` with known keys.

``flat_objects(texts, keys)`` tells which texts are exactly ``{"<k1>": <v1>, "<k2>": <v2>, ...}`` (the keys
in that order, ``", "`` and ``": "`` separators, each value ``null`` or a JSON number; the way
``features.sft.format_rows`` writes them) and gives their values, as ``json.loads`` would read them:
such a text is strict JSON whose object has exactly those keys in that order, each value None, a
float (the correctly rounded value of its token, as Arrow's cast also computes it) or an int of at
most 15 digits (exact as a float). The layout is checked in two steps, each cheaper than one anchored
pattern naming every key (which RE2 runs at a third of the speed of a generic one): one RE2 match per
text of the generic layout ``{"<name>": <value>, ...}`` (names without quote, backslash, comma, colon or
brace), then, in the text's ", "-separated pieces (a name or value never holds ", ", so there is one piece
per item), the count of pieces and each piece's leading ``"<key>": `` compared in place with the key's.
The values are read where they stand in the pieces and cast by Arrow in one go.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["flat_objects"]

# An int token of at most 15 digits, or a float token (a fraction or an exponent), or null.
_VALUE = r"(?:null|-?(?:0|[1-9][0-9]{0,14})|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+))"
_CHUNK = 16384  # rows cut at once (bounds the temporary arrays)
_N = ord("n")


_NAME = r'"[^"\\,:{}]*"'
_LAYOUT = f"^\\{{(?:{_NAME}: {_VALUE}, )*{_NAME}: {_VALUE}\\}}$"


def flat_objects(texts: pa.Array, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(texts that are such an object, rows x keys of their values: NaN for null, ±inf where a float token
    overflows; NaN rows for the other texts). Keys must be plain names (no quote, backslash, comma, colon)."""
    if any(set(k) & set('"\\,:{}') for k in keys) or not keys:
        raise ValueError(f"not plain keys: {keys}")
    n, k = len(texts), len(keys)
    matched = np.zeros(n, dtype=bool)
    values = np.full((n, k), np.nan)
    # Where each value starts in its ", "-separated piece: after '{"<key>": ' (the first), '"<key>": ' (the others).
    heads = [("{" if i == 0 else "") + f'"{key}": ' for i, key in enumerate(keys)]
    skip = np.array([len(h.encode()) for h in heads], dtype=np.int32)  # bytes
    trim = np.zeros(k, dtype=np.int32)
    trim[-1] = 1  # the last piece ends with the closing brace
    for start in range(0, n, _CHUNK):
        block = texts.slice(start, _CHUNK)
        laid_out = np.asarray(pc.fill_null(pc.match_substring_regex(block, _LAYOUT), False).to_numpy(False), bool)
        rows = np.flatnonzero(laid_out)
        lists = pc.split_pattern(block.filter(pa.array(laid_out)), ", ")
        whole = pc.list_value_length(lists).to_numpy(zero_copy_only=False) == k
        rows, lists = rows[whole], lists.filter(pa.array(whole))
        keyed = _heads_match(lists.flatten(), heads, skip).reshape(len(rows), k).all(axis=1)
        rows, lists = rows[keyed], lists.filter(pa.array(keyed))
        matched[start + rows] = True
        if len(rows):
            values[start + rows] = _values(lists.flatten(), skip, trim)
    return matched, values


def _heads_match(pieces: pa.Array, heads: list[str], skip: np.ndarray) -> np.ndarray:
    """Per piece (k a row, in key order): whether it begins with its key's head, compared in place (a view of
    the pieces' bytes: slot 2q the first ``skip`` bytes of piece q, slot 2q + 1 the rest of it)."""
    count = len(pieces) // len(heads)
    if not len(pieces):
        return np.zeros(0, dtype=bool)
    offsets = np.frombuffer(pieces.buffers()[1], dtype=np.int32)[pieces.offset : pieces.offset + len(pieces) + 1]
    starts = offsets[:-1]
    ends = np.minimum(starts + np.tile(skip, count), offsets[1:])
    bounds = np.empty(2 * len(starts) + 1, dtype=np.int32)
    bounds[0:-1:2], bounds[1::2], bounds[-1] = starts, ends, offsets[-1]
    seen = pa.Array.from_buffers(pa.string(), len(bounds) - 1, [None, pa.py_buffer(bounds), pieces.buffers()[2]])
    expected_bounds = np.zeros(len(bounds), dtype=np.int32)
    expected_bounds[1::2] = np.cumsum(np.tile(skip, count))
    expected_bounds[2::2] = expected_bounds[1:-1:2]
    data = pa.py_buffer("".join(heads).encode() * count)
    expected = pa.Array.from_buffers(pa.string(), len(bounds) - 1, [None, pa.py_buffer(expected_bounds), data])
    return pc.equal(seen, expected).to_numpy(zero_copy_only=False)[0::2]


def _values(pieces: pa.Array, skip: np.ndarray, trim: np.ndarray) -> np.ndarray:
    """The values of matched texts (rows x k) from their k ``"<key>": <value>`` pieces each (split at ", "),
    each value read in place (a view of the pieces' bytes: Arrow casts the value slots, the others null)."""
    k = len(skip)
    n = len(pieces) // k
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
