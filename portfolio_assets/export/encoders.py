"""Byte encoders: a part of the canonical frame as CSV, JSONL or Parquet bytes.

Every format reads back to the same values, floats to the last bit:

* CSV: header, ``,``, RFC 4180 minimal quoting (a field with ``,`` ``"`` CR or LF
  is quoted, ``"`` doubled), ``\\n`` line ends, UTF-8, timestamps
  ``YYYY-MM-DDTHH:MM:SSZ``, floats as Python ``repr`` (shortest text that
  round-trips; ``-0.0`` is written ``0.0``), booleans ``true``/``false``, an empty field for missing. Read
  with pandas' ``float_precision="round_trip"`` (its default float parser is
  off by one ulp for about a quarter of full-precision values), ``keep_default_na=False``
  and ``na_values=[""]`` (``CSV_READ_OPTIONS``).
* JSONL: one strict JSON object per line (no NaN / Infinity: missing is
  ``null``), keys in column order, same timestamp strings, ints as ints, floats
  as ``repr`` (``0.0`` for ``-0.0``), UTF-8 (U+2028 / U+2029 escaped so every line reader agrees).
* Parquet: pyarrow, timestamps ``timestamp[ns, tz=UTC]``, text columns
  ``string``, ``Int64`` as ``int64``, missing as null; zstd level 3, fixed row
  group size, no wall-clock metadata.

Message-list columns (``messages``): JSONL writes the JSON array itself, Parquet a
``list<struct<role: string, content: string>>``, CSV the (canonical) JSON text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from portfolio_assets.export import lines
from portfolio_assets.export.frame import Column, null_mask
from portfolio_assets.export.messages import message_array

__all__ = [
    "CSV_READ_OPTIONS",
    "FORMATS",
    "PARQUET_COMPRESSION",
    "PARQUET_COMPRESSION_LEVEL",
    "PARQUET_ROW_GROUP_SIZE",
    "PARQUET_VERSION",
    "PART_ENCODERS",
    "WRITERS",
    "ParquetStream",
    "Writer",
    "arrow_table",
    "csv_header",
    "csv_lines",
    "json_keys",
    "jsonl_lines",
    "line_kinds",
    "part_texts",
]

FORMATS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
"""Export format -> file extension, in the order files are listed."""

PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 3
PARQUET_ROW_GROUP_SIZE = 65_536
PARQUET_VERSION = "2.6"

# Read options that make pandas (and Hugging Face's CSV builder, which uses pandas) read the CSV exactly.
CSV_READ_OPTIONS: dict[str, object] = {
    "float_precision": "round_trip",
    "keep_default_na": False,
    "na_values": [""],
}


def _timestamp_texts(series: pd.Series) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SSZ`` of each timestamp (null where missing), formatted once per distinct value."""
    codes, uniques = pd.factorize(series, sort=False)
    utc = pd.Series(uniques).dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    texts = pa.array(np.char.add(utc.astype(str), "Z"), pa.string())
    return texts.take(pa.array(codes, mask=codes < 0))


def float_texts(values: np.ndarray) -> pa.Array:
    """``repr`` of each float (``numtext.repr_texts``, null where NaN or ±inf), written by ``floatrepr``."""
    from portfolio_assets.export.floatrepr import repr_into

    values = np.ascontiguousarray(values, dtype=np.float64)
    n = len(values)
    data = np.empty(24 * n, dtype=np.uint8)
    large = len(data) >= 2**31
    offsets = np.empty(n + 1, dtype=np.int64 if large else np.int32)
    valid = np.empty(n, dtype=np.uint8)
    repr_into(values, valid, data, offsets)
    nulls = n - int(np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    kind = pa.LargeStringArray if large else pa.StringArray
    return kind.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data[: int(offsets[-1])]), bitmap, nulls)


