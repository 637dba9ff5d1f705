"""``feature_target_ic`` (WARN report): Spearman rank IC of each feature with the target."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from portfolio_assets.checks._frame import _floats
from portfolio_assets.checks._text import _plural
from portfolio_assets.checks.outcome import MAX_CASES, WARN, CheckOutcome, _outcome


def spearman(x: np.ndarray | pd.Series, y: np.ndarray | pd.Series) -> float:
    """Spearman rank correlation of the pairs where both are finite (average ranks for ties).

    NaN when fewer than 2 pairs remain or either side is constant.
    """
    xa = np.asarray(x, dtype="float64")
    ya = np.asarray(y, dtype="float64")
    ok = np.isfinite(xa) & np.isfinite(ya)
    if ok.sum() < 2:
        return float("nan")
    rx = pd.Series(xa[ok]).rank(method="average").to_numpy()
    ry = pd.Series(ya[ok]).rank(method="average").to_numpy()
    return _pearson(rx, ry)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    da = a - a.mean()
    db = b - b.mean()
    # Elementwise sums, not np.dot: BLAS threads gain nothing here and stall on a busy machine.
    sa = float(np.sum(da * da))
    sb = float(np.sum(db * db))
    if sa == 0.0 or sb == 0.0:
        return float("nan")
    return float(np.clip(np.sum(da * db) / math.sqrt(sa * sb), -1.0, 1.0))


def _rank(values: np.ndarray) -> np.ndarray:
    """1-based ranks of finite ``values``, ties sharing the mean of their positions: ``Series.rank(method="average")``
    exactly (a tie group's mean is a half-integer, exact in float64, however it is summed), at about half its cost."""
    order = np.argsort(values)
    ranks = np.empty(len(values), dtype="float64")
    ranks[order] = _sorted_ranks(values[order])
    return ranks


def _sorted_ranks(ordered: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """The average ranks of sorted values; with ``groups`` (codes, each group's values contiguous and sorted),
    the ranks within each group."""
    n = len(ordered)
    new = np.ones(n, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    base = np.zeros(n, dtype=np.int64)
    if groups is not None and n:
        first = np.ones(n, dtype=bool)
        first[1:] = groups[1:] != groups[:-1]
        new |= first
        base = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n) if len(starts) else starts
    return np.repeat((starts + ends + 1 - 2 * base[starts]) / 2, ends - starts)


def _row_ranks(x: np.ndarray, ok: np.ndarray, codes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per row of ``x``: its rank among the ``ok`` rows (``_rank(x[ok])``), and among the ``ok`` rows of its
    ``codes`` group (``_rank(x[ok & group])``); NaN where not ``ok``. One sort of ``x`` gives both."""
    rows = np.flatnonzero(ok)
    values = x[rows]
    order = np.argsort(values)
    pooled = np.full(len(x), np.nan)
    pooled[rows[order]] = _sorted_ranks(values[order])
    if codes is None:
        return pooled, None
    grouped = order[np.argsort(codes[rows][order], kind="stable")]  # by group, each in value order
    within = np.full(len(x), np.nan)
    within[rows[grouped]] = _sorted_ranks(values[grouped], codes[rows][grouped])
    return pooled, within


def _ic(
    x: np.ndarray,
    y: np.ndarray,
    min_rows: int,
    y_ranks: dict[bytes, np.ndarray] | None = None,
    x_ranks: np.ndarray | None = None,
) -> tuple[float | None, int, str | None]:
    """(IC or None, pairs used, why it is None). ``y_ranks`` caches y's ranks per row mask; ``x_ranks`` (per row,
    ``_row_ranks``) are x's ranks among the rows where both are finite, if already known."""
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < min_rows:
        return None, n, f"{n} rows with both values (< {min_rows})"
    xs, ys = x[ok], y[ok]
    if xs.min() == xs.max():
        return None, n, "constant feature"
    if ys.min() == ys.max():
        return None, n, "constant target"
    if y_ranks is None:
        ry = _rank(ys)
    else:
        key = np.packbits(ok).tobytes()
        ry = y_ranks.get(key)
        if ry is None:
            ry = y_ranks[key] = _rank(ys)
    return _pearson(_rank(xs) if x_ranks is None else x_ranks[ok], ry), n, None


def feature_target_ic(
    rows: pd.DataFrame,
    *,
    features: Sequence[str],
    target: str = "target_return_90d",
    min_rows: int = 30,
    max_cases: int = MAX_CASES,
) -> CheckOutcome:
    """WARN-level report: Spearman rank IC of each feature with ``target``, pooled and per asset class.

    Over the rows where both are finite; a coefficient needs ``min_rows`` such
    rows and a non-constant feature and target, else it is None with the
    reason. Metadata: ``ic_pooled`` {feature: IC}, ``ic_by_class`` {class:
    {feature: IC}}, ``rows_used``, ``not_computed`` reasons and the strongest
    features. Passes unless no pooled coefficient could be computed (then
    passed=False, severity WARN, one failure case per feature with the reason).
    """
    name = "feature_target_ic"
    features = list(dict.fromkeys(features))
    meta: dict[str, object] = {"target": target, "min_rows": min_rows, "rows": len(rows)}
    if target not in rows.columns:
        meta["ic_pooled"] = dict.fromkeys(features)
        summary = f"no IC computed: the frame has no {target} column"
        cases = pd.DataFrame(
            {"asset_symbol": "*", "timestamp": pd.NaT, "column": features, "value": None, "reason": f"no {target}"}
        )
        return _outcome(
            name,
            passed=False,
            severity=WARN,
            summary=summary,
            metadata=meta,
            cases=cases,
            max_cases=max_cases,
            fair_by=(),
        )
    results = features_ic(rows, features, target=target, min_rows=min_rows)
    return ic_outcome(results, rows=len(rows), target=target, min_rows=min_rows, max_cases=max_cases)


def _target_and_classes(rows: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The target as floats, the asset classes' names and each row's class code (None: no ``asset_class``)."""
    y = _floats(rows, target)
    if "asset_class" not in rows.columns:
        return y, np.array([]), None
    # np.unique(classes, return_inverse=True), by hashing: sorting the strings of every row costs ~20x more.
    found, uniques = pd.factorize(rows["asset_class"].astype(str).to_numpy())
    order = np.argsort(uniques.astype(str), kind="stable")
    names, rank = uniques[order].astype(str), np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[found]
    if len(names) <= 256:
        codes = codes.astype(np.uint8)  # a stable sort of bytes is a radix sort
    return y, names, codes


def features_ic(
    rows: pd.DataFrame, features: Sequence[str], *, target: str, min_rows: int = 30
) -> list[dict[str, Any]]:
    """``feature_target_ic``'s coefficients of each of ``features`` (pooled, and per asset class), for
    ``ic_outcome``: the rows need only ``asset_class``, the features and the target (so a pass over every asset
    may compute them a group of features at a time)."""
    y, names, codes = _target_and_classes(rows, target)
    y_ranks: dict[bytes, np.ndarray] = {}
    class_y_ranks: dict[str, dict[bytes, np.ndarray]] = {}
    class_masks = {str(c): codes == k for k, c in enumerate(names.tolist())} if codes is not None else {}
    results = []
    for f in features:
        if f not in rows.columns:
            results.append({"feature": f, "pooled": None, "used": 0, "why": "column not in frame", "by_class": None})
            continue
        x = _floats(rows, f)
        x_ranks, class_ranks = _row_ranks(x, np.isfinite(x) & np.isfinite(y), codes)
        pooled, used, why = _ic(x, y, min_rows, y_ranks, x_ranks)
        by_class: dict[str, tuple[float | None, str | None]] | None = None
        if class_ranks is not None:
            by_class = {}
            for c, sel in class_masks.items():
                ic, _, why_c = _ic(x[sel], y[sel], min_rows, class_y_ranks.setdefault(c, {}), class_ranks[sel])
                by_class[c] = (ic, why_c)
        results.append({"feature": f, "pooled": pooled, "used": used, "why": why, "by_class": by_class})
    return results


def ic_outcome(
    per_feature: Sequence[dict[str, Any]], *, rows: int, target: str, min_rows: int = 30, max_cases: int = MAX_CASES
) -> CheckOutcome:
    """The ``feature_target_ic`` outcome of the features' ``feature_ic`` results (in the features' order) over
    ``rows`` rows."""
    name = "feature_target_ic"
    features = [r["feature"] for r in per_feature]
    meta: dict[str, object] = {"target": target, "min_rows": min_rows, "rows": rows}
    pooled: dict[str, float | None] = {}
    used: dict[str, int] = {}
    reasons: dict[str, str] = {}
    by_class: dict[str, dict[str, float | None]] = {}
    class_reasons: dict[str, dict[str, str]] = {}
    for result in per_feature:
        f = result["feature"]
        pooled[f], used[f] = result["pooled"], result["used"]
        if result["why"]:
            reasons[f] = result["why"]
        for c, (ic, why_c) in (result["by_class"] or {}).items():
            by_class.setdefault(c, {})[f] = ic
            if why_c:
                class_reasons.setdefault(c, {})[f] = why_c
    computed = {f: v for f, v in pooled.items() if v is not None}
    strongest = sorted(computed.items(), key=lambda kv: -abs(kv[1]))[:10]
    meta.update(
        {
            "ic_pooled": pooled,
            "ic_by_class": by_class,
            "rows_used": used,
            "not_computed": reasons,
            "not_computed_by_class": class_reasons,
            "strongest": [{"feature": f, "ic": v} for f, v in strongest],
            "features_computed": len(computed),
        }
    )
    if computed:
        top = ", ".join(f"{f} {v:+.3f}" for f, v in strongest[:3])
        skipped = f"; not computed: {', '.join(f'{f} ({r})' for f, r in list(reasons.items())[:3])}" if reasons else ""
        summary = (
            f"Spearman IC vs {target} over {_plural(rows, 'row')}: {len(computed)} of "
            f"{_plural(len(features), 'feature')} computed; strongest |IC| {top}{skipped}"
        )
        return _outcome(name, passed=True, severity=WARN, summary=summary, metadata=meta, cases=None, max_cases=0)
    cases = pd.DataFrame(
        {
            "asset_symbol": "*",
            "timestamp": pd.NaT,
            "column": list(reasons),
            "value": [used[f] for f in reasons],
            "reason": list(reasons.values()),
        }
    )
    first = next(iter(reasons.values()), "no features given")
    summary = f"no IC computed vs {target} for any of {_plural(len(features), 'feature')} (e.g. {first})"
    return _outcome(
        name, passed=False, severity=WARN, summary=summary, metadata=meta, cases=cases, max_cases=max_cases, fair_by=()
    )
