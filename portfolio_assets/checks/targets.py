"""``target_coverage`` (ERROR): a labelled row lacks a finite, consistent target.

A row whose horizon passes its asset's last trading day has no label (``no_target_reasons``):
it must have no target, and the gate holds it in the quarantine with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from portfolio_assets import fpmath
from portfolio_assets.checks._frame import _floats, _require
from portfolio_assets.checks._text import _fmt, _join, _plural, _span
from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.features.targets import horizon_passes_end
from portfolio_assets.spans import HORIZON_DAYS
from portfolio_assets.timeutil import utc_index

DEFAULT_TARGET_COLUMNS = ("target_price_90d", "target_return_90d", "target_return_pct_90d")


def no_target_reasons(
    rows: pd.DataFrame, last_trading_days: Mapping[str, pd.Timestamp], horizon_days: int = HORIZON_DAYS
) -> pd.Series:
    """Per row (same index), why it has no target, or None: its horizon passes its asset's last trading day."""
    _require(rows, ["asset_symbol", "timestamp"], "no_target_reasons")
    reasons = pd.Series(None, index=rows.index, dtype="object")
    if not last_trading_days or rows.empty:
        return reasons
    passes = horizon_passes_end(rows["asset_symbol"], rows["timestamp"], last_trading_days, horizon_days)
    horizon = utc_index(rows["timestamp"]).floor("D") + pd.Timedelta(days=horizon_days)
    symbols = rows["asset_symbol"].astype(str).to_numpy()
    reasons[passes] = [
        f"no target: the {horizon_days}-day horizon {h:%Y-%m-%d} passes {s}'s last trading day "
        f"{pd.Timestamp(last_trading_days[s]):%Y-%m-%d} (the asset stopped trading; survivorship policy)"
        for s, h in zip(symbols[passes], horizon[passes], strict=True)
    ]
    return reasons


def target_coverage(
    rows: pd.DataFrame,
    *,
    target_columns: Sequence[str] = DEFAULT_TARGET_COLUMNS,
    timestamp_column: str = "target_timestamp",
    rel_tolerance: float = 1e-9,
    last_trading_days: Mapping[str, pd.Timestamp] | None = None,
    horizon_days: int = HORIZON_DAYS,
    max_cases: int = MAX_CASES,
    rows_checked: int | None = None,
) -> CheckOutcome:
    """ERROR unless every row (every labelled row: run it on ``sft_rows``) has valid targets.

    Given only the rows that fail or are past their asset's last trading day (of a frame, or of its parts, in the
    frame's order) and the frame's length as ``rows_checked``, the outcome is the frame's.

    ``last_trading_days`` (``{symbol: day}``): a row whose ``horizon_days`` horizon passes
    its asset's last trading day is not labelled; it passes when every target column
    and ``timestamp_column`` is missing, and fails when any is set (a target past the
    end can only be a stale price).

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
    ended = no_target_reasons(rows, last_trading_days or {}, horizon_days).notna().to_numpy()
    labelled = ~ended
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
            add(labelled, c, np.full(n, None), "column not in frame")
            continue
        v = _floats(rows, c)
        values[c] = v
        add(np.isnan(v) & labelled, c, v, "missing")
        add(np.isinf(v), c, v, "not finite")
        add(np.isfinite(v) & ended, c, v, "set past the asset's last trading day")
    price_col = next((c for c in target_columns if c.startswith("target_price")), None)
    if price_col in values:
        v = values[price_col]
        add(np.isfinite(v) & (v <= 0), price_col, v, "not positive")
        if "price_close" in rows.columns:
            close = _floats(rows, "price_close")
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = v / close
                expected = {
                    c: (fpmath.log(ratio) if c.startswith("target_return_") and "pct" not in c else (ratio - 1) * 100)
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
        add(np.asarray(tt.isna()) & labelled, timestamp_column, tt, "missing")
        add(np.asarray(~tt.isna()) & ended, timestamp_column, tt, "set past the asset's last trading day")
        add(np.asarray(~tt.isna() & (tt <= ts)), timestamp_column, tt, "not after the row's timestamp")

    n = n if rows_checked is None else rows_checked
    meta: dict[str, object] = {"rows": n, "target_columns": list(target_columns)}
    if ended.any():
        meta["rows_past_last_trading_day"] = {
            str(s): int(k) for s, k in pd.Series(symbols[ended]).value_counts().sort_index().items()
        }
    if absent:
        meta["columns_not_in_frame"] = absent
    if not problems:
        meta["rows_failing"] = 0
        summary = f"all {_plural(n, 'row')} have finite, consistent {', '.join(target_columns)}"
        if ended.any():
            summary = (
                f"all {_plural(n - int(ended.sum()), 'labelled row')} have finite, consistent "
                f"{', '.join(target_columns)}; {_plural(int(ended.sum()), 'row')} whose horizon passes "
                "the asset's last trading day have none, as required"
            )
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
