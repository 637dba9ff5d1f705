"""``completeness`` (ERROR): an asset's share of dates with every required feature < ``min_fraction``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.checks._frame import _require
from portfolio_assets.checks._text import _join, _plural, _span
from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.checks.requirements import _required_features
from portfolio_assets.timeutil import utc_index, utc_timestamp


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
    The check is per asset: ``completeness_outcome`` of the ``completeness_counts`` of each asset's rows (as a
    Spark engine computes them) is the outcome of all the rows.
    """
    counts = completeness_counts(
        rows, features=features, has_volume=has_volume, min_fraction=min_fraction, warmup_end=warmup_end
    )
    return completeness_outcome([counts], max_cases=max_cases)


@dataclass
class CompletenessCounts:
    """What ``completeness`` knows of some assets' rows (``completeness_counts``); several merge."""

    features: list[str]
    min_fraction: float
    per_asset: dict[str, dict[str, int]]
    """Symbol -> rows, counted (past warm-up) and incomplete rows."""
    not_applicable: dict[str, list[str]]
    absent: list[str]
    classes: set[str]
    missing_by_feature: dict[str, dict[str, int]]
    """Failing asset -> missing count per feature (most missing first)."""
    cases: pd.DataFrame
    """The failing assets' incomplete rows (``FAILURE_COLUMNS``), sorted by asset and date."""


