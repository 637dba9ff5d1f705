"""Which labelled days an export holds: ``training_set``'s run config, else the run's partitions, else all.

``training_set`` is not partitioned: each materialisation is one export, so a failed export is the asset's
latest attempt failing (its last materialisation, the previous export, stays) and marks no partition of
anything failed. Its days, in this order:

* ``first_day`` / ``last_day`` of its run config (:class:`ExportRange`), ``YYYY-MM-DD``; one left out is the
  default's. An export holds whole ``sft_rows`` partitions, so they must start and end partitions' labelled
  days (monthly: a month, cut to the labelled window; ``PORTFOLIO_PARTITIONS=daily``: any day);
* by default, the labelled partitions the run targets: its partition tags (the labelled job's runs: the
  daily schedule, a single-run backfill from the UI or ``make backfill``), else those of the asset backfill
  that launched it (Dagster runs an unpartitioned asset of a backfill in a run of its own);
* otherwise every labelled partition.

The days are the partitions' days cut to the labelled window (``partitions.day_bounds``), as a partitioned
run's are (``windows.run_window``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, Config, DagsterInstance, PartitionKeyRange
from pydantic import Field

from portfolio_assets.errors import PartitionWindowError
from portfolio_assets.partitions import LABELLED_PARTITIONS, day_bounds, granularity_of, partition_range
from portfolio_assets.settings import END_DATE_ENV, PARTITIONS_ENV, START_DATE_ENV

BACKFILL_TAG = "dagster/backfill"
"""The run tag naming the backfill that launched a run."""


class ExportRangeError(ValueError):
    """``training_set``'s run config names days it cannot export; the message names the setting."""


class ExportRange(Config):
    """``training_set``'s run config: the labelled days to export (default: the run's labelled partitions,
    else every labelled day)."""

    first_day: str | None = Field(
        default=None, description="First labelled day, YYYY-MM-DD: the first day of a partition (or of the window)"
    )
    last_day: str | None = Field(
        default=None, description="Last labelled day, YYYY-MM-DD: the last day of a partition (or of the window)"
    )


@dataclass(frozen=True)
class Span:
    """What one export holds: ``sft_rows`` partitions ``keys`` and their labelled days ``first..last``."""

    keys: list[str]
    first: pd.Timestamp
    last: pd.Timestamp
    source: str
    """Where the range came from: ``config``, ``run partitions``, ``backfill <id>`` or ``labelled window``."""

    @property
    def days(self) -> str:
        """``YYYY-MM-DD..YYYY-MM-DD``."""
        return f"{self.first:%Y-%m-%d}..{self.last:%Y-%m-%d}"


def _utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def span_of(lo: str, hi: str, source: str) -> Span:
    """The labelled partitions ``lo..hi`` and their days cut to the labelled window."""
    every = LABELLED_PARTITIONS.get_partition_keys()
    if not every or lo not in every or hi not in every or every.index(lo) > every.index(hi):
        held = f"{every[0]}..{every[-1]}" if every else "none yet"
        raise ExportRangeError(f"training_set: {lo}..{hi} ({source}) are not labelled partitions ({held})")
    low, high = day_bounds(labelled=True)
    start = _utc(LABELLED_PARTITIONS.time_window_for_partition_key(lo).start)
    end = _utc(LABELLED_PARTITIONS.time_window_for_partition_key(hi).end)
    first = max(start, pd.Timestamp(low, tz="UTC"))
    last = min(end - pd.Timedelta(days=1), pd.Timestamp(high, tz="UTC"))
    if first > last:
        raise PartitionWindowError(
            f"training_set: partitions {lo}..{hi} ({source}) hold no labelled day of {low}..{high} "
            "(a day is labelled once its 90-day horizon has passed)"
        )
    return Span(every[every.index(lo) : every.index(hi) + 1], first, last, source)


def whole_window() -> Span:
    """Every labelled partition."""
    every = LABELLED_PARTITIONS.get_partition_keys()
    if not every:
        raise ExportRangeError("training_set: there are no labelled partitions yet")
    return span_of(every[0], every[-1], "labelled window")


