"""``suspect_moves`` (WARN): training rows touched by a bad tick or an unadjusted split are held back.

``feature_distribution`` flags one-day moves that look like a bad tick (a spike
reversed the next observation) or an unadjusted split (a jump by a split ratio,
not reversed). A training row is *suspect*, and goes to the quarantine rather
than the export, when

* its own day is a flagged day of its asset (its features and its target start
  from the suspect close), or
* its label reaches a flagged day: for a bad tick, its target is the spike's
  close (``target_timestamp`` is the flagged day); for an unadjusted split, its
  90-day window spans the split (``timestamp < day <= target_timestamp``), so
  its return is off by the split ratio.

A move confirmed as genuine is listed per asset under ``accepted_moves`` in the
universe file; its rows are not held (they are counted in the metadata).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from portfolio_assets.checks._text import _date, _join, _plural
from portfolio_assets.checks.outcome import WARN, CheckOutcome, _outcome
from portfolio_assets.timeutil import utc_index

SUSPECT_KINDS = ("bad_tick", "unadjusted_split")


def suspect_moves(
    rows: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    accepted: Mapping[str, Collection[pd.Timestamp]] | None = None,
) -> tuple[CheckOutcome, pd.Series]:
    """(the report, the reason each row is held — None where it is not) for labelled ``rows``.

    ``moves``: the failure cases of ``feature_distribution`` (``asset_symbol``, ``timestamp``,
    ``kind``, ``reason``), every case, over the rows' days and their horizon.
    """
    name = "suspect_moves"
    accepted = accepted or {}
    flagged = moves[moves["kind"].isin(SUSPECT_KINDS)] if len(moves) else moves
    ignored = 0
    stamps = utc_index(rows["timestamp"])
    targets = utc_index(rows["target_timestamp"])
    # Each move is matched against its own asset's rows only (positions grouped once), not the whole frame.
    own_rows = pd.Series(np.arange(len(rows))).groupby(rows["asset_symbol"].to_numpy()).indices if len(rows) else {}
    text_of = np.full(len(rows), None, dtype=object)
    for move in flagged.itertuples(index=False):
        day = pd.Timestamp(move.timestamp)
        if day in {pd.Timestamp(d) for d in accepted.get(move.asset_symbol, ())}:
            ignored += 1
            continue
        own = own_rows.get(move.asset_symbol)
        if own is None:
            continue
        at, until = stamps[own], targets[own]
        on_day = np.asarray(at == day)
        hit = on_day | (until == day) if move.kind == "bad_tick" else on_day | ((at < day) & (until >= day))
        free = own[hit]
        free = free[pd.isna(text_of[free])]  # the first move that reaches a row names it
        text_of[free] = f"suspect move on {_date(day)}: {move.reason}"
    reasons = pd.Series(text_of, index=rows.index, dtype=object)
    held = rows[reasons.notna()]
    meta: dict[str, object] = {
        "flagged_moves": len(flagged),
        "accepted_moves": ignored,
        "held_rows": len(held),
        "held_per_asset": {str(k): int(v) for k, v in held["asset_symbol"].value_counts().sort_index().items()},
    }
    if not len(held):
        summary = f"no row touched by a suspect move ({_plural(len(flagged), 'flagged move')}, {ignored} accepted)"
        return _outcome(
            name, passed=True, severity=WARN, summary=summary, metadata=meta, cases=None, max_cases=0
        ), reasons
    cases = pd.DataFrame(
        {
            "asset_symbol": held["asset_symbol"].to_numpy(),
            "timestamp": stamps[reasons.notna().to_numpy()],
            "column": "price_close",
            "value": held["price_close"].to_numpy(),
            "reason": reasons[reasons.notna()].to_numpy(),
        }
    )
    parts = [f"{s} ({n})" for s, n in meta["held_per_asset"].items()]  # type: ignore[union-attr]
    summary = f"{_plural(len(held), 'row')} held back by suspect moves: {_join(parts)}"
    outcome = _outcome(name, passed=False, severity=WARN, summary=summary, metadata=meta, cases=cases, max_cases=50)
    return outcome, reasons
