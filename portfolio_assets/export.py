"""Export of the training set: time-ordered splits with purge and embargo, date shards, CSV / JSONL / Parquet.

Pure (no Dagster) and deterministic: the same rows, split and provenance give
byte-identical files, manifest and dataset card.

Layout of an export directory::

    <out_dir>/manifest.json                      rows, splits, boundaries, files (sha256), schema, provenance
    <out_dir>/README.md                          Hugging Face dataset card (YAML front matter + sections)
    <out_dir>/<format>/README.md                 a card whose config loads that format (Hugging Face infers
                                                 one builder per dataset directory, so formats cannot share one)
    <out_dir>/<format>/<split>/<split>-<shard>.<ext>

``format`` is ``csv``, ``jsonl`` or ``parquet``; ``split`` is ``train``,
``validation`` or ``test``; ``shard`` is the rows' UTC year (``2010``), quarter
(``2010Q1``) or month (``2010-01``). Every format holds the same rows in the
same order (``timestamp``, ``asset_symbol``) with the same columns
(``columns.SFT_COLUMNS`` then any extra column, e.g. ``messages``).

Splits (``assign_splits``): time-ordered, never shuffled, one pair of
boundaries for every asset. A row belongs to the split its ``timestamp`` falls
in; a train row whose label window ``[timestamp, target_timestamp]`` reaches the
validation start is *purged* (so no training label reaches a validation or
test date; validation rows keep theirs, as the rule asks only for training
rows); rows in the first ``embargo_days`` calendar days from each
boundary are *embargoed* (a row that is both counts as embargoed). Purged and
embargoed rows are not exported; the manifest counts them.

Encodings (every format reads back to the same values, floats to the last bit):

* CSV: header, ``,``, RFC 4180 minimal quoting (a field with ``,`` ``"`` CR or LF
  is quoted, ``"`` doubled), ``\\n`` line ends, UTF-8, timestamps
  ``YYYY-MM-DDTHH:MM:SSZ``, floats as Python ``repr`` (shortest text that
  round-trips), booleans ``true``/``false``, an empty field for missing. Read
  with pandas' ``float_precision="round_trip"`` (its default float parser is
  off by one ulp for about a quarter of full-precision values), ``keep_default_na=False``
  and ``na_values=[""]``; ``read_export`` and the card's ``csv`` config do.
* JSONL: one strict JSON object per line (no NaN / Infinity: missing is
  ``null``), keys in column order, same timestamp strings, ints as ints, floats
  as ``repr``, UTF-8 (U+2028 / U+2029 escaped so every line reader agrees).
* Parquet: pyarrow, timestamps ``timestamp[ns, tz=UTC]``, text columns
  ``string``, ``Int64`` as ``int64``, missing as null; zstd level 3, fixed row
  group size, no wall-clock metadata.

Atomicity: everything is written into a hidden sibling directory, which then
replaces ``out_dir`` in one ``renameat2(RENAME_EXCHANGE)`` (Linux; elsewhere two
renames, rolled back on failure) and the previous export is removed. A failure
before that leaves the previous export untouched.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from portfolio_assets.columns import (
    CORE_COLUMNS,
    INDICATOR_COLUMNS,
    LLM_COLUMNS,
    MACRO_COLUMNS,
    SFT_COLUMNS,
    TARGET_COLUMNS,
)
from portfolio_assets.features.sentiment import SENTIMENT_FIELDS
from portfolio_assets.features.sft import SIGNIFICANT_DIGITS

__all__ = [
    "FORMATS",
    "LABELS",
    "SHARD_BY",
    "SPLITS",
    "ExportReport",
    "ExportedFile",
    "SplitConfig",
    "Splits",
    "assign_splits",
    "export_training_set",
    "read_export",
    "read_export_file",
    "sample_sources",
    "shard_key",
]

SPLITS = ("train", "validation", "test")
"""Exported splits, in time order."""
EXCLUDED = ("purged", "embargoed")
LABELS = (*SPLITS, *EXCLUDED)
SHARD_BY = ("year", "quarter", "month")
FORMATS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
"""Export format -> file extension, in the order files are listed."""
ORDER_BY = ["timestamp", "asset_symbol"]
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
HORIZON_DAYS = 90
"""Forecast horizon (``partitions.HORIZON_DAYS``; not imported: that module needs Dagster)."""

MANIFEST_FORMAT = "portfolio_assets.training_set_export"
MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
CARD_NAME = "README.md"

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

# Column kinds: every column is normalised to one of these.
_KINDS = {
    # kind: (pandas dtype as read back, arrow type)
    "timestamp": ("datetime64[ns, UTC]", pa.timestamp("ns", tz="UTC")),
    "float64": ("float64", pa.float64()),
    "Int64": ("Int64", pa.int64()),
    "boolean": ("boolean", pa.bool_()),
    "str": ("str", pa.string()),
}
_REQUIRED_KINDS = {
    "timestamp": "timestamp",
    "target_timestamp": "timestamp",
    **dict.fromkeys(LLM_COLUMNS, "str"),
    "asset_symbol": "str",
    "asset_class": "str",
}
_RESERVED = ("split",)  # read_export adds it
JSON_COLUMNS = ("input", "output", "context_window", "not_applicable")
"""Canonical columns holding JSON text: the export refuses a value that is not strict JSON."""

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


# --------------------------------------------------------------------------- splits


def _as_day(value: object, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"SplitConfig.{name}={value!r} is not an ISO date (YYYY-MM-DD)") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"SplitConfig.{name} must be a datetime.date (a calendar day), got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class SplitConfig:
    """Where the time-ordered splits start, and the embargo after each start.

    Give both ``validation_start`` and ``test_start`` (UTC calendar days; ISO strings
    are accepted), or neither: then ``fractions`` (train, validation, test) place them
    on the sorted unique dates of the rows. ``embargo_days`` calendar days from each
    start are left out of the export.
    """

    validation_start: date | None = None
    test_start: date | None = None
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    embargo_days: int = 0

    def __post_init__(self) -> None:
        validation_start = _as_day(self.validation_start, "validation_start")
        test_start = _as_day(self.test_start, "test_start")
        object.__setattr__(self, "validation_start", validation_start)
        object.__setattr__(self, "test_start", test_start)
        if (validation_start is None) != (test_start is None):
            raise ValueError(
                "SplitConfig: give both validation_start and test_start, or neither "
                f"(then fractions place them); got validation_start={validation_start}, test_start={test_start}"
            )
        if validation_start is not None and test_start is not None and not validation_start < test_start:
            raise ValueError(
                f"SplitConfig: validation_start ({validation_start}) must be before test_start ({test_start})"
            )
        fractions = tuple(self.fractions)
        if len(fractions) != 3:
            raise ValueError(f"SplitConfig.fractions must be 3 numbers (train, validation, test), got {fractions}")
        if not all(
            isinstance(f, int | float) and not isinstance(f, bool) and math.isfinite(f) and f > 0 for f in fractions
        ):
            raise ValueError(f"SplitConfig.fractions must all be finite numbers > 0, got {fractions}")
        if not math.isclose(math.fsum(fractions), 1.0, rel_tol=0.0, abs_tol=1e-9):
            raise ValueError(f"SplitConfig.fractions must sum to 1, got {fractions} (sum {math.fsum(fractions)!r})")
        object.__setattr__(self, "fractions", tuple(float(f) for f in fractions))
        if isinstance(self.embargo_days, bool) or not isinstance(self.embargo_days, int | np.integer):
            raise TypeError(f"SplitConfig.embargo_days must be an int, got {self.embargo_days!r}")
        if self.embargo_days < 0:
            raise ValueError(f"SplitConfig.embargo_days must be >= 0, got {self.embargo_days}")
        object.__setattr__(self, "embargo_days", int(self.embargo_days))


@dataclass(frozen=True, eq=False)
class Splits:
    """The label of every row (indexed like the rows) and the boundaries used."""

    labels: pd.Series
    """``train`` / ``validation`` / ``test`` / ``purged`` / ``embargoed`` per row."""
    boundaries: dict[str, date]
    """``{"validation_start": ..., "test_start": ...}``: first UTC day of each split."""
    embargo_days: int
    source: str
    """``"config"`` (given) or ``"fractions"`` (placed on the sorted unique dates)."""
    base: pd.Series = field(repr=False)
    """The split each row's ``timestamp`` falls in, before purge and embargo."""

    def counts(self) -> dict[str, int]:
        """Rows per label, every label present (0 when none)."""
        found = self.labels.value_counts()
        return {label: int(found.get(label, 0)) for label in LABELS}


