"""``value_bounds`` / ``rsi_bounds`` (ERROR): a present value lies outside its column's bounds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_assets.checks._frame import _floats, _require
from portfolio_assets.checks._text import _date, _fmt, _join, _plural, _span
from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.timeutil import utc_index


@dataclass(frozen=True)
class Bound:
    """An interval; ``None`` is unbounded on that side. Plain ``(low, high)`` tuples mean closed bounds."""

    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def violated(self, values: np.ndarray) -> np.ndarray:
        """Present values outside the interval (±inf always is); NaN (missing) never is."""
        present = ~np.isnan(values)
        bad = present & np.isinf(values)
        with np.errstate(invalid="ignore"):
            if self.low is not None:
                bad |= present & ((values < self.low) if self.low_inclusive else (values <= self.low))
            if self.high is not None:
                bad |= present & ((values > self.high) if self.high_inclusive else (values >= self.high))
        return bad

    def describe(self) -> str:
        """The interval in interval notation, e.g. ``[0, 100]`` or ``(0, ∞)``."""
        low = "(-∞" if self.low is None else ("[" if self.low_inclusive else "(") + _fmt(self.low)
        high = "∞)" if self.high is None else _fmt(self.high) + ("]" if self.high_inclusive else ")")
        return f"{low}, {high}"


def _bound(b: Bound | tuple[float | None, float | None]) -> Bound:
    return b if isinstance(b, Bound) else Bound(b[0], b[1])


_POSITIVE = Bound(0.0, None, low_inclusive=False)
_NON_NEGATIVE = Bound(0.0, None)
_PERCENT = Bound(0.0, 100.0)
_UNIT = Bound(-1.0, 1.0)

DEFAULT_BOUNDS: Mapping[str, Bound] = {
    # oscillators 0..100, Williams %R −100..0
    "rsi_14": _PERCENT,
    "stoch_k_14": _PERCENT,
    "stoch_d_3": _PERCENT,
    "mfi_14": _PERCENT,
    "adx_14": _PERCENT,
    "williams_r_14": Bound(-100.0, 0.0),
    # dispersions and ranges ≥ 0
    "volatility_30d": _NON_NEGATIVE,
    "volatility_60d": _NON_NEGATIVE,
    "volatility_90d": _NON_NEGATIVE,
    "atr_14": _NON_NEGATIVE,
    "natr_14": _NON_NEGATIVE,
    "bb_width": _NON_NEGATIVE,
    "drawdown_252d": Bound(-1.0, 0.0),
    "corr_sp500_60d": _UNIT,
    "corr_dxy_60d": _UNIT,
    # sentiment
    "news_sentiment_score": _UNIT,
    "social_sentiment_score": _UNIT,
    "fear_greed_index": _PERCENT,
    "google_trends_score": _PERCENT,
    "news_volume": _NON_NEGATIVE,
    "social_mention_count": _NON_NEGATIVE,
    # prices and averages of prices > 0, volumes ≥ 0
    "price_open": _POSITIVE,
    "price_high": _POSITIVE,
    "price_low": _POSITIVE,
    "price_close": _POSITIVE,
    "reference_close": _POSITIVE,
    "target_price_90d": _POSITIVE,
    "sma_20": _POSITIVE,
    "sma_50": _POSITIVE,
    "sma_200": _POSITIVE,
    "ema_12": _POSITIVE,
    "ema_26": _POSITIVE,
    "bb_middle": _POSITIVE,
    "price_to_sma_200": _POSITIVE,
    "volume": _NON_NEGATIVE,
    "market_cap": _NON_NEGATIVE,
}
"""Bounds of every bounded column (FEATURES.md units; closed unless shown otherwise)."""


def value_bounds(
    rows: pd.DataFrame,
    *,
    bounds: Mapping[str, Bound | tuple[float | None, float | None]] = DEFAULT_BOUNDS,
    max_cases: int = MAX_CASES,
    name: str = "value_bounds",
) -> CheckOutcome:
    """ERROR if a present value lies outside its column's bounds (default ``DEFAULT_BOUNDS``).

    Missing values (NaN) are not checked (that is ``completeness``); ±inf
    always fails. Columns of ``bounds`` absent from the frame are listed in the
    metadata and skipped.
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
    meta: dict[str, object] = {
        "rows": len(rows),
        "columns_checked": checked,
        "bounds": {c: _bound(bounds[c]).describe() for c in checked},
        "violations": per_column,
    }
    if skipped:
        meta["columns_not_in_frame"] = skipped
    if not frames:
        summary = (
            f"every present value of {_plural(len(checked), 'column')} within bounds ({_plural(len(rows), 'row')})"
        )
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


def rsi_bounds(rows: pd.DataFrame, *, max_cases: int = MAX_CASES) -> CheckOutcome:
    """``value_bounds`` of ``rsi_14`` alone (0..100), as its own check ``rsi_bounds``."""
    return value_bounds(rows, bounds={"rsi_14": _PERCENT}, max_cases=max_cases, name="rsi_bounds")
