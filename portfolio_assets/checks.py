"""Data-quality checks of the frames the assets produce: pure pandas / numpy, no Dagster.

Each check takes the frame(s) of exactly the partitions a run materialised and
returns a ``CheckOutcome``: whether it passed, its severity (``ERROR`` blocks,
``WARN`` only reports), a one-line summary naming what failed (asset(s),
column, count, dates), JSON-able metadata and the failure cases (at most
``max_cases`` rows; columns ``asset_symbol``, ``timestamp``, ``column``,
``value``, ``reason`` plus check-specific ones). The Dagster layer wraps them as
asset checks; ``failures_markdown`` renders the cases for the UI.

Checks never modify their input: nothing is dropped, filled or corrected.

================================  ========  ===============================================
check                             severity  fails when
================================  ========  ===============================================
``duplicates``                    ERROR     a (timestamp, asset_symbol) key occurs twice
``completeness``                  ERROR     an asset's share of complete dates < min_fraction
``target_coverage``               ERROR     a labelled row lacks a finite, consistent target
``value_bounds`` / ``rsi_bounds`` ERROR     a present value lies outside its bounds
``temporal_gaps``                 ERROR     more than max_gap_days expected days are missing
``feature_distribution``          WARN      a move looks like a bad tick / unadjusted split
``cross_source_consistency``      WARN      close and CoinGecko's close differ > tolerance
``feature_target_ic``             WARN      no feature's rank IC could be computed
================================  ========  ===============================================

Helpers for the wrapping layer: ``warmup_ends`` (per asset, the first date at
which every required technical feature is past its registry warm-up),
``calendars_for`` / ``has_volume_for`` (per-asset settings from the universe).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from portfolio_assets.columns import VOLUME_FEATURES, applies
from portfolio_assets.features.registry import FEATURES_BY_NAME
from portfolio_assets.universe import ASSET_CLASSES, AssetSpec

ERROR = "ERROR"
WARN = "WARN"

FAILURE_COLUMNS = ["asset_symbol", "timestamp", "column", "value", "reason"]
"""Columns every ``CheckOutcome.failures`` frame has (checks may add more after them)."""

MAX_CASES = 50
"""Default number of failure cases an outcome keeps."""

DEFAULT_TARGET_COLUMNS = ("target_price_90d", "target_return_90d", "target_return_pct_90d")

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

CALENDARS = ("daily", "weekdays")

MAD_TO_SIGMA = 1.4826
"""Scales a median absolute deviation to a normal standard deviation."""

_MEAN_AD_TO_SIGMA = math.sqrt(math.pi / 2)
"""Scales a mean absolute deviation to a normal standard deviation (fallback when the MAD is 0)."""


# --------------------------------------------------------------------------------------------
# Outcome
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


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


def _utc(values: pd.Series | pd.Index | np.ndarray) -> pd.DatetimeIndex:
    """Timestamps as a UTC-aware DatetimeIndex (positional: no index alignment; naive values are UTC)."""
    ts = pd.DatetimeIndex(values)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def _ts_utc(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _date(ts: pd.Timestamp | None) -> str:
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def _span(dates: Iterable[pd.Timestamp]) -> str:
    """``first..last`` of ``dates`` (one date when they are all the same day)."""
    days = [d for d in dates if not pd.isna(d)]
    if not days:
        return "no date"
    first, last = _date(min(days)), _date(max(days))
    return first if first == last else f"{first}..{last}"


def _join(parts: Sequence[str], limit: int = 4) -> str:
    """``parts`` joined by '; ', the tail counted rather than listed."""
    head = "; ".join(parts[:limit])
    return head if len(parts) <= limit else f"{head}; and {len(parts) - limit} more"


def _require(frame: pd.DataFrame, columns: Iterable[str], check: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{check}: the frame has no column(s) {missing} (columns: {list(frame.columns)})")


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing (nullable Int64 included)."""
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _fmt(x: float) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.6g}"


# --------------------------------------------------------------------------------------------
# Per-asset settings from the universe
# --------------------------------------------------------------------------------------------