def _utc(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows.columns:
        raise ValueError(f"rows have no {column!r} column")
    series = rows[column]
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"{column} must be timezone-aware datetime64 (UTC), got dtype {series.dtype}")
    return series.dt.tz_convert("UTC")


def assign_splits(rows: pd.DataFrame, config: SplitConfig) -> Splits:
    """Label every row ``train`` / ``validation`` / ``test`` / ``purged`` / ``embargoed`` (see the module doc).

    ``rows`` need ``timestamp`` and ``target_timestamp`` (datetime64 UTC, never null,
    target not before timestamp). Raises ``ValueError`` when the boundaries are not
    inside the data or leave a split without rows.
    """
    timestamps = _utc(rows, "timestamp")
    targets = _utc(rows, "target_timestamp")
    if rows.empty:
        raise ValueError("no rows to split")
    for name, series in (("timestamp", timestamps), ("target_timestamp", targets)):
        if series.isna().any():
            raise ValueError(f"{int(series.isna().sum())} row(s) have a null {name}; the split needs both timestamps")
    backwards = targets < timestamps
    if backwards.any():
        raise ValueError(f"{int(backwards.sum())} row(s) have target_timestamp before timestamp")

    days = timestamps.dt.floor("D")
    unique = np.sort(days.unique())
    first, last = pd.Timestamp(unique[0]).date(), pd.Timestamp(unique[-1]).date()
    if config.validation_start is None or config.test_start is None:
        n = len(unique)
        train_f, validation_f, _ = config.fractions
        i_validation = round(n * train_f)
        i_test = round(n * (train_f + validation_f))
        if not 0 < i_validation < i_test < n:
            raise ValueError(
                f"{n} distinct date(s) {first}..{last} are too few to place fractions {config.fractions}: "
                "every split needs at least one date"
            )
        validation_start = pd.Timestamp(unique[i_validation]).date()
        test_start = pd.Timestamp(unique[i_test]).date()
        source = "fractions"
    else:
        validation_start, test_start = config.validation_start, config.test_start
        source = "config"
        if not first < validation_start:
            raise ValueError(
                f"validation_start {validation_start} must be after the first date of the rows ({first}): "
                "train would be empty"
            )
        if not test_start <= last:
            raise ValueError(
                f"test_start {test_start} must be on or before the last date of the rows ({last}): test would be empty"
            )

    v0 = pd.Timestamp(validation_start, tz="UTC")
    t0 = pd.Timestamp(test_start, tz="UTC")
    base = pd.Series(
        np.where(timestamps < v0, "train", np.where(timestamps < t0, "validation", "test")),
        index=rows.index,
        dtype=object,
    )
    for name in SPLITS:
        if not (base == name).any():
            raise ValueError(
                f"no row has a timestamp in the {name} split "
                f"(validation_start {validation_start}, test_start {test_start}, rows {first}..{last})"
            )
    embargo = pd.Timedelta(days=config.embargo_days)
    embargoed = ((timestamps >= v0) & (timestamps < v0 + embargo)) | ((timestamps >= t0) & (timestamps < t0 + embargo))
    # Only training rows are purged (the rule): a train label window must end before the
    # first validation date, hence before every test date too. Validation rows keep their labels.
    purged = (base == "train") & (targets >= v0)
    labels = base.copy()
    labels[purged] = "purged"
    labels[embargoed] = "embargoed"
    splits = Splits(
        labels=labels,
        boundaries={"validation_start": validation_start, "test_start": test_start},
        embargo_days=config.embargo_days,
        source=source,
        base=base,
    )
    for name in SPLITS:
        if not (labels == name).any():
            lost = base == name
            raise ValueError(
                f"the {name} split is empty after purge and embargo ({int((lost & purged).sum())} row(s) purged, "
                f"{int((lost & embargoed).sum())} embargoed; validation_start {validation_start}, "
                f"test_start {test_start}, embargo_days {config.embargo_days}): move the boundaries or shorten "
                "the embargo"
            )
    return splits


