"""What one partition's materialisation says about its own rows: their count, assets, days and a small preview.

A run stores many partitions (a single-run backfill), and Dagster copies the step's output metadata onto every
partition's materialisation event; what belongs to one partition is attached to its event alone
(``attach``: ``add_asset_metadata`` with the partition key). The summary is computed where a partition's rows
are at hand: in ``PartitionStore.write`` (in-process, and on Spark through the driver) and in the Spark tasks
that stage a partition's file (``direct.py``, store to store), so the driver never reads the rows back for it.
It is small and JSON-able (plain ints and strings): a Spark task returns it beside the file's sha256.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetKey, MetadataValue

PREVIEW_ROWS = 3
"""The partition's last rows the preview shows."""
PREVIEW_COLUMNS = 6
"""At most this many columns in the preview: the keys first, then a few values (the widest rows have ~100)."""
PREVIEW_CELL = 24
"""Characters of a cell the preview keeps (a prompt's JSON is cut)."""
MAX_ASSETS = 30
"""Symbols the ``assets`` field names before it only counts the rest."""
KEY_COLUMNS = ("timestamp", "asset_symbol", "benchmark", "decision_time")
PREFERRED = ("price_close", "value", "target_return_90d", "validation_error")
"""Columns shown after the keys when present, before the others in the table's order."""

Summary = dict[str, int | str]
"""``rows``; with rows, ``date_range`` (first..last UTC day), ``preview`` (Markdown) and, with an
``asset_symbol`` column, ``assets``."""


def partition_summary(table: pa.Table) -> Summary:
    """The summary of one partition's rows (``Summary``): ``{"rows": 0}`` for a partition without any."""
    rows = table.num_rows
    summary: Summary = {"rows": rows}
    if not rows:
        return summary
    names = table.column_names
    if "asset_symbol" in names:
        symbols = sorted(str(s) for s in pc.unique(table.column("asset_symbol").drop_null()).to_pylist())
        shown = ", ".join(symbols[:MAX_ASSETS])
        summary["assets"] = shown if len(symbols) <= MAX_ASSETS else f"{shown} … ({len(symbols)} assets)"
    if "timestamp" in names:
        span = pc.min_max(table.column("timestamp"))
        first, last = span["min"].as_py(), span["max"].as_py()
        if first is not None:
            summary["date_range"] = f"{_utc(first, day=True)}..{_utc(last, day=True)}"
    summary["preview"] = _preview(table)
    return summary


def _utc(moment: datetime, *, day: bool = False) -> str:
    """``YYYY-MM-DD`` of an instant's UTC day; with a time of day other than midnight (and not ``day``), ``HH:MM``
    too. Without pandas: a preview is made for every partition of a run."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    if day or (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def _preview(table: pa.Table) -> str:
    """The last ``PREVIEW_ROWS`` rows of a few columns as a Markdown table, saying what it leaves out."""
    names = table.column_names
    keys = [c for c in KEY_COLUMNS if c in names]
    rest = [c for c in PREFERRED if c in names and c not in keys]
    rest += [c for c in names if c not in keys and c not in rest]
    columns = (keys + rest)[:PREVIEW_COLUMNS]
    last = table.slice(max(table.num_rows - PREVIEW_ROWS, 0)).select(columns).to_pylist()
    shown = f"{len(columns)} of {len(names)} columns" if len(columns) < len(names) else "every column"
    lines = [
        f"Last {len(last)} of the partition's {table.num_rows} rows; {shown}, cells cut at {PREVIEW_CELL} characters.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in last]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        text = _utc(value)
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= PREVIEW_CELL else text[: PREVIEW_CELL - 1] + "…"


def partition_metadata(summary: Mapping[str, int | str]) -> dict[str, object]:
    """A partition's summary as Dagster metadata: the preview as Markdown, the row count also under Dagster's
    ``dagster/partition_row_count``."""
    metadata: dict[str, object] = {"rows": int(summary["rows"]), "dagster/partition_row_count": int(summary["rows"])}
    for name in ("assets", "date_range"):
        if name in summary:
            metadata[name] = str(summary[name])
    if "preview" in summary:
        metadata["preview"] = MetadataValue.md(str(summary["preview"]))
    return metadata


AddMetadata = Callable[..., None]
"""``add_asset_metadata(metadata, asset_key=…, partition_key=…)`` of an asset's or a step's context."""


def attach(add: AddMetadata, asset_key: AssetKey, summaries: Mapping[str, Mapping[str, int | str]]) -> None:
    """Put each partition's summary on that partition's materialisation event alone."""
    for key, summary in summaries.items():
        add(partition_metadata(summary), asset_key=asset_key, partition_key=key)
