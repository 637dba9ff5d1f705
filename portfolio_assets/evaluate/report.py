"""The evaluation's Markdown report and its one-line JSON summary."""

from __future__ import annotations

import math
from typing import Any

from portfolio_assets.evaluate import baselines, harness, intervals, metrics, parse
from portfolio_assets.evaluate.harness import MODEL, MODEL_VALID, EvalResult
from portfolio_assets.evaluate.intervals import Estimate

__all__ = ["markdown", "summary"]

HEADLINE = ("mae", "rmse", "skill", "skill_non_overlapping", "direction_accuracy", "mcc")


def _num(x: object, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def _est(e: Estimate | None, digits: int = 4) -> str:
    if e is None or not math.isfinite(e.value):
        return "n/a"
    if e.note:
        return f"{e.value:.{digits}f} (no interval)"
    if not math.isfinite(e.se):
        return f"{e.value:.{digits}f}"
    return f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def _value(e: Estimate | None) -> float:
    return e.value if e is not None and math.isfinite(e.value) else -math.inf


def _jsonable(e: object) -> object:
    if isinstance(e, Estimate):
        return e.as_dict()
    if isinstance(e, float):
        return e if math.isfinite(e) else None
    if isinstance(e, dict):
        return {k: _jsonable(v) for k, v in e.items() if k != "periods"}
    return e


def _metric_dict(m: dict[str, Any]) -> dict[str, Any]:
    out = {k: _jsonable(v) for k, v in m.items()}
    for key in ("ic", "rank_ic", "long_short"):
        if key in m:
            out[key] = _jsonable(m[key])
    return out


def _headline(m: dict[str, Any]) -> dict[str, Any]:
    """A model's pooled headline numbers: value and 95% interval of each."""

    def pair(e: Estimate | None) -> list[float | None] | None:
        if e is None:
            return None
        d = e.as_dict()
        return [d["value"], *d["ci95"]]  # type: ignore[list-item]

    out: dict[str, Any] = {k: pair(m.get(k)) for k in HEADLINE if k in m}
    for key in ("ic", "rank_ic"):
        if key in m:
            out[key] = pair(m[key]["mean"])
            out[f"{key}_ir"] = _jsonable(m[key]["icir"])
    if "long_short" in m:
        out["long_short"] = pair(m["long_short"]["mean"])
        out["long_short_periods"] = len(m["long_short"]["periods"])
    return out


def summary(result: EvalResult, files: dict[str, str], full: bool = False) -> dict[str, Any]:
    """The JSON summary: pooled metrics of every model, counts, warnings, files. Compact (the line printed on
    stdout: each metric as [value, 95% low, 95% high]) unless ``full`` (every metric, interval method and slice,
    for the JSON file)."""
    pooled = result.metrics["all"]
    if full:
        models: dict[str, Any] = {
            name: {m: _metric_dict(by_model[m]) for m in result.models} for name, by_model in result.metrics.items()
        }
    else:
        models = {m: _headline(pooled[m]) for m in result.models}
    out: dict[str, Any] = {
        "export": str(result.data.export_dir),
        "mode": result.data.mode,
        "folds": [s.name for s in result.data.sets],
        "rows": len(result.scored),
        "horizon_days": result.data.horizon_days,
        "independent_outcomes": pooled[result.models[0]]["independent_outcomes"],
        "metrics": models,
        "predictions": None
        if result.predictions is None
        else {k: v for k, v in result.predictions.items() if full or k != "examples"},
        "versus_baselines": {
            b: {k: _jsonable(v) for k, v in c.items()} for b, c in result.comparisons.get("all", {}).items()
        },
        "knowledge_cutoff": result.cutoff,
        "warnings": [w for w in [result.cutoff and result.cutoff.get("warning")] if w] + result.warnings,
        "notes": result.notes,
        "files": files,
    }
    return out


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]


def _pooled_table(result: EvalResult, name: str) -> list[str]:
    header = ["model", "MAE", "RMSE", "skill vs RW", "skill, non-overlapping dates", "direction acc.", "MCC"]
    header += ["IC", "ICIR", "rank IC", "rank ICIR"]
    header += ["long-short / period", "periods"]
    rows = []
    for model in result.models:
        m = result.metrics[name][model]
        ic, ric, ls = m.get("ic"), m.get("rank_ic"), m.get("long_short")
        rows.append(
            [
                model,
                _est(m.get("mae")),
                _est(m.get("rmse")),
                _est(m.get("skill")),
                _est(m.get("skill_non_overlapping")),
                _est(m.get("direction_accuracy")),
                _est(m.get("mcc")),
                _est(ic["mean"]) if ic else "n/a",
                _num(ic["icir"], 2) if ic else "n/a",
                _est(ric["mean"]) if ric else "n/a",
                _num(ric["icir"], 2) if ric else "n/a",
                _est(ls["mean"]) if ls else "n/a",
                str(len(ls["periods"])) if ls else "n/a",
            ]
        )
    return _table(header, rows)