# --------------------------------------------------------------------------- shards


def shard_key(timestamps: pd.Series | pd.DatetimeIndex, shard_by: str) -> pd.Series:
    """The shard of each timestamp's UTC date: ``"2010"`` (year), ``"2010Q1"`` (quarter), ``"2010-01"`` (month).

    Keys sort lexicographically in time order.
    """
    if shard_by not in SHARD_BY:
        raise ValueError(f"unknown shard_by {shard_by!r}; expected one of {SHARD_BY}")
    series = pd.Series(timestamps) if isinstance(timestamps, pd.DatetimeIndex) else timestamps
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"shard_key needs timezone-aware datetime64 (UTC) timestamps, got dtype {series.dtype}")
    if series.isna().any():
        raise ValueError("shard_key: null timestamps have no shard")
    utc = series.dt.tz_convert("UTC")
    if shard_by == "year":
        keys = utc.dt.strftime("%Y")
    elif shard_by == "month":
        keys = utc.dt.strftime("%Y-%m")
    else:
        keys = utc.dt.strftime("%Y") + "Q" + utc.dt.quarter.astype(str)
    return keys.astype(object).rename("shard")


# --------------------------------------------------------------------------- canonical frame


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str

    @property
    def dtype(self) -> str:
        return _KINDS[self.kind][0]

    @property
    def arrow(self) -> pa.DataType:
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


