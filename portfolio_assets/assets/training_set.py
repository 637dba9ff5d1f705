"""training_set: the exported CSV a fine-tuning job reads."""

import os
import tempfile
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, BackfillPolicy, MaterializeResult, MetadataValue, asset

from portfolio_assets.assets.windows import run_window
from portfolio_assets.columns import SFT_COLUMNS
from portfolio_assets.partitions import LABELLED_PARTITIONS
from portfolio_assets.resources import ExportResource
from portfolio_assets.schemas import TrainingSetSchema, table_schema, validate_rows


def csv_ready(rows: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO 8601 UTC strings; everything else as stored."""
    out = rows[SFT_COLUMNS].copy()
    for column in ("timestamp", "target_timestamp"):
        out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.sort_values(["timestamp", "asset_symbol"], kind="stable").reset_index(drop=True)


def write_csv_atomically(frame: pd.DataFrame, target: Path) -> None:
    """Write ``frame`` to ``target`` through a temporary file, so a crash leaves no partial CSV."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            frame.to_csv(handle, index=False, lineterminator="\n", float_format="%.17g")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@asset(
    group_name="training_set",
    partitions_def=LABELLED_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    ins={"sft_rows": AssetIn()},
    kinds={"csv"},
    metadata={"dagster/column_schema": table_schema(TrainingSetSchema)},
)
def training_set(context: AssetExecutionContext, export: ExportResource, sft_rows: pd.DataFrame) -> MaterializeResult:
    """The training set as CSV under the export directory: columns instruction, input, output,
    context_window (JSON array string) and every canonical column, one file per materialised
    partition range (training_set_<first>_<last>.csv), written atomically."""
    first, last = run_window(context)
    rows = csv_ready(sft_rows)
    result = validate_rows(rows, TrainingSetSchema)
    if not result.ok:
        raise ValueError(f"training_set {first:%Y-%m-%d}..{last:%Y-%m-%d}: not exported: {result.summary()}")
    target = Path(export.export_dir) / f"training_set_{first:%Y-%m-%d}_{last:%Y-%m-%d}.csv"
    write_csv_atomically(rows, target)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(target)),
            "rows": len(rows),
            "assets": ", ".join(sorted(rows["asset_symbol"].unique())),
            "date_range": f"{first:%Y-%m-%d}..{last:%Y-%m-%d}",
            "columns": len(rows.columns),
        }
    )
