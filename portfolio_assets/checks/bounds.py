"""``value_bounds`` / ``rsi_bounds`` (ERROR): a present value lies outside its column's bounds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from portfolio_assets.checks._frame import _floats, _require
from portfolio_assets.checks._text import _date, _fmt, _join, _plural, _span
from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.features.registry import bounds as feature_bounds
from portfolio_assets.features.registry import feature
from portfolio_assets.features.spec import NON_NEGATIVE, POSITIVE, Bound
from portfolio_assets.timeutil import utc_index


def _bound(b: Bound | tuple[float | None, float | None]) -> Bound:
    return b if isinstance(b, Bound) else Bound(b[0], b[1])


DEFAULT_BOUNDS: Mapping[str, Bound] = {
    **feature_bounds(),
    # canonical columns that are not input features
    **dict.fromkeys(["price_open", "price_high", "price_low", "reference_close", "target_price_90d"], POSITIVE),
    "market_cap": NON_NEGATIVE,
}
"""Bounds of every bounded column: each feature's declared valid range (``features/registry.py``), and the
prices, market capitalisation and target price of the canonical columns."""


def value_bounds(
    rows: pd.DataFrame,
    *,
    bounds: Mapping[str, Bound | tuple[float | None, float | None]] = DEFAULT_BOUNDS,
    max_cases: int = MAX_CASES,
    name: str = "value_bounds",
    rows_checked: int | None = None,
) -> CheckOutcome:
    """ERROR if a present value lies outside its column's bounds (default ``DEFAULT_BOUNDS``).

    Missing values (NaN) are not checked (that is ``completeness``); ±inf
    always fails. Columns of ``bounds`` absent from the frame are listed in the
    metadata and skipped. Given the ``out_of_bounds`` rows of a frame (or of each part of it, concatenated) and
    the frame's length as ``rows_checked``, the outcome is the frame's.
    """
    _require(rows, ["asset_symbol", "timestamp"], name)
    ts = utc_index(rows["timestamp"])
    symbols = rows["asset_symbol"].astype(str).to_numpy()
    checked = [c for c in bounds if c in rows.columns]
    skipped = [c for c in bounds if c not in rows.columns]
    frames = []
    per_column: dict[str, dict[str, object]] = {}
    for c in checked:
        b = _bound(bounds[c])
        v = _floats(rows, c)
        bad = b.violated(v)
        if bad.any():
            per_column[c] = {
                "bounds": b.describe(),
                "violations": int(bad.sum()),
                "min": float(np.nanmin(v[bad])),
                "max": float(np.nanmax(v[bad])),
                "assets": sorted(set(symbols[bad])),
            }
            frames.append(
                pd.DataFrame(
                    {
                        "asset_symbol": symbols[bad],
                        "timestamp": ts[bad],
                        "column": c,
                        "value": v[bad],
                        "reason": f"outside {b.describe()}",
                    }
                )
            )
    total = len(rows) if rows_checked is None else rows_checked
    meta: dict[str, object] = {
        "rows": total,
        "columns_checked": checked,
        "bounds": {c: _bound(bounds[c]).describe() for c in checked},
        "violations": per_column,
    }
    if skipped:
        meta["columns_not_in_frame"] = skipped
    if not frames:
        summary = f"every present value of {_plural(len(checked), 'column')} within bounds ({_plural(total, 'row')})"
        return _outcome(name, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)
    cases = pd.concat(frames, ignore_index=True)
    parts = []
    for c, g in cases.groupby("column", sort=False):
        b = _bound(bounds[c])
        v = g["value"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            beyond = np.maximum(
                (b.low - v) if b.low is not None else np.zeros(len(v)),
                (v - b.high) if b.high is not None else np.zeros(len(v)),
            )
        worst = g.iloc[int(np.argmax(np.where(np.isinf(v), np.inf, beyond)))]
        example = f"{worst['asset_symbol']} {_fmt(worst['value'])} on {_date(worst['timestamp'])}"
        if len(g) == 1:
            parts.append(f"{c} outside {b.describe()}: 1 value ({example})")
            continue
        assets = sorted(g["asset_symbol"].unique())
        parts.append(
            f"{c} outside {b.describe()}: {len(g)} values "
            f"({', '.join(assets[:3])}{'…' if len(assets) > 3 else ''}; {_span(g['timestamp'])}; worst {example})"
        )
    summary = f"{_plural(len(cases), 'value')} out of bounds: {_join(parts)}"
    return _outcome(
        name,
        passed=False,
        severity=ERROR,
        summary=summary,
        metadata=meta,
        cases=cases,
        max_cases=max_cases,
        fair_by=("column", "asset_symbol"),
    )


def out_of_bounds(
    rows: pd.DataFrame, *, bounds: Mapping[str, Bound | tuple[float | None, float | None]] = DEFAULT_BOUNDS
) -> pd.DataFrame:
    """The rows of ``rows`` with a value outside its column's bounds (their keys and bounded columns), in order:
    all ``value_bounds`` needs of them."""
    _require(rows, ["asset_symbol", "timestamp"], "value_bounds")
    checked = [c for c in bounds if c in rows.columns]
    bad = np.zeros(len(rows), dtype=bool)
    for c in checked:
        bad |= np.asarray(_bound(bounds[c]).violated(_floats(rows, c)), dtype=bool)
    return rows.loc[bad, ["asset_symbol", "timestamp", *checked]].reset_index(drop=True)


RSI_BOUNDS: Mapping[str, Bound] = {"rsi_14": feature("rsi_14").valid}


def rsi_bounds(rows: pd.DataFrame, *, max_cases: int = MAX_CASES, rows_checked: int | None = None) -> CheckOutcome:
    """``value_bounds`` of ``rsi_14`` alone (its declared range, 0..100), as its own check ``rsi_bounds``."""
    return value_bounds(rows, bounds=RSI_BOUNDS, max_cases=max_cases, name="rsi_bounds", rows_checked=rows_checked)