def _by_slice(result: EvalResult, title: str, pick: Any) -> list[str]:
    header = ["slice", "rows", "dates", "indep. outcomes", *result.models]
    rows = []
    for name, by_model in result.metrics.items():
        first = next(iter(by_model.values()))
        rows.append(
            [name, str(first["rows"]), str(first["dates"]), str(first["independent_outcomes"])]
            + [pick(by_model[m]) for m in result.models]
        )
    return [f"### {title}", "", *_table(header, rows)]


def _predictions_section(p: dict[str, Any]) -> list[str]:
    out = [
        "## Predictions",
        "",
        f"`{p['file']}`: {p['lines']} lines for {p['evaluated_rows']} evaluated rows.",
        "",
    ]
    rows = [
        ["ok (scored as predicted)", str(p["ok"])],
        ["inconsistent (scored as random walk, wrong direction)", str(p["inconsistent"])],
        ["unparseable (scored as random walk, wrong direction)", str(p["unparseable"])],
        ["missing: no line for the row (scored as random walk, wrong direction)", str(p["missing"])],
        ["unknown row_id (not in the export; ignored)", str(p["unknown_row_id"])],
        ["row_id outside the evaluated rows (ignored)", str(p["outside_evaluation"])],
        ["duplicate row_id (first line used, others ignored)", str(p["duplicate_row_id"])],
        ["fold differs from the row's fold (scored anyway)", str(p["fold_mismatch"])],
    ]
    out += _table(["lines / rows", "count"], rows)
    out += ["Parsed by: " + (", ".join(f"{k} {v}" for k, v in sorted(p["parsed_by"].items())) or "none"), ""]
    for kind, examples in p["examples"].items():
        if examples:
            shown = "; ".join(
                e if isinstance(e, str) else ", ".join(f"{k} {v}" for k, v in e.items()) for e in examples
            )
            out += [f"* first {kind}: {shown}".replace("|", "\\|")]
    return [*out, ""]


def _methods() -> list[str]:
    return [
        "## Method",
        "",
        "**Parsing** (`portfolio_assets.evaluate.parse`):",
        "",
        *(f"> {line}" if line else ">" for line in (parse.__doc__ or "").strip().splitlines()),
        "",
        "**Scoring** (`harness`):",
        "",
        *(f"> {line}" if line else ">" for line in (harness.__doc__ or "").strip().splitlines()),
        "",
        "**Baselines** (`baselines`):",
        "",
        *(f"> {line}" if line else ">" for line in (baselines.__doc__ or "").strip().splitlines()),
        "",
        "**Metrics and intervals** (`metrics`, `intervals`): brackets are 95% intervals (± a fixed-b critical "
        'value × the standard error; "no interval": too few independent outcomes).',
        "",
        *(f"> {line}" if line else ">" for line in (metrics.__doc__ or "").strip().splitlines()),
        ">",
        *(f"> {line}" if line else ">" for line in (intervals.__doc__ or "").strip().splitlines()),
        "",
    ]


def _comparison_section(result: EvalResult, lead: str) -> list[str]:
    rows = []
    for name, by_baseline in result.comparisons.items():
        for baseline, c in by_baseline.items():
            d = c["mae_difference"]
            verdict = "better" if d.high < 0 else "worse" if d.low > 0 else "not distinguishable"
            verdict = f"no verdict ({d.note})" if d.note else verdict
            verdict = f"no verdict ({result.no_verdict})" if result.no_verdict and lead == MODEL else verdict
            rows.append([name, baseline, str(c["rows"]), _est(d, 4), _est(c["relative_skill"], 3), verdict])
    if not rows:
        return []
    header = ["slice", "baseline", "rows", f"MAE {lead} − baseline", f"skill of {lead} vs baseline", "at 95%"]
    return [f"### {lead} against each baseline (same rows)", "", *_table(header, rows)]