def _texts(series: pd.Series, kind: str) -> pa.Array:
    """Each value's text as both formats write it, unquoted (null where missing): ISO timestamps, float repr
    (``-0.0`` as ``0.0``), ints, ``true`` / ``false``, strings as they are."""
    if kind == "timestamp":
        return _timestamp_texts(series)
    if kind == "float64":
        return float_texts(series.to_numpy(dtype="float64", na_value=np.nan) + 0.0)
    nulls = pa.array(null_mask(series))
    if kind == "Int64":
        texts = pa.array(series.to_numpy(dtype="int64", na_value=0)).cast(pa.string())
    elif kind == "boolean":
        texts = pc.if_else(pa.array(series.to_numpy(dtype=bool, na_value=False)), "true", "false")
    else:
        return pa.array(series.to_numpy(dtype=object), pa.string())
    return pc.if_else(nulls, pa.nulls(len(texts), pa.string()), texts)


def part_texts(
    part: pd.DataFrame, columns: Sequence[Column], known: Mapping[str, pa.Array] | None = None
) -> list[pa.Array]:
    """Each column's ``_texts``: what CSV and JSONL share, computed once for both (``texts=`` of their writers).

    ``known``: text columns of ``part`` already as Arrow strings (``canonical_frame(texts=)``), taken as they are."""
    known = known or {}
    return [known[c.name] if c.kind == "str" and c.name in known else _texts(part[c.name], c.kind) for c in columns]


_CSV_SPECIAL = frozenset(',"\r\n')


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _CSV_SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_header(columns: Sequence[Column]) -> bytes:
    """The CSV header line."""
    return (",".join(_csv_text(c.name) for c in columns) + "\n").encode("utf-8")


def line_kinds(columns: Sequence[Column]) -> list[int]:
    """How ``lines.LineWriter`` writes each column's texts: CSV quotes and JSON escapes ``str`` cells; JSON
    quotes timestamps; CSV quotes message-list JSON text, which JSONL writes as it is; the rest as they are."""
    kinds = {"str": lines.STRING, "timestamp": lines.TIMESTAMP, "messages": lines.JSON}
    return [kinds.get(c.kind, lines.RAW) for c in columns]


def json_keys(columns: Sequence[Column]) -> list[str]:
    """Each column's JSON key, as JSONL writes it."""
    return [_json_string(c.name) for c in columns]


def _lines(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None, fmt: str) -> bytes:
    if not columns or len(part) == 0:
        return b""
    texts = part_texts(part, columns) if texts is None else texts
    writer = lines.LineWriter(texts, line_kinds(columns), json_keys(columns))
    lengths = writer.csv_lengths if fmt == "csv" else writer.json_lengths
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    writer.write(np.arange(writer.rows), out, 0 if fmt == "csv" else None, 0 if fmt == "jsonl" else None)
    return out.tobytes()


def csv_lines(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None = None) -> bytes:
    """The CSV lines of ``part``, without the header: a file is the header then its parts' lines in order.

    ``texts``: ``part_texts(part, columns)`` when already computed."""
    return _lines(part, columns, texts, "csv")


def _csv_bytes(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None = None) -> bytes:
    return csv_header(columns) + csv_lines(part, columns, texts)


def _json_string(text: str) -> str:
    return encode_basestring(text).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def jsonl_lines(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None = None) -> bytes:
    """The JSONL lines of ``part`` (a file is its parts' lines in order); ``texts`` as for ``csv_lines``."""
    return _lines(part, columns, texts, "jsonl")