def calendar_for_class(asset_class: str) -> str:
    """``daily`` for crypto (trades every day), ``weekdays`` for every other class."""
    return "daily" if asset_class == "crypto" else "weekdays"


def calendars_for(assets: Iterable[AssetSpec]) -> dict[str, str]:
    """``{symbol: calendar}`` for ``temporal_gaps``."""
    return {a.symbol: calendar_for_class(a.asset_class) for a in assets}


def has_volume_for(assets: Iterable[AssetSpec]) -> dict[str, bool]:
    """``{symbol: has_volume}`` for ``completeness``."""
    return {a.symbol: a.has_volume for a in assets}


def _required_features(features: Sequence[str], asset_class: str, has_volume: bool) -> list[str]:
    """The features of ``features`` that apply to an asset (every one for an unknown class: conservative)."""
    if asset_class not in ASSET_CLASSES:
        return list(features)
    return [f for f in features if applies(f, asset_class) and (has_volume or f not in VOLUME_FEATURES)]


def warmup_ends(
    prices: pd.DataFrame,
    *,
    features: Sequence[str],
    has_volume: Mapping[str, bool],
    cross_asset_lag_days: int = 7,
) -> dict[str, pd.Timestamp]:
    """Per asset, the first timestamp at which every required registry feature is past its warm-up.

    ``prices`` must start at each asset's first observation (the warm-up counts
    from there). A technical feature's warm-up is the registry's index of its
    first valid observation of the asset. A cross-asset feature's counts joint
    observations with weekday-only benchmarks, so it is taken at the asset's
    weekday observations, plus ``cross_asset_lag_days`` (the dollar index's
    release lag): an approximation that errs late (excludes a few more rows
    rather than raising false alarms). Features not in the registry have no
    warm-up. An asset with too few observations gets the day after its last one.
    """
    _require(prices, ["asset_symbol", "asset_class", "timestamp"], "warmup_ends")
    frame = pd.DataFrame({"asset_symbol": prices["asset_symbol"].to_numpy(), "timestamp": _utc(prices["timestamp"])})
    classes = prices.groupby("asset_symbol", sort=True)["asset_class"].first()
    ends: dict[str, pd.Timestamp] = {}
    for symbol, group in frame.groupby("asset_symbol", sort=True):
        days = pd.DatetimeIndex(group["timestamp"].drop_duplicates().sort_values())
        required = _required_features(features, str(classes[symbol]), has_volume.get(str(symbol), True))
        specs = [FEATURES_BY_NAME[f] for f in required if f in FEATURES_BY_NAME]
        end = days[0]
        for spec in specs:
            if spec.group == "cross_asset":
                weekdays = days[days.dayofweek < 5]
                lag = pd.Timedelta(days=cross_asset_lag_days)
                at = weekdays[spec.warmup] + lag if spec.warmup < len(weekdays) else None
            else:
                at = days[spec.warmup] if spec.warmup < len(days) else None
            end = max(end, days[-1] + pd.Timedelta(days=1) if at is None else at)
        ends[str(symbol)] = end
    return ends


# --------------------------------------------------------------------------------------------
# duplicates
# --------------------------------------------------------------------------------------------


