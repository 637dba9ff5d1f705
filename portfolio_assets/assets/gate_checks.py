"""The gate's checks as partials per call (one asset on Spark, all in-process) and their merge.

Each check is judged on what a call of the gate's per-asset function (``sft_rows.gate_frames``) leaves of its
rows: counts, and the few rows that fail or are held. The merge re-runs the same check function over those
rows, in the order of the whole frame (``KEYS``), with the whole frame's row count, so its outcome is the
outcome over all the rows. Two checks need more than one asset at once: ``temporal_gaps`` gets each asset's
(asset, day) keys, and ``feature_target_ic``, a rank correlation pooled over every row, is a side pass with a
group per few features (``direct.Sides``), computed on an executor from every asset's feature and target columns.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from dagster import AssetCheckResult

from portfolio_assets.assets.quality import check_results, days_of, schema_counts, schema_outcome_of
from portfolio_assets.assets.windows import RunSummary, report_json, summary_of, summary_part
from portfolio_assets.checks import (
    CheckOutcome,
    no_target_reasons,
    point_in_time,
    rsi_bounds,
    suspect_moves,
    target_coverage,
    temporal_gaps,
)
from portfolio_assets.checks.bounds import RSI_BOUNDS, out_of_bounds
from portfolio_assets.checks.complete_rows import completeness_counts, completeness_outcome
from portfolio_assets.checks.ic import features_ic, ic_outcome
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.direct import Sides
from portfolio_assets.schemas import ValidationResult
from portfolio_assets.schemas.attestation import gate_fingerprint
from portfolio_assets.spans import HORIZON_DAYS

KEYS = ["timestamp", "asset_symbol"]
TARGET = "target_return_90d"
_IC = "ic:"


def _sorted(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Rows of several calls in the order of the whole frame (``KEYS``), indexed from 0."""
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    return frame.sort_values(KEYS, kind="stable", ignore_index=True)


def _named(rows: pd.DataFrame, cases: pd.DataFrame) -> np.ndarray:
    """Per row of ``rows``: whether a check's failure cases name its (asset, timestamp)."""
    if cases.empty:
        return np.zeros(len(rows), dtype=bool)
    named = pd.MultiIndex.from_frame(cases[["asset_symbol", "timestamp"]].astype({"asset_symbol": object}))
    return np.asarray(pd.MultiIndex.from_frame(rows[["asset_symbol", "timestamp"]]).isin(named), dtype=bool)


