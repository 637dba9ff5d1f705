"""CSV and JSONL lines written straight into one byte buffer by a compiled loop (numba), no text per cell.

``LineWriter(texts, kinds)`` takes each column's cell texts (``encoders.part_texts``: Arrow strings, null
where missing) and how the formats treat them, measures every row once in both formats, and then writes
any run of rows (a part) into a buffer the caller provides. The bytes are those of ``encoders``:

* CSV: cells joined by ``,``, ``\\n`` at the end; a missing cell is empty; a ``str`` cell holding ``,`` ``"``
  CR or LF is quoted with its ``"`` doubled; other kinds are written as they are.
* JSONL: ``{"name":value,...}\\n`` (the keys given as written); missing is ``null``; JSON cells as they are;
  ``str`` and ``timestamp``
  cells are JSON strings escaped as ``json``'s ``encode_basestring`` does (``\\"`` ``\\\\`` ``\\b`` ``\\f``
  ``\\n`` ``\\r`` ``\\t``, other control characters ``\\u00xx``) plus U+2028 / U+2029 as ``\\u2028`` /
  ``\\u2029``; other kinds as they are.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

__all__ = ["JSON", "RAW", "STRING", "TIMESTAMP", "LineWriter"]

RAW, STRING, TIMESTAMP, JSON = 0, 1, 2, 3
"""Cell kinds: written as they are (numbers, booleans); text (CSV quotes it when needed, JSON escapes it);
a timestamp (as it is in CSV, a JSON string); JSON text (CSV quotes it like text, JSONL writes it as it is: the
caller guarantees one line of strict JSON, e.g. ``messages.canonical_text``)."""


@functools.cache
def _kernels() -> tuple[Callable[..., None], Callable[..., None]]:
    if sys.byteorder != "little":  # pragma: no cover - the kernels find bytes in words read little-endian
        raise RuntimeError("the export's line writer needs a little-endian CPU")
    from portfolio_assets.export import linekernel

    return linekernel.measure, linekernel.fill


class LineWriter:
    """The CSV and JSONL lines of rows whose cells are ``texts`` (one Arrow string array per column, all of one
    length); ``kinds``: ``RAW``, ``STRING`` or ``TIMESTAMP`` per column; ``keys``: each column's JSON key
    (``"name"``, escaped). ``csv_lengths`` / ``json_lengths``: each row's line length in bytes."""

    def __init__(self, texts: Sequence[pa.Array], kinds: Sequence[int], keys: Sequence[str]) -> None:
        texts = [_strings(t) for t in texts]
        self._texts = texts  # the kernels read their buffers
        self.rows = n = len(texts[0]) if texts else 0
        ncols = len(texts)
        if len(kinds) != ncols or len(keys) != ncols or any(len(t) != n for t in texts):
            raise ValueError("LineWriter: one kind and one key per column, and columns of one length")
        self._offsets = np.empty((ncols, n + 1), dtype=np.int64)
        self._addresses = np.zeros(ncols, dtype=np.int64)
        self._valid = np.ones((ncols, n), dtype=np.uint8)
        for j, t in enumerate(texts if n else []):
            _, offsets, data = t.buffers()
            width = np.int64 if pa.types.is_large_string(t.type) else np.int32
            self._offsets[j] = np.frombuffer(offsets, dtype=width)[t.offset : t.offset + n + 1]
            self._addresses[j] = data.address if data is not None else 0
            if t.null_count:
                self._valid[j] = t.is_valid().to_numpy(zero_copy_only=False)
        self._kinds = np.array(kinds, dtype=np.int8)
        csv_parts = [b"", *[b","] * (ncols - 1), b"\n"] if ncols else [b"\n"]
        json_parts = [(("{" if j == 0 else ",") + key + ":").encode("utf-8") for j, key in enumerate(keys)]
        json_parts.append(b"}\n")
        self._literals = np.frombuffer(b"".join(csv_parts + json_parts), dtype=np.uint8)
        bounds = np.cumsum([0] + [len(p) for p in csv_parts + json_parts])
        spans = np.stack([bounds[:-1], bounds[1:]], axis=1).astype(np.int64)
        self._csv_lit, self._json_lit = spans[: ncols + 1].copy(), spans[ncols + 1 :].copy()
        self._flags = np.zeros((ncols, n), dtype=np.uint8)
        self.csv_lengths = np.empty(n, dtype=np.int64)
        self.json_lengths = np.empty(n, dtype=np.int64)
        if n and ncols:
            measure, _ = _kernels()
            csv_fixed, json_fixed = sum(map(len, csv_parts)), sum(map(len, json_parts))
            measure(
                self._offsets, self._addresses, self._valid, self._kinds, csv_fixed, json_fixed,
                self.csv_lengths, self.json_lengths, self._flags,
            )  # fmt: skip

    def write(self, rows: np.ndarray, out: np.ndarray, csv_at: int | None, json_at: int | None) -> None:
        """Write the lines of ``rows`` (row numbers, in order) into ``out`` (uint8): the CSV lines from ``csv_at``
        (``csv_lengths[rows].sum()`` bytes), the JSONL lines from ``json_at``; None: that format is not written."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.size and not (rows.min() >= 0 and rows.max() < self.rows):
            raise IndexError("LineWriter.write: a row number out of range")
        if out.dtype != np.uint8 or out.ndim != 1 or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("LineWriter.write: out must be a writable, contiguous uint8 array")
        none = np.zeros(0, dtype=np.int64)
        csv_pos = json_pos = none
        for at, lengths, name in ((csv_at, self.csv_lengths, "csv"), (json_at, self.json_lengths, "jsonl")):
            if at is None:
                continue
            starts = _starts(lengths[rows], at)
            if at < 0 or at + int(lengths[rows].sum()) > out.size:
                raise ValueError(f"LineWriter.write: the {name} lines do not fit in out")
            csv_pos, json_pos = (starts, json_pos) if name == "csv" else (csv_pos, starts)
        if rows.size and len(self._kinds):
            _, fill = _kernels()
            fill(
                self._offsets, self._addresses, self._valid, self._kinds, self._flags, rows, csv_pos, json_pos,
                self._literals, self._csv_lit, self._json_lit, out,
            )  # fmt: skip


def _strings(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = texts.cast(pa.string())
    return texts


def _starts(lengths: np.ndarray, at: int) -> np.ndarray:
    starts = np.empty(lengths.size, dtype=np.int64)
    if lengths.size:
        starts[0] = at
        np.cumsum(lengths[:-1], out=starts[1:])
        starts[1:] += at
    return starts