def duplicates(
    rows: pd.DataFrame, keys: Sequence[str] = ("timestamp", "asset_symbol"), *, max_cases: int = MAX_CASES
) -> CheckOutcome:
    """ERROR if a key occurs on more than one row; every duplicated row is a failure case.

    A case says whether the copies are identical or carry conflicting values.
    """
    name = "duplicates"
    keys = list(keys)
    _require(rows, keys, name)
    key_label = ", ".join(keys)
    mask = rows.duplicated(keys, keep=False).to_numpy()
    meta: dict[str, object] = {"keys": keys, "rows": len(rows), "duplicated_rows": int(mask.sum())}
    if not mask.any():
        summary = f"no duplicated ({key_label}) among {_plural(len(rows), 'row')}"
        return _outcome(name, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)

    dup = rows.loc[mask]
    group_id = dup.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    try:
        row_hash = pd.util.hash_pandas_object(dup, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): compare their text
        row_hash = pd.util.hash_pandas_object(dup.astype(str), index=False).to_numpy()
    per_group = pd.DataFrame({"g": group_id, "h": row_hash}).groupby("g")["h"]
    copies = per_group.transform("size").to_numpy()
    distinct = per_group.transform("nunique").to_numpy()
    symbols = dup["asset_symbol"].astype(str).to_numpy() if "asset_symbol" in dup.columns else np.full(len(dup), "")
    stamps = _utc(dup["timestamp"]) if "timestamp" in dup.columns else np.full(len(dup), pd.NaT)
    reason = np.where(distinct > 1, "conflicting values", "identical copies")
    cases = pd.DataFrame(
        {
            "asset_symbol": symbols,
            "timestamp": stamps,
            "column": key_label,
            "value": copies,
            "reason": [f"{n} rows share this ({key_label}); {r}" for n, r in zip(copies, reason, strict=True)],
            "row_index": dup.index.to_numpy(),
            "conflicting": distinct > 1,
        }
    ).sort_values(["asset_symbol", "timestamp", "row_index"], kind="stable")
    n_keys = int(group_id.max()) + 1
    meta["duplicated_keys"] = n_keys
    meta["conflicting_keys"] = int(pd.Series(distinct > 1).groupby(group_id).any().sum())
    by_asset = cases.groupby("asset_symbol", dropna=False)
    meta["duplicated_rows_per_asset"] = {str(k): len(g) for k, g in by_asset}
    parts = [f"{k or 'rows'}: {_plural(len(g), 'duplicated row')} ({_span(g['timestamp'])})" for k, g in by_asset]
    summary = f"{_plural(n_keys, 'duplicated key')} ({key_label}), {int(mask.sum())} rows: {_join(parts)}"
    return _outcome(
        name, passed=False, severity=ERROR, summary=summary, metadata=meta, cases=cases, max_cases=max_cases
    )


# --------------------------------------------------------------------------------------------
# completeness
# --------------------------------------------------------------------------------------------


