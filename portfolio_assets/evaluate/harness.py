"""The evaluation: an export's evaluation rows, a model's predictions and the baselines, scored per slice.

Scoring rule for the model (documented in the report): every evaluated row counts. A row whose prediction is
missing, unparseable or inconsistent is scored as the random walk (a 90-day log return of 0) in MAE, RMSE,
skill, IC and the long-short portfolio, and as the WRONG direction in directional accuracy and MCC (a 0 would
count as "not up", right in a falling market), so a model cannot gain anything by failing to answer; the same
metrics on the valid rows only are reported beside (``model (valid only)``). Prediction lines for row ids the
export does not have, for rows outside the evaluated test rows, and repeated row ids (the first line is used)
are counted and listed.
A line's optional ``fold`` is checked against the fold whose test block holds the row (walk-forward mode
only; a mismatch is counted, the prediction still scored); on the test split it is not used.

Which rows: see ``data`` (``--split auto`` evaluates the walk-forward folds only when every prediction line
names its fold). With ``--split folds`` and lines without a ``fold``, a warning counts the evaluated rows that
lie in the export's train / validation splits: scored in-sample if the model was trained on the single split.
More than ``WARN_SHARE`` of the evaluated rows missing, unparseable or inconsistent is a warning too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from portfolio_assets.evaluate.baselines import fit_gbm, historical_drift, momentum_12_1, random_walk
from portfolio_assets.evaluate.data import EvalData, load_export
from portfolio_assets.evaluate.metrics import compare, score
from portfolio_assets.evaluate.parse import (
    INCONSISTENT,
    OK,
    UNPARSEABLE,
    PredictionLine,
    parse_line,
    read_predictions,
)

__all__ = ["MODEL", "MODEL_VALID", "EvalResult", "run_evaluation"]

MODEL = "model"
MODEL_VALID = "model (valid only)"
BASELINES = ("random_walk", "historical_drift", "momentum_12_1", "gbm", "always_up")
DIRECTION_ONLY_MODELS = ("always_up",)
MAX_EXAMPLES = 10
WARN_SHARE = 0.01
"""A share of failed rows (missing, unparseable, inconsistent) above this is listed in the warnings."""
NO_VERDICT_SHARE = 0.5
"""Above this share of failed rows the report gives the model no verdict: its scores are mostly the random
walk's, and its ICs come from the few dates where its forecasts vary."""


@dataclass
class EvalResult:
    """Everything the report, plots and summary need."""

    data: EvalData
    scored: pd.DataFrame
    models: list[str]
    metrics: dict[str, dict[str, dict[str, Any]]]
    predictions: dict[str, Any] | None
    cutoff: dict[str, Any] | None
    gbm: dict[str, dict[str, Any]]
    fallbacks: dict[str, int]
    comparisons: dict[str, dict[str, dict[str, Any]]]
    """Slice -> baseline -> ``metrics.compare`` of the model (else the GBM) against it."""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    no_verdict: str = ""
    """Why the model gets no verdict although its intervals exist (too few valid predictions), else empty."""


