"""``target_coverage`` (ERROR): a labelled row lacks a finite, consistent target."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_assets.checks._frame import _floats, _require
from portfolio_assets.checks._text import _fmt, _join, _plural, _span
from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.timeutil import utc_index

DEFAULT_TARGET_COLUMNS = ("target_price_90d", "target_return_90d", "target_return_pct_90d")


def target_coverage(
    rows: pd.DataFrame,
    *,
    target_columns: Sequence[str] = DEFAULT_TARGET_COLUMNS,
    timestamp_column: str = "target_timestamp",
    rel_tolerance: float = 1e-9,
    max_cases: int = MAX_CASES,
) -> CheckOutcome:
    """ERROR unless every row (every labelled row: run it on ``sft_rows``) has valid targets.

    Every column of ``target_columns`` must be present and finite and the
    ``target_price_*`` column > 0. Where the frame has them, also: the returns
    agree with the price and ``price_close`` (``target_return = ln(price /
    close)``, ``target_return_pct = (price / close − 1) × 100``, within
    ``rel_tolerance``), and ``timestamp_column`` is set and after ``timestamp``
    (a target at or before its row's day would be look-ahead the wrong way round).
    """
    name = "target_coverage"
    _require(rows, ["asset_symbol", "timestamp"], name)
    n = len(rows)
    ts = utc_index(rows["timestamp"])
    symbols = rows["asset_symbol"].astype(str).to_numpy()
    problems: list[pd.DataFrame] = []

    def add(mask: np.ndarray, column: str, values: object, reason: str | np.ndarray) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            vals = np.asarray(values, dtype=object)
            problems.append(
                pd.DataFrame(
                    {
                        "asset_symbol": symbols[mask],
                        "timestamp": ts[mask],
                        "column": column,
                        "value": vals[mask] if len(vals) == n else None,
                        "reason": reason[mask] if isinstance(reason, np.ndarray) else reason,
                        "row_index": rows.index.to_numpy()[mask],
                    }
                )
            )

    values: dict[str, np.ndarray] = {}
    absent = [c for c in target_columns if c not in rows.columns]
    for c in target_columns:
        if c in absent:
            add(np.ones(n, dtype=bool), c, np.full(n, None), "column not in frame")
            continue
        v = _floats(rows, c)
        values[c] = v
        add(np.isnan(v), c, v, "missing")
        add(np.isinf(v), c, v, "not finite")
    price_col = next((c for c in target_columns if c.startswith("target_price")), None)
    if price_col in values:
        v = values[price_col]
        add(np.isfinite(v) & (v <= 0), price_col, v, "not positive")
        if "price_close" in rows.columns:
            close = _floats(rows, "price_close")
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = v / close
                expected = {
                    c: (np.log(ratio) if c.startswith("target_return_") and "pct" not in c else (ratio - 1) * 100)
                    for c in values
                    if c.startswith("target_return")
                }
            for c, exp in expected.items():
                got = values[c]
                ok = np.isfinite(got) & np.isfinite(exp)
                bad = ok & (np.abs(got - exp) > rel_tolerance * np.maximum(1.0, np.abs(exp)))
                reasons = np.full(n, None, dtype=object)
                reasons[bad] = [f"inconsistent: {price_col} and price_close give {_fmt(e)}" for e in exp[bad]]
                add(bad, c, got, reasons)
    if timestamp_column in rows.columns:
        tt = utc_index(rows[timestamp_column])
        add(np.asarray(tt.isna()), timestamp_column, tt, "missing")
        add(np.asarray(~tt.isna() & (tt <= ts)), timestamp_column, tt, "not after the row's timestamp")

    meta: dict[str, object] = {"rows": n, "target_columns": list(target_columns)}
    if absent:
        meta["columns_not_in_frame"] = absent
    if not problems:
        meta["rows_failing"] = 0
        summary = f"all {_plural(n, 'row')} have finite, consistent {', '.join(target_columns)}"
        return _outcome(name, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)

    cases = pd.concat(problems, ignore_index=True).sort_values(
        ["asset_symbol", "timestamp", "row_index"], kind="stable"
    )
    meta["rows_failing"] = int(cases["row_index"].nunique())
    meta["failures_by_column"] = {
        f"{c}: {r}": len(g) for (c, r), g in cases.groupby(["column", cases["reason"].str.split(":").str[0]])
    }
    meta["rows_failing_per_asset"] = {str(s): int(g["row_index"].nunique()) for s, g in cases.groupby("asset_symbol")}
    parts = [
        f"{s} {c} {r.split(':')[0]} ({len(g)}, {_span(g['timestamp'])})"
        for (s, c, r), g in cases.groupby(["asset_symbol", "column", cases["reason"].str.split(":").str[0]])
    ]
    summary = f"{meta['rows_failing']} of {_plural(n, 'row')} lack a valid target: {_join(parts)}"
    return _outcome(
        name, passed=False, severity=ERROR, summary=summary, metadata=meta, cases=cases, max_cases=max_cases
    )
