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
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from portfolio_assets.export.frame import Column, null_mask
from portfolio_assets.timeutil import ISO_UTC_FORMAT

__all__ = [
    "CSV_READ_OPTIONS",
    "FORMATS",
    "PARQUET_COMPRESSION",
    "PARQUET_COMPRESSION_LEVEL",
    "PARQUET_ROW_GROUP_SIZE",
    "PARQUET_VERSION",
    "WRITERS",
    "Writer",
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


def _python_values(series: pd.Series, kind: str) -> list[object]:
    """JSON-ready Python values: ISO strings, float / int / bool, str, None for missing."""
    if kind == "timestamp":
        text = series.dt.strftime(ISO_UTC_FORMAT)
        return [None if isinstance(v, float) or v is None else v for v in text.tolist()]
    if kind == "float64":  # + 0.0 turns -0.0 into 0.0: the text never shows a negative zero
        return [None if v != v else v for v in (series.to_numpy(dtype="float64") + 0.0).tolist()]
    nulls = null_mask(series)
    if kind == "Int64":
        values = series.to_numpy(dtype="int64", na_value=0).tolist()
        return [None if null else v for v, null in zip(values, nulls, strict=True)]
    if kind == "boolean":
        values = series.to_numpy(dtype=bool, na_value=False).tolist()
        return [None if null else v for v, null in zip(values, nulls, strict=True)]
    return series.tolist()


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


def _csv_bytes(part: pd.DataFrame, columns: Sequence[Column]) -> bytes:
    cells = [[_csv_text(v) for v in _python_values(part[c.name], c.kind)] for c in columns]
    lines = [",".join(_csv_text(c.name) for c in columns)]
    lines += [",".join(row) for row in zip(*cells, strict=True)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _json_line(record: dict[str, object]) -> str:
    text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # U+2028/2029 only occur inside strings, where the escape means the same.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _jsonl_bytes(part: pd.DataFrame, columns: Sequence[Column]) -> bytes:
    names = [c.name for c in columns]
    values = [_python_values(part[c.name], c.kind) for c in columns]
    lines = [_json_line(dict(zip(names, row, strict=True))) for row in zip(*values, strict=True)]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _arrow_table(part: pd.DataFrame, columns: Sequence[Column]) -> pa.Table:
    schema = pa.schema([pa.field(c.name, c.arrow, nullable=True) for c in columns])
    return pa.Table.from_pandas(part[[c.name for c in columns]], schema=schema, preserve_index=False)


def _parquet_bytes(part: pd.DataFrame, columns: Sequence[Column]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(
        _arrow_table(part, columns),
        sink,
        compression=PARQUET_COMPRESSION,
        compression_level=PARQUET_COMPRESSION_LEVEL,
        row_group_size=PARQUET_ROW_GROUP_SIZE,
        version=PARQUET_VERSION,
        use_dictionary=True,
        write_statistics=True,
    )
    return sink.getvalue().to_pybytes()


Writer = Callable[[pd.DataFrame, Sequence[Column]], bytes]
"""Encodes a part of the canonical frame (its ``columns``, in order) as one file's bytes."""

WRITERS: dict[str, Writer] = {
    "csv": _csv_bytes,
    "jsonl": _jsonl_bytes,
    "parquet": _parquet_bytes,
}
