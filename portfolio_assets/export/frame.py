"""The canonical frame: every column normalised to one kind, validated, in export order.

Canonical columns (``columns.SFT_COLUMNS``) come first, then ``row_id`` and ``is_synthetic`` (``rowid``: added
when the caller says which symbols are synthetic), then any extra column (e.g. ``messages``); rows are sorted
by ``ORDER_BY`` and the key must be unique. Message-list columns (``messages``: ``messages``, chat ``prompt`` /
``completion``) hold their canonical JSON text, of kind ``messages``.
A float ``-0.0`` becomes ``0.0`` (every format then holds the same value, and
the text never shows ``-0.0``); JSON text writing a negative zero is refused.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from portfolio_assets import strict_json
from portfolio_assets.columns import LLM_COLUMNS, SFT_COLUMNS
from portfolio_assets.export import messages
from portfolio_assets.export.rowid import ROW_ID_COLUMNS, is_synthetic, row_ids
from portfolio_assets.timeutil import ISO_UTC_FORMAT

__all__ = ["JSON_COLUMNS", "ORDER_BY", "Column", "canonical_frame", "null_mask"]

ORDER_BY = ["timestamp", "asset_symbol"]

# Column kinds: every column is normalised to one of these.
_KINDS = {
    # kind: (pandas dtype as read back, arrow type)
    "timestamp": ("datetime64[ns, UTC]", pa.timestamp("ns", tz="UTC")),
    "float64": ("float64", pa.float64()),
    "Int64": ("Int64", pa.int64()),
    "boolean": ("boolean", pa.bool_()),
    "str": ("str", pa.string()),
    "messages": ("object", messages.MESSAGES_TYPE),  # lists of {role, content} dicts as read back
}
_REQUIRED_KINDS = {
    "timestamp": "timestamp",
    "target_timestamp": "timestamp",
    "decision_time": "timestamp",
    **dict.fromkeys(LLM_COLUMNS, "str"),
    "asset_symbol": "str",
    "asset_class": "str",
    "row_id": "str",
    "is_synthetic": "boolean",
}
_RESERVED = ("split",)  # read_export adds it
JSON_COLUMNS = ("input", "output", "context_window", "not_applicable")
"""Canonical columns holding JSON text: the export refuses a value that is not strict JSON."""


@dataclass(frozen=True)
class Column:
    """A column of the export and its kind (a key of ``_KINDS``)."""

    name: str
    kind: str

    @property
    def dtype(self) -> str:
        """The pandas dtype the column reads back as."""
        return _KINDS[self.kind][0]

    @property
    def arrow(self) -> pa.DataType:
        """The Arrow type of the column in Parquet."""
        return _KINDS[self.kind][1]


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamp"
    if pd.api.types.is_datetime64_dtype(dtype):
        raise TypeError(f"column {series.name!r} is a timezone-naive datetime; export needs UTC timestamps")
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "Int64"
    if pd.api.types.is_float_dtype(dtype):
        return "float64"
    if (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    ):
        return "str"
    raise TypeError(f"column {series.name!r} has dtype {dtype}, which the export does not support")


def null_mask(series: pd.Series) -> np.ndarray:
    """True where ``series`` is missing."""
    return series.isna().to_numpy(dtype=bool)


def _normalise(series: pd.Series, kind: str, texts: dict[str, pa.Array | None] | None = None) -> pd.Series:
    """``series`` as ``kind`` (errors for values the export cannot write); a text column's Arrow array (None if
    Arrow cannot hold it) goes into ``texts`` when given."""
    name = series.name
    if kind == "timestamp":
        out = series.dt.tz_convert("UTC").dt.as_unit("ns")
        nanoseconds = out.array.asi8
        fractional = (nanoseconds % 1_000_000_000 != 0) & out.notna().to_numpy()
        if fractional.any():
            raise ValueError(
                f"column {name!r} has sub-second timestamps (e.g. {out[fractional].iloc[0]}); "
                f"the text formats write {ISO_UTC_FORMAT}"
            )
        return out
    if kind == "float64":
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(values).any():
            raise ValueError(f"column {name!r} has ±inf values, which JSON cannot carry; use null (NaN) for missing")
        return pd.Series(values + 0.0, index=series.index, name=name)  # -0.0 + 0.0 is 0.0
    if kind == "Int64":
        return series.astype("Int64")
    if kind == "boolean":
        return series.astype("boolean")
    values = series.to_numpy(dtype=object)
    nulls = null_mask(series)
    any_null = bool(nulls.any())
    present = values[~nulls] if any_null else values
    if set(map(type, present)) <= {str} and (not len(present) or min(map(len, present))):
        out = values  # every value a non-empty str or missing: no value to judge one by one
        if any_null:
            out = values.copy()
            out[nulls] = None
        if texts is not None:
            try:
                texts[name] = pa.array(out, pa.string(), from_pandas=True)
            except (pa.ArrowException, UnicodeEncodeError):  # e.g. a lone surrogate
                texts[name] = None
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


def _check_negative_zeros(series: pd.Series, first_row: int, texts: pa.Array | None = None) -> None:
    """``_check_strict_json``'s negative-zero error for texts known to be strict JSON (the same first error):
    only the texts a compiled scan flags (``linekernel.maybe_negative_zero``: where ``_MAYBE_NEGATIVE_ZERO``
    matches) are parsed. ``texts``: the column as Arrow strings, when already made."""
    if texts is None:
        try:
            texts = pa.array(series.to_numpy(dtype=object), pa.string(), from_pandas=True)
        except (pa.ArrowException, UnicodeEncodeError):  # e.g. a lone surrogate: every text
            texts = None
    flagged = np.arange(len(series)) if texts is None else np.flatnonzero(maybe_negative_zero(texts))
    if len(flagged):
        _check_strict_json(series.iloc[flagged].set_axis(flagged), first_row)


def maybe_negative_zero(texts: pa.Array) -> np.ndarray:
    """Where a text holds a match of ``_MAYBE_NEGATIVE_ZERO`` (False where missing)."""
    from portfolio_assets.export import linekernel

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    flags = np.zeros(len(texts), dtype=np.uint8)
    if len(texts) and texts.null_count < len(texts):
        _, offsets, data = texts.buffers()
        width = np.int64 if pa.types.is_large_string(texts.type) else np.int32
        bounds = np.frombuffer(offsets, dtype=width)[texts.offset : texts.offset + len(texts) + 1].astype(np.int64)
        linekernel.negative_zeros(bounds, np.frombuffer(data, dtype=np.uint8), flags)
        if texts.null_count:
            flags &= texts.is_valid().to_numpy(zero_copy_only=False)
    return flags.astype(bool)


def _message_texts(series: pd.Series, first_row: int, arrow: dict[str, pa.Array | None]) -> pd.Series:
    """A message-list column as canonical JSON text (``messages.canonical_text``), each value validated; its Arrow
    list array goes into ``arrow``."""
    values = series.to_numpy(dtype=object)
    nulls = null_mask(series)
    parsed: list[list[dict[str, str]] | None] = []
    seen: dict[str, list[dict[str, str]]] = {}
    for position, value in enumerate(values):
        if nulls[position]:
            parsed.append(None)
            continue
        if isinstance(value, str) and value in seen:
            parsed.append(seen[value])
            continue
        message_list = messages.parse(value, f"{series.name} of row {first_row + position}")
        if isinstance(value, str):
            seen[value] = message_list
        parsed.append(message_list)
    out = np.array([None if p is None else messages.canonical_text(p) for p in parsed], dtype=object)
    arrow[str(series.name)] = pa.array(parsed, messages.MESSAGES_TYPE)
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def _row_id_columns(
    symbols: pd.Series, timestamps: pd.Series, synthetic: Collection[str], rows: pd.DataFrame, first_row: int
) -> dict[str, pd.Series]:
    """``row_id`` and ``is_synthetic`` of the rows; where ``rows`` carries them already, they must be equal."""
    if isinstance(synthetic, str) or not all(isinstance(s, str) for s in synthetic):
        raise TypeError(f"synthetic must be a collection of asset symbols (str), got {synthetic!r:.80}")
    added = {"row_id": row_ids(symbols, timestamps), "is_synthetic": is_synthetic(symbols, synthetic)}
    for name, computed in added.items():
        if name not in rows.columns:
            continue
        given = rows[name].reset_index(drop=True)
        differs = ~(given.astype(object) == computed.astype(object)).to_numpy(dtype=bool)
        if differs.any():
            at = int(np.flatnonzero(differs)[0])
            raise ValueError(
                f"{name} of row {first_row + at} is {given.iloc[at]!r}, but the export computes {computed.iloc[at]!r} "
                "(rowid.row_ids / the synthetic symbols given); drop the column or fix it"
            )
    return added


def _in_order(timestamps: pd.Series, symbols: pd.Series) -> bool:
    """Whether the rows are strictly increasing by (timestamp, symbol): in ``ORDER_BY`` order without a repeated
    key, so sorting them changes nothing (False where a timestamp is missing: those sort last)."""
    ts = timestamps.array.asi8
    if timestamps.isna().any():
        return False
    step = np.diff(ts)
    if (step < 0).any():
        return False
    ties = np.flatnonzero(step == 0)
    names = symbols.to_numpy(dtype=object)
    return bool(np.all(names[ties] < names[ties + 1])) if ties.size else True


def canonical_frame(
    rows: pd.DataFrame,
    *,
    first_row: int = 0,
    json_valid: bool = False,
    texts: dict[str, pa.Array] | None = None,
    synthetic: Collection[str] | None = None,
) -> tuple[pd.DataFrame, list[Column]]:
    """Canonical columns then extras, each normalised to its kind, sorted by (timestamp, asset_symbol).

    ``first_row``: the position of ``rows``' first row in the whole input, which errors names rows by.
    ``json_valid``: every text of ``JSON_COLUMNS`` is known to be strict JSON (``validate_rows`` passed every
    row: each training-set schema parses them strictly), so only their negative zeros are looked for.
    ``texts``: receives the text columns as Arrow strings, in the frame's order (``encoders.part_texts``
    takes them instead of converting the column again; a message-list column as its ``MESSAGES_TYPE`` array); left
    empty if the rows had to be sorted.
    ``synthetic``: the symbols whose own price series is synthetic; when given, ``row_id`` and ``is_synthetic``
    are added after ``SFT_COLUMNS`` (``rows`` may carry them already, with exactly those values)."""
    if rows.columns.duplicated().any():
        raise ValueError(f"duplicate column names: {sorted(set(rows.columns[rows.columns.duplicated()]))}")
    missing = [c for c in SFT_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack {len(missing)} canonical column(s): {missing}")
    extras = [c for c in rows.columns if c not in SFT_COLUMNS and c not in ROW_ID_COLUMNS]
    bad = [c for c in extras if not isinstance(c, str) or c in _RESERVED]
    if bad:
        raise ValueError(f"extra column name(s) {bad} are reserved or not strings")
    given_ids = [c for c in ROW_ID_COLUMNS if c in rows.columns]
    if synthetic is None and given_ids:
        raise ValueError(f"rows carry {given_ids} but no synthetic symbols are given to check them against")
    columns: list[Column] = []
    data: dict[str, pd.Series] = {}
    arrow: dict[str, pa.Array | None] = {}
    for name in [*SFT_COLUMNS, *extras]:
        series = rows[name].reset_index(drop=True)
        kind = _kind(series)
        required = _REQUIRED_KINDS.get(name)
        if required and kind != required:
            raise TypeError(f"column {name!r} must be {_KINDS[required][0]}, got dtype {series.dtype}")
        if (
            kind == "str"
            and name in messages.MESSAGE_COLUMNS
            and messages.is_message_column(name, series.to_numpy(dtype=object))
        ):
            kind = "messages"
            data[name] = _message_texts(series, first_row, arrow)
        else:
            data[name] = _normalise(series, kind, arrow)
        columns.append(Column(name, kind))
    for name in ("asset_symbol", *LLM_COLUMNS):
        nulls = int(data[name].isna().sum())
        if nulls:
            raise ValueError(f"{name} is null in {nulls} row(s)")
    if synthetic is not None:  # after the null checks: a row_id needs its symbol
        at = len(SFT_COLUMNS)
        added = _row_id_columns(data["asset_symbol"], data["timestamp"], synthetic, rows, first_row)
        data = {**dict(list(data.items())[:at]), **added, **dict(list(data.items())[at:])}
        columns[at:at] = [Column("row_id", "str"), Column("is_synthetic", "boolean")]
    for name in JSON_COLUMNS:
        if json_valid:
            _check_negative_zeros(data[name], first_row, arrow.get(name))
        else:
            _check_strict_json(data[name], first_row)
    frame = pd.DataFrame(data)
    if _in_order(frame["timestamp"], frame["asset_symbol"]):
        if texts is not None:
            texts.update({name: array for name, array in arrow.items() if array is not None})
        return frame, columns
    frame = frame.sort_values(ORDER_BY, kind="stable").reset_index(drop=True)
    duplicated = frame.duplicated(ORDER_BY, keep=False)
    if duplicated.any():
        examples = frame.loc[duplicated, ORDER_BY].drop_duplicates().head(3)
        shown = ", ".join(f"({t:%Y-%m-%d}, {s})" for t, s in examples.itertuples(index=False))
        raise ValueError(f"{int(duplicated.sum())} rows share a (timestamp, asset_symbol) key, e.g. {shown}")
    return frame, columns