def arrow_table(
    part: pd.DataFrame,
    columns: Sequence[Column],
    texts: list[pa.Array] | None = None,
    *,
    strings: Mapping[str, pa.Array] | None = None,
) -> pa.Table:
    """``part`` as the Arrow table its Parquet file holds (``ParquetStream.append_table``); ``texts`` unused.

    ``strings``: text columns of ``part`` already as Arrow strings, taken as they are; the schema's pandas
    metadata is then ``from_pandas``' of ``part`` with no rows (it depends on the dtypes only)."""
    names = [c.name for c in columns]
    schema = pa.schema([pa.field(c.name, c.arrow, nullable=True) for c in columns])
    lists = [c.name for c in columns if c.kind == "messages" and c.name not in (strings or {})]
    if not strings and not lists:
        return pa.Table.from_pandas(part[names], schema=schema, preserve_index=False)
    strings = {**(strings or {}), **{name: message_array(part[name].tolist()) for name in lists}}
    schema = pa.Table.from_pandas(part.iloc[:0][names], schema=schema, preserve_index=False).schema
    arrays = [
        strings[c.name]
        if c.kind in ("str", "messages") and c.name in strings
        else pa.array(part[c.name], c.arrow, from_pandas=True)
        for c in columns
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


_PARQUET_OPTIONS: dict[str, object] = {
    "compression": PARQUET_COMPRESSION,
    "compression_level": PARQUET_COMPRESSION_LEVEL,
    "version": PARQUET_VERSION,
    "use_dictionary": True,
    "write_statistics": True,
}


def _parquet_bytes(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(arrow_table(part, columns), sink, row_group_size=PARQUET_ROW_GROUP_SIZE, **_PARQUET_OPTIONS)
    return sink.getvalue().to_pybytes()


class ParquetStream:
    """A Parquet file written part by part, byte-identical to ``_parquet_bytes`` of the parts concatenated.

    ``pq.write_table`` cuts a table into row groups of ``PARQUET_ROW_GROUP_SIZE`` rows; this
    buffers the parts and writes exactly those row groups (each as one contiguous table), so at
    most one row group of rows is held beyond the part being appended.
    """

    def __init__(self, where: BinaryIO, columns: Sequence[Column]) -> None:
        self._where = where
        self._columns = list(columns)
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._rows = 0

    def append(self, part: pd.DataFrame) -> None:
        """Add ``part``'s rows (after the rows appended before)."""
        self.append_table(arrow_table(part, self._columns))

    def append_table(self, table: pa.Table) -> None:
        """Add the rows of ``arrow_table(part, columns)`` (after the rows appended before)."""
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._where, table.schema, **_PARQUET_OPTIONS)  # type: ignore[arg-type]
        elif not table.schema.equals(self._writer.schema, check_metadata=True):
            raise ValueError("a part's Arrow schema differs from the file's first part; the export cannot stream it")
        self._pending.append(table)
        self._rows += table.num_rows
        if self._rows >= PARQUET_ROW_GROUP_SIZE:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        assert self._writer is not None
        table = pa.concat_tables(self._pending).combine_chunks()
        self._pending, self._rows = [], 0
        start = 0
        while table.num_rows - start >= PARQUET_ROW_GROUP_SIZE or (final and start < table.num_rows):
            group = table.slice(start, PARQUET_ROW_GROUP_SIZE)
            self._writer.write_table(group, row_group_size=PARQUET_ROW_GROUP_SIZE)
            start += group.num_rows
        if start < table.num_rows:
            rest = table.slice(start)
            self._pending, self._rows = [rest], rest.num_rows

    def discard(self) -> None:
        """Give the file up unfinished (its export is aborted): no footer is written, now or when the writer is
        collected (pyarrow's ``ParquetWriter.__del__`` closes an open writer, into a file already closed)."""
        if self._writer is not None:
            self._writer.is_open = False
        self._pending, self._rows = [], 0

    def close(self) -> None:
        """Write the last row group and the footer (the file must have had a part)."""
        if self._writer is None:
            raise ValueError("a Parquet file needs at least one part")
        if self._rows:
            self._flush(final=True)
        self._writer.close()


Writer = Callable[..., bytes]
"""``(part, columns, texts=None) -> bytes``: a part of the canonical frame (its ``columns``, in order) as one
file's bytes; ``texts`` (``part_texts``, shared by CSV and JSONL) when already computed."""

WRITERS: dict[str, Writer] = {
    "csv": _csv_bytes,
    "jsonl": jsonl_lines,
    "parquet": _parquet_bytes,
}

PART_ENCODERS: dict[str, Callable[..., bytes | pa.Table]] = {
    "csv": csv_lines,
    "jsonl": jsonl_lines,
    "parquet": arrow_table,
}
"""What ``ExportWriter`` appends to a file per part: CSV lines (the header comes when the file opens), JSONL
lines, the Arrow table of Parquet rows. A file of one part holds the same bytes as ``WRITERS`` of it."""
