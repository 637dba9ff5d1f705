"""What a check returns (``CheckOutcome``) and how an outcome is built and rendered.

Each check takes the frame(s) of exactly the partitions a run materialised and
returns a ``CheckOutcome``: whether it passed, its severity (``ERROR`` blocks,
``WARN`` only reports), a one-line summary naming what failed (asset(s),
column, count, dates), JSON-able metadata and the failure cases (at most
``max_cases`` rows; columns ``asset_symbol``, ``timestamp``, ``column``,
``value``, ``reason`` plus check-specific ones). The Dagster layer wraps them as
asset checks; ``failures_markdown`` renders the cases for the UI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from portfolio_assets.checks._text import _date

ERROR = "ERROR"
WARN = "WARN"

FAILURE_COLUMNS = ["asset_symbol", "timestamp", "column", "value", "reason"]
"""Columns every ``CheckOutcome.failures`` frame has (checks may add more after them)."""

MAX_CASES = 50
"""Default number of failure cases an outcome keeps."""


def empty_failures(extra: Sequence[str] = ()) -> pd.DataFrame:
    """A failure frame without rows: ``FAILURE_COLUMNS`` then ``extra``."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in [*FAILURE_COLUMNS, *extra]})


@dataclass(frozen=True, eq=False)
class CheckOutcome:
    """The result of one check (``eq=False``: frames do not compare as booleans)."""

    name: str
    passed: bool
    severity: str
    """``ERROR`` for blocking checks, ``WARN`` for report-only ones (whether or not it passed)."""
    summary: str
    """One line: what failed (asset(s), column, count, dates), or what was verified."""
    metadata: dict[str, object]
    """JSON-able scalars, lists and dicts (NaN written as None, timestamps as ISO dates)."""
    failures: pd.DataFrame = field(default_factory=empty_failures)
    """At most ``max_cases`` failure cases; ``FAILURE_COLUMNS`` first; no rows when passed."""


def failures_markdown(outcome: CheckOutcome, *, max_rows: int | None = None) -> str:
    """The outcome's failure cases as a small markdown table (``FAILURE_COLUMNS`` only)."""
    cases = outcome.failures
    if cases.empty:
        return f"**{outcome.name}**: no failure cases."
    shown = cases if max_rows is None else cases.head(max_rows)
    lines = [
        "| " + " | ".join(FAILURE_COLUMNS) + " |",
        "|" + "|".join("---" for _ in FAILURE_COLUMNS) + "|",
    ]
    for record in shown[FAILURE_COLUMNS].itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in record) + " |")
    total = outcome.metadata.get("failure_count", len(cases))
    if isinstance(total, int) and total > len(shown):
        lines.append("")
        lines.append(f"_{len(shown)} of {total} failure cases shown._")
    return "\n".join(lines)


def markdown_table(rows: Mapping[str, Mapping[str, object]], *, key: str, columns: Sequence[str] | None = None) -> str:
    """``{row: {column: value}}`` as a Markdown table, rows in the order given, the first column named ``key``
    (``columns``: which, in order; default every column of any row, in order of appearance)."""
    names = list(columns) if columns is not None else list(dict.fromkeys(c for row in rows.values() for c in row))
    lines = ["| " + " | ".join([key, *names]) + " |", "|" + "|".join("---" for _ in range(len(names) + 1)) + "|"]
    for name, row in rows.items():
        lines.append("| " + " | ".join([_md_cell(name), *(_md_cell(row.get(c)) for c in names)]) + " |")
    return "\n".join(lines)


