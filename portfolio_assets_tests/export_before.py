"""The export's encoders as they were before the compiled line writer (``export.lines``) and the shared memory
between processes (``export.shared``): the reference the new code must equal byte for byte."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets.export.encoders import _json_string, arrow_table
from portfolio_assets.export.frame import Column, null_mask
from portfolio_assets.export.shards import shard_key
from portfolio_assets.export.splits import SPLITS
from portfolio_assets.numtext import repr_texts

Cells = tuple[pa.Array, str, str]


def _texts(series: pd.Series, kind: str) -> pa.Array:
    if kind == "timestamp":
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
        texts = pa.array(np.char.add(utc.astype(str), "Z"), pa.string())
        nulls = null_mask(series)
        return pc.if_else(pa.array(nulls), pa.nulls(len(texts), pa.string()), texts) if nulls.any() else texts
    if kind == "float64":
        return repr_texts(series.to_numpy(dtype="float64", na_value=np.nan) + 0.0)
    nulls = pa.array(null_mask(series))
    if kind == "Int64":
        texts = pa.array(series.to_numpy(dtype="int64", na_value=0)).cast(pa.string())
    elif kind == "boolean":
        texts = pc.if_else(pa.array(series.to_numpy(dtype=bool, na_value=False)), "true", "false")
    else:
        return pa.array(series.to_numpy(dtype=object), pa.string())
    return pc.if_else(nulls, pa.nulls(len(texts), pa.string()), texts)


def part_texts(part: pd.DataFrame, columns: Sequence[Column]) -> list[pa.Array]:
    return [_texts(part[c.name], c.kind) for c in columns]


def _joined_bytes(lines: pa.Array) -> bytes:
    if len(lines) == 0:
        return b""
    _, offsets, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[[lines.offset, lines.offset + len(lines)]]
    return data[int(bounds[0]) : int(bounds[1])].to_pybytes()


def _data_bytes(texts: pa.Array) -> np.ndarray:
    _, offsets, data = texts.buffers()
    width = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    start, end = np.frombuffer(offsets, dtype=width)[[texts.offset, texts.offset + len(texts)]].tolist()
    return np.frombuffer(data, dtype=np.uint8)[start:end] if data is not None else np.zeros(0, dtype=np.uint8)


def _csv_cells(texts: pa.Array, kind: str) -> Cells:
    if kind == "str":
        special = pc.match_substring_regex(texts, '[,"\r\n]')
        if pc.all(special).as_py() and not texts.null_count:
            return pc.replace_substring(texts, '"', '""'), '"', '"'
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(texts, '"', '""'), '"', "")
        texts = pc.if_else(special, quoted, texts)
    return pc.fill_null(texts, ""), "", ""


def _interleaved(cells: list[Cells], separators: list[str], end: str) -> pa.Array:
    pieces: list[object] = []
    literal = ""
    for separator, (array, opens, closes) in zip(separators, cells, strict=True):
        literal += separator + opens
        pieces += [literal, array] if literal else [array]
        literal = closes
    return pc.binary_join_element_wise(*pieces, literal + end, "")


def csv_lines(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None = None) -> bytes:
    if not columns or len(part) == 0:
        return b""
    texts = part_texts(part, columns) if texts is None else texts
    cells = [_csv_cells(t, c.kind) for t, c in zip(texts, columns, strict=True)]
    return _joined_bytes(_interleaved(cells, ["", *[","] * (len(cells) - 1)], "\n"))


def _json_values(texts: pa.Array, kind: str) -> Cells:
    if kind in ("timestamp", "str"):
        data = _data_bytes(texts) if len(texts) else np.zeros(0, dtype=np.uint8)
        if not ((data < 0x20).any() or (data == 0xE2).any()):
            escaped = pc.replace_substring(texts, "\\", "\\\\") if (data == 0x5C).any() else texts
            escaped = pc.replace_substring(escaped, '"', '\\"')
            if not texts.null_count:
                return escaped, '"', '"'
            return pc.fill_null(pc.binary_join_element_wise('"', escaped, '"', ""), "null"), "", ""
        odd = pc.fill_null(pc.match_substring_regex(texts, "[\\x00-\\x1f\u2028\u2029]"), False)
        escaped = pc.replace_substring(pc.replace_substring(texts, "\\", "\\\\"), '"', '\\"')
        quoted = pc.binary_join_element_wise('"', escaped, '"', "")
        if pc.any(odd).as_py():
            special = [_json_string(t) for t in texts.filter(odd).to_pylist()]
            quoted = pc.replace_with_mask(quoted, odd, pa.array(special, pa.string()))
        texts = quoted
    return pc.fill_null(texts, "null"), "", ""


def jsonl_lines(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None = None) -> bytes:
    if not columns or len(part) == 0:
        return b""
    texts = part_texts(part, columns) if texts is None else texts
    values = [_json_values(t, c.kind) for t, c in zip(texts, columns, strict=True)]
    keys = [("{" if i == 0 else ",") + _json_string(c.name) + ":" for i, c in enumerate(columns)]
    return _joined_bytes(_interleaved(values, keys, "}\n"))


def encode_parts(
    frame: pd.DataFrame, columns: Sequence[Column], labels: pd.Series, formats: Sequence[str], shard_by: str
) -> list[tuple[str, str, int, dict[str, bytes | pa.Table]]]:
    """(split, shard, rows, format -> data) of every part, as ``files.encode_parts`` made them."""
    encoders = {"csv": csv_lines, "jsonl": jsonl_lines, "parquet": arrow_table}
    shards = shard_key(frame["timestamp"], shard_by)
    parts = []
    for name in SPLITS:
        in_split = (labels == name).to_numpy()
        for shard in sorted(set(shards[in_split])):
            part = frame[in_split & (shards == shard).to_numpy()].reset_index(drop=True)
            texts = part_texts(part, columns) if {"csv", "jsonl"} & set(formats) else None
            data = {fmt: encoders[fmt](part, columns, texts) for fmt in formats}
            parts.append((name, shard, len(part), data))
    return parts
