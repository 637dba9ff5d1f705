"""evaluation: the harness (``portfolio_assets.evaluate``) run on the latest export, its report in the UI."""

import base64
import math
from pathlib import Path

from dagster import AssetExecutionContext, Config, Failure, MaterializeResult, MetadataValue, asset

from portfolio_assets.assets.training_set import training_set
from portfolio_assets.codeversion import version_of
from portfolio_assets.evaluate.cli import evaluate_to_files
from portfolio_assets.evaluate.data import ExportDirError
from portfolio_assets.evaluate.harness import MODEL
from portfolio_assets.evaluate.parse import PredictionsFileError
from portfolio_assets.export.naming import LATEST, latest_export
from portfolio_assets.export.s3sink import fetch_export
from portfolio_assets.objectstore import ObjectStoreError
from portfolio_assets.resources import ExportResource

__all__ = ["EvaluationConfig", "evaluation"]

CODE_VERSION = version_of(__name__)
EVALUATIONS_DIR = "evaluations"
"""Under the export root: where a run without predictions (or without ``out_dir``) writes its report."""


class EvaluationConfig(Config):
    """What to evaluate on the latest export.

    ``predictions``: a JSONL predictions file (empty: the baselines only); ``knowledge_cutoff``: the base
    model's training-data cutoff, YYYY-MM-DD (empty: none); ``split``: ``auto`` (the export's walk-forward folds
    when it has them and every prediction line names its ``fold``, else the test split), ``test`` or ``folds``;
    ``out_dir``: where the report and plots go (empty: beside the predictions, else
    ``<export root>/evaluations/<export name>/``; for an export root on S3, under its local cache directory).
    """

    predictions: str = ""
    knowledge_cutoff: str = ""
    split: str = "auto"
    out_dir: str = ""


def _latest_dir(export: ExportResource) -> tuple[Path, str, Path]:
    """The latest export as a local directory, its name, and the local folder reports go to by default.

    On S3 the export's current version is fetched (sizes and sha256 checked) into
    ``<cache of the export root>/.evaluation/<name>``; its reports go under that cache as well."""
    root = export.storage.export_root()
    name = latest_export(root)
    if name is None:
        raise Failure(description=f"evaluation: no {root / LATEST}; materialise training_set first")
    if getattr(root, "scheme", None) != "s3":
        return Path(root) / name, name, Path(root)
    local = root.cache_path()
    try:
        fetched = fetch_export(root / name, local / ".evaluation" / name)
    except (OSError, ValueError, ObjectStoreError) as exc:
        raise Failure(description=f"evaluation: cannot fetch {root / name}: {exc}") from None
    return fetched, name, local


def _inline_png(path: Path, title: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"![{title}](data:image/png;base64,{data})"


def _inline_plots(files: dict[str, Path]) -> str:
    """Markdown of every PNG among ``files`` (title -> path): a heading, the image as a data URI, its path."""
    parts = []
    for title, path in files.items():
        if path.suffix == ".png":
            parts += [f"### {title}", "", _inline_png(path, title), "", f"`{path}`", ""]
    return "\n".join(parts)


@asset(
    code_version=CODE_VERSION,
    group_name="evaluation",
    deps=[training_set],
    kinds={"python"},
)
def evaluation(context: AssetExecutionContext, config: EvaluationConfig, export: ExportResource) -> MaterializeResult:
    """Does a fine-tuned model beat the naive baselines? Scores the run config's predictions file (JSONL of row_id
    and the model's generation or numbers; none: the baselines only) and the baselines (random walk, historical
    drift, 12-1 momentum, always-up, a gradient-boosted model fitted per fold on its train rows) on the latest
    export's walk-forward folds (else its test split): MAE, RMSE, skill vs the random walk, directional accuracy,
    MCC, IC / rank IC, a long-short portfolio, with Newey-West intervals (fixed-b critical values) for the
    overlapping 90-day labels. The Markdown report and the three plots are written beside the predictions and
    attached here (the plots inline in ``plots``, and their paths)."""
    export_dir, name, local_root = _latest_dir(export)
    predictions = config.predictions or None
    out_dir = config.out_dir or None
    if out_dir is None and predictions is None:
        out_dir = str(local_root / EVALUATIONS_DIR / name)
    context.log.info(f"evaluation: {export_dir} with {predictions or 'no predictions (baselines only)'}")
    try:
        done = evaluate_to_files(export_dir, predictions, out_dir, config.split, config.knowledge_cutoff or None)
    except (ExportDirError, PredictionsFileError, ValueError) as exc:
        raise Failure(description=f"evaluation: {exc}") from None
    for warning in done.summary["warnings"]:
        context.log.warning(f"evaluation: {warning}")
    pooled = done.result.metrics["all"]
    metadata: dict[str, object] = {
        "report": MetadataValue.md(done.report),
        "report_path": MetadataValue.path(str(done.files["report"])),
        "summary": MetadataValue.json(done.summary),
        "export": MetadataValue.path(str(export_dir)),
        "mode": done.result.data.mode,
        "rows": len(done.result.scored),
        "plots": MetadataValue.md(_inline_plots(done.files)),
    }
    for title, path in done.files.items():
        if str(path).endswith(".png"):
            metadata[f"plot: {title}"] = MetadataValue.path(str(path))
    for model in (MODEL, "gbm", "historical_drift", "momentum_12_1"):
        skill = pooled.get(model, {}).get("skill")
        if skill is not None and math.isfinite(skill.value):
            metadata[f"skill_{model}"] = MetadataValue.float(float(skill.value))
    if done.result.predictions is not None:
        counts = done.result.predictions
        metadata["predictions"] = MetadataValue.json({k: v for k, v in counts.items() if k != "examples"})
    if done.result.cutoff is not None:
        metadata["knowledge_cutoff_rows_before"] = int(done.result.cutoff["timestamp_before"])
    return MaterializeResult(metadata=metadata)