def markdown(result: EvalResult, plots: dict[str, str]) -> str:
    """The full report; ``plots`` maps a title to an image path relative to the report."""
    data = result.data
    folds = ", ".join(s.name for s in data.sets)
    where = f"walk-forward folds {folds}" if data.mode == "folds" else "the test split"
    out = [
        "# Evaluation: does the model beat the naive baselines?",
        "",
        f"Export `{data.export_dir}`; evaluated on **{where}**"
        f" ({len(result.scored)} rows, {result.data.horizon_days}-day horizon).",
        "",
    ]
    if result.cutoff and result.cutoff.get("warning"):
        out += [f"> **Warning: knowledge cutoff.** {result.cutoff['warning']}.", ""]
    elif result.cutoff:
        out += [f"Knowledge cutoff {result.cutoff['cutoff']}: no evaluated row predates it.", ""]
    out += [f"> **Warning.** {w}." for w in result.warnings]
    out += [""] if result.warnings else []
    pooled = result.metrics["all"]
    lead = MODEL if MODEL in pooled else "gbm"
    skill = pooled[lead].get("skill")
    if skill is not None and (skill.note or (result.no_verdict and lead == MODEL)):
        why = skill.note or result.no_verdict
        out += [f"**No verdict ({lead}):** skill vs the random walk {skill.value:.4f}; {why}.", ""]
    elif skill is not None:
        verdict = "beats" if skill.low > 0 else "is worse than" if skill.high < 0 else "is not distinguishable from"
        out += [
            f"**Verdict ({lead}):** skill vs the random walk {_est(skill)}; it {verdict} the random walk at 95% "
            f"(over {pooled[lead]['independent_outcomes']} non-overlapping 90-day outcomes per asset).",
            "",
        ]
    others = [m for m in result.models if m not in (MODEL, MODEL_VALID, lead, "random_walk", "always_up")]
    best = max(others, key=lambda m: _value(pooled[m].get("skill")), default=None)
    if best is not None:
        out += [
            f"Best other baseline by skill: **{best}** {_est(pooled[best].get('skill'))}; skill on the "
            f"non-overlapping rebalance dates only: {lead} {_est(pooled[lead].get('skill_non_overlapping'))}, "
            f"{best} {_est(pooled[best].get('skill_non_overlapping'))}.",
            "",
        ]
    out += _comparison_section(result, lead)
    out += [f"* {note}" for note in result.notes]
    out += [""] if result.notes else []
    if result.predictions is not None:
        out += _predictions_section(result.predictions)
    out += ["## Pooled (every evaluated row)", "", *_pooled_table(result, "all")]
    out += ["## By slice (per fold, asset class, real vs synthetic)", ""]
    out += _by_slice(result, "Skill vs the random walk (1 − MAE / MAE_rw)", lambda m: _est(m.get("skill"), 3))
    out += _by_slice(result, "MAE of the 90-day log return", lambda m: _est(m.get("mae"), 4))
    out += _by_slice(result, "Directional accuracy", lambda m: _est(m.get("direction_accuracy"), 3))
    out += _by_slice(result, "MCC", lambda m: _est(m.get("mcc"), 3))
    out += _by_slice(
        result,
        "Rank IC (mean of per-date Spearman)",
        lambda m: _est(m["rank_ic"]["mean"], 3) if "rank_ic" in m else "n/a",
    )
    out += _by_slice(
        result,
        "Long-short return per period",
        lambda m: _est(m["long_short"]["mean"], 3) if "long_short" in m else "n/a",
    )
    out += ["## Gradient-boosted baseline fits", ""]
    out += _table(
        ["fold", "fit", "train rows", "last train target day", "first test day"],
        [
            [k, v["note"], str(v["train_rows"]), str(v["train_last_target"]), v["test_first"]]
            for k, v in result.gbm.items()
        ],
    )
    fb = result.fallbacks
    out += [
        f"Rows without enough history, predicted 0: historical drift {fb['historical_drift']}, 12-1 momentum "
        f"{fb['momentum_12_1']}, gbm {fb['gbm']}.",
        "",
    ]
    ls = pooled[lead].get("long_short")
    if ls and ls["periods"]:
        out += [f"## Long-short periods ({lead})", ""]
        out += _table(
            ["rebalance date", "return", "long", "short"],
            [[p["date"], f"{p['return']:.4f}", ", ".join(p["long"]), ", ".join(p["short"])] for p in ls["periods"]],
        )
    if plots:
        out += ["## Plots", ""]
        out += [f"![{title}]({path})" for title, path in plots.items()]
        out += [""]
    out += _methods()
    return "\n".join(out)