def completeness_counts(
    rows: pd.DataFrame,
    *,
    features: Sequence[str],
    has_volume: Mapping[str, bool],
    min_fraction: float = 0.95,
    warmup_end: Mapping[str, pd.Timestamp] | None = None,
) -> CompletenessCounts:
    """``completeness``'s counts of ``rows`` (any set of whole assets), for ``completeness_outcome``."""
    name = "completeness"
    _require(rows, ["asset_symbol", "asset_class", "timestamp"], name)
    features = list(dict.fromkeys(features))
    unknown_symbols = sorted(set(map(str, rows["asset_symbol"].unique())) - set(has_volume))
    if unknown_symbols:
        raise ValueError(f"{name}: has_volume does not name asset(s) {unknown_symbols}")
    ts = utc_index(rows["timestamp"])
    symbols = rows["asset_symbol"].astype(str).to_numpy()
    classes = rows["asset_class"].astype(str).to_numpy()

    counted = np.ones(len(rows), dtype=bool)
    if warmup_end:
        ends = {str(k): utc_timestamp(v) for k, v in warmup_end.items()}
        end_per_row = utc_index(pd.Series(symbols, dtype="object").map(ends).astype("object"))
        counted = ~np.asarray(ts < end_per_row)

    absent = [f for f in features if f not in rows.columns]
    present_cols = [f for f in features if f in rows.columns]
    isna = pd.DataFrame(rows[present_cols].isna().to_numpy(), columns=present_cols)
    for f in absent:
        isna[f] = True
    isna = isna[features].to_numpy()

    # required[i, j]: feature j applies to row i's asset. One row of flags per (asset, class) pair, taken
    # for every row by the pair's code (a mask per pair over the whole frame would cost assets x rows).
    symbol_codes, symbol_names = pd.factorize(symbols)
    class_codes, class_names = pd.factorize(classes)
    pair_codes, pair_keys = pd.factorize(symbol_codes.astype(np.int64) * len(class_names) + class_codes)
    pair_required = np.zeros((len(pair_keys), len(features)), dtype=bool)
    not_applicable: dict[str, list[str]] = {}
    for k, key in enumerate(pair_keys.tolist()):  # in order of first appearance, as before
        symbol, asset_class = symbol_names[key // len(class_names)], class_names[key % len(class_names)]
        req = set(_required_features(features, asset_class, bool(has_volume[symbol])))
        pair_required[k] = [f in req for f in features]
        not_applicable[symbol] = [f for f in features if f not in req]
    required = pair_required[pair_codes] if len(pair_keys) else np.zeros((len(rows), len(features)), dtype=bool)
    missing = isna & required & counted[:, None]
    incomplete = missing.any(axis=1)

    table = pd.DataFrame({"asset_symbol": symbols, "counted": counted, "incomplete": incomplete})
    stats = table.groupby("asset_symbol", sort=True).agg(
        rows=("counted", "size"), counted=("counted", "sum"), incomplete=("incomplete", "sum")
    )
    per_asset = {
        s: {k: int(v) for k, v in zip(stats.columns, r, strict=True)}
        for s, r in zip(stats.index, stats.to_numpy(), strict=True)
    }
    failing_set = {
        s for s, r in per_asset.items() if r["counted"] and 1.0 - r["incomplete"] / r["counted"] < min_fraction
    }
    # The failing assets' incomplete rows, grouped by asset once (row order kept within an asset).
    # (Not np.isin: on strings it compares the whole frame once per failing asset.)
    failing_code = np.array([s in failing_set for s in symbol_names], dtype=bool)  # per distinct symbol
    idx = np.flatnonzero(incomplete & failing_code[symbol_codes]) if len(symbol_names) else np.zeros(0, dtype=int)
    by_asset = pd.Series(idx).groupby(symbols[idx], sort=False).indices if len(idx) else {}
    missing_by_feature: dict[str, dict[str, int]] = {}
    for s in sorted(failing_set):
        at = idx[by_asset[s]] if s in by_asset else idx[:0]
        sums = missing[at].sum(axis=0)  # complete rows miss nothing: the incomplete ones are all the counts
        missing_by_feature[s] = {features[j]: int(sums[j]) for j in np.argsort(-sums, kind="stable") if sums[j] > 0}
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
    return CompletenessCounts(
        features, min_fraction, per_asset, not_applicable, absent, set(classes), missing_by_feature, cases
    )


def completeness_outcome(parts: Sequence[CompletenessCounts], *, max_cases: int = MAX_CASES) -> CheckOutcome:
    """The ``completeness`` outcome of the counts of disjoint sets of assets (at least one)."""
    name = "completeness"
    features, min_fraction = parts[0].features, parts[0].min_fraction
    per_asset = dict(sorted((s, r) for part in parts for s, r in part.per_asset.items()))
    not_applicable = dict(sorted((s, v) for part in parts for s, v in part.not_applicable.items()))
    missing_by_feature = dict(sorted((s, v) for part in parts for s, v in part.missing_by_feature.items()))
    fraction = {s: (None if r["counted"] == 0 else 1.0 - r["incomplete"] / r["counted"]) for s, r in per_asset.items()}
    failing = sorted(missing_by_feature)
    unknown_classes = sorted(set().union(*(part.classes for part in parts)) - set(ASSET_CLASSES))
    absent = parts[0].absent
    meta: dict[str, object] = {
        "min_fraction": min_fraction,
        "fraction_complete": {s: (None if f is None else round(f, 6)) for s, f in fraction.items()},
        "rows_checked": {s: int(r["counted"]) for s, r in per_asset.items()},
        "rows_incomplete": {s: int(r["incomplete"]) for s, r in per_asset.items()},
        "rows_in_warmup": {s: int(r["rows"] - r["counted"]) for s, r in per_asset.items()},
        "required_features": len(features),
        "not_applicable": {s: v for s, v in not_applicable.items() if v},
        "failing_assets": failing,
    }
    if absent:
        meta["columns_not_in_frame"] = absent
    if unknown_classes:
        meta["unknown_asset_classes"] = unknown_classes
    meta["missing_by_feature"] = missing_by_feature
    if not failing:
        worst = min((f for f in fraction.values() if f is not None), default=None)
        total = sum(r["counted"] for r in per_asset.values())
        summary = (
            f"every asset ≥ {min_fraction:.0%} complete over {len(features)} features "
            f"({total} rows; lowest {'n/a' if worst is None else f'{worst:.1%}'})"
        )
        return _outcome(name, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)

    cases = pd.concat([part.cases for part in parts], ignore_index=True) if len(parts) > 1 else parts[0].cases
    cases = cases.sort_values(["asset_symbol", "timestamp"], kind="stable")
    dates_of = cases.groupby("asset_symbol", sort=False)["timestamp"]
    parts_text = []
    for s in failing:  # an asset may fail with no incomplete row (min_fraction above 1)
        dates = dates_of.get_group(s) if s in dates_of.groups else cases["timestamp"].iloc[:0]
        top = ", ".join(f"{f} ({n})" for f, n in list(missing_by_feature[s].items())[:3])
        parts_text.append(
            f"{s} {fraction[s]:.1%} complete ({len(dates)} of {int(per_asset[s]['counted'])} dates "
            f"missing features, {_span([dates.min(), dates.max()])}; most missing: {top})"
        )
    summary = f"{_plural(len(failing), 'asset')} below {min_fraction:.0%} complete: {_join(parts_text)}"
    return _outcome(
        name, passed=False, severity=ERROR, summary=summary, metadata=meta, cases=cases, max_cases=max_cases
    )