def _account(data: EvalData, path: Path, lines: list[PredictionLine]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per evaluated (fold, row): the model's status and log return; and the counts of every kind of line."""
    fold_of: dict[str, str] = {}
    for s in data.sets:
        for rid in s.test_ids:
            fold_of.setdefault(rid, s.name)
    seen: dict[str, Any] = {}
    unknown: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    mismatched: list[dict[str, Any]] = []
    for line in lines:
        if line.row_id not in data.rows.index:
            unknown.append({"line": line.line, "row_id": line.row_id})
        elif line.row_id not in fold_of:
            outside.append({"line": line.line, "row_id": line.row_id})
        elif line.row_id in seen:
            duplicates.append({"line": line.line, "row_id": line.row_id, "first_line": seen[line.row_id].line})
        else:
            seen[line.row_id] = line
            if data.mode == "folds" and line.fold is not None and str(line.fold) != fold_of[line.row_id]:
                mismatched.append({"line": line.line, "row_id": line.row_id, "fold": line.fold})
    records = []
    reasons: dict[str, list[dict[str, Any]]] = {INCONSISTENT: [], UNPARSEABLE: []}
    close = data.rows["price_close"]
    for rid, line in seen.items():
        parsed = parse_line(line, float(close.loc[rid]))
        records.append((rid, parsed.status, parsed.method, parsed.value))
        if parsed.status in reasons and len(reasons[parsed.status]) < MAX_EXAMPLES:
            reasons[parsed.status].append({"line": line.line, "row_id": rid, "reason": parsed.reason})
    outcome = pd.DataFrame(records, columns=["row_id", "status", "method", "value"]).set_index("row_id")
    evaluated = sum(len(s.test_ids) for s in data.sets)
    status_counts = outcome["status"].value_counts().to_dict()
    missing = [rid for rid in fold_of if rid not in seen]
    summary = {
        "file": str(path),
        "lines": len(lines),
        "evaluated_rows": evaluated,
        "matched": len(seen),
        "ok": int(status_counts.get(OK, 0)),
        "inconsistent": int(status_counts.get(INCONSISTENT, 0)),
        "unparseable": int(status_counts.get(UNPARSEABLE, 0)),
        "missing": len(missing),
        "unknown_row_id": len(unknown),
        "outside_evaluation": len(outside),
        "duplicate_row_id": len(duplicates),
        "fold_mismatch": len(mismatched),
        "parsed_by": {
            str(k): int(v) for k, v in outcome.loc[outcome["status"] != UNPARSEABLE, "method"].value_counts().items()
        },
        "examples": {
            "inconsistent": reasons[INCONSISTENT],
            "unparseable": reasons[UNPARSEABLE],
            "missing": missing[:MAX_EXAMPLES],
            "unknown_row_id": unknown[:MAX_EXAMPLES],
            "outside_evaluation": outside[:MAX_EXAMPLES],
            "duplicate_row_id": duplicates[:MAX_EXAMPLES],
            "fold_mismatch": mismatched[:MAX_EXAMPLES],
        },
    }
    return outcome, summary


def _slices(scored: pd.DataFrame, mode: str) -> dict[str, pd.Series]:
    """Slice name -> row mask: all, each fold, each asset class, real / synthetic."""
    out = {"all": pd.Series(True, index=scored.index)}
    if mode == "folds":
        for fold in scored["fold"].unique():
            out[f"fold {fold}"] = scored["fold"] == fold
    for cls in sorted(scored["asset_class"].unique()):
        out[f"class {cls}"] = scored["asset_class"] == cls
    synthetic = scored["is_synthetic"]
    if synthetic.notna().any():
        out["real"] = (synthetic == False).fillna(False).astype(bool)  # noqa: E712 - nullable boolean
        out["synthetic"] = (synthetic == True).fillna(False).astype(bool)  # noqa: E712
    return out


def _cutoff(scored: pd.DataFrame, cutoff: str | None) -> dict[str, Any] | None:
    if cutoff is None:
        return None
    try:
        day = pd.Timestamp(cutoff, tz="UTC")
    except ValueError:
        raise ValueError(f"knowledge cutoff {cutoff!r} is not a date (YYYY-MM-DD)") from None
    before = scored["timestamp"] < day
    target_before = scored["target_timestamp"] < day
    out = {
        "cutoff": f"{day:%Y-%m-%d}",
        "rows": len(scored),
        "timestamp_before": int(before.sum()),
        "target_before": int(target_before.sum()),
    }
    out["warning"] = (
        f"{out['timestamp_before']} of {len(scored)} evaluated rows are dated before the knowledge cutoff "
        f"{out['cutoff']} ({out['target_before']} with their whole 90-day outcome before it): a model pretrained "
        "on data up to then may remember those prices"
        if out["timestamp_before"]
        else None
    )
    return out


def _warnings(data: EvalData, lines: list[PredictionLine] | None, counts: dict[str, Any] | None) -> list[str]:
    """In-sample rows under ``--split folds`` without folds in the predictions; large shares of failed rows."""
    out: list[str] = []
    if lines is None or counts is None:
        return out
    unfolded = sum(line.fold is None for line in lines)
    if data.mode == "folds" and unfolded:
        evaluated = [rid for s in data.sets for rid in s.test_ids]
        inside = int(data.rows.loc[evaluated, "split"].isin(["train", "validation"]).sum())
        out.append(
            f'{unfolded} prediction line(s) name no "fold" under --split folds: {inside} of {len(evaluated)} '
            "evaluated rows are in the export's train / validation splits and are scored in-sample if the model "
            "was trained on the single split"
        )
    total = counts["evaluated_rows"]
    for kind in ("missing", "unparseable", "inconsistent"):
        if total and counts[kind] > WARN_SHARE * total:
            out.append(
                f"{counts[kind]} of {total} evaluated rows ({100 * counts[kind] / total:.1f}%) are {kind}: scored "
                "as the random walk (and the wrong direction)"
            )
    return out


def run_evaluation(
    export_dir: Path | str,
    predictions: Path | str | None = None,
    split: str = "auto",
    knowledge_cutoff: str | None = None,
) -> EvalResult:
    """Score the model's predictions (if any) and every baseline on the export's evaluation rows."""
    lines = None if predictions is None else read_predictions(predictions)
    with_folds = None if lines is None else bool(lines) and all(line.fold is not None for line in lines)
    data = load_export(export_dir, split, predictions_have_folds=with_folds)
    rows = data.rows
    outcome, summary = (None, None) if lines is None else _account(data, Path(predictions), lines)
    frames, gbm_info = [], {}
    fallbacks = {"historical_drift": 0, "momentum_12_1": 0, "gbm": 0}
    for s in data.sets:
        test = rows.loc[list(s.test_ids)]
        fit = fit_gbm(rows.loc[sorted(s.train_ids)], test)
        gbm = fit.predictions.reindex(test.index)
        fallbacks["gbm"] += int(gbm.isna().sum())
        drift, n_drift = historical_drift(rows, test)
        momentum, n_mom = momentum_12_1(rows, test, data.horizon_days)
        fallbacks["historical_drift"] += n_drift
        fallbacks["momentum_12_1"] += n_mom
        gbm_info[s.name] = {
            "note": fit.note,
            "train_rows": len(fit.train_ids),
            "train_last_target": None if fit.train_last_target is None else f"{fit.train_last_target:%Y-%m-%d}",
            "test_first": f"{test['timestamp'].min():%Y-%m-%d}",
        }
        frame = pd.DataFrame(
            {
                "fold": s.name,
                "row_id": test.index,
                "timestamp": test["timestamp"].to_numpy(),
                "target_timestamp": test["target_timestamp"].to_numpy(),
                "asset_symbol": test["asset_symbol"].to_numpy(),
                "asset_class": test["asset_class"].to_numpy(),
                "is_synthetic": test["is_synthetic"].to_numpy(),
                "y": test["target_return_90d"].astype(float).to_numpy(),
                "random_walk": random_walk(test).to_numpy(),
                "historical_drift": drift.to_numpy(),
                "momentum_12_1": momentum.to_numpy(),
                "gbm": gbm.fillna(0.0).to_numpy(),
                "always_up": 1.0,
            }
        )
        frames.append(frame)
    scored = pd.concat(frames, ignore_index=True)
    models = list(BASELINES)
    if outcome is not None:
        status = outcome["status"].reindex(scored["row_id"]).fillna("missing").to_numpy()
        value = outcome["value"].reindex(scored["row_id"]).to_numpy(dtype=float)
        scored["status"] = status
        scored[MODEL_VALID] = np.where(status == OK, value, np.nan)
        scored[MODEL] = np.where(status == OK, value, 0.0)
        models = [MODEL, MODEL_VALID, *models]
    metrics: dict[str, dict[str, dict[str, Any]]] = {}
    for name, mask in _slices(scored, data.mode).items():
        part = scored[mask]
        metrics[name] = {
            m: score(
                part.assign(pred=part[m], valid=part["status"] == OK if m == MODEL else True),
                data.horizon_days,
                direction_only=m in DIRECTION_ONLY_MODELS,
            )
            for m in models
        }
    lead = MODEL if MODEL in models else "gbm"
    comparisons: dict[str, dict[str, dict[str, Any]]] = {}
    for name, mask in _slices(scored, data.mode).items():
        if name == "all" or name.startswith("fold "):
            comparisons[name] = {
                b: compare(scored[mask], lead, b, data.horizon_days)
                for b in BASELINES
                if b != lead and b not in DIRECTION_ONLY_MODELS
            }
    notes = list(data.notes)
    if fallbacks["gbm"]:
        notes.append(f"gbm: {fallbacks['gbm']} rows had no fitted model (too few train rows) and were scored as 0")
    warnings = _warnings(data, lines, summary)
    skill = metrics["all"][lead].get("skill")
    if skill is not None and skill.note:
        warnings.append(f"no verdict: the pooled intervals are {skill.note}")
    no_verdict = ""
    if summary is not None and summary["evaluated_rows"]:
        failed = sum(summary[kind] for kind in ("missing", "unparseable", "inconsistent"))
        if failed > NO_VERDICT_SHARE * summary["evaluated_rows"]:
            no_verdict = (
                f"{failed} of {summary['evaluated_rows']} evaluated rows have no valid prediction (more than "
                f"{NO_VERDICT_SHARE:.0%})"
            )
            warnings.append(f"no verdict for the model: {no_verdict}")
    return EvalResult(
        data,
        scored,
        models,
        metrics,
        summary,
        _cutoff(scored, knowledge_cutoff),
        gbm_info,
        fallbacks,
        comparisons,
        notes,
        warnings,
        no_verdict,
    )
