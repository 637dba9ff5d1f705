"""Time-ordered splits with purge and embargo.

Splits (``assign_splits``): time-ordered, never shuffled, one pair of
boundaries for every asset. A row belongs to the split its ``timestamp`` falls
in; a row whose label window ``[timestamp, target_timestamp]`` reaches the
start of the *next* split is *purged* (train against validation_start,
validation against test_start), so no label of a split overlaps a later
split's dates; rows in the first ``embargo_days`` calendar days from each
boundary are *embargoed* (a row that is both counts as embargoed). Purged and
embargoed rows are not exported; the manifest counts them per boundary
(``BOUNDARIES``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

__all__ = [
    "BOUNDARIES",
    "EXCLUDED",
    "LABELS",
    "SPLITS",
    "SPLIT_RULE",
    "SplitConfig",
    "Splits",
    "assign_splits",
    "label_rows",
]

SPLITS = ("train", "validation", "test")
"""Exported splits, in time order."""
EXCLUDED = ("purged", "embargoed")
LABELS = (*SPLITS, *EXCLUDED)
BOUNDARIES = {
    "train->validation": ("train", "validation", "validation_start"),
    "validation->test": ("validation", "test", "test_start"),
}
"""Each boundary -> (the split before it, the split after it, its key in ``Splits.boundaries``).

Rows of the split before are purged against it; rows of the split after are embargoed after it."""

SPLIT_RULE = (
    "Time-ordered, never shuffled; the same boundaries for every asset. A row belongs to the split its "
    "timestamp (UTC day) falls in: train before validation_start, validation from validation_start to the "
    "day before test_start, test from test_start. Purge: a row whose label window [timestamp, "
    "target_timestamp] reaches the start of the next split is dropped ('purged'): a train row whose "
    "target_timestamp is on or after validation_start, a validation row whose target_timestamp is on or after "
    "test_start, so no label overlaps a later split's dates. Embargo: rows in the first embargo_days calendar "
    "days from each boundary are dropped ('embargoed'; a row that is both counts as embargoed)."
)


def _as_day(value: object, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"SplitConfig.{name}={value!r} is not an ISO date (YYYY-MM-DD)") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"SplitConfig.{name} must be a datetime.date (a calendar day), got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class SplitConfig:
    """Where the time-ordered splits start, and the embargo after each start.

    Give both ``validation_start`` and ``test_start`` (UTC calendar days; ISO strings
    are accepted), or neither: then ``fractions`` (train, validation, test) place them
    on the sorted unique dates of the rows. ``embargo_days`` calendar days from each
    start are left out of the export.
    """

    validation_start: date | None = None
    test_start: date | None = None
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    embargo_days: int = 0

    def __post_init__(self) -> None:
        validation_start = _as_day(self.validation_start, "validation_start")
        test_start = _as_day(self.test_start, "test_start")
        object.__setattr__(self, "validation_start", validation_start)
        object.__setattr__(self, "test_start", test_start)
        if (validation_start is None) != (test_start is None):
            raise ValueError(
                "SplitConfig: give both validation_start and test_start, or neither "
                f"(then fractions place them); got validation_start={validation_start}, test_start={test_start}"
            )
        if validation_start is not None and test_start is not None and not validation_start < test_start:
            raise ValueError(
                f"SplitConfig: validation_start ({validation_start}) must be before test_start ({test_start})"
            )
        fractions = tuple(self.fractions)
        if len(fractions) != 3:
            raise ValueError(f"SplitConfig.fractions must be 3 numbers (train, validation, test), got {fractions}")
        if not all(
            isinstance(f, int | float) and not isinstance(f, bool) and math.isfinite(f) and f > 0 for f in fractions
        ):
            raise ValueError(f"SplitConfig.fractions must all be finite numbers > 0, got {fractions}")
        if not math.isclose(math.fsum(fractions), 1.0, rel_tol=0.0, abs_tol=1e-9):
            raise ValueError(f"SplitConfig.fractions must sum to 1, got {fractions} (sum {math.fsum(fractions)!r})")
        object.__setattr__(self, "fractions", tuple(float(f) for f in fractions))
        if isinstance(self.embargo_days, bool) or not isinstance(self.embargo_days, int | np.integer):
            raise TypeError(f"SplitConfig.embargo_days must be an int, got {self.embargo_days!r}")
        if self.embargo_days < 0:
            raise ValueError(f"SplitConfig.embargo_days must be >= 0, got {self.embargo_days}")
        object.__setattr__(self, "embargo_days", int(self.embargo_days))


@dataclass(frozen=True, eq=False)
class Splits:
    """The label of every row (indexed like the rows) and the boundaries used."""

    labels: pd.Series
    """``train`` / ``validation`` / ``test`` / ``purged`` / ``embargoed`` per row."""
    boundaries: dict[str, date]
    """``{"validation_start": ..., "test_start": ...}``: first UTC day of each split."""
    embargo_days: int
    source: str
    """``"config"`` (given) or ``"fractions"`` (placed on the sorted unique dates)."""
    base: pd.Series = field(repr=False)
    """The split each row's ``timestamp`` falls in, before purge and embargo."""

    def counts(self) -> dict[str, int]:
        """Rows per label, every label present (0 when none)."""
        found = self.labels.value_counts()
        return {label: int(found.get(label, 0)) for label in LABELS}

    def excluded_by_boundary(self) -> dict[str, dict[str, int]]:
        """Rows dropped at each boundary of ``BOUNDARIES``: ``purged`` before it, ``embargoed`` after it."""
        return {
            name: {
                "purged": int(((self.base == before) & (self.labels == "purged")).sum()),
                "embargoed": int(((self.base == after) & (self.labels == "embargoed")).sum()),
            }
            for name, (before, after, _) in BOUNDARIES.items()
        }