def readable_tables(outcome: CheckOutcome) -> dict[str, str]:
    """The tables a person reads of an outcome's metadata, as Markdown: per asset for ``completeness``, per feature
    for ``feature_target_ic`` (its JSON stays beside them, for programs)."""
    meta = outcome.metadata
    if outcome.name == "completeness" and isinstance(meta.get("fraction_complete"), Mapping):
        per_asset = {
            str(s): {
                "complete": meta["fraction_complete"][s],  # type: ignore[index]
                "rows checked": meta["rows_checked"].get(s),  # type: ignore[union-attr]
                "incomplete": meta["rows_incomplete"].get(s),  # type: ignore[union-attr]
                "in warm-up": meta["rows_in_warmup"].get(s),  # type: ignore[union-attr]
                "most missing": ", ".join(
                    f"{f} ({n})"
                    for f, n in list(meta["missing_by_feature"].get(s, {}).items())[:3]  # type: ignore[union-attr]
                ),
            }
            for s in meta["fraction_complete"]  # type: ignore[union-attr]
        }
        return {"per_asset": markdown_table(per_asset, key="asset")}
    if outcome.name == "feature_target_ic" and isinstance(meta.get("ic_pooled"), Mapping):
        by_class = meta.get("ic_by_class") or {}
        classes = sorted(by_class)  # type: ignore[arg-type]
        per_feature = {
            str(f): {
                "IC (pooled)": ic,
                "rows": meta.get("rows_used", {}).get(f),  # type: ignore[union-attr]
                **{f"IC {c}": by_class[c].get(f) for c in classes},  # type: ignore[index]
                "why none": meta.get("not_computed", {}).get(f, ""),  # type: ignore[union-attr]
            }
            for f, ic in sorted(meta["ic_pooled"].items(), key=lambda kv: -abs(kv[1]) if kv[1] is not None else 1)  # type: ignore[union-attr]
        }
        return {"per_feature": markdown_table(per_feature, key="feature")}
    return {}


def _md_cell(value: object) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        text = ""
    elif isinstance(value, pd.Timestamp):
        text = _date(value)
    elif isinstance(value, float | np.floating):
        text = f"{float(value):.6g}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python ones, NaN / NaT as None, timestamps as ISO dates."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index | pd.Series):
        return [_jsonable(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return _date(pd.Timestamp(value))
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if value is pd.NA:
        return None
    return value


def _outcome(
    name: str,
    *,
    passed: bool,
    severity: str,
    summary: str,
    metadata: Mapping[str, object],
    cases: pd.DataFrame | None,
    max_cases: int,
    fair_by: Sequence[str] = ("asset_symbol",),
    extra: Sequence[str] = (),
) -> CheckOutcome:
    """Build the outcome: limit the cases fairly, record totals, make the metadata JSON-able."""
    meta = dict(metadata)
    if cases is None or cases.empty or passed:
        failures = empty_failures(extra)
        meta["failure_count"] = 0 if cases is None or passed else len(cases)
    else:
        meta["failure_count"] = len(cases)
        failures = _limit_cases(cases, max_cases, fair_by)
    meta["failure_cases_shown"] = len(failures)
    return CheckOutcome(
        name=name,
        passed=bool(passed),
        severity=severity,
        summary=summary,
        metadata=_jsonable(meta),
        failures=failures,
    )


def _limit_cases(cases: pd.DataFrame, max_cases: int, fair_by: Sequence[str]) -> pd.DataFrame:
    """At most ``max_cases`` rows, shared out round-robin over ``fair_by`` groups, in the input order.

    So one asset with thousands of failures does not hide the one case of another.
    """
    cases = cases.reset_index(drop=True)
    if len(cases) > max_cases:
        keys = [c for c in fair_by if c in cases.columns]
        rank = cases.groupby(keys, sort=False, dropna=False).cumcount().to_numpy() if keys else np.arange(len(cases))
        keep = np.sort(np.argsort(rank, kind="stable")[: max(max_cases, 0)])
        cases = cases.iloc[keep].reset_index(drop=True)
    columns = [*FAILURE_COLUMNS, *(c for c in cases.columns if c not in FAILURE_COLUMNS)]
    for c in FAILURE_COLUMNS:
        if c not in cases.columns:
            cases[c] = None
    out = cases[columns].copy()
    out["value"] = out["value"].astype("object")
    return out
