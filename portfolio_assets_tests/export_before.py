"""The export's canonical frame and encoders as they were before the compiled line writer (``export.lines``),
the shared memory between processes (``export.shared``) and the Arrow texts kept from ``canonical_frame``: the
reference the new code must equal byte for byte."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets import strict_json
from portfolio_assets.columns import LLM_COLUMNS, SFT_COLUMNS
from portfolio_assets.export.encoders import _json_string
from portfolio_assets.export.frame import (
    _KINDS,
    _REQUIRED_KINDS,
    _RESERVED,
    JSON_COLUMNS,
    ORDER_BY,
    Column,
    _kind,
    null_mask,
)
from portfolio_assets.export.manifest import (
    FORMAT_NOTES,
    MANIFEST_FORMAT,
    MANIFEST_VERSION,
    ExportedFile,
    _counts,
    _range,
)
from portfolio_assets.export.shards import SHARD_RULES, shard_key
from portfolio_assets.export.splits import BOUNDARIES, SPLIT_RULE, SPLITS, SplitConfig, Splits
from portfolio_assets.numtext import repr_texts
from portfolio_assets.timeutil import ISO_UTC_FORMAT

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


def arrow_table(part: pd.DataFrame, columns: Sequence[Column], texts: list[pa.Array] | None = None) -> pa.Table:
    schema = pa.schema([pa.field(c.name, c.arrow, nullable=True) for c in columns])
    return pa.Table.from_pandas(part[[c.name for c in columns]], schema=schema, preserve_index=False)


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


def _normalise(series: pd.Series, kind: str) -> pd.Series:
    name = series.name
    if kind == "timestamp":
        out = series.dt.tz_convert("UTC").dt.as_unit("ns")
        fractional = out.notna() & (out != out.dt.floor("s"))
        if fractional.any():
            raise ValueError(
                f"column {name!r} has sub-second timestamps (e.g. {out[fractional].iloc[0]}); "
                f"the text formats write {ISO_UTC_FORMAT}"
            )
        return out
    if kind == "float64":
        out = series.astype("float64")
        values = out.to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(values).any():
            raise ValueError(f"column {name!r} has ±inf values, which JSON cannot carry; use null (NaN) for missing")
        return pd.Series(values + 0.0, index=series.index, name=name)  # -0.0 + 0.0 is 0.0
    if kind == "Int64":
        return series.astype("Int64")
    if kind == "boolean":
        return series.astype("boolean")
    values = series.astype(object).to_numpy()
    nulls = null_mask(series)
    present = values[~nulls] if nulls.any() else values
    if set(map(type, present)) <= {str} and (not len(present) or min(map(len, present))):
        out = values.copy()  # every value a non-empty str or missing: no value to judge one by one
        out[nulls] = None
        return pd.Series(out, index=series.index, name=name, dtype=object)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if nulls[i]:
            out[i] = None
        elif isinstance(value, str):
            if value == "":
                raise ValueError(
                    f"column {name!r} has empty strings, which CSV cannot tell from missing; use null (None) instead"
                )
            out[i] = value
        else:
            raise TypeError(
                f"column {name!r} holds a {type(value).__name__} ({value!r:.60}); text columns must hold str or "
                "None (serialise nested values to JSON text first)"
            )
    return pd.Series(out, index=series.index, name=name, dtype=object)


def _check_strict_json(series: pd.Series, first_row: int) -> None:
    seen: set[str] = set()  # a repeated text (e.g. not_applicable) is judged once
    for position, text in zip(series.index, series, strict=True):
        if text is None or text in seen:
            continue
        seen.add(text)
        try:
            strict_json.check(text)
        except ValueError as exc:
            raise ValueError(
                f"{series.name} of row {first_row + position} is not strict JSON ({exc}): {text!r:.80}"
            ) from None
        zeros = strict_json.negative_zeros(text)
        if zeros:
            raise ValueError(
                f"{series.name} of row {first_row + position} writes a negative zero ({zeros[0]}); write 0 or 0.0 "
                f"(features.sft.round_number does): {text!r:.80}"
            )


# A superset of ``strict_json``'s negative-zero pattern in RE2 (no look-ahead: the next character is consumed).
_MAYBE_NEGATIVE_ZERO = r"-0(\.0+)?([eE][+-]?[0-9]+)?([^0-9.eE]|$)"


def _check_negative_zeros(series: pd.Series, first_row: int) -> None:
    """``_check_strict_json``'s negative-zero error for texts known to be strict JSON (the same first error):
    only the texts an Arrow regex flags are parsed."""
    try:
        texts = pa.array(series.to_numpy(dtype=object), pa.string(), from_pandas=True)
    except (pa.ArrowException, UnicodeEncodeError):  # e.g. a lone surrogate: every text
        flagged = np.arange(len(series))
    else:
        flagged = np.flatnonzero(pc.fill_null(pc.match_substring_regex(texts, _MAYBE_NEGATIVE_ZERO), False))
    if len(flagged):
        _check_strict_json(series.iloc[flagged].set_axis(flagged), first_row)


def canonical_frame(
    rows: pd.DataFrame, *, first_row: int = 0, json_valid: bool = False
) -> tuple[pd.DataFrame, list[Column]]:
    """Canonical columns then extras, each normalised to its kind, sorted by (timestamp, asset_symbol).

    ``first_row``: the position of ``rows``' first row in the whole input, which errors name rows by.
    ``json_valid``: every text of ``JSON_COLUMNS`` is known to be strict JSON (``validate_rows`` passed every
    row: each training-set schema parses them strictly), so only their negative zeros are looked for."""
    if rows.columns.duplicated().any():
        raise ValueError(f"duplicate column names: {sorted(set(rows.columns[rows.columns.duplicated()]))}")
    missing = [c for c in SFT_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack {len(missing)} canonical column(s): {missing}")
    extras = [c for c in rows.columns if c not in SFT_COLUMNS]
    bad = [c for c in extras if not isinstance(c, str) or c in _RESERVED]
    if bad:
        raise ValueError(f"extra column name(s) {bad} are reserved or not strings")
    columns: list[Column] = []
    data: dict[str, pd.Series] = {}
    for name in [*SFT_COLUMNS, *extras]:
        series = rows[name].reset_index(drop=True)
        kind = _kind(series)
        required = _REQUIRED_KINDS.get(name)
        if required and kind != required:
            raise TypeError(f"column {name!r} must be {_KINDS[required][0]}, got dtype {series.dtype}")
        data[name] = _normalise(series, kind)
        columns.append(Column(name, kind))
    frame = pd.DataFrame(data)
    for name in ("asset_symbol", *LLM_COLUMNS):
        if frame[name].isna().any():
            raise ValueError(f"{name} is null in {int(frame[name].isna().sum())} row(s)")
    for name in JSON_COLUMNS:
        (_check_negative_zeros if json_valid else _check_strict_json)(frame[name], first_row)
    frame = frame.sort_values(ORDER_BY, kind="stable").reset_index(drop=True)
    duplicated = frame.duplicated(ORDER_BY, keep=False)
    if duplicated.any():
        examples = frame.loc[duplicated, ORDER_BY].drop_duplicates().head(3)
        shown = ", ".join(f"({t:%Y-%m-%d}, {s})" for t, s in examples.itertuples(index=False))
        raise ValueError(f"{int(duplicated.sum())} rows share a (timestamp, asset_symbol) key, e.g. {shown}")
    return frame, columns


def _label(
    timestamps: pd.Series, targets: pd.Series, boundaries: dict[str, date], embargo_days: int
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(base split, label, purged, embargoed) of every row, given the boundaries (row-local)."""
    v0 = pd.Timestamp(boundaries["validation_start"], tz="UTC")
    t0 = pd.Timestamp(boundaries["test_start"], tz="UTC")
    base = pd.Series(
        np.where(timestamps < v0, "train", np.where(timestamps < t0, "validation", "test")),
        index=timestamps.index,
        dtype=object,
    )
    embargo = pd.Timedelta(days=embargo_days)
    embargoed = ((timestamps >= v0) & (timestamps < v0 + embargo)) | ((timestamps >= t0) & (timestamps < t0 + embargo))
    # Every split is purged against the next split's start: a train label must end before the first
    # validation date (hence before every test date), a validation label before the first test date.
    purged = ((base == "train") & (targets >= v0)) | ((base == "validation") & (targets >= t0))
    labels = base.copy()
    labels[purged] = "purged"
    labels[embargoed] = "embargoed"
    return base, labels, purged, embargoed


