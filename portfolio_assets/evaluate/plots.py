"""The report's plots (PNG, matplotlib's Agg backend): skill per fold, calibration, IC over time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_assets.evaluate.harness import MODEL, EvalResult
from portfolio_assets.evaluate.metrics import per_date_ic

__all__ = ["write_plots"]

SKIP = ("always_up", "model (valid only)")
DPI = 80
"""Small PNGs: the asset inlines all three in its Markdown metadata."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _skill_per_fold(result: EvalResult, path: Path) -> None:
    plt = _pyplot()
    slices = [name for name in result.metrics if name.startswith("fold ")] or ["all"]
    models = [m for m in result.models if m not in SKIP]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(slices) * len(models) / 3), 4))
    width = 0.8 / len(models)
    x = np.arange(len(slices))
    for i, model in enumerate(models):
        estimates = [result.metrics[s][model]["skill"] for s in slices]
        values = [e.value for e in estimates]
        errors = [e.crit * e.se if np.isfinite(e.se * e.crit) else 0.0 for e in estimates]
        ax.bar(x + i * width - 0.4 + width / 2, values, width, yerr=errors, capsize=2, label=model)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, [s.replace("all", "test split") for s in slices])
    ax.set_ylabel("skill vs random walk (1 − MAE/MAE_rw)")
    ax.set_title("Skill per fold (95% Newey-West intervals, fixed-b; none: not identifiable)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _calibration(result: EvalResult, path: Path, model: str) -> None:
    plt = _pyplot()
    scored = result.scored.dropna(subset=["y", model])
    fig, ax = plt.subplots(figsize=(5, 5))
    if len(scored):
        bins = min(10, max(1, scored[model].nunique()))
        ranks = scored[model].rank(method="first")
        groups = scored.groupby(pd.qcut(ranks, bins, labels=False), sort=True)
        ax.scatter(scored[model], scored["y"], s=4, alpha=0.2, color="grey", label="rows")
        ax.plot(groups[model].mean(), groups["y"].mean(), "o-", color="C0", label="decile means")
        lo = float(min(scored[model].min(), scored["y"].min()))
        hi = float(max(scored[model].max(), scored["y"].max()))
        ax.plot([lo, hi], [lo, hi], "--", color="black", linewidth=0.8, label="perfect calibration")
    ax.set_xlabel(f"predicted 90-day log return ({model})")
    ax.set_ylabel("realised 90-day log return")
    ax.set_title("Calibration: predicted vs realised")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _ic_over_time(result: EvalResult, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    for model in [m for m in result.models if m not in SKIP and m != "random_walk"]:
        ic = per_date_ic(result.scored.assign(pred=result.scored[model]).dropna(subset=["pred", "y"]), rank=True)
        if len(ic):
            ax.plot(ic.index, ic.to_numpy(), linewidth=0.8, label=f"{model} (mean {ic.mean():.2f})")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("rank IC across assets")
    ax.set_title("Per-date rank IC over time")
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def write_plots(result: EvalResult, out_dir: Path, stem: str) -> dict[str, Path]:
    """Write the three plots as ``<stem>.<name>.png`` in ``out_dir``; title -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MODEL if MODEL in result.models else "gbm"
    paths = {
        "Skill per fold": out_dir / f"{stem}.skill_per_fold.png",
        f"Calibration ({model})": out_dir / f"{stem}.calibration.png",
        "IC over time": out_dir / f"{stem}.ic_over_time.png",
    }
    _skill_per_fold(result, paths["Skill per fold"])
    _calibration(result, paths[f"Calibration ({model})"], model)
    _ic_over_time(result, paths["IC over time"])
    return paths
