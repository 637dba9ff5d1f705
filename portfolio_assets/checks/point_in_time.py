"""``point_in_time``: no row used a value that became available after the row's decision time.

Every feature value a row carries has an availability instant (``registry.available_column``):
the bar end for price and technical features, ``<feature>_available_at`` for cross-asset, macro
and sentiment features. A row at decision time T may use a value only if it was available at or
before T. A used value (not null) whose availability is later than T, or unknown, fails the check;
each case names the row (asset and day), the column and both instants.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.features.registry import available_column, feature
from portfolio_assets.timeutil import iso_utc, utc_index

NAME = "point_in_time"


def point_in_time(
    rows: pd.DataFrame,
    *,
    features: Sequence[str],
    decision_column: str = "decision_time",
    max_cases: int = MAX_CASES,
    rows_checked: int | None = None,
) -> CheckOutcome:
    """ERROR when any used value of ``features`` became available after its row's decision time.

    ``rows`` hold ``asset_symbol``, ``timestamp``, ``decision_column`` and, for every feature, its value
    and its availability column. Price features are the row's own bar, available at the decision time
    by definition, and are not compared. A missing availability column fails every row using the feature.
    Given only the rows that fail (of a frame, or of its parts, in the frame's order) and the frame's length as
    ``rows_checked``, the outcome is the frame's.
    """
    for column in ("asset_symbol", "timestamp", decision_column):
        if column not in rows.columns:
            raise ValueError(f"{NAME}: missing column {column!r}")
    decision = utc_index(rows[decision_column]).as_unit("ns").asi8
    nat = np.iinfo(np.int64).min
    symbols = rows["asset_symbol"].astype(str).to_numpy()
    days = utc_index(rows["timestamp"])
    frames = []
    per_column: dict[str, int] = {}
    checked = []
    for name in features:
        if feature(name).family == "price":
            continue
        used = rows[name].notna().to_numpy()
        column = available_column(name)
        checked.append(name)
        if column in rows.columns:
            available = utc_index(rows[column]).as_unit("ns").asi8
        else:
            available = np.full(len(rows), nat, dtype=np.int64)
        unknown = used & (available == nat)
        late = used & ~unknown & (available > decision)
        bad = unknown | late
        if not bad.any():
            continue
        per_column[name] = int(bad.sum())
        at = np.flatnonzero(bad)
        frames.append(
            pd.DataFrame(
                {
                    "asset_symbol": symbols[at],
                    "timestamp": days[at],
                    "column": name,
                    "value": rows[name].to_numpy()[at],
                    "reason": [
                        (
                            f"{column} unknown, decision_time {iso_utc(decision[i])}"
                            if unknown[i]
                            else f"{column} {iso_utc(available[i])} is after decision_time {iso_utc(decision[i])}"
                        )
                        for i in at
                    ],
                    "available_at": [None if unknown[i] else iso_utc(available[i]) for i in at],
                    "decision_time": [iso_utc(decision[i]) for i in at],
                }
            )
        )
    total = len(rows) if rows_checked is None else rows_checked
    meta: dict[str, object] = {"rows": total, "features_checked": len(checked), "violations": per_column}
    if not frames:
        summary = f"every value of {len(checked)} features was available by its row's decision time ({total} rows)"
        return _outcome(NAME, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)
    cases = pd.concat(frames, ignore_index=True)
    first = cases.iloc[0]
    summary = (
        f"{len(cases)} value(s) in {cases[['asset_symbol', 'timestamp']].drop_duplicates().shape[0]} row(s) used "
        f"after or without their availability, e.g. {first['asset_symbol']} {first['timestamp']:%Y-%m-%d} "
        f"{first['column']}: {first['reason']}"
    )
    return _outcome(
        NAME,
        passed=False,
        severity=ERROR,
        summary=summary,
        metadata=meta,
        cases=cases,
        max_cases=max_cases,
        extra=("available_at", "decision_time"),
    )