def build_manifest(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    splits: Splits,
    config: SplitConfig,
    shards: pd.Series,
    shard_by: str,
    formats: Sequence[str],
    files: Sequence[ExportedFile],
    provenance: object,
) -> dict[str, object]:
    """The manifest of an export (without ``cards``, which the exporter adds once the cards are written)."""
    labels = splits.labels
    exported = frame[labels.isin(SPLITS)]
    exported_labels = labels[labels.isin(SPLITS)]
    exported_shards = shards[labels.isin(SPLITS)]
    by_split = {s: int((labels == s).sum()) for s in SPLITS}
    excluded = splits.excluded_by_boundary()
    by_boundary = {
        name: {"day": splits.boundaries[key].isoformat(), **excluded[name]} for name, (_, _, key) in BOUNDARIES.items()
    }
    return {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "order_by": ORDER_BY,
        "rows": {
            "input": len(frame),
            "exported": len(exported),
            "purged": int((labels == "purged").sum()),
            "embargoed": int((labels == "embargoed").sum()),
            "by_split": by_split,
            "excluded_by_boundary": by_boundary,
            "by_shard": _counts(exported_shards),
            "by_split_shard": {s: _counts(exported_shards[exported_labels == s]) for s in SPLITS},
            "by_asset": _counts(exported["asset_symbol"]),
            "by_split_asset": {s: _counts(exported.loc[exported_labels == s, "asset_symbol"]) for s in SPLITS},
            "input_by_asset": _counts(frame["asset_symbol"]),
        },
        "date_range": {
            "input": _range(frame),
            "exported": _range(exported),
            **{s: _range(exported[exported_labels == s]) for s in SPLITS},
        },
        "split": {
            "rule": SPLIT_RULE,
            "boundaries": {k: v.isoformat() for k, v in splits.boundaries.items()},
            "boundary_source": splits.source,
            "fractions": list(config.fractions) if splits.source == "fractions" else None,
            "embargo_days": splits.embargo_days,
        },
        "sharding": {
            "shard_by": shard_by,
            "shards": sorted(set(exported_shards)),
            "rule": SHARD_RULES[shard_by],
        },
        "formats": {fmt: FORMAT_NOTES[fmt] for fmt in formats},
        "files": [f.__dict__ for f in files],
        "schema": [{"name": c.name, "dtype": c.dtype, "arrow_type": str(c.arrow)} for c in columns],
        "libraries": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "pyarrow": pa.__version__,
        },
        "provenance": provenance,
    }
