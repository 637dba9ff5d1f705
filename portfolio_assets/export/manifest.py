"""The manifest (``manifest.json``): rows, splits, boundaries, files with their sha256, schema, provenance."""

from __future__ import annotations

import json
import platform
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from portfolio_assets.export.encoders import (
    CSV_READ_OPTIONS,
    PARQUET_COMPRESSION,
    PARQUET_COMPRESSION_LEVEL,
    PARQUET_ROW_GROUP_SIZE,
    PARQUET_VERSION,
)
from portfolio_assets.export.frame import ORDER_BY, Column
from portfolio_assets.export.shards import SHARD_RULES
from portfolio_assets.export.splits import BOUNDARIES, LABELS, SPLIT_RULE, SPLITS, SplitConfig, Splits
from portfolio_assets.timeutil import ISO_UTC_FORMAT

__all__ = [
    "FORMAT_NOTES",
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "ExportedFile",
    "build_manifest",
    "manifest_bytes",
]

MANIFEST_FORMAT = "portfolio_assets.training_set_export"
MANIFEST_VERSION = 2
"""2: purge at every boundary; ``rows.excluded_by_boundary`` replaces ``rows.excluded_by_split``."""
MANIFEST_NAME = "manifest.json"


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


FORMAT_NOTES: dict[str, dict[str, object]] = {
    "csv": {
        "encoding": "utf-8",
        "separator": ",",
        "quoting": 'RFC 4180 minimal: fields with , " CR or LF quoted, " doubled',
        "line_terminator": "\\n",
        "header": True,
        "timestamp_format": ISO_UTC_FORMAT,
        "float_format": "Python repr (shortest round-trip); -0.0 written 0.0",
        "boolean": "true / false",
        "missing": "empty field",
        "pandas_read_options": CSV_READ_OPTIONS,
        "message_lists": "the JSON text of the array (compact, role then content)",
    },
    "jsonl": {
        "encoding": "utf-8",
        "record": "one strict JSON object per line (no NaN / Infinity), keys in column order",
        "timestamp_format": ISO_UTC_FORMAT,
        "float_format": "Python repr (shortest round-trip); -0.0 written 0.0",
        "missing": "null",
        "message_lists": 'the JSON array itself: [{"role": ..., "content": ...}, ...]',
        "pandas_read_options": {"lines": True, "precise_float": True, "dtype": False, "convert_dates": False},
    },
    "parquet": {
        "writer": "pyarrow",
        "compression": PARQUET_COMPRESSION,
        "compression_level": PARQUET_COMPRESSION_LEVEL,
        "row_group_size": PARQUET_ROW_GROUP_SIZE,
        "format_version": PARQUET_VERSION,
        "timestamp_type": "timestamp[ns, tz=UTC]",
        "missing": "null",
        "message_lists": "list<struct<role: string, content: string>>",
    },
}


def manifest_bytes(obj: object) -> bytes:
    """``obj`` as the manifest's JSON text: indented, keys sorted, UTF-8, strict (no NaN), final newline."""
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


def _synthetic_counts(symbols: pd.Series, labels: pd.Series, synthetic: Collection[str]) -> dict[str, object]:
    """Exported rows real vs synthetic (``is_synthetic``), in total and per split, and the synthetic assets."""
    flags = symbols.isin(frozenset(synthetic)).to_numpy(dtype=bool)

    def split(mask: np.ndarray) -> dict[str, int]:
        return {"real": int((mask & ~flags).sum()), "synthetic": int((mask & flags).sum())}

    return {
        "by_synthetic": split(np.ones(len(flags), dtype=bool)),
        "by_split_synthetic": {s: split((labels == s).to_numpy(dtype=bool)) for s in SPLITS},
        "synthetic_assets": sorted(set(symbols[flags])),
    }


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
    synthetic: Collection[str] = (),
) -> dict[str, object]:
    """The manifest of an export (without ``cards``, ``columns`` and ``folds``, which the exporter adds once those
    files are written). ``synthetic``: the symbols whose own price series is synthetic (``is_synthetic``)."""
    labels = splits.labels.astype(pd.CategoricalDtype(LABELS))  # compared by code, not string by string
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
            **_synthetic_counts(exported["asset_symbol"], exported_labels, synthetic),
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
