"""``cross_source_consistency`` (WARN): ``price_close`` and CoinGecko's close differ beyond tolerance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets.checks._frame import _floats, _require
from portfolio_assets.checks._text import _date, _fmt, _join, _plural, _span
from portfolio_assets.checks.outcome import MAX_CASES, WARN, CheckOutcome, _outcome
from portfolio_assets.timeutil import utc_index


def cross_source_consistency(
    prices: pd.DataFrame,
    *,
    tolerance: float = 0.01,
    reference_column: str = "reference_close",
    max_cases: int = MAX_CASES,
) -> CheckOutcome:
    """WARN where ``price_close / reference_close − 1`` exceeds ``tolerance`` in absolute value.

    ``reference_close`` is CoinGecko's close of the same day (crypto only);
    rows without one are not compared. A non-positive or infinite reference
    is a failure case of its own. Metadata: per asset the compared rows, max and
    median absolute deviation and the rows over tolerance. Failure cases: the
    worst days first.
    """
    name = "cross_source_consistency"
    _require(prices, ["asset_symbol", "timestamp", "price_close"], name)
    meta: dict[str, object] = {"tolerance": tolerance, "reference_column": reference_column, "rows": len(prices)}
    if reference_column not in prices.columns:
        meta["rows_compared"] = 0
        summary = f"no {reference_column} column: nothing to compare"
        return _outcome(name, passed=True, severity=WARN, summary=summary, metadata=meta, cases=None, max_cases=0)
    ref = _floats(prices, reference_column)
    close = _floats(prices, "price_close")
    has_ref = ~np.isnan(ref)
    comparable = has_ref & np.isfinite(ref) & (ref > 0) & np.isfinite(close)
    bad_ref = has_ref & ~(np.isfinite(ref) & (ref > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = close / ref - 1.0
    over = comparable & (np.abs(dev) > tolerance)
    symbols = prices["asset_symbol"].astype(str).to_numpy()
    ts = utc_index(prices["timestamp"])
    per_asset = {}
    for s in sorted(set(symbols[comparable])):
        sel = comparable & (symbols == s)
        d = np.abs(dev[sel])
        per_asset[s] = {
            "rows_compared": int(sel.sum()),
            "max_abs_deviation": float(d.max()),
            "median_abs_deviation": float(np.median(d)),
            "rows_over_tolerance": int((over & (symbols == s)).sum()),
        }
    meta.update({"rows_compared": int(comparable.sum()), "per_asset": per_asset})
    if bad_ref.any():
        meta["rows_with_invalid_reference"] = int(bad_ref.sum())
    fail = over | bad_ref
    if not fail.any():
        worst = max((v["max_abs_deviation"] for v in per_asset.values()), default=None)
        summary = (
            f"price_close within {tolerance:.2%} of {reference_column} on all {int(comparable.sum())} compared rows"
            + ("" if worst is None else f" (max deviation {worst:.3%})")
        )
        return _outcome(name, passed=True, severity=WARN, summary=summary, metadata=meta, cases=None, max_cases=0)
    cases = pd.DataFrame(
        {
            "asset_symbol": symbols[fail],
            "timestamp": ts[fail],
            "column": "price_close",
            "value": close[fail],
            "reason": [
                f"{reference_column} {_fmt(rv)} not a positive price"
                if b
                else f"{d:+.2%} from {reference_column} {_fmt(rv)} (tolerance {tolerance:.2%})"
                for d, rv, b in zip(dev[fail], ref[fail], bad_ref[fail], strict=True)
            ],
            "reference_close": ref[fail],
            "deviation": np.where(bad_ref[fail], np.nan, dev[fail]),
        }
    )
    order = np.argsort(-np.nan_to_num(np.abs(cases["deviation"].to_numpy()), nan=np.inf), kind="stable")
    cases = cases.iloc[order]
    parts = []
    for s, g in cases.groupby("asset_symbol", sort=True):
        w = g.iloc[0]
        worst = (
            "invalid reference"
            if pd.isna(w["deviation"])
            else f"worst {w['deviation']:+.2%} on {_date(w['timestamp'])}"
        )
        parts.append(f"{s}: {_plural(len(g), 'day')} ({_span(g['timestamp'])}), {worst}")
    summary = f"price_close vs {reference_column} beyond {tolerance:.2%}: {_join(parts)}"
    return _outcome(name, passed=False, severity=WARN, summary=summary, metadata=meta, cases=cases, max_cases=max_cases)