def completeness(
    rows: pd.DataFrame,
    *,
    features: Sequence[str],
    has_volume: Mapping[str, bool],
    min_fraction: float = 0.95,
    warmup_end: Mapping[str, pd.Timestamp] | None = None,
    max_cases: int = MAX_CASES,
) -> CheckOutcome:
    """ERROR if an asset has fewer than ``min_fraction`` (default 0.95) of its dates complete.

    A date (row) of an asset is complete when every feature of ``features`` that
    applies to the asset is present (not NaN). A feature does not apply when
    ``columns.applies(feature, asset_class)`` is False, or when it is a volume
    feature and ``has_volume[symbol]`` is False (a source without volume); an
    unknown asset class requires every feature. Rows before
    ``warmup_end[symbol]`` (see ``warmup_ends``) are not counted. A required
    column absent from the frame is missing on every row.

    Metadata: the complete fraction, counted rows and warm-up rows per asset,
    and, for failing assets, missing counts per feature. Failure cases: the
    incomplete dates of the failing assets with the features they miss.
    """
    name = "completeness"
    _require(rows, ["asset_symbol", "asset_class", "timestamp"], name)
    features = list(dict.fromkeys(features))
    unknown_symbols = sorted(set(map(str, rows["asset_symbol"].unique())) - set(has_volume))
    if unknown_symbols:
        raise ValueError(f"{name}: has_volume does not name asset(s) {unknown_symbols}")
    ts = _utc(rows["timestamp"])
    symbols = rows["asset_symbol"].astype(str).to_numpy()
    classes = rows["asset_class"].astype(str).to_numpy()

    counted = np.ones(len(rows), dtype=bool)
    if warmup_end:
        ends = {str(k): _ts_utc(v) for k, v in warmup_end.items()}
        end_per_row = _utc(pd.Series(symbols, dtype="object").map(ends).astype("object"))
        counted = ~np.asarray(ts < end_per_row)

    absent = [f for f in features if f not in rows.columns]
    present_cols = [f for f in features if f in rows.columns]
    isna = pd.DataFrame(rows[present_cols].isna().to_numpy(), columns=present_cols)
    for f in absent:
        isna[f] = True
    isna = isna[features].to_numpy()

    # required[i, j]: feature j applies to row i's asset.
    required = np.zeros_like(isna, dtype=bool)
    not_applicable: dict[str, list[str]] = {}
    pairs = pd.DataFrame({"s": symbols, "c": classes}).drop_duplicates()
    for symbol, asset_class in pairs.itertuples(index=False):
        req = set(_required_features(features, asset_class, bool(has_volume[symbol])))
        sel = (symbols == symbol) & (classes == asset_class)
        required[sel] = [f in req for f in features]
        not_applicable[symbol] = [f for f in features if f not in req]
    missing = isna & required & counted[:, None]
    incomplete = missing.any(axis=1)

    table = pd.DataFrame({"asset_symbol": symbols, "counted": counted, "incomplete": incomplete})
    stats = table.groupby("asset_symbol", sort=True).agg(
        rows=("counted", "size"), counted=("counted", "sum"), incomplete=("incomplete", "sum")
    )
    fraction = {s: (None if r["counted"] == 0 else 1.0 - r["incomplete"] / r["counted"]) for s, r in stats.iterrows()}
    failing = sorted(s for s, f in fraction.items() if f is not None and f < min_fraction)
    unknown_classes = sorted(set(classes) - set(ASSET_CLASSES))
    meta: dict[str, object] = {
        "min_fraction": min_fraction,
        "fraction_complete": {s: (None if f is None else round(f, 6)) for s, f in fraction.items()},
        "rows_checked": {s: int(r["counted"]) for s, r in stats.iterrows()},
        "rows_incomplete": {s: int(r["incomplete"]) for s, r in stats.iterrows()},
        "rows_in_warmup": {s: int(r["rows"] - r["counted"]) for s, r in stats.iterrows()},
        "required_features": len(features),
        "not_applicable": {s: v for s, v in sorted(not_applicable.items()) if v},
        "failing_assets": failing,
    }
    if absent:
        meta["columns_not_in_frame"] = absent
    if unknown_classes:
        meta["unknown_asset_classes"] = unknown_classes
    missing_by_feature: dict[str, dict[str, int]] = {}
    for s in failing:
        counts = missing[symbols == s].sum(axis=0)
        missing_by_feature[s] = {
            features[j]: int(counts[j]) for j in np.argsort(-counts, kind="stable") if counts[j] > 0
        }
    meta["missing_by_feature"] = missing_by_feature
    if not failing:
        worst = min((f for f in fraction.values() if f is not None), default=None)
        summary = (
            f"every asset ≥ {min_fraction:.0%} complete over {len(features)} features "
            f"({int(stats['counted'].sum())} rows; lowest {'n/a' if worst is None else f'{worst:.1%}'})"
        )
        return _outcome(name, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)

    parts = []
    for s in failing:
        sel = (symbols == s) & incomplete
        top = ", ".join(f"{f} ({n})" for f, n in list(missing_by_feature[s].items())[:3])
        parts.append(
            f"{s} {fraction[s]:.1%} complete ({int(sel.sum())} of {int(stats.loc[s, 'counted'])} dates "
            f"missing features, {_span(ts[sel])}; most missing: {top})"
        )
    summary = f"{_plural(len(failing), 'asset')} below {min_fraction:.0%} complete: {_join(parts)}"

    idx = np.flatnonzero(incomplete & np.isin(symbols, failing))
    names = np.asarray(features, dtype=object)
    n_required = required.sum(axis=1)
    missing_lists = [list(names[missing[i]]) for i in idx]
    cases = pd.DataFrame(
        {
            "asset_symbol": symbols[idx],
            "timestamp": ts[idx],
            "column": [", ".join(m) for m in missing_lists],
            "value": [len(m) for m in missing_lists],
            "reason": [
                f"{len(m)} of {int(n_required[i])} required features missing"
                for m, i in zip(missing_lists, idx, strict=True)
            ],
        }
    ).sort_values(["asset_symbol", "timestamp"], kind="stable")
    return _outcome(
        name, passed=False, severity=ERROR, summary=summary, metadata=meta, cases=cases, max_cases=max_cases
    )


