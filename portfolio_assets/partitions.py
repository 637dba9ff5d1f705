"""Partitions: calendar months (default) or days, of observation days and of labelled days.

Observation partitions (prices, macro, sentiment, benchmarks, indicators) cover
the window from ``PORTFOLIO_START_DATE``. Labelled partitions (targets, the gate,
sft_rows, training_set) start after the indicator warm-up, and a day is labelled
only once its 90-day horizon is inside the data: with a fixed
``PORTFOLIO_END_DATE`` the labelled days end ``HORIZON_DAYS`` earlier; open-ended
(live), they trail yesterday by ``HORIZON_DAYS``.

``PORTFOLIO_PARTITIONS`` picks the span of one partition. ``monthly`` (the
default) keeps Dagster's bookkeeping (one event per partition per asset, one
store file per partition) proportional to months, not days; a month's partition
is materialised again each day while the month runs. ``daily`` gives one
partition per day. The days of a run are its partitions' days cut to the window
(:func:`day_bounds`): the first and last month may be partial. Every lookback and
look-ahead is stated in days (``spans``); an asset reads the partitions that hold
those days (:func:`keys_holding`) from the store and keeps exactly those days, so
the granularity changes no value. Dagster's dependencies between the assets are
day to day: a backfill of N days targets N days of each asset it selects.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
from dagster import (
    DailyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    PartitionKeyRange,
    TimeWindowPartitionsDefinition,
)

from portfolio_assets.errors import PartitionWindowError
from portfolio_assets.settings import PARTITIONS, PARTITIONS_ENV, WINDOW, Window
from portfolio_assets.spans import HORIZON_DAYS
from portfolio_assets.timeutil import strftime_distinct

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
"""Run tags of a single-run backfill over a partition range."""


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _partitions(
    first: date, last: date | None, live_end_offset: int, granularity: str
) -> TimeWindowPartitionsDefinition:
    """Partitions holding the days ``first..last`` (``last`` None: open-ended, ``live_end_offset`` partitions
    past the last complete one)."""
    if granularity == "daily":
        if last is None:
            return DailyPartitionsDefinition(start_date=first.isoformat(), end_offset=live_end_offset)
        # Dagster's end_date is exclusive: the last partition is the day before it.
        return DailyPartitionsDefinition(start_date=first.isoformat(), end_date=(last + timedelta(days=1)).isoformat())
    if granularity != "monthly":
        raise ValueError(f"unknown partition granularity {granularity!r}; expected monthly or daily")
    start = _month_start(first).isoformat()
    if last is None:
        return MonthlyPartitionsDefinition(start_date=start, end_offset=live_end_offset)
    return MonthlyPartitionsDefinition(start_date=start, end_date=_next_month(last).isoformat())


def observation_partitions(window: Window, granularity: str = PARTITIONS) -> TimeWindowPartitionsDefinition:
    """The partitions of every day of the window (live: through the current, partial month)."""
    return _partitions(window.start, window.end, 0 if granularity == "daily" else 1, granularity)


def labelled_partitions(window: Window, granularity: str = PARTITIONS) -> TimeWindowPartitionsDefinition:
    """The partitions of the days after the warm-up whose 90-day horizon is inside the window.

    Live and monthly, the last partition is the month before last: the month that holds the newest labelled
    day (yesterday minus the horizon) is that one or the one before it.
    """
    offset = -HORIZON_DAYS if granularity == "daily" else -1
    return _partitions(window.labelled_start, window.labelled_end, offset, granularity)


def granularity_of(partitions_def: object) -> str:
    """``daily`` or ``monthly``: the granularity of one of this module's partitions definitions."""
    if isinstance(partitions_def, DailyPartitionsDefinition):
        return "daily"
    if isinstance(partitions_def, MonthlyPartitionsDefinition):
        return "monthly"
    raise TypeError(f"not a daily or monthly partitions definition: {partitions_def!r}")


KEY_FORMATS = {"daily": "%Y-%m-%d", "monthly": "%Y-%m-01"}
"""The partition key of a day, as a ``strftime`` format per granularity."""


def partition_keys_of(timestamps: pd.Series, granularity: str) -> pd.Series:
    """The partition key holding each timestamp's UTC day."""
    return strftime_distinct(pd.to_datetime(timestamps, utc=True), KEY_FORMATS[granularity])


def day_bounds(labelled: bool, window: Window = WINDOW, today: date | None = None) -> tuple[date, date]:
    """The first and last day the observation (or labelled) partitions stand for.

    Open-ended, the last day is yesterday (UTC), minus the horizon for labelled days.
    """
    if labelled:
        first, last = window.labelled_start, window.labelled_end
    else:
        first, last = window.start, window.end
    if last is None:
        yesterday = (today or datetime.now(UTC).date()) - timedelta(days=1)
        last = yesterday - timedelta(days=HORIZON_DAYS) if labelled else yesterday
    return first, last


def partition_range(first_day: str, last_day: str, partitions_def: TimeWindowPartitionsDefinition) -> tuple[str, str]:
    """The first and last partition keys of ``partitions_def`` holding the days ``first_day..last_day``."""
    try:
        first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    except ValueError as exc:
        raise ValueError(f"partition range {first_day}..{last_day}: days must be YYYY-MM-DD ({exc})") from exc
    if last < first:
        raise ValueError(f"partition range {first_day}..{last_day}: the last day is before the first")
    keys = partitions_def.get_partition_keys()
    if not keys:
        raise ValueError(f"partition range {first_day}..{last_day}: there are no partitions yet")
    granularity = granularity_of(partitions_def)
    lo, hi = first.strftime(KEY_FORMATS[granularity]), last.strftime(KEY_FORMATS[granularity])
    if lo not in keys or hi not in keys:
        raise ValueError(
            f"partition range {first_day}..{last_day}: outside the partitions {keys[0]}..{keys[-1]} "
            f"({granularity}; set {PARTITIONS_ENV} / the window to change them)"
        )
    return lo, hi


OBSERVATION_PARTITIONS = observation_partitions(WINDOW)
LABELLED_PARTITIONS = labelled_partitions(WINDOW)


def keys_holding(partitions_def: TimeWindowPartitionsDefinition, first_day: date, last_day: date) -> list[str]:
    """The keys of ``partitions_def``'s partitions holding the days ``first_day..last_day``, in order; raises
    ``PartitionWindowError`` unless its partitions hold every one of them.

    Lookbacks and look-aheads are read this way, by days, not through a Dagster partition mapping: Dagster's
    dependencies between the assets are day to day (identity), so a backfill of N days targets N days of every
    selected asset instead of fanning out through a 730-day lookback.
    """
    granularity = granularity_of(partitions_def)
    lo, hi = first_day.strftime(KEY_FORMATS[granularity]), last_day.strftime(KEY_FORMATS[granularity])
    first_key, last_key = partitions_def.get_first_partition_key(), partitions_def.get_last_partition_key()
    if first_key is None or last_key is None or lo < first_key or hi > last_key:
        span = f"{first_key}..{last_key}" if first_key and last_key else "none yet"
        raise PartitionWindowError(
            f"days {first_day:%Y-%m-%d}..{last_day:%Y-%m-%d} are not all in the partitions {span} ({granularity})"
        )
    return list(partitions_def.get_partition_keys_in_range(PartitionKeyRange(lo, hi)))