def timing_part(joined: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """What ``point_in_time`` needs of some assets' joined rows: the failing rows, and how many rows there are."""
    # Every case (a row may fail several columns: more cases than rows), so that every failing row is kept.
    cases = point_in_time(joined, features=FEATURE_COLUMNS, max_cases=sys.maxsize).failures
    return joined[_named(joined, cases)], len(joined)


def timing_outcome(parts: Sequence[tuple[pd.DataFrame, int]]) -> CheckOutcome:
    """``point_in_time`` of the rows whose ``timing_part`` are ``parts``."""
    failing = _sorted([p[0] for p in parts])
    return point_in_time(failing, features=FEATURE_COLUMNS, rows_checked=sum(p[1] for p in parts))


def coverage_part(rows: pd.DataFrame, ended: Mapping[str, pd.Timestamp]) -> tuple[pd.DataFrame, int]:
    """What ``target_coverage`` needs of some assets' rows: those that fail or are past their asset's last trading
    day, and how many rows there are."""
    cases = target_coverage(rows, last_trading_days=ended, horizon_days=HORIZON_DAYS, max_cases=sys.maxsize).failures
    past = no_target_reasons(rows, ended, HORIZON_DAYS).notna().to_numpy()
    return rows[_named(rows, cases) | past], len(rows)


def coverage_outcome(parts: Sequence[tuple[pd.DataFrame, int]], ended: Mapping[str, pd.Timestamp]) -> CheckOutcome:
    """``target_coverage`` of the rows whose ``coverage_part`` are ``parts``."""
    kept, total = _sorted([p[0] for p in parts]), sum(p[1] for p in parts)
    return target_coverage(kept, last_trading_days=ended, horizon_days=HORIZON_DAYS, rows_checked=total)


def gate_partial(
    *,
    rows: pd.DataFrame,
    joined: pd.DataFrame,
    result: ValidationResult,
    held: pd.DataFrame,
    out: pd.DataFrame,
    labelled: pd.DataFrame,
    day_prices: pd.DataFrame,
    before: pd.DataFrame,
    flagged: pd.DataFrame,
    suspect: pd.Series,
    no_target: pd.Series,
    has_volume: Mapping[str, bool],
    ended: Mapping[str, pd.Timestamp],
) -> dict[str, Any]:
    """What the gate's checks and metadata need of one call's rows (``gate_results`` merges them)."""
    return {
        "candidates": len(rows),
        "no_target": rows.loc[no_target.notna().to_numpy(), "asset_symbol"].value_counts().to_dict(),
        "held": summary_part(held),
        "errors": held[["timestamp", "asset_symbol", "validation_error"]].head(20),
        "out": summary_part(out),
        "schema": schema_counts(result),
        "timing": timing_part(joined),
        "completeness": completeness_counts(rows, features=FEATURE_COLUMNS, has_volume=has_volume),
        "gaps": (
            day_prices[["asset_symbol", "timestamp"]],
            before.groupby("asset_symbol").tail(1)[["asset_symbol", "timestamp"]],
        ),
        "rsi": (out_of_bounds(rows, bounds=RSI_BOUNDS), len(rows)),
        "coverage": coverage_part(rows, ended),
        "suspects": (rows[suspect.notna().to_numpy()], flagged),
        "labelled": len(labelled),
        "fingerprint": gate_fingerprint(labelled, has_volume),
        "valid": result.ok,
    }


IC_GROUPS = 8
"""Features per group of the information coefficient's pass (each group's rows share their target's ranks)."""


def _ic_groups() -> list[list[str]]:
    size = -(-len(FEATURE_COLUMNS) // IC_GROUPS)
    return [FEATURE_COLUMNS[i : i + size] for i in range(0, len(FEATURE_COLUMNS), size)]


def _ic_split(out: Mapping[str, Any], **_: Any) -> dict[str, pd.DataFrame]:
    labelled = out["ic_rows"]
    return {f"{_IC}{i}": labelled[[*KEYS, "asset_class", *group, TARGET]] for i, group in enumerate(_ic_groups())}


def _ic_join(group: str, pieces: list[pd.DataFrame]) -> list[dict[str, Any]]:
    rows = pieces[0] if len(pieces) == 1 else _sorted(pieces)  # one call's labelled rows are in KEYS order
    return features_ic(rows, _ic_groups()[int(group[len(_IC) :])], target=TARGET)


GATE_SIDES = Sides(_ic_split, _ic_join)
"""The information coefficient's pass: a group per ``IC_GROUPS`` features, over the labelled rows of every asset."""


@dataclass
class GateVerdict:
    """The gate's merged checks and the run's summaries of its two outputs."""

    quarantine: RunSummary
    results: list[AssetCheckResult]
    sft_rows: RunSummary
    fingerprint: str
    """The validation every stored sft_rows file passed ("" when the calls' frames disagree on dtypes)."""


def gate_results(
    partials: Sequence[Mapping[str, Any]],
    sides: Mapping[str, Any],
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    calendars: Mapping[str, str],
    ended: Mapping[str, pd.Timestamp],
    accepted: Mapping[str, Any],
) -> GateVerdict:
    """Merge the calls' ``gate_partial`` (in asset order) and the IC pass's ``sides`` into the gate's verdict."""
    candidates = sum(p["candidates"] for p in partials)
    quarantine = summary_of([p["held"] for p in partials], first, last)
    quarantine.metadata["run_candidate_rows"] = candidates
    no_target: dict[str, int] = {}
    for p in partials:
        for symbol, count in p["no_target"].items():
            no_target[str(symbol)] = no_target.get(str(symbol), 0) + int(count)
    if no_target:
        quarantine.reports["rows without a target (past the asset's last trading day)"] = report_json(
            dict(sorted(no_target.items()))
        )
    errors = _sorted([p["errors"] for p in partials]).head(20)
    if len(errors):
        quarantine.reports["validation errors (the first 20)"] = errors.to_markdown(index=False)
    moves = [p["suspects"][1] for p in partials]
    suspects, _ = suspect_moves(
        _sorted([p["suspects"][0] for p in partials]),
        pd.concat(moves, ignore_index=True) if len(moves) > 1 else moves[0],
        accepted=accepted,
    )
    gaps = [p["gaps"] for p in partials]
    nothing = pd.DataFrame(columns=[*KEYS, "asset_class", *FEATURE_COLUMNS, TARGET])  # no labelled row in any call
    ic = [r for i, group in enumerate(_ic_groups()) for r in sides.get(f"{_IC}{i}") or _ic_join(f"{_IC}{i}", [nothing])]
    results = check_results(
        [
            schema_outcome_of([p["schema"] for p in partials], "sft_rows", order=KEYS),
            timing_outcome([p["timing"] for p in partials]),
            completeness_outcome([p["completeness"] for p in partials]),
            temporal_gaps(
                pd.concat([g[0] for g in gaps], ignore_index=True),
                calendars=calendars,
                previous=pd.concat([g[1] for g in gaps], ignore_index=True),
                window_end=last,
                last_trading_days=ended,
            ),
            rsi_bounds(_sorted([p["rsi"][0] for p in partials]), rows_checked=sum(p["rsi"][1] for p in partials)),
            coverage_outcome([p["coverage"] for p in partials], ended),
            suspects,
            ic_outcome(ic, rows=sum(p["labelled"] for p in partials), target=TARGET),
        ],
        days=days_of(first, last),
    )
    rows = summary_of([p["out"] for p in partials], first, last)
    rows.metadata["run_quarantined_rows"] = candidates - int(rows.metadata["run_rows"])  # type: ignore[call-overload]
    tails = [p["out"]["tail"] for p in partials if len(p["out"]["tail"])]
    if tails:
        rows.reports["example input (the run's last row)"] = str(_sorted(tails)["input"].iloc[-1])
    prints = {p["fingerprint"] for p in partials if p["labelled"]} or {p["fingerprint"] for p in partials[:1]}
    fingerprint = prints.pop() if len(prints) == 1 and all(p["valid"] for p in partials) else ""
    return GateVerdict(quarantine, results, rows, fingerprint)
