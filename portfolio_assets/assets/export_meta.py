"""What the training_set asset records beside its rows: the code version, the universe check, the sources, and
the export's text and fold options read from its ``ExportResource``."""

import subprocess
from pathlib import Path

import pandas as pd

import portfolio_assets
from portfolio_assets.checks.outcome import FAILURE_COLUMNS, CheckOutcome
from portfolio_assets.export import sample_sources
from portfolio_assets.export.folds import FoldConfig
from portfolio_assets.features.sft_output import OutputFormat, TextOptions, output_fields
from portfolio_assets.resources import ExportResource, LandingZoneResource


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
    """Which series were real or synthetic (the bundled sample's manifest, for the sample or a copy of it), or
    where live data came from."""
    if landing.holds_sample():
        return sample_sources()
    return {"landing_zone": landing.root, "note": "live responses; see the landing zone for each request"}


def export_text_options(export: ExportResource) -> TextOptions:
    """The text columns an ``ExportResource`` asks for: its prompt format, output format and identity masking."""
    output = OutputFormat(output_fields(export.output_fields), int(export.return_decimals))
    return TextOptions(prompt_format=export.prompt_format, output=output, mask_identity=bool(export.mask_identity))


def fold_config(export: ExportResource) -> FoldConfig | None:
    """The walk-forward folds of an ``ExportResource`` (``export.folds.FoldConfig``); None when ``folds`` is 0.
    The folds' embargo is the split's (``embargo_days``)."""
    if not export.folds:
        return None
    return FoldConfig(
        scheme=export.fold_scheme,
        n_folds=int(export.folds),
        test_days=export.fold_test_days,
        train_days=export.fold_train_days,
    )
