"""``python -m portfolio_assets.evaluate EXPORT_DIR [PREDICTIONS.jsonl] [--out DIR] [--knowledge-cutoff D]
[--split auto|test|folds]``: the report, plots and JSON summary files, and the summary as one line on stdout.

Exit codes: 0 evaluated; 2 bad arguments, export directory or predictions file (the message names the file
and, for a predictions file, the line). A knowledge-cutoff warning goes to stderr and into the report and
summary; it does not change the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio_assets.evaluate.data import ExportDirError
from portfolio_assets.evaluate.harness import EvalResult, run_evaluation
from portfolio_assets.evaluate.parse import PredictionsFileError
from portfolio_assets.evaluate.plots import write_plots
from portfolio_assets.evaluate.report import markdown, summary
from portfolio_assets.export.naming import LATEST, latest_export

__all__ = ["Evaluation", "evaluate_to_files", "main"]

USAGE_ERROR = 2


@dataclass(frozen=True)
class Evaluation:
    """A finished evaluation: the result, the report text, the written files and the summary."""

    result: EvalResult
    report: str
    files: dict[str, Path]
    summary: dict[str, Any]


def evaluate_to_files(
    export_dir: Path | str,
    predictions: Path | str | None = None,
    out_dir: Path | str | None = None,
    split: str = "auto",
    knowledge_cutoff: str | None = None,
) -> Evaluation:
    """Evaluate and write ``<stem>.evaluation.md``, ``<stem>.evaluation.json`` and three plots to ``out_dir``
    (default: beside the predictions; ``./evaluation`` without predictions). ``stem``: the predictions file's
    name without ``.jsonl``, else ``baselines``."""
    result = run_evaluation(export_dir, predictions, split=split, knowledge_cutoff=knowledge_cutoff)
    if out_dir is None:
        out_dir = Path(predictions).parent if predictions is not None else Path.cwd() / "evaluation"
    out_dir = Path(out_dir)
    stem = Path(predictions).stem if predictions is not None else "baselines"
    plots = write_plots(result, out_dir, stem)
    report_path = out_dir / f"{stem}.evaluation.md"
    summary_path = out_dir / f"{stem}.evaluation.json"
    files = {"report": report_path, "summary": summary_path, **{title: p for title, p in plots.items()}}
    text = markdown(result, {title: p.name for title, p in plots.items()})
    report_path.write_text(text, encoding="utf-8")
    names = {k: str(v) for k, v in files.items()}
    record = summary(result, names)
    full = summary(result, names, full=True)
    summary_path.write_text(json.dumps(full, indent=1) + "\n", encoding="utf-8")
    return Evaluation(result, text, files, record)


def resolve_export(path: Path) -> Path:
    """``path`` itself, or, for an export root holding ``LATEST.json`` but no manifest, the export it names."""
    if (path / "manifest.json").exists() or not (path / LATEST).exists():
        return path
    name = latest_export(path)
    if not name:
        raise ExportDirError(f"{path / LATEST} names no export")
    return path / name


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m portfolio_assets.evaluate",
        description="Score a model's 90-day forecasts (and the naive baselines) on an export's evaluation rows.",
    )
    parser.add_argument(
        "export_dir", type=Path, help="an export directory (with manifest.json), or an export root (its LATEST.json)"
    )
    parser.add_argument("predictions", type=Path, nargs="?", help="JSONL: row_id and generation or numbers")
    parser.add_argument("--out", type=Path, help="where to write the report and plots (default: beside PREDICTIONS)")
    parser.add_argument("--knowledge-cutoff", metavar="YYYY-MM-DD", help="the base model's training-data cutoff")
    parser.add_argument(
        "--split",
        choices=("auto", "test", "folds"),
        default="auto",
        help="test split, walk-forward folds (folds.json), or auto (default): the folds when the export has them and "
        "every prediction line names its fold, else the test split",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        export_dir = resolve_export(args.export_dir)
        evaluation = evaluate_to_files(export_dir, args.predictions, args.out, args.split, args.knowledge_cutoff)
    except (ExportDirError, PredictionsFileError) as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except ValueError as exc:  # a bad --knowledge-cutoff
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    for warning in evaluation.summary["warnings"]:
        print(f"evaluate: warning: {warning}", file=sys.stderr)
    print(json.dumps(evaluation.summary, separators=(",", ":")))
    return 0
