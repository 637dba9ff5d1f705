"""Walk-forward evaluation folds with purge and embargo (``folds.json``).

Folds (``walk_forward``) are cut over the EXPORTED rows (every split's rows
together), in calendar days of the rows' UTC ``timestamp``. ``n_folds``
consecutive test blocks (of ``test_days`` days, or sharing the exported days
equally) end on the last exported day, in time order; each fold trains on the
rows before its test block: all of them (``expanding``) or those of the
``train_days`` days just before it (``rolling``). A train row whose label
window ``[timestamp, target_timestamp]`` reaches the test block's first day is
*purged* from that fold; test rows in the first ``embargo_days`` days of the
block are *embargoed*. The folds, with every part's row ids in the rows' order,
are the ``folds.json`` a trainer follows (``FOLDS_FORMAT``, read back by
``read_folds``); ``fold_summary`` is the same without the row ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "FOLDS_FORMAT",
    "FOLDS_NAME",
    "FOLDS_VERSION",
    "FOLD_HORIZON",
    "FOLD_RULE",
    "SCHEMES",
    "FoldConfig",
    "fold_summary",
    "read_folds",
    "walk_forward",
]

FOLDS_NAME = "folds.json"
"""The folds file, beside ``manifest.json`` in the export directory."""
FOLDS_FORMAT = "portfolio_assets.walk_forward_folds"
FOLDS_VERSION = 1
FOLD_HORIZON = "label window [timestamp, target_timestamp]"
SCHEMES = ("expanding", "rolling")
PARTS = ("train", "test")

FOLD_RULE = (
    "Walk-forward folds over the exported rows (all splits together), in calendar days of each row's UTC "
    "timestamp; never shuffled, the same days for every asset. n_folds consecutive, non-overlapping test blocks "
    "end on the last exported day, in time order (fold 0 first); the days before the first block only ever "
    "train. With test_days given, each block is test_days calendar days long. Automatic (test_days null): the "
    "first block starts on the first exported day at least a third of the exported days after the first one "
    "(and more than the longest label window after it, so some train row survives the purge; rolling: at least "
    "train_days), and the exported days from there on are shared equally among the blocks (each block runs up "
    "to the next one's first day), so every block holds rows even where the exported days have gaps. "
    "test.first / test.last are the block's first and last calendar day; a fold's test rows are the rows whose "
    "day falls in its block. Train: every row before the block's first day (expanding), or only the rows of the "
    "train_days days just before it (rolling, [first - train_days, first)); train.first / train.last are the "
    "days of its first and last row. Purge: a train row whose label window [timestamp, target_timestamp] "
    "reaches the block's first day (target_timestamp on or after it) is dropped from that fold's train "
    "('purged'). Embargo: test rows in the first embargo_days calendar days of the block are dropped from that "
    "fold's test ('embargoed'). Row ids are listed in the export's order (timestamp, asset_symbol). The rows "
    "the single split purged and embargoed are not in the files, so the days before validation_start and "
    "test_start that they held are gaps in the folds too."
)


def _positive_int(value: object, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"FoldConfig.{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"FoldConfig.{name} must be >= {minimum}, got {value}")
    return int(value)


@dataclass(frozen=True)
class FoldConfig:
    """How many walk-forward folds, their scheme and the length of their blocks (calendar days).

    ``scheme`` ``"expanding"`` trains each fold on every row before its test block
    (``train_days`` must be None); ``"rolling"`` on the ``train_days`` days before it
    (required). ``test_days=None`` picks the block length from the rows (see ``FOLD_RULE``).
    """

    n_folds: int = 5
    scheme: str = "expanding"
    test_days: int | None = None
    train_days: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_folds", _positive_int(self.n_folds, "n_folds", minimum=1))
        if self.scheme not in SCHEMES:
            raise ValueError(f"FoldConfig.scheme must be one of {list(SCHEMES)}, got {self.scheme!r}")
        if self.test_days is not None:
            object.__setattr__(self, "test_days", _positive_int(self.test_days, "test_days", minimum=1))
        if self.scheme == "rolling":
            if self.train_days is None:
                raise ValueError(
                    "FoldConfig.train_days is required for scheme 'rolling' (the calendar days each fold trains on)"
                )
            object.__setattr__(self, "train_days", _positive_int(self.train_days, "train_days", minimum=1))
        elif self.train_days is not None:
            raise ValueError(
                f"FoldConfig.train_days must be None for scheme 'expanding' (it trains on every earlier row), "
                f"got {self.train_days!r}; use scheme 'rolling' for a fixed-length train window"
            )


def _utc(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows.columns:
        raise ValueError(f"walk_forward: rows have no {column!r} column")
    series = rows[column]
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"walk_forward: {column} must be timezone-aware datetime64 (UTC), got dtype {series.dtype}")
    if series.isna().any():
        raise ValueError(f"walk_forward: {int(series.isna().sum())} row(s) have a null {column}")
    return series.dt.tz_convert("UTC")


def _row_ids(rows: pd.DataFrame) -> np.ndarray:
    if "row_id" not in rows.columns:
        raise ValueError("walk_forward: rows have no 'row_id' column")
    ids = rows["row_id"]
    bad = ~ids.map(lambda v: isinstance(v, str) and v != "")
    if bad.any():
        raise ValueError(f"walk_forward: {int(bad.sum())} row(s) have a row_id that is not a non-empty string")
    duplicated = ids[ids.duplicated()]
    if not duplicated.empty:
        raise ValueError(
            f"walk_forward: {duplicated.nunique()} row_id(s) appear more than once (e.g. {duplicated.iloc[0]!r})"
        )
    return ids.to_numpy(dtype=object)


def _day(value: date) -> str:
    return f"{value:%Y-%m-%d}"


def _days_of(series: pd.Series) -> np.ndarray:
    """UTC calendar days as int64 days since 1970-01-01."""
    naive = series.dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D")
    return naive.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _as_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def _blocks(
    config: FoldConfig, days: np.ndarray, longest: int, first: date, last: date
) -> tuple[list[int], list[int], int | None]:
    """The test blocks' first days and their ends (exclusive), as day numbers, and ``test_days`` (None when
    automatic: see ``FOLD_RULE``); raises when the days are too few."""
    day0, day_n = int(days.min()), int(days.max())
    span = day_n - day0 + 1
    if config.test_days is not None:
        if config.n_folds * config.test_days >= span:
            raise ValueError(
                f"{span} exported day(s) {first}..{last} are too few for {config.n_folds} fold(s) of test_days="
                f"{config.test_days}: the test blocks would start on or before the first day, leaving fold 0 "
                "nothing to train on. Lower n_folds or test_days, or export more days"
            )
        starts = [day_n + 1 - (config.n_folds - k) * config.test_days for k in range(config.n_folds)]
        return starts, [start + config.test_days for start in starts], config.test_days
    first_train = max(-(-span // 3), longest + 1, config.train_days or 0)
    later = np.unique(days[days >= day0 + first_train])
    if len(later) < config.n_folds:
        raise ValueError(
            f"{span} exported day(s) {first}..{last} are too few for {config.n_folds} automatic fold(s): the "
            f"first train block needs {first_train} day(s) (a third of the days, more than the longest label "
            f"window of {longest} day(s){', and train_days' if config.train_days else ''}) and every test block at "
            f"least one exported day ({len(later)} after it). Lower n_folds, give test_days, or export more days"
        )
    starts = [int(block[0]) for block in np.array_split(later, config.n_folds)]
    return starts, [*starts[1:], day_n + 1], None


def walk_forward(rows: pd.DataFrame, config: FoldConfig, *, embargo_days: int = 0) -> dict:
    """The ``folds.json`` dict of ``rows`` (see the module doc and ``FOLD_RULE``).

    ``rows`` need ``timestamp`` and ``target_timestamp`` (datetime64 UTC, never null,
    target not before timestamp) and a unique string ``row_id``, in export order. Raises
    ``ValueError`` when the days are too few or a fold's train or test part is empty
    after purge and embargo (naming the fold and what to change).
    """
    if isinstance(embargo_days, bool) or not isinstance(embargo_days, int | np.integer):
        raise TypeError(f"walk_forward: embargo_days must be an int, got {embargo_days!r}")
    if embargo_days < 0:
        raise ValueError(f"walk_forward: embargo_days must be >= 0, got {embargo_days}")
    embargo_days = int(embargo_days)
    timestamps = _utc(rows, "timestamp")
    targets = _utc(rows, "target_timestamp")
    ids = _row_ids(rows)
    if rows.empty:
        raise ValueError("walk_forward: no rows to cut into folds")
    backwards = targets < timestamps
    if backwards.any():
        raise ValueError(f"walk_forward: {int(backwards.sum())} row(s) have target_timestamp before timestamp")

    days = _days_of(timestamps)
    target_days = _days_of(targets)
    day0, day_n = int(days.min()), int(days.max())
    first, last = _as_date(day0), _as_date(day_n)
    longest = int((target_days - days).max())
    # Test block k is [starts[k], ends[k]); the last one ends on the last exported day.
    starts, ends, test_days = _blocks(config, days, longest, first, last)
    if config.scheme == "rolling" and starts[0] - config.train_days < day0:
        raise ValueError(
            f"rolling fold 0's train window would start on {_as_date(starts[0] - config.train_days)}, before the "
            f"first exported day {first} (train_days={config.train_days}, test blocks from {_as_date(starts[0])}): "
            "every rolling window must lie inside the exported days. Lower train_days, n_folds or test_days"
        )

    folds = []
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        in_block = (days >= start) & (days < end)
        embargoed = in_block & (days < start + embargo_days)
        test = in_block & ~embargoed
        before = days < start
        if config.scheme == "rolling":
            before &= days >= start - config.train_days
        purged = before & (target_days >= start)
        train = before & ~purged
        where = f"fold {k} (test block {_as_date(start)}..{_as_date(end - 1)})"
        if not in_block.any():
            raise ValueError(
                f"{where} holds no exported row (the exported days have a gap there). "
                "Change test_days or n_folds so every block holds rows"
            )
        if not test.any():
            raise ValueError(
                f"{where}: all {int(in_block.sum())} test row(s) are embargoed (embargo_days={embargo_days}, "
                f"{end - start} day(s) in the block). Lower embargo_days or raise test_days"
            )
        if not train.any():
            if config.scheme == "rolling":
                window, change = f"rolling, train_days={config.train_days}", "Raise train_days"
            else:
                window, change = "expanding", "Lower n_folds or test_days so the first block starts later"
            raise ValueError(
                f"{where}: its train part is empty after purge ({int(before.sum())} row(s) before the block, "
                f"{int(purged.sum())} purged; {window}): the train window must last longer than the rows' label "
                f"windows (up to {longest} day(s) here). {change}"
            )
        folds.append(
            {
                "fold": k,
                "train": _part(days[train], ids[train]),
                "test": {
                    "first": _day(_as_date(start)),
                    "last": _day(_as_date(end - 1)),
                    "rows": int(test.sum()),
                    "row_ids": [str(i) for i in ids[test]],
                },
                "purged": int(purged.sum()),
                "embargoed": int(embargoed.sum()),
            }
        )
    return {
        "format": FOLDS_FORMAT,
        "format_version": FOLDS_VERSION,
        "scheme": config.scheme,
        "n_folds": config.n_folds,
        "test_days": test_days,
        "train_days": config.train_days,
        "embargo_days": embargo_days,
        "horizon": FOLD_HORIZON,
        "rule": FOLD_RULE,
        "folds": folds,
    }


def _part(days: np.ndarray, ids: np.ndarray) -> dict[str, object]:
    return {
        "first": _day(_as_date(days.min())),
        "last": _day(_as_date(days.max())),
        "rows": len(ids),
        "row_ids": [str(i) for i in ids],
    }


def fold_summary(folds: dict) -> dict:
    """``folds`` (a ``walk_forward`` / ``read_folds`` dict) without the row ids, e.g. for the manifest."""
    summary = {key: value for key, value in folds.items() if key != "folds"}
    summary["folds"] = [
        {
            key: ({k: v for k, v in value.items() if k != "row_ids"} if key in PARTS else value)
            for key, value in fold.items()
        }
        for fold in folds["folds"]
    ]
    return summary


def _check_fold(fold: object, k: int, n_folds: int, where: str) -> None:
    if not isinstance(fold, dict):
        raise ValueError(f"{where}: folds[{k}] is not an object")
    if fold.get("fold") != k:
        raise ValueError(f"{where}: folds[{k}] has fold={fold.get('fold')!r}, expected {k} (0..{n_folds - 1})")
    for name in ("purged", "embargoed"):
        if isinstance(fold.get(name), bool) or not isinstance(fold.get(name), int):
            raise ValueError(f"{where}: folds[{k}].{name} must be an int, got {fold.get(name)!r}")
    for part in PARTS:
        body = fold.get(part)
        if not isinstance(body, dict):
            raise ValueError(f"{where}: folds[{k}].{part} is missing or not an object")
        ids = body.get("row_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"{where}: folds[{k}].{part}.row_ids must be a list of strings")
        if body.get("rows") != len(ids):
            raise ValueError(
                f"{where}: folds[{k}].{part}.rows is {body.get('rows')!r} but it lists {len(ids)} row id(s)"
            )
        for end in ("first", "last"):
            try:
                date.fromisoformat(body.get(end))
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}: folds[{k}].{part}.{end} is not an ISO date (YYYY-MM-DD): {body.get(end)!r}"
                ) from None


def read_folds(path: str | Path) -> dict:
    """The folds of ``path`` (a ``folds.json``, or the export directory holding one), checked.

    Raises ``ValueError`` naming the file when it is not JSON, not this format or
    version, or its folds are malformed (a part's ``rows`` not its row id count, ...).
    """
    path = Path(path)
    if path.is_dir():
        path = path / FOLDS_NAME
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{where}: no such folds file (the export was written without walk-forward folds?)") from None
    try:
        folds = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON ({error})") from None
    if not isinstance(folds, dict) or folds.get("format") != FOLDS_FORMAT:
        found = folds.get("format") if isinstance(folds, dict) else type(folds).__name__
        raise ValueError(f"{where}: not a walk-forward folds file (format {found!r}, expected {FOLDS_FORMAT!r})")
    if folds.get("format_version") != FOLDS_VERSION:
        raise ValueError(
            f"{where}: folds format_version {folds.get('format_version')!r} is not supported (this reader knows "
            f"version {FOLDS_VERSION}); read it with the portfolio_assets version that wrote it"
        )
    if folds.get("scheme") not in SCHEMES:
        raise ValueError(f"{where}: scheme {folds.get('scheme')!r} is not one of {list(SCHEMES)}")
    n_folds = folds.get("n_folds")
    entries = folds.get("folds")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{where}: 'folds' must be a non-empty list of folds, got {type(entries).__name__}")
    if isinstance(n_folds, bool) or n_folds != len(entries):
        raise ValueError(f"{where}: n_folds is {n_folds!r} but the file lists {len(entries)} fold(s)")
    for k, fold in enumerate(entries):
        _check_fold(fold, k, n_folds, where)
    return folds
