"""Column-wise fast paths shared by the parsers (private to :mod:`portfolio_assets.sources`).

A fast path reads a well-formed body in bulk (pyarrow) and answers ``None`` at the first
doubt; the parser then runs its line-by-line reference reader, which gives the same
frame or names the file, line and cause of the error. So the fast paths only need to
accept a subset of the valid bodies, and give exactly the reference frame for those.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# Bytes a plain CSV body may hold: printable ASCII but the quote, and line ends. No tab, form feed,
# NUL or non-ASCII: then a cell's ``str.strip()`` only removes spaces and csv quoting never applies.
_PLAIN_CSV = bytes(range(0x20, 0x7F)).replace(b'"', b"") + b"\r\n"
# An ASCII decimal as ``_wire.to_float`` takes it (anchored; RE2 syntax), and a count pyarrow reads exactly.
DECIMAL = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_DIGITS = r"^[0-9]{1,18}$"  # always within int64
_LINE = re.compile(r"[^\r\n]*")


def plain_csv(text: str) -> tuple[list[str], bytes] | None:
    """The stripped header cells and the ASCII bytes of a CSV ``text`` without quotes or control characters.

    ``None`` when ``text`` holds anything else (the reference ``csv`` reader handles it).
    """
    if not text.isascii():
        return None
    data = text.encode("ascii")
    if data.translate(None, _PLAIN_CSV):
        return None
    header = _LINE.match(text)
    assert header is not None  # matches the empty string at least
    return [cell.strip() for cell in header.group().split(",")], data


def read_strings(data: bytes, width: int) -> pa.Table | None:
    """Every line after the first as ``width`` space-trimmed string columns ``0..width-1``, blank rows dropped.

    Empty lines and lines whose cells are all blank are left out (as the ``csv`` reference skips
    them); ``None`` when a line has another number of fields.
    """
    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                quote_char=False, double_quote=False, escape_char=False, newlines_in_values=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except pa.ArrowInvalid:
        return None
    table = pa.table({name: pc.utf8_trim(table.column(name), " ") for name in names})
    blank = np.ones(table.num_rows, dtype=bool)
    for name in names:
        blank &= pc.equal(pc.utf8_length(table.column(name)), 0).to_numpy(zero_copy_only=False)
    return table.filter(pa.array(~blank)) if blank.any() else table


def strings(values: list[object]) -> pa.Array | None:
    """``values`` as an Arrow string array; ``None`` unless every one is a ``str`` (and encodable)."""
    try:
        array = pa.array(values, pa.large_string())
    except (ValueError, TypeError):  # a number, a list, a lone surrogate
        return None
    return array if array.null_count == 0 else None


def decimals(column: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    """Non-empty ASCII decimal cells as float64 (exactly ``float(cell)``); ``None`` if any cell is not one."""
    if len(column) and not pc.all(pc.match_substring_regex(column, DECIMAL)).as_py():
        return None
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return values if np.isfinite(values).all() else None


def counts(column: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    """Cells of 1..18 ASCII digits as int64; ``None`` if any cell is not one."""
    if len(column) and not pc.all(pc.match_substring_regex(column, _DIGITS)).as_py():
        return None
    return pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