# --------------------------------------------------------------------------------------------
# target_coverage
# --------------------------------------------------------------------------------------------


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
    ts = _utc(rows["timestamp"])
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
        tt = _utc(rows[timestamp_column])
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


# --------------------------------------------------------------------------------------------
# value_bounds / rsi_bounds
# --------------------------------------------------------------------------------------------


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
    ts = _utc(rows["timestamp"])
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


# --------------------------------------------------------------------------------------------
# temporal_gaps
# --------------------------------------------------------------------------------------------


def _expected_days_between(first: np.ndarray, last: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Expected observation days in [first, last] (day precision; 0 where last < first)."""
    f = first.astype("datetime64[D]")
    e = last.astype("datetime64[D]") + np.timedelta64(1, "D")
    e = np.maximum(e, f)
    calendar = (e - f).astype("int64")
    business = np.busday_count(f, e)
    return np.where(weekdays, business, calendar)


def _first_expected(day: np.ndarray, weekdays: np.ndarray, forward: bool) -> np.ndarray:
    """``day`` moved to the nearest expected day in the given direction (itself if expected)."""
    d = day.astype("datetime64[D]")
    rolled = np.busday_offset(d, 0, roll="forward" if forward else "backward")
    return np.where(weekdays, rolled, d)


def temporal_gaps(
    prices: pd.DataFrame,
    *,
    calendars: Mapping[str, str],
    max_gap_days: int = 7,
    previous: pd.DataFrame | None = None,
    window_end: pd.Timestamp | None = None,
    max_cases: int = MAX_CASES,
) -> CheckOutcome:
    """ERROR if an asset misses more than ``max_gap_days`` expected days in a row.

    Calendars (``calendars[symbol]``, see ``calendars_for``): ``daily`` expects
    every calendar day (crypto), ``weekdays`` every Monday..Friday (weekends are
    never gaps; holidays are, but a few do not reach the limit). A gap's length
    is the number of expected days strictly between two consecutive
    observations: the calendar days between them minus 1, not counting
    Saturdays and Sundays for ``weekdays``. Friday → Monday is 0; Thursday →
    Tuesday over a 4-day holiday weekend is 2; a 10-weekday hole fails.

    ``previous``: observations before the checked window (at least each asset's
    last one), so a gap straddling the window start is caught; only gaps that
    end inside ``prices`` (or at ``window_end``) are reported. ``window_end``
    (optional): the last day of the checked window; the expected days after an
    asset's last observation through it form an open gap (an asset whose data
    stopped, including one present in ``previous`` only).

    Failure cases: asset, ``gap_start`` / ``gap_end`` (first and last missing
    expected day), ``gap_days``, and the observations around the gap.
    """
    name = "temporal_gaps"
    _require(prices, ["asset_symbol", "timestamp"], name)
    bad_calendars = {s: c for s, c in calendars.items() if c not in CALENDARS}
    if bad_calendars:
        raise ValueError(f"{name}: unknown calendar(s) {bad_calendars} (expected one of {CALENDARS})")
    current = pd.DataFrame(
        {"asset_symbol": prices["asset_symbol"].astype(str).to_numpy(), "timestamp": _utc(prices["timestamp"])}
    )
    current["in_window"] = True
    parts = [current]
    if previous is not None and len(previous):
        _require(previous, ["asset_symbol", "timestamp"], f"{name} (previous)")
        prev = pd.DataFrame(
            {
                "asset_symbol": previous["asset_symbol"].astype(str).to_numpy(),
                "timestamp": _utc(previous["timestamp"]),
            }
        )
        first_in_window = current.groupby("asset_symbol")["timestamp"].min()
        start = prev["asset_symbol"].map(first_in_window)
        prev = prev[(start.isna() | (prev["timestamp"] < start)).to_numpy()].copy()
        prev["in_window"] = False
        parts.append(prev)
    frame = pd.concat(parts, ignore_index=True)
    no_timestamp = int(frame["timestamp"].isna().sum())
    frame = frame.dropna(subset=["timestamp"])
    frame["day"] = frame["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D")
    # One entry per (asset, day): a day observed in the window counts as in the window.
    frame = frame.groupby(["asset_symbol", "day"], sort=True)["in_window"].max().reset_index()
    unknown = sorted(set(frame["asset_symbol"]) - set(calendars))
    if unknown:
        raise ValueError(f"{name}: calendars does not name asset(s) {unknown}")

    sym = frame["asset_symbol"].to_numpy()
    day = frame["day"].to_numpy().astype("datetime64[ns]")
    in_window = frame["in_window"].to_numpy()
    same_as_prev = np.r_[False, sym[1:] == sym[:-1]]
    # Consecutive observations (prev -> next) of the same asset; next in the window.
    nxt = np.flatnonzero(same_as_prev & in_window)
    prv = nxt - 1
    before = day[prv]
    after = day[nxt]
    symbols_pairs = sym[nxt]
    open_end = np.zeros(len(nxt), dtype=bool)
    if window_end is not None:
        end_day = _ts_utc(window_end).tz_localize(None).floor("D")
        last_idx = np.flatnonzero(np.r_[sym[1:] != sym[:-1], True]) if len(sym) else np.zeros(0, dtype=int)
        last_idx = last_idx[day[last_idx] < end_day.to_datetime64()]
        before = np.r_[before, day[last_idx]]
        # The open gap runs through window_end inclusive: model it as ending the day after.
        after_end = (end_day + pd.Timedelta(days=1)).to_datetime64().astype("datetime64[ns]")
        after = np.r_[after, np.full(len(last_idx), after_end, dtype="datetime64[ns]")]
        symbols_pairs = np.r_[symbols_pairs, sym[last_idx]]
        open_end = np.r_[open_end, np.ones(len(last_idx), dtype=bool)]
    weekdays = pd.Series(symbols_pairs, dtype="object").map(calendars).eq("weekdays").to_numpy()
    first_missing = before + np.timedelta64(1, "D")
    last_missing = after - np.timedelta64(1, "D")
    gap = _expected_days_between(first_missing, last_missing, weekdays) if len(before) else np.zeros(0, int)
    longest = {str(k): int(v) for k, v in pd.Series(gap, index=symbols_pairs).groupby(level=0).max().items()}
    bad = gap > max_gap_days

    meta: dict[str, object] = {
        "max_gap_days": max_gap_days,
        "calendars": {s: calendars[s] for s in sorted(set(sym))},
        "observations": int(in_window.sum()),
        "longest_gap_days": dict(sorted(longest.items())),
        "window_end": None if window_end is None else _date(pd.Timestamp(window_end)),
        "previous_given": previous is not None,
    }
    if no_timestamp:
        meta["rows_without_timestamp"] = no_timestamp
    if not bad.any():
        summary = (
            f"no gap over {max_gap_days} expected days in {int(in_window.sum())} observations of "
            f"{_plural(len(set(sym)), 'asset')} (longest {max(longest.values(), default=0)})"
        )
        return _outcome(name, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)

    gap_start = _utc(_first_expected(first_missing[bad], weekdays[bad], True).astype("datetime64[ns]"))
    gap_end = _utc(_first_expected(last_missing[bad], weekdays[bad], False).astype("datetime64[ns]"))
    cal = np.where(weekdays[bad], "weekdays", "daily")
    cases = pd.DataFrame(
        {
            "asset_symbol": symbols_pairs[bad],
            "timestamp": gap_start,
            "column": "timestamp",
            "value": gap[bad],
            "reason": [
                f"{g} missing {c} from {_date(a)} to {_date(b)}" + (" (open: none through window end)" if o else "")
                for g, c, a, b, o in zip(gap[bad], cal, gap_start, gap_end, open_end[bad], strict=True)
            ],
            "gap_start": gap_start,
            "gap_end": gap_end,
            "gap_days": gap[bad],
            "last_before": _utc(before[bad]),
            "first_after": [
                pd.NaT if o else pd.Timestamp(a, tz="UTC") for a, o in zip(after[bad], open_end[bad], strict=True)
            ],
            "calendar": cal,
        }
    ).sort_values(["asset_symbol", "gap_start"], kind="stable")
    meta["gaps_per_asset"] = {str(s): len(g) for s, g in cases.groupby("asset_symbol")}
    parts = []
    for s, g in cases.groupby("asset_symbol", sort=True):
        worst = g.iloc[int(np.argmax(g["gap_days"].to_numpy()))]
        span = f"{_date(worst['gap_start'])}..{_date(worst['gap_end'])}"
        if len(g) == 1:
            parts.append(f"{s}: 1 gap of {worst['gap_days']} days ({span}) exceeds {max_gap_days}")
        else:
            parts.append(f"{s}: {len(g)} gaps exceed {max_gap_days} (longest {worst['gap_days']} days, {span})")
    summary = _join(parts)
    return _outcome(
        name,
        passed=False,
        severity=ERROR,
        summary=summary,
        metadata=meta,
        cases=cases,
        max_cases=max_cases,
    )


# --------------------------------------------------------------------------------------------
# feature_distribution
# --------------------------------------------------------------------------------------------


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
    frame["timestamp"] = _utc(frame["timestamp"])
    frame["price_close"] = _floats(frame, "price_close")
    frame = frame[np.isfinite(frame["price_close"]) & (frame["price_close"] > 0) & frame["timestamp"].notna()]
    # A day in both frames is taken from the checked rows.
    frame = frame.sort_values(["asset_symbol", "timestamp", "in_window"], kind="stable")
    frame = frame.drop_duplicates(["asset_symbol", "timestamp"], keep="last")

    log_ratios = np.log(np.asarray(split_ratios, dtype=float))
    per_asset: dict[str, dict[str, object]] = {}
    cases_list: list[dict[str, object]] = []
    for symbol, g in frame.groupby("asset_symbol", sort=True):
        asset_class = str(g["asset_class"].iloc[0])
        # An unknown class gets the strictest threshold.
        jump = float(jump_thresholds.get(asset_class, min(jump_thresholds.values())))
        close = g["price_close"].to_numpy()
        stamps = g["timestamp"].to_numpy()
        window = g["in_window"].to_numpy()
        r = np.diff(np.log(close))
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


# --------------------------------------------------------------------------------------------
# feature_target_ic
# --------------------------------------------------------------------------------------------


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
    return pd.Series(values).rank(method="average").to_numpy()


def _ic(
    x: np.ndarray, y: np.ndarray, min_rows: int, y_ranks: dict[bytes, np.ndarray] | None = None
) -> tuple[float | None, int, str | None]:
    """(IC or None, pairs used, why it is None). ``y_ranks`` caches y's ranks per row mask."""
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
    return _pearson(_rank(xs), ry), n, None


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
    y = _floats(rows, target)
    classes = rows["asset_class"].astype(str).to_numpy() if "asset_class" in rows.columns else None
    pooled: dict[str, float | None] = {}
    used: dict[str, int] = {}
    reasons: dict[str, str] = {}
    by_class: dict[str, dict[str, float | None]] = {}
    class_reasons: dict[str, dict[str, str]] = {}
    y_ranks: dict[bytes, np.ndarray] = {}
    class_y_ranks: dict[str, dict[bytes, np.ndarray]] = {}
    class_masks = {c: classes == c for c in sorted(set(classes))} if classes is not None else {}
    for f in features:
        if f not in rows.columns:
            pooled[f], used[f], reasons[f] = None, 0, "column not in frame"
            continue
        x = _floats(rows, f)
        pooled[f], used[f], why = _ic(x, y, min_rows, y_ranks)
        if why:
            reasons[f] = why
        if classes is not None:
            for c, sel in class_masks.items():
                ic, _, why_c = _ic(x[sel], y[sel], min_rows, class_y_ranks.setdefault(c, {}))
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
            f"Spearman IC vs {target} over {_plural(len(rows), 'row')}: {len(computed)} of "
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


# --------------------------------------------------------------------------------------------
# cross_source_consistency
# --------------------------------------------------------------------------------------------


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
    ts = _utc(prices["timestamp"])
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