def _utc(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows.columns:
        raise ValueError(f"rows have no {column!r} column")
    series = rows[column]
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"{column} must be timezone-aware datetime64 (UTC), got dtype {series.dtype}")
    return series.dt.tz_convert("UTC")


def _label(
    timestamps: pd.Series, targets: pd.Series, boundaries: dict[str, date], embargo_days: int
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(base split, label, purged, embargoed) of every row, given the boundaries (row-local)."""
    v0 = pd.Timestamp(boundaries["validation_start"], tz="UTC")
    t0 = pd.Timestamp(boundaries["test_start"], tz="UTC")
    train = timestamps < v0
    validation = ~train & (timestamps < t0)
    base = pd.Series(
        np.where(train, "train", np.where(validation, "validation", "test")), index=timestamps.index, dtype=object
    )
    embargo = pd.Timedelta(days=embargo_days)
    embargoed = ((timestamps >= v0) & (timestamps < v0 + embargo)) | ((timestamps >= t0) & (timestamps < t0 + embargo))
    # Every split is purged against the next split's start: a train label must end before the first
    # validation date (hence before every test date), a validation label before the first test date.
    purged = (train & (targets >= v0)) | (validation & (targets >= t0))
    labels = base.copy()
    labels[purged] = "purged"
    labels[embargoed] = "embargoed"
    return base, labels, purged, embargoed


def label_rows(rows: pd.DataFrame, splits: Splits) -> pd.Series:
    """The label of each of ``rows`` under the boundaries and embargo of ``splits`` (e.g. assigned on all the
    rows of an export, ``rows`` being one chunk of them): the labels ``assign_splits`` gives these rows."""
    timestamps = _utc(rows, "timestamp")
    targets = _utc(rows, "target_timestamp")
    return _label(timestamps, targets, splits.boundaries, splits.embargo_days)[1]


def assign_splits(rows: pd.DataFrame, config: SplitConfig) -> Splits:
    """Label every row ``train`` / ``validation`` / ``test`` / ``purged`` / ``embargoed`` (see the module doc).

    ``rows`` need ``timestamp`` and ``target_timestamp`` (datetime64 UTC, never null,
    target not before timestamp). Raises ``ValueError`` when the boundaries are not
    inside the data or leave a split without rows.
    """
    timestamps = _utc(rows, "timestamp")
    targets = _utc(rows, "target_timestamp")
    if rows.empty:
        raise ValueError("no rows to split")
    for name, series in (("timestamp", timestamps), ("target_timestamp", targets)):
        if series.isna().any():
            raise ValueError(f"{int(series.isna().sum())} row(s) have a null {name}; the split needs both timestamps")
    backwards = targets < timestamps
    if backwards.any():
        raise ValueError(f"{int(backwards.sum())} row(s) have target_timestamp before timestamp")

    days = timestamps.dt.floor("D")
    unique = np.sort(days.unique())
    first, last = pd.Timestamp(unique[0]).date(), pd.Timestamp(unique[-1]).date()
    if config.validation_start is None or config.test_start is None:
        n = len(unique)
        train_f, validation_f, _ = config.fractions
        i_validation = round(n * train_f)
        i_test = round(n * (train_f + validation_f))
        if not 0 < i_validation < i_test < n:
            raise ValueError(
                f"{n} distinct date(s) {first}..{last} are too few to place fractions {config.fractions}: "
                "every split needs at least one date"
            )
        validation_start = pd.Timestamp(unique[i_validation]).date()
        test_start = pd.Timestamp(unique[i_test]).date()
        source = "fractions"
    else:
        validation_start, test_start = config.validation_start, config.test_start
        source = "config"
        if not first < validation_start:
            raise ValueError(
                f"validation_start {validation_start} must be after the first date of the rows ({first}): "
                "train would be empty"
            )
        if not test_start <= last:
            raise ValueError(
                f"test_start {test_start} must be on or before the last date of the rows ({last}): test would be empty"
            )

    boundaries = {"validation_start": validation_start, "test_start": test_start}
    base, labels, purged, embargoed = _label(timestamps, targets, boundaries, config.embargo_days)
    for name in SPLITS:
        if not (base == name).any():
            raise ValueError(
                f"no row has a timestamp in the {name} split "
                f"(validation_start {validation_start}, test_start {test_start}, rows {first}..{last})"
            )
    splits = Splits(
        labels=labels,
        boundaries=boundaries,
        embargo_days=config.embargo_days,
        source=source,
        base=base,
    )
    for name in SPLITS:
        if not (labels == name).any():
            lost = base == name
            longest = (targets - timestamps)[lost].max().days
            raise ValueError(
                f"the {name} split is empty after purge and embargo ({int((lost & purged & ~embargoed).sum())} "
                f"row(s) purged, {int((lost & embargoed).sum())} embargoed; validation_start {validation_start}, "
                f"test_start {test_start}, embargo_days {config.embargo_days}): train and validation must last "
                f"longer than their rows' label windows (up to {longest} days here), validation and test longer "
                "than the embargo. Widen the range, move the boundaries or shorten the embargo"
            )
    return splits