def _day(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExportRangeError(f"training_set config {name}={text!r} is not a day (YYYY-MM-DD)") from None


def configured(config: ExportRange, default: Callable[[], Span]) -> Span:
    """The export of ``config``'s days (a bound left out is ``default()``'s); ``default()`` if it names none."""
    if config.first_day is None and config.last_day is None:
        return default()
    fallback = default() if config.first_day is None or config.last_day is None else None
    first = _day("first_day", config.first_day) if config.first_day is not None else fallback.first.date()  # type: ignore[union-attr]
    last = _day("last_day", config.last_day) if config.last_day is not None else fallback.last.date()  # type: ignore[union-attr]
    if last < first:
        raise ExportRangeError(f"training_set config last_day={last} is before first_day={first}")
    low, high = day_bounds(labelled=True)
    if first < low or last > high:
        raise ExportRangeError(
            f"training_set config first_day..last_day {first}..{last} is outside the labelled days {low}..{high} "
            f"(a day is labelled once its 90-day horizon is in the data; {START_DATE_ENV} / {END_DATE_ENV} set "
            "the window)"
        )
    try:
        lo, hi = partition_range(str(first), str(last), LABELLED_PARTITIONS)
    except ValueError as exc:
        raise ExportRangeError(f"training_set config first_day..last_day: {exc}") from None
    span = span_of(lo, hi, "config")
    if (first, last) != (span.first.date(), span.last.date()):
        raise ExportRangeError(
            f"training_set config first_day..last_day {first}..{last}: an export holds whole "
            f"{granularity_of(LABELLED_PARTITIONS)} partitions, whose labelled days here are {span.days}; set "
            f"first_day={span.first:%Y-%m-%d} and last_day={span.last:%Y-%m-%d} ({PARTITIONS_ENV}=daily: any days)"
        )
    return span


def backfill_keys(instance: DagsterInstance, tags: Mapping[str, str], asset_graph: object) -> tuple[str, list[str]]:
    """The backfill that launched the run (its tag) and the labelled partitions it targets (none: not an asset
    backfill, or no labelled partition in it)."""
    backfill_id = tags.get(BACKFILL_TAG)
    backfill = instance.get_backfill(backfill_id) if backfill_id else None
    if backfill is None or not backfill.is_asset_backfill:
        return "", []
    target = backfill.get_asset_backfill_data(asset_graph).target_subset  # type: ignore[arg-type]
    keys: set[str] = set()
    for key, subset in target.partitions_subsets_by_asset_key.items():
        if _partitions_def(asset_graph, key) == LABELLED_PARTITIONS:
            keys.update(subset.get_partition_keys())
    return str(backfill_id), sorted(keys)


def _partitions_def(asset_graph: object, key: AssetKey) -> object:
    return asset_graph.get(key).partitions_def if asset_graph.has(key) else None  # type: ignore[attr-defined]


def default_span(run_range: PartitionKeyRange | None, backfill: Callable[[], tuple[str, list[str]]]) -> Span:
    """The run's labelled partitions, else its backfill's, else every labelled partition."""
    if run_range is not None:
        return span_of(run_range.start, run_range.end, "run partitions")
    backfill_id, keys = backfill()
    if keys:
        return span_of(keys[0], keys[-1], f"backfill {backfill_id}")
    return whole_window()


def export_span(context: AssetExecutionContext, config: ExportRange) -> Span:
    """The days ``training_set`` exports in this run (the module's docstring says which)."""
    targets = context.has_partition_key or context.has_partition_key_range
    run_range = context.partition_key_range if targets else None

    def backfill() -> tuple[str, list[str]]:
        return backfill_keys(context.instance, context.run.tags, context.repository_def.asset_graph)

    return configured(config, lambda: default_span(run_range, backfill))


def export_run_config(first: str, last: str) -> dict[str, object]:
    """The run config of an export of the labelled partitions holding days ``first..last``: their days cut to
    the labelled window (what a partitioned run of those partitions exports)."""
    span = span_of(*partition_range(first, last, LABELLED_PARTITIONS), "config")
    days = {"first_day": f"{span.first:%Y-%m-%d}", "last_day": f"{span.last:%Y-%m-%d}"}
    return {"ops": {"training_set": {"config": days}}}
