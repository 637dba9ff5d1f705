"""Row rules on a row's own numbers: OHLC order, returns vs prices, the target horizon, all-or-none targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets import fpmath
from portfolio_assets.columns import TARGET_COLUMNS
from portfolio_assets.features.targets import MAX_GAP_DAYS
from portfolio_assets.schemas.display import fmt
from portfolio_assets.schemas.row_rule import Problem, RowRule, all_true, num
from portfolio_assets.spans import HORIZON_DAYS

# Targets are computed from the same float64 closes: they agree to rounding.
_TARGET_RTOL = 1e-9


# --------------------------------------------------------------------------- OHLC order

_OHLC = ("price_open", "price_high", "price_low", "price_close")


def _ohlc_ok(df: pd.DataFrame) -> pd.Series:
    if not set(_OHLC) <= set(df.columns):
        return all_true(df)
    o, h, low, c = (num(df, col) for col in _OHLC)
    with np.errstate(invalid="ignore"):
        bad = (h < np.fmax(o, c)) | (low > np.fmin(o, c))
    return pd.Series(~bad, index=df.index)


def _ohlc_explain(rows: pd.DataFrame) -> list[Problem]:
    o, h, low, c = (num(rows, col) for col in _OHLC)
    top, bottom = np.fmax(o, c), np.fmin(o, c)
    out = []
    for i in range(len(rows)):
        if h[i] < top[i]:
            out.append((i, "price_high", h[i], f"price_high={fmt(h[i])} < max(price_open, price_close)={fmt(top[i])}"))
        if low[i] > bottom[i]:
            message = f"price_low={fmt(low[i])} > min(price_open, price_close)={fmt(bottom[i])}"
            out.append((i, "price_low", low[i], message))
    return out


OHLC_CONSISTENT = RowRule(
    ("price_high", "price_low"),
    "price_high >= max(price_open, price_close) >= min(price_open, price_close) >= price_low",
    _ohlc_ok,
    _ohlc_explain,
)


# --------------------------------------------------------------------------- returns vs prices

_RETURNS = {
    "target_return_90d": ("ln(target_price_90d / price_close)", lambda tp, c: fpmath.log(tp / c)),
    "target_return_pct_90d": ("(target_price_90d / price_close - 1) * 100", lambda tp, c: (tp / c - 1.0) * 100.0),
}


def _returns_disagree(df: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per return column: (actual, expected from target_price_90d and price_close, disagreement mask)."""
    tp, close = num(df, "target_price_90d"), num(df, "price_close")
    out = {}
    for col, (_, fn) in _RETURNS.items():
        actual = num(df, col)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = fn(tp, close)
            agree = np.abs(actual - expected) <= _TARGET_RTOL * np.abs(expected) + 1e-12
        out[col] = (actual, expected, ~(agree | np.isnan(actual) | ~np.isfinite(expected)))
    return out


def _returns_ok(df: pd.DataFrame) -> pd.Series:
    if not {"target_price_90d", "price_close", *_RETURNS} <= set(df.columns):
        return all_true(df)
    bad = np.zeros(len(df), dtype=bool)
    for _, _, disagree in _returns_disagree(df).values():
        bad |= disagree
    return pd.Series(~bad, index=df.index)


def _returns_explain(rows: pd.DataFrame) -> list[Problem]:
    out = []
    for col, (actual, expected, disagree) in _returns_disagree(rows).items():
        formula = _RETURNS[col][0]
        for i in np.flatnonzero(disagree):
            out.append((int(i), col, actual[i], f"{col}={fmt(actual[i])} but {formula}={fmt(expected[i])}"))
    return out


TARGET_RETURNS_CONSISTENT = RowRule(
    tuple(_RETURNS),
    "target_return_90d = ln(target_price_90d / price_close), "
    "target_return_pct_90d = (target_price_90d / price_close - 1) * 100",
    _returns_ok,
    _returns_explain,
)


# --------------------------------------------------------------------------- horizon

_HORIZON = pd.Timedelta(days=HORIZON_DAYS)
_EARLIEST = pd.Timedelta(days=HORIZON_DAYS - MAX_GAP_DAYS)


def _utc(series: pd.Series) -> pd.Series:
    """Timestamps (datetime or ISO strings) as UTC datetimes; unparsable values become NaT."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC")
    try:
        return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    except (TypeError, ValueError):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")


def _horizon_ok(df: pd.DataFrame) -> pd.Series:
    if not {"timestamp", "target_timestamp"} <= set(df.columns):
        return all_true(df)
    day, target = _utc(df["timestamp"]), _utc(df["target_timestamp"])
    inside = (target >= day + _EARLIEST) & (target <= day + _HORIZON)
    return (inside | target.isna() | day.isna()).astype(bool)


def _horizon_explain(rows: pd.DataFrame) -> list[Problem]:
    days, targets, raw = _utc(rows["timestamp"]), _utc(rows["target_timestamp"]), rows["target_timestamp"].to_numpy()
    window = f"timestamp + {HORIZON_DAYS - MAX_GAP_DAYS}..{HORIZON_DAYS} days"
    return [
        (i, "target_timestamp", raw[i], f"target_timestamp={fmt(t)} not within {window} (timestamp={fmt(d)})")
        for i, (d, t) in enumerate(zip(days, targets, strict=True))
    ]


TARGET_WITHIN_HORIZON = RowRule(
    ("target_timestamp",),
    f"timestamp + {HORIZON_DAYS - MAX_GAP_DAYS} days <= target_timestamp <= timestamp + {HORIZON_DAYS} days",
    _horizon_ok,
    _horizon_explain,
)


# --------------------------------------------------------------------------- all or none


def _all_or_none_ok(df: pd.DataFrame) -> pd.Series:
    present = [c for c in TARGET_COLUMNS if c in df.columns]
    if not present:
        return all_true(df)
    nulls = df[present].isna().sum(axis=1)
    return ((nulls == 0) | (nulls == len(present))).astype(bool)


def _all_or_none_explain(rows: pd.DataFrame) -> list[Problem]:
    present = [c for c in TARGET_COLUMNS if c in rows.columns]
    isna = rows[present].isna().to_numpy()
    out = []
    for i in range(len(rows)):
        null = [c for c, missing in zip(present, isna[i], strict=True) if missing]
        given = [c for c in present if c not in null]
        out.append((i, null[0], None, f"targets partly missing: {', '.join(null)} null but {', '.join(given)} present"))
    return out


TARGETS_ALL_OR_NONE = RowRule(
    tuple(TARGET_COLUMNS),
    "the four target columns are all null (no target) or all present",
    _all_or_none_ok,
    _all_or_none_explain,
)
