"""training_set: the sharded, split CSV / JSONL / Parquet export a fine-tuning job reads."""

import subprocess
from pathlib import Path

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetIn,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

import portfolio_assets
from portfolio_assets.assets.gate import gate_status
from portfolio_assets.assets.quality import CHECKS, check_result, check_specs
from portfolio_assets.assets.sft_rows import BLOCKING_GATE_CHECKS
from portfolio_assets.assets.windows import run_window
from portfolio_assets.checks import has_volume_for
from portfolio_assets.checks.outcome import FAILURE_COLUMNS, CheckOutcome
from portfolio_assets.columns import FEATURE_COLUMNS, SFT_COLUMNS
from portfolio_assets.export import SplitConfig, export_training_set, sample_sources
from portfolio_assets.features.sft import format_rows
from portfolio_assets.io_managers import EXCLUDED_ASSETS, PartitionStore
from portfolio_assets.partitions import LABELLED_PARTITIONS
from portfolio_assets.resources import ExportResource, LandingZoneResource
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, TrainingSetSchema, table_schema, validate_rows
from portfolio_assets.spans import HORIZON_DAYS


def csv_ready(rows: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO 8601 UTC strings; everything else as stored (what the CSV holds, ``messages`` too)."""
    out = rows[[*SFT_COLUMNS, *(["messages"] if "messages" in rows.columns else [])]].copy()
    for column in ("timestamp", "target_timestamp", "decision_time"):
        out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.sort_values(["timestamp", "asset_symbol"], kind="stable").reset_index(drop=True)


def code_version() -> str:
    """The package version and, in a git checkout, the commit (``+dirty`` with local changes)."""
    root = Path(portfolio_assets.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return portfolio_assets.__version__
    return f"{portfolio_assets.__version__}+{commit[:12]}{'.dirty' if dirty else ''}"


def universe_complete(excluded: dict[str, str], symbols: list[str]) -> CheckOutcome:
    """Blocking: every universe asset is in the export; an asset left out because its source failed is named."""
    if not excluded:
        summary = f"training_set: all {len(symbols)} universe assets are in the export"
    else:
        summary = (
            f"training_set: {len(excluded)} of {len(symbols)} universe assets left out because a source failed: "
            f"{', '.join(excluded)}; the others are exported. Fix the cause, re-run the raw asset and the range."
        )
    failures = pd.DataFrame(
        [
            {"asset_symbol": s, "timestamp": None, "column": None, "value": None, "reason": why}
            for s, why in excluded.items()
        ],
        columns=FAILURE_COLUMNS,
    )
    return CheckOutcome(
        name="universe_complete",
        passed=not excluded,
        severity="ERROR",
        summary=summary,
        metadata={"excluded_assets": excluded, "universe_assets": len(symbols)},
        failures=failures,
    )


def sources_provenance(landing: LandingZoneResource) -> object:
    """Which series were real or synthetic (the bundled sample's manifest), or where live data came from."""
    if landing.is_bundled_sample():
        return sample_sources()
    return {"landing_zone": landing.root, "note": "live responses; see the landing zone for each request"}


@asset(
    group_name="training_set",
    partitions_def=LABELLED_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    ins={"sft_rows": AssetIn()},
    kinds={"csv", "parquet"},
    metadata={"dagster/column_schema": table_schema(TrainingSetSchema)},
    check_specs=check_specs("training_set", ["universe_complete"]),
)
def training_set(
    context: AssetExecutionContext, export: ExportResource, landing: LandingZoneResource, sft_rows: pd.DataFrame
) -> MaterializeResult:
    """The training set for the fine-tuning job: the run's sft_rows as CSV, JSONL and Parquet under
    <export dir>/training_set_<first>_<last>/, sharded by date range (`shard_by`), split in time
    order into train / validation / test with purged label windows and an embargo, with
    manifest.json (rows per split/shard/asset, sha256 of every file, schema, real vs synthetic
    sources, checks passed, code version) and a dataset card. Deterministic: the same partitions
    give byte-identical files. Written atomically; refuses to export past a failed gate check."""
    first, last = run_window(context)
    # sft_rows holds the canonical (features) prompt; other formats are derived from it here,
    # and the rows are validated as they will be written, in the chosen format.
    rows = format_rows(sft_rows, FEATURE_COLUMNS, HORIZON_DAYS, prompt_format=export.prompt_format)
    schema = TRAINING_SET_SCHEMAS[export.prompt_format]
    result = validate_rows(csv_ready(rows), schema, has_volume=has_volume_for(landing.universe().assets))
    if not result.ok:
        raise ValueError(f"training_set {first:%Y-%m-%d}..{last:%Y-%m-%d}: not exported: {result.summary()}")
    store = PartitionStore(export.storage.store_root())
    keys = list(context.partition_keys)
    excluded = store.exclusions(["sft_rows"], keys)
    checks = gate_status(context.instance, store, list(BLOCKING_GATE_CHECKS), keys, log=context.log.info)
    out_dir = export.storage.export_root() / f"training_set_{first:%Y-%m-%d}_{last:%Y-%m-%d}"
    report = export_training_set(
        rows,
        out_dir,
        split=SplitConfig(
            validation_start=export.validation_start,
            test_start=export.test_start,
            embargo_days=export.embargo_days,
        ),
        shard_by=export.shard_by,
        provenance={
            "partitions": {"first": f"{first:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}", "count": (last - first).days + 1},
            "sources": sources_provenance(landing),
            "checks": {name: {"blocking": CHECKS[name][0], **status} for name, status in checks.items()},
            "excluded_assets": excluded,
            "code_version": code_version(),
            "prompt_format": export.prompt_format,
            "context_window": export.context_window,
            "horizon_days": HORIZON_DAYS,
        },
    )
    return MaterializeResult(
        check_results=[check_result(universe_complete(excluded, sorted(landing.universe().symbols)))],
        metadata={
            EXCLUDED_ASSETS: MetadataValue.json(excluded),
            "path": MetadataValue.path(str(report.out_dir)),
            "manifest": MetadataValue.path(str(report.manifest_path)),
            "rows": int(sum(report.rows.values())),
            "rows_per_split": MetadataValue.json(report.rows),
            "excluded_rows": MetadataValue.json({**report.excluded, "by_boundary": report.excluded_by_boundary}),
            "boundaries": MetadataValue.json({k: str(v) for k, v in report.boundaries.items()}),
            "files": len(report.files),
            "assets": ", ".join(sorted(sft_rows["asset_symbol"].unique())),
            "date_range": f"{first:%Y-%m-%d}..{last:%Y-%m-%d}",
        },
    )