def _null_mask(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy(dtype=bool)


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
        return pd.Series(values, index=series.index, name=name)
    if kind == "Int64":
        return series.astype("Int64")
    if kind == "boolean":
        return series.astype("boolean")
    values = series.astype(object).to_numpy()
    nulls = _null_mask(series)
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


def _reject_constant(token: str) -> None:
    raise ValueError(f"non-standard JSON constant {token}")


def _check_strict_json(series: pd.Series) -> None:
    for position, text in enumerate(series):
        if text is None:
            continue
        try:
            json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise ValueError(f"{series.name} of row {position} is not strict JSON ({exc}): {text!r:.80}") from None


def _canonical(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[_Column]]:
    """Canonical columns then extras, each normalised to its kind, sorted by (timestamp, asset_symbol)."""
    if rows.columns.duplicated().any():
        raise ValueError(f"duplicate column names: {sorted(set(rows.columns[rows.columns.duplicated()]))}")
    missing = [c for c in SFT_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack {len(missing)} canonical column(s): {missing}")
    extras = [c for c in rows.columns if c not in SFT_COLUMNS]
    bad = [c for c in extras if not isinstance(c, str) or c in _RESERVED]
    if bad:
        raise ValueError(f"extra column name(s) {bad} are reserved or not strings")
    columns: list[_Column] = []
    data: dict[str, pd.Series] = {}
    for name in [*SFT_COLUMNS, *extras]:
        series = rows[name].reset_index(drop=True)
        kind = _kind(series)
        required = _REQUIRED_KINDS.get(name)
        if required and kind != required:
            raise TypeError(f"column {name!r} must be {_KINDS[required][0]}, got dtype {series.dtype}")
        data[name] = _normalise(series, kind)
        columns.append(_Column(name, kind))
    frame = pd.DataFrame(data)
    for name in ("asset_symbol", *LLM_COLUMNS):
        if frame[name].isna().any():
            raise ValueError(f"{name} is null in {int(frame[name].isna().sum())} row(s)")
    for name in JSON_COLUMNS:
        _check_strict_json(frame[name])
    frame = frame.sort_values(ORDER_BY, kind="stable").reset_index(drop=True)
    duplicated = frame.duplicated(ORDER_BY, keep=False)
    if duplicated.any():
        examples = frame.loc[duplicated, ORDER_BY].drop_duplicates().head(3)
        shown = ", ".join(f"({t:%Y-%m-%d}, {s})" for t, s in examples.itertuples(index=False))
        raise ValueError(f"{int(duplicated.sum())} rows share a (timestamp, asset_symbol) key, e.g. {shown}")
    return frame, columns


# --------------------------------------------------------------------------- cell values


def _python_values(series: pd.Series, kind: str) -> list[object]:
    """JSON-ready Python values: ISO strings, float / int / bool, str, None for missing."""
    if kind == "timestamp":
        text = series.dt.strftime(ISO_UTC_FORMAT)
        return [None if isinstance(v, float) or v is None else v for v in text.tolist()]
    if kind == "float64":
        return [None if v != v else v for v in series.to_numpy(dtype="float64").tolist()]
    nulls = _null_mask(series)
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


def _csv_bytes(part: pd.DataFrame, columns: Sequence[_Column]) -> bytes:
    cells = [[_csv_text(v) for v in _python_values(part[c.name], c.kind)] for c in columns]
    lines = [",".join(_csv_text(c.name) for c in columns)]
    lines += [",".join(row) for row in zip(*cells, strict=True)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _json_line(record: dict[str, object]) -> str:
    text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # U+2028/2029 only occur inside strings, where the escape means the same.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _jsonl_bytes(part: pd.DataFrame, columns: Sequence[_Column]) -> bytes:
    names = [c.name for c in columns]
    values = [_python_values(part[c.name], c.kind) for c in columns]
    lines = [_json_line(dict(zip(names, row, strict=True))) for row in zip(*values, strict=True)]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _arrow_table(part: pd.DataFrame, columns: Sequence[_Column]) -> pa.Table:
    schema = pa.schema([pa.field(c.name, c.arrow, nullable=True) for c in columns])
    return pa.Table.from_pandas(part[[c.name for c in columns]], schema=schema, preserve_index=False)


def _parquet_bytes(part: pd.DataFrame, columns: Sequence[_Column]) -> bytes:
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


_WRITERS: dict[str, Callable[[pd.DataFrame, Sequence[_Column]], bytes]] = {
    "csv": _csv_bytes,
    "jsonl": _jsonl_bytes,
    "parquet": _parquet_bytes,
}


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class ExportedFile:
    """One data file of an export (``path`` relative to the export directory, POSIX)."""

    path: str
    format: str
    split: str
    shard: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ExportReport:
    """What ``export_training_set`` wrote."""

    out_dir: Path
    files: tuple[ExportedFile, ...]
    rows: dict[str, int]
    """Exported rows per split (train, validation, test)."""
    excluded: dict[str, int]
    """Rows not exported: purged, embargoed."""
    boundaries: dict[str, date]
    manifest_path: Path
    card_path: Path


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported here."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"cannot swap {a} and {b}: {os.strerror(code)}")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace_dir(new: Path, target: Path) -> None:
    """Put directory ``new`` at ``target`` in one rename; the previous ``target`` (if any) is removed after."""
    if not target.exists():
        os.rename(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous export
    else:
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:12]}")
        os.rename(target, old)
        try:
            os.rename(new, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(target.parent)


def _check_target(out_dir: Path) -> None:
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise ValueError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).is_file():
        raise ValueError(
            f"refusing to replace {out_dir}: it is not empty and has no {MANIFEST_NAME}, so it is not a previous export"
        )


# --------------------------------------------------------------------------- manifest


def _jsonable(value: object, where: str = "provenance") -> object:
    """``value`` as plain JSON data (dates as ISO text, paths as text, sets sorted), or TypeError."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{where} is {number!r}, which strict JSON cannot carry")
        return number
    if isinstance(value, datetime):
        stamp = pd.Timestamp(value)
        return stamp.tz_convert("UTC").strftime(ISO_UTC_FORMAT) if stamp.tzinfo else stamp.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            out[key] = _jsonable(item, f"{where}.{key}")
        return out
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v, where) for v in value)  # type: ignore[type-var]
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} holds a {type(value).__name__}, which is not JSON data")


def _dump(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d}"


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(series.value_counts().items())}


def _range(part: pd.DataFrame) -> dict[str, object]:
    return {
        "first": _day(part["timestamp"].min()),
        "last": _day(part["timestamp"].max()),
        "last_target": _day(part["target_timestamp"].max()),
        "days": int(part["timestamp"].nunique()),
    }


PRETTY_NAME = "Point-in-time 90-day asset price forecasting (instruction tuning)"

SPLIT_RULE = (
    "Time-ordered, never shuffled; the same boundaries for every asset. A row belongs to the split its "
    "timestamp (UTC day) falls in: train before validation_start, validation from validation_start to the "
    "day before test_start, test from test_start. Purge: a train row whose label window "
    "[timestamp, target_timestamp] reaches validation_start or later (so it overlaps no validation or test "
    "date) is dropped ('purged'). Embargo: rows in the first embargo_days calendar days "
    "from each boundary are dropped ('embargoed'; a row that is both counts as embargoed)."
)


def _manifest(
    frame: pd.DataFrame,
    columns: Sequence[_Column],
    splits: Splits,
    config: SplitConfig,
    shards: pd.Series,
    shard_by: str,
    formats: Sequence[str],
    files: Sequence[ExportedFile],
    provenance: object,
) -> dict[str, object]:
    labels = splits.labels
    exported = frame[labels.isin(SPLITS)]
    exported_labels = labels[labels.isin(SPLITS)]
    exported_shards = shards[labels.isin(SPLITS)]
    by_split = {s: int((labels == s).sum()) for s in SPLITS}
    excluded = {s: {e: int(((splits.base == s) & (labels == e)).sum()) for e in EXCLUDED} for s in SPLITS}
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
            "excluded_by_split": excluded,
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
            "rule": {
                "year": "UTC year of timestamp (YYYY)",
                "quarter": "UTC calendar quarter of timestamp (YYYYQn)",
                "month": "UTC month of timestamp (YYYY-MM)",
            }[shard_by],
        },
        "formats": {fmt: _FORMAT_NOTES[fmt] for fmt in formats},
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


_FORMAT_NOTES: dict[str, dict[str, object]] = {
    "csv": {
        "encoding": "utf-8",
        "separator": ",",
        "quoting": 'RFC 4180 minimal: fields with , " CR or LF quoted, " doubled',
        "line_terminator": "\\n",
        "header": True,
        "timestamp_format": ISO_UTC_FORMAT,
        "float_format": "Python repr (shortest round-trip)",
        "boolean": "true / false",
        "missing": "empty field",
        "pandas_read_options": CSV_READ_OPTIONS,
    },
    "jsonl": {
        "encoding": "utf-8",
        "record": "one strict JSON object per line (no NaN / Infinity), keys in column order",
        "timestamp_format": ISO_UTC_FORMAT,
        "float_format": "Python repr (shortest round-trip)",
        "missing": "null",
    },
    "parquet": {
        "writer": "pyarrow",
        "compression": PARQUET_COMPRESSION,
        "compression_level": PARQUET_COMPRESSION_LEVEL,
        "row_group_size": PARQUET_ROW_GROUP_SIZE,
        "format_version": PARQUET_VERSION,
        "timestamp_type": "timestamp[ns, tz=UTC]",
        "missing": "null",
    },
}


# --------------------------------------------------------------------------- dataset card


def _size_category(n: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    for bound, label in bounds:
        if n < bound:
            return label
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def _synthetic_sources(sources: object) -> list[str] | None:
    """Names of the sources marked synthetic, or None when ``sources`` does not say."""
    found: list[str] = []
    if isinstance(sources, Mapping):
        for name, value in sources.items():
            kind = value.get("kind") if isinstance(value, Mapping) else value
            if kind is None:
                return None
            if kind == "synthetic":
                found.append(str(name))
    elif isinstance(sources, list):
        for item in sources:
            if not isinstance(item, Mapping) or "kind" not in item:
                return None
            if item["kind"] == "synthetic":
                name = (
                    item.get("name")
                    or "/".join(str(item[k]) for k in ("source", "series_key") if k in item)
                    or item.get("path")
                )
                found.append(str(name))
    else:
        return None
    return sorted(found)


def _group(name: str) -> str:
    groups = [
        (LLM_COLUMNS, "LLM text"),
        (CORE_COLUMNS, "core"),
        (TARGET_COLUMNS, "target"),
        (INDICATOR_COLUMNS, "indicator"),
        (MACRO_COLUMNS, "macro"),
        (SENTIMENT_FIELDS, "sentiment"),
        (["reference_close", "market_cap"], "reference"),
        (["not_applicable"], "applicability"),
    ]
    for members, label in groups:
        if name in members:
            return label
    return "extra"


def _inline(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _cell(value: object) -> str:
    return _inline(value).replace("|", "\\|").replace("\n", " ")


def _provenance_lines(key: str, value: object) -> list[str]:
    """A provenance entry: inline, or a table when it maps names to records (e.g. ``sources``)."""
    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        fields = sorted({k for v in value.values() for k in v})  # type: ignore[union-attr]
        lines = [f"* **{key}**:", "", f"| name | {' | '.join(fields)} |", "|---" * (len(fields) + 1) + "|"]
        for name in sorted(value):
            record = value[name]
            lines.append(f"| `{name}` | " + " | ".join(_cell(record.get(f, "")) for f in fields) + " |")  # type: ignore[union-attr]
        return [*lines, ""]
    return [f"* **{key}**: `{_inline(value)}`"]


def _default_format(formats: Sequence[str]) -> str:
    return "parquet" if "parquet" in formats else formats[0]


def _front_matter(manifest: Mapping[str, object], fmt: str, prefix: str) -> str:
    """YAML front matter of a card whose config loads ``fmt``'s files (paths relative to the card)."""
    files: list[dict[str, object]] = manifest["files"]  # type: ignore[assignment]
    config: dict[str, object] = {"config_name": fmt, "default": True}
    config["data_files"] = [
        {
            "split": s,
            "path": [str(f["path"]).removeprefix(prefix) for f in files if f["format"] == fmt and f["split"] == s],
        }
        for s in SPLITS
    ]
    if fmt == "csv":
        config.update(CSV_READ_OPTIONS)
    front = {
        "license": "other",
        "task_categories": ["text-generation"],
        "language": ["en"],
        "pretty_name": PRETTY_NAME,
        "size_categories": [_size_category(int(manifest["rows"]["exported"]))],  # type: ignore[index]
        "tags": ["finance", "time-series", "forecasting", "instruction-tuning"],
        "configs": [config],
    }
    text = yaml.safe_dump(front, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    return f"---\n{text}---"


def _format_card(manifest: Mapping[str, object], fmt: str) -> str:
    """The card of one format directory: a config for its files, and a pointer to the export's card."""
    files = [f for f in manifest["files"] if f["format"] == fmt]  # type: ignore[union-attr,index]
    by_split = manifest["rows"]["by_split"]  # type: ignore[index]
    out = [
        _front_matter(manifest, fmt, prefix=f"{fmt}/"),
        f"# {PRETTY_NAME} — {fmt}",
        "",
        f"The {fmt} files of the export described in [`../{CARD_NAME}`](../{CARD_NAME}) (the rows, how they were "
        f"built, the split rule, known limits); `../{MANIFEST_NAME}` has every file's sha256 and the provenance. "
        "The other formats hold the same rows.",
        "",
        *(f"* {s}: {by_split[s]} rows in {sum(f['split'] == s for f in files)} file(s)" for s in SPLITS),
        "",
    ]
    if fmt == "csv":
        out += [
            "Read with `float_precision='round_trip', keep_default_na=False, na_values=['']` (the config above "
            "does): pandas' default float parser may change the last bit of a float.",
            "",
        ]
    return "\n".join(out)


def _card(manifest: Mapping[str, object]) -> str:
    rows = manifest["rows"]
    split = manifest["split"]
    sharding = manifest["sharding"]
    ranges = manifest["date_range"]
    files: list[dict[str, object]] = manifest["files"]  # type: ignore[assignment]
    schema: list[dict[str, str]] = manifest["schema"]  # type: ignore[assignment]
    provenance = manifest["provenance"]
    formats = list(manifest["formats"])  # type: ignore[arg-type]
    boundaries = split["boundaries"]  # type: ignore[index]
    if split["boundary_source"] == "config":  # type: ignore[index]
        origin = "given in the split configuration"
    else:
        origin = f"placed by fractions {_inline(split['fractions'])} on the sorted unique dates"  # type: ignore[index]
    names = [c["name"] for c in schema]
    extras = [n for n in names if n not in SFT_COLUMNS]

    default = _default_format(formats)
    front = _front_matter(manifest, default, prefix="")
    prov = provenance if isinstance(provenance, Mapping) else {}
    synthetic = _synthetic_sources(prov.get("sources"))
    by_split = rows["by_split"]  # type: ignore[index]
    excluded = rows["excluded_by_split"]  # type: ignore[index]

    out: list[str] = [front, ""]  # front matter, blank line, body
    out += [
        f"# {PRETTY_NAME}",
        "",
        f"{rows['exported']} rows ({rows['input']} built, {rows['purged']} purged, {rows['embargoed']} embargoed), "  # type: ignore[index]
        f"{len(rows['by_asset'])} assets, {ranges['exported']['first']} .. {ranges['exported']['last']}, "  # type: ignore[index]
        f"in {', '.join(formats)}. Built by the `portfolio_assets` Dagster project.",
        "",
        "## What the rows are",
        "",
        "One row per asset per observation day (UTC). The model reads `instruction` (the task: asset, class, "
        f"date, {HORIZON_DAYS}-day horizon) and `input` (strict JSON of the features), and learns to write `output` "
        "(strict JSON of the forecast targets). `context_window` is a strict JSON array of the last closes, "
        "oldest first, ending at the day's close.",
    ]
    if "prompt_format" in prov:
        out += ["", f"Prompt format: `{_inline(prov['prompt_format'])}`."]
    if "messages" in extras:
        out += [
            "",
            "`messages` is a JSON array (as text) of system / user / assistant messages built from the same "
            "instruction, input and output; `json.loads` it for a conversational trainer.",
        ]
    out += [
        "",
        "Every canonical column follows the text columns, at full float64 precision: OHLCV, the targets "
        f"(`target_timestamp`, `target_price_90d`, `target_return_90d` = log return, `target_return_pct_90d`), "
        f"{len(INDICATOR_COLUMNS)} technical and cross-asset indicators, {len(MACRO_COLUMNS)} macro fields, "
        f"{len(SENTIMENT_FIELDS)} sentiment fields, the reference close and market cap, and `not_applicable` "
        "(JSON array of the features that do not apply to the asset, as opposed to missing ones)"
        + (f", then {', '.join(f'`{e}`' for e in extras)}" if extras else "")
        + ".",
        "",
        "| # | column | dtype | group |",
        "|---|--------|-------|-------|",
    ]
    out += [f"| {i} | `{c['name']}` | {c['dtype']} | {_group(c['name'])} |" for i, c in enumerate(schema, 1)]
    out += [
        "",
        "## How they were built",
        "",
        "* **Point in time.** A feature for day D uses only what was knowable at D's close: macro values from "
        "their release date (first release where known, else period end plus the series' publication lag), "
        "news and social aggregates of the previous UTC day for assets that close before 24:00 UTC, "
        "indicators from prices up to D. Nothing is filled backwards; missing stays missing (null).",
        f"* **Targets.** The close {HORIZON_DAYS} calendar days after D (the last trading day on or before it), "
        "its log return and percent return from D's close. `target_timestamp` is the day the target close was "
        "observed, so `[timestamp, target_timestamp]` is each row's label window.",
        "* **Checks.** "
        + (
            f"Passed before export (provenance): {_inline(prov['checks_passed'])}. "
            if "checks_passed" in prov
            else "The provenance lists no upstream checks. "
        )
        + "The exporter itself requires every canonical column, UTC timestamps, unique (timestamp, asset_symbol), "
        f"no ±inf, non-empty text and strict JSON in {', '.join(f'`{c}`' for c in JSON_COLUMNS)}.",
        "",
        "## Splits",
        "",
        str(split["rule"]),  # type: ignore[index]
        "",
        f"* validation_start: **{boundaries['validation_start']}**, test_start: **{boundaries['test_start']}** "
        f"({origin})",
        f"* embargo_days: **{split['embargo_days']}**",  # type: ignore[index]
        "",
        "| split | rows | first day | last day | last target day | purged | embargoed |",
        "|-------|------|-----------|----------|-----------------|--------|-----------|",
    ]
    for s in SPLITS:
        r = ranges[s]  # type: ignore[index]
        out.append(
            f"| {s} | {by_split[s]} | {r['first']} | {r['last']} | {r['last_target']} | "
            f"{excluded[s]['purged']} | {excluded[s]['embargoed']} |"
        )
    out += [
        "",
        "## Shards and files",
        "",
        f"Sharded by {sharding['shard_by']} ({sharding['rule']}): `<format>/<split>/<split>-<shard>.<ext>`. "  # type: ignore[index]
        "Every format holds the same rows in the same order (timestamp, asset_symbol). "
        "`manifest.json` lists every file with its row count, size and sha256, and the counts per split, shard "
        "and asset.",
        "",
        "| file | rows | bytes | sha256 |",
        "|------|------|-------|--------|",
    ]
    out += [f"| `{f['path']}` | {f['rows']} | {f['bytes']} | `{f['sha256']}` |" for f in files]
    out += [
        "",
        "### Loading",
        "",
        f"The front matter's config loads the {default} files. A Hugging Face dataset directory holds one "
        "format, so each format directory has its own card and config:",
        "",
        "```python",
        "from datasets import load_dataset",
        f"ds = load_dataset('path/to/export')  # {default}: train / validation / test",
        *(f"ds = load_dataset('path/to/export/{fmt}')" for fmt in formats if fmt != default),
        "",
        "import pandas as pd",
        "# CSV: read floats exactly and keep text such as 'NA' as text",
        "pd.read_csv(path, float_precision='round_trip', keep_default_na=False, na_values=[''])",
        "```",
        "",
        "Hugging Face reads the timestamps of CSV as strings and of JSONL as timezone-naive timestamps (UTC); "
        "Parquet keeps `timestamp[ns, tz=UTC]`. The values are the same.",
        "",
        "## Known limits",
        "",
    ]
    if synthetic is None:
        out.append("* The provenance does not say which source series are real and which are synthetic.")
    elif synthetic:
        out.append(
            f"* **Synthetic series.** {len(synthetic)} source series are seeded synthetic stand-ins, not market data "
            "(the sample manifest marks them): " + ", ".join(f"`{s}`" for s in synthetic) + ". Rows built from them "
            "teach the format, not the market."
        )
    else:
        out.append("* Every source series is marked real.")
    out += [
        f"* The JSON text (`input`, `output`, `context_window`) rounds numbers to {SIGNIFICANT_DIGITS} significant "
        "digits; the canonical columns keep full float64.",
        f"* Labels overlap: consecutive days of an asset share most of their {HORIZON_DAYS}-day window, so rows "
        "are strongly autocorrelated within a split; the purge only keeps windows from crossing split boundaries.",
        "* The boundaries are the same calendar days for every asset; assets trading on weekends (crypto) have "
        "more rows per period than equities, FX and commodities.",
        "* Timestamps are UTC days (00:00:00Z) labelling the day's close, whatever the market's time zone.",
        "* In CSV an empty field is missing (exported text is never empty); read with the options above, or "
        "pandas' default float parser may change the last bit of a float.",
        "",
        "## Provenance",
        "",
    ]
    if prov:
        for key in sorted(prov):
            out += _provenance_lines(key, prov[key])
    else:
        out.append("* (none given)")
    libraries = manifest["libraries"]
    out += [
        "",
        "Written with " + ", ".join(f"{k} {v}" for k, v in sorted(libraries.items())) + ".",  # type: ignore[union-attr]
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- export


def _check_formats(formats: Iterable[str]) -> list[str]:
    given = list(formats) if not isinstance(formats, str) else [formats]
    unknown = [f for f in given if f not in FORMATS]
    if unknown or not given:
        raise ValueError(f"unknown or no formats {unknown or given}; expected some of {list(FORMATS)}")
    if len(set(given)) != len(given):
        raise ValueError(f"formats listed twice: {given}")
    return [f for f in FORMATS if f in given]


def export_training_set(
    rows: pd.DataFrame,
    out_dir: Path | str,
    *,
    split: SplitConfig,
    shard_by: str = "year",
    formats: Iterable[str] = ("csv", "jsonl", "parquet"),
    provenance: Mapping[str, object],
) -> ExportReport:
    """Split, shard and write ``rows`` (the canonical sft rows) to ``out_dir`` atomically; see the module doc.

    ``rows`` need every column of ``SFT_COLUMNS`` (timestamps datetime64 UTC); extra
    columns are kept after them. ``provenance`` (JSON data; dates and paths are
    turned into text) is copied into the manifest and the dataset card.
    """
    if shard_by not in SHARD_BY:
        raise ValueError(f"unknown shard_by {shard_by!r}; expected one of {SHARD_BY}")
    fmts = _check_formats(formats)
    if not isinstance(split, SplitConfig):
        raise TypeError(f"split must be a SplitConfig, got {type(split).__name__}")
    if not isinstance(provenance, Mapping):
        raise TypeError(f"provenance must be a mapping, got {type(provenance).__name__}")
    prov = _jsonable(provenance)
    frame, columns = _canonical(rows)
    splits = assign_splits(frame, split)
    shards = shard_key(frame["timestamp"], shard_by)

    out_dir = Path(out_dir)
    _check_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.staging-{uuid.uuid4().hex[:12]}")
    staging.mkdir()
    try:
        files: list[ExportedFile] = []
        for fmt in fmts:
            for name in SPLITS:
                in_split = splits.labels == name
                for shard in sorted(set(shards[in_split])):
                    part = frame[in_split & (shards == shard)].reset_index(drop=True)
                    relative = f"{fmt}/{name}/{name}-{shard}.{FORMATS[fmt]}"
                    data = _WRITERS[fmt](part, columns)
                    _write_file(staging / relative, data)
                    files.append(
                        ExportedFile(
                            path=relative,
                            format=fmt,
                            split=name,
                            shard=shard,
                            rows=len(part),
                            bytes=len(data),
                            sha256=hashlib.sha256(data).hexdigest(),
                        )
                    )
        manifest = _manifest(frame, columns, splits, split, shards, shard_by, fmts, files, prov)
        cards = {CARD_NAME: _card(manifest), **{f"{fmt}/{CARD_NAME}": _format_card(manifest, fmt) for fmt in fmts}}
        manifest["cards"] = []
        for relative, text in cards.items():
            data = text.encode("utf-8")
            _write_file(staging / relative, data)
            manifest["cards"].append({"path": relative, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        _write_file(staging / MANIFEST_NAME, _dump(manifest))
        _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    counts = splits.counts()
    return ExportReport(
        out_dir=out_dir,
        files=tuple(files),
        rows={s: counts[s] for s in SPLITS},
        excluded={e: counts[e] for e in EXCLUDED},
        boundaries=dict(splits.boundaries),
        manifest_path=out_dir / MANIFEST_NAME,
        card_path=out_dir / CARD_NAME,
    )


# --------------------------------------------------------------------------- reading back


def _with_dtypes(frame: pd.DataFrame, schema: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """``frame``'s columns (as read from any format) converted to the exported dtypes, in schema order."""
    out: dict[str, pd.Series] = {}
    for column in schema:
        name, dtype = column["name"], column["dtype"]
        series = frame[name]
        if dtype == "datetime64[ns, UTC]":
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                series = series.dt.tz_convert("UTC").dt.as_unit("ns")
            elif pd.api.types.is_datetime64_dtype(series.dtype):  # e.g. Hugging Face's JSON reader: naive UTC
                series = series.dt.tz_localize("UTC").dt.as_unit("ns")
            else:
                series = pd.to_datetime(series, format=ISO_UTC_FORMAT, utc=True).dt.as_unit("ns")
        elif dtype == "str":
            series = series.astype(object).where(series.notna(), None)
        else:
            series = series.astype(dtype)
        out[name] = series
    return pd.DataFrame(out)


def read_export_file(path: Path | str, schema: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """One exported file (by its extension) with the manifest's ``schema`` dtypes."""
    path = Path(path)
    names = [c["name"] for c in schema]
    if path.suffix == ".csv":
        text_dtypes = {c["name"]: {"str": str, "datetime64[ns, UTC]": str}.get(c["dtype"], c["dtype"]) for c in schema}
        frame = pd.read_csv(path, dtype=text_dtypes, encoding="utf-8", **CSV_READ_OPTIONS)  # type: ignore[arg-type]
    elif path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as handle:
            records = [json.loads(line, parse_constant=_reject_constant) for line in handle]
        frame = pd.DataFrame.from_records(records, columns=names)
    elif path.suffix == ".parquet":
        frame = pq.read_table(path).to_pandas()
    else:
        raise ValueError(f"{path}: not an exported file (.csv, .jsonl or .parquet)")
    if list(frame.columns) != names:
        raise ValueError(f"{path}: columns differ from the manifest's schema")
    return _with_dtypes(frame, schema)


def read_export(out_dir: Path | str, fmt: str) -> pd.DataFrame:
    """Every exported row of format ``fmt`` (train, validation, test in order), plus a ``split`` column."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    schema = manifest["schema"]
    files = [f for f in manifest["files"] if f["format"] == fmt]
    if not files:
        raise ValueError(f"{out_dir}: no {fmt} files in this export")
    files.sort(key=lambda f: (SPLITS.index(f["split"]), f["shard"]))
    frames = [read_export_file(out_dir / f["path"], schema).assign(split=f["split"]) for f in files]
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- provenance helper


SAMPLE_MANIFEST = Path(__file__).parent / "sample_data" / "manifest.json"


def sample_sources(manifest_path: Path | str = SAMPLE_MANIFEST) -> dict[str, dict[str, str]]:
    """The bundled sample's series, ``"<source>/<series_key>"`` -> ``{"kind": "real"|"synthetic", "origin": ...}``,
    for ``provenance["sources"]``."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    return {
        f"{s['source']}/{s['series_key']}": {"kind": s["kind"], "origin": s.get("origin", "")}
        for s in manifest["series"]
    }
