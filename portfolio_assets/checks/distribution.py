"""``feature_distribution`` (WARN): a one-day close move looks like a bad tick or an unadjusted split."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

from portfolio_assets import fpmath
from portfolio_assets.checks._frame import _floats, _require
from portfolio_assets.checks._text import _date, _join, _plural
from portfolio_assets.checks.outcome import MAX_CASES, WARN, CheckOutcome, _outcome
from portfolio_assets.timeutil import utc_index

DEFAULT_JUMP_THRESHOLDS: Mapping[str, float] = {
    "crypto": 0.5,
    "equity": 0.3,
    "fx": 0.08,
    "commodity": 0.25,
    "bond": 0.15,
}
"""One-day |log return| above which a move of an asset of that class is suspicious."""

DEFAULT_SPLIT_RATIOS: tuple[float, ...] = (1 / 2, 1 / 3, 2.0, 3.0, 1 / 10, 10.0, 2 / 3, 3 / 2, 1 / 4, 4.0, 1 / 5, 5.0)
"""Close ratios (new / old) that an unadjusted (reverse) split produces: 1/2 is a 2-for-1 split."""

MAD_TO_SIGMA = 1.4826
"""Scales a median absolute deviation to a normal standard deviation."""

_MEAN_AD_TO_SIGMA = math.sqrt(math.pi / 2)
"""Scales a mean absolute deviation to a normal standard deviation (fallback when the MAD is 0)."""


def _ratio_label(ratio: float) -> str:
    """``1/2``, ``3/2``, ``10``: the ratio as a small fraction."""
    return str(Fraction(ratio).limit_denominator(100))


def _robust_scale(r: np.ndarray) -> tuple[float, float]:
    """(median, robust sigma): MAD × 1.4826, or the mean absolute deviation × √(π/2) when the MAD is 0."""
    med = float(np.median(r))
    dev = np.abs(r - med)
    sigma = float(np.median(dev)) * MAD_TO_SIGMA
    if sigma == 0.0:
        sigma = float(np.mean(dev)) * _MEAN_AD_TO_SIGMA
    return med, sigma


def _asset_slices(frame: pd.DataFrame) -> list[tuple[object, slice]]:
    """(symbol, its rows) of a frame sorted by ``asset_symbol`` (nulls last), in the order of
    ``groupby("asset_symbol", sort=True)``, which leaves out a null symbol's rows."""
    symbols = frame["asset_symbol"].to_numpy(dtype=object)
    n = int((~pd.isna(symbols)).sum())
    starts = np.flatnonzero(np.r_[True, symbols[1:n] != symbols[: n - 1]]) if n else np.zeros(0, dtype=np.int64)
    ends = np.append(starts[1:], n) if n else starts
    return [(symbols[a], slice(a, b)) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def feature_distribution(
    prices_or_rows: pd.DataFrame,
    *,
    z_threshold: float = 8.0,
    jump_thresholds: Mapping[str, float] = DEFAULT_JUMP_THRESHOLDS,
    split_ratios: Sequence[float] = DEFAULT_SPLIT_RATIOS,
    split_tolerance: float = 0.05,
    reversal_fraction: float = 0.5,
    min_returns: int = 20,
    previous: pd.DataFrame | None = None,
    max_cases: int = MAX_CASES,
) -> CheckOutcome:
    """WARN (report-only) on suspicious one-day moves of ``price_close``, class-aware.

    Per asset, over its observations in time order (rows without a positive
    finite close are skipped): the daily log returns r, their robust z-scores
    z = (r − median) / (MAD × 1.4826) (mean absolute deviation × √(π/2) if the
    MAD is 0; z is not used for an asset with fewer than ``min_returns``
    returns). A move is *reversed* when the next return has the opposite sign
    and leaves at most ``reversal_fraction`` of it: |r + r_next| ≤ 0.5 |r|.

    A move at t is flagged when
      * |z| > ``z_threshold`` and |r| > the class's jump threshold
        (``jump_thresholds``: crypto 0.5, equity 0.3, fx 0.08, commodity 0.25,
        bond 0.15), or
      * |z| > ``z_threshold``, it is reversed and the reversal's |z| is too (a
        spike below the class threshold that comes straight back),
    and classified as ``bad_tick`` (reversed next day), ``unadjusted_split``
    (not reversed and exp(r) within ``split_tolerance`` in log of a ratio of
    ``split_ratios``: the suspected ratio is reported, 1/2 = the close halved as
    by an unadjusted 2-for-1 split) or ``jump`` (neither). A move on the last
    observation cannot be checked for reversal (``next_log_return`` empty).

    Statistical outliers (|z| > threshold) below the class threshold that are
    not reversed spikes are genuine large moves in practice (earnings days,
    crashes); they are counted per asset in the metadata but not flagged.

    ``previous``: earlier observations (e.g. the run's lookback) used for the
    first return and the scale; only moves on rows of ``prices_or_rows`` are
    flagged. passed is False (severity WARN) when anything is flagged.
    """
    name = "feature_distribution"
    _require(prices_or_rows, ["asset_symbol", "asset_class", "timestamp", "price_close"], name)
    cols = ["asset_symbol", "asset_class", "timestamp", "price_close"]
    current = prices_or_rows[cols].copy()
    current["in_window"] = True
    frames = [current]
    if previous is not None and len(previous):
        _require(previous, cols, f"{name} (previous)")
        prev = previous[cols].copy()
        prev["in_window"] = False
        frames.append(prev)
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = utc_index(frame["timestamp"])
    frame["price_close"] = _floats(frame, "price_close")
    frame = frame[np.isfinite(frame["price_close"]) & (frame["price_close"] > 0) & frame["timestamp"].notna()]
    # A day in both frames is taken from the checked rows.
    frame = frame.sort_values(["asset_symbol", "timestamp", "in_window"], kind="stable")
    frame = frame.drop_duplicates(["asset_symbol", "timestamp"], keep="last")

    log_ratios = fpmath.log(np.asarray(split_ratios, dtype=float))
    closes = frame["price_close"].to_numpy()
    logs = fpmath.log(closes)  # element-wise: the same bits as per asset
    timestamps, windows = frame["timestamp"].array, frame["in_window"].to_numpy()
    per_asset: dict[str, dict[str, object]] = {}
    cases_list: list[dict[str, object]] = []
    for symbol, rows in _asset_slices(frame):
        asset_class = str(frame["asset_class"].iat[rows.start])
        # An unknown class gets the strictest threshold.
        jump = float(jump_thresholds.get(asset_class, min(jump_thresholds.values())))
        close = closes[rows]
        stamps = timestamps[rows]
        window = windows[rows]
        r = np.diff(logs[rows])
        info: dict[str, object] = {"asset_class": asset_class, "jump_threshold": jump, "returns": len(r)}
        per_asset[str(symbol)] = info
        if len(r) == 0:
            continue
        use_z = len(r) >= min_returns
        med, sigma = _robust_scale(r) if use_z else (0.0, float("nan"))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (r - med) / sigma if use_z else np.full(len(r), np.inf)
        z = np.where(use_z & (sigma == 0) & (r == med), 0.0, z)
        r_next = np.r_[r[1:], np.nan]
        z_next = np.r_[z[1:], np.nan]
        with np.errstate(invalid="ignore"):
            reversed_ = (np.sign(r_next) == -np.sign(r)) & (np.abs(r + r_next) <= reversal_fraction * np.abs(r))
            big = np.abs(r) > jump
            if use_z:
                z_out = np.abs(z) > z_threshold
                flagged = z_out & (big | (reversed_ & (np.abs(z_next) > z_threshold)))
            else:  # too few returns for a scale: the class threshold alone
                z_out = np.zeros(len(r), dtype=bool)
                flagged = big
        # A reversal whose spike was flagged is part of that bad tick, not a move of its own.
        flagged &= ~np.r_[False, (flagged & reversed_)[:-1]]
        in_win = window[1:]
        info.update(
            {
                "median_log_return": med if use_z else None,
                "robust_sigma": sigma if use_z else None,
                "max_abs_z": float(np.nanmax(np.abs(z))) if use_z else None,
                "max_abs_log_return": float(np.max(np.abs(r[in_win]))) if in_win.any() else None,
                "z_outliers_not_flagged": int((z_out & ~flagged & in_win).sum()) if use_z else 0,
                "z_used": use_z,
            }
        )
        flagged &= in_win
        counts = {"bad_tick": 0, "unadjusted_split": 0, "jump": 0}
        for i in np.flatnonzero(flagged):
            ratio = None
            if reversed_[i]:
                kind = "bad_tick"
                reason = (
                    f"bad tick? {asset_class} close {'+' if r[i] > 0 else ''}{math.expm1(r[i]):.1%} "
                    f"then {math.expm1(r_next[i]):+.1%} the next observation"
                )
            else:
                near = np.abs(r[i] - log_ratios)
                j = int(np.argmin(near))
                unknown_next = not np.isfinite(r_next[i])
                tail = " (no next observation to confirm)" if unknown_next else ", not reversed"
                if near[j] <= split_tolerance:
                    kind = "unadjusted_split"
                    ratio = float(split_ratios[j])
                    reason = f"unadjusted split? close × {math.exp(r[i]):.4g} ≈ {_ratio_label(ratio)}{tail}"
                else:
                    kind = "jump"
                    reason = (
                        f"{asset_class} one-day move {math.expm1(r[i]):+.1%} (|log return| {abs(r[i]):.3g} > "
                        f"{jump:g}){tail}"
                    )
            counts[kind] += 1
            cases_list.append(
                {
                    "asset_symbol": str(symbol),
                    "timestamp": pd.Timestamp(stamps[i + 1]),
                    "column": "price_close",
                    "value": float(close[i + 1]),
                    "reason": reason,
                    "kind": kind,
                    "previous_close": float(close[i]),
                    "log_return": float(r[i]),
                    "z": float(z[i]) if use_z else None,
                    "next_log_return": None if not np.isfinite(r_next[i]) else float(r_next[i]),
                    "suspected_ratio": ratio,
                    "suspected_ratio_label": None if ratio is None else _ratio_label(ratio),
                }
            )
        info["flagged"] = {k: v for k, v in counts.items() if v}

    meta: dict[str, object] = {
        "z_threshold": z_threshold,
        "jump_thresholds": dict(jump_thresholds),
        "split_ratios": [_ratio_label(x) for x in split_ratios],
        "split_tolerance_log": split_tolerance,
        "reversal_fraction": reversal_fraction,
        "per_asset": per_asset,
    }
    extra = [
        "kind",
        "previous_close",
        "log_return",
        "z",
        "next_log_return",
        "suspected_ratio",
        "suspected_ratio_label",
    ]
    if not cases_list:
        summary = (
            f"no suspicious one-day move in {_plural(len(per_asset), 'asset')} "
            f"(|z| > {z_threshold:g} and class jump thresholds)"
        )
        return _outcome(
            name, passed=True, severity=WARN, summary=summary, metadata=meta, cases=None, max_cases=0, extra=extra
        )
    cases = pd.DataFrame(cases_list)
    meta["flagged_total"] = {k: int(v) for k, v in cases["kind"].value_counts().items()}
    parts = []
    for row in cases.itertuples(index=False):
        what = {
            "bad_tick": f"bad tick ({math.expm1(row.log_return):+.1%}, reversed next)",
            "unadjusted_split": f"close × {math.exp(row.log_return):.3g} ≈ {row.suspected_ratio_label} not reversed "
            "(unadjusted split?)",
            "jump": f"jump {math.expm1(row.log_return):+.1%}",
        }[row.kind]
        parts.append(f"{row.asset_symbol} price_close {_date(row.timestamp)} {what}")
    summary = f"{_plural(len(cases), 'suspicious move')}: {_join(parts)}"
    return _outcome(
        name,
        passed=False,
        severity=WARN,
        summary=summary,
        metadata=meta,
        cases=cases,
        max_cases=max_cases,
        extra=extra,
    )
