"""``duplicates`` (ERROR): a (timestamp, asset_symbol) key occurs on more than one row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_assets.checks._frame import _require
from portfolio_assets.checks._text import _join, _plural, _span
from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.timeutil import utc_index


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
    stamps = utc_index(dup["timestamp"]) if "timestamp" in dup.columns else np.full(len(dup), pd.NaT)
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
