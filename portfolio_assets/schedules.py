"""Daily operation: each morning, the partition holding yesterday's observations and the one holding the day
whose 90-day horizon has just closed, through to the export of every labelled day up to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from dagster import (
    FreshnessPolicy,
    JobDefinition,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from portfolio_assets.partitions import KEY_FORMATS, granularity_of
from portfolio_assets.settings import WINDOW
from portfolio_assets.spans import HORIZON_DAYS

DAILY_AT = "0 6 * * *"
"""06:00 UTC: after every source's day has closed and its data is published (FRED, Alpha Vantage, GDELT)."""

DAILY_FRESHNESS = (
    FreshnessPolicy.time_window(fail_window=timedelta(hours=30), warn_window=timedelta(hours=26))
    if WINDOW.end is None
    else None
)
"""With an open window (live): an asset not materialised for 26 hours is flagged late in the UI, for 30 failed
(the daily schedule runs every 24). A closed window (the sample) holds history, never late: no policy."""


def _partition_of(job: JobDefinition | UnresolvedAssetJobDefinition, day: date, now: datetime) -> str | None:
    """The key of ``job``'s partition holding ``day`` as of ``now`` (None: not a partition yet, or any more)."""
    partitions = job.partitions_def
    key = day.strftime(KEY_FORMATS[granularity_of(partitions)])
    return key if key in partitions.get_partition_keys(current_time=now) else None  # type: ignore[union-attr]


def daily(
    job: JobDefinition | UnresolvedAssetJobDefinition, *, lag_days: int, run_config: Mapping[str, Any] | None = None
) -> ScheduleDefinition:
    """A schedule that runs ``job`` each morning for the partition holding the day ``lag_days`` before yesterday
    (the same partition is run again as a month fills; a run of a partition replaces its rows whole)."""

    @schedule(name=f"{job.name}_daily", job=job, cron_schedule=DAILY_AT, execution_timezone="UTC")
    def run_daily(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        now = context.scheduled_execution_time or datetime.now()
        day = now.date() - timedelta(days=1 + lag_days)
        key = _partition_of(job, day, now)
        if key is None:
            return SkipReason(f"{job.name}: no partition holds {day} (the window is closed, or it has not begun)")
        return RunRequest(run_key=f"{job.name}-{key}-{now.date()}", partition_key=key, run_config=run_config or {})

    return run_daily


def schedules_for(
    observation: JobDefinition | UnresolvedAssetJobDefinition, labelled: JobDefinition | UnresolvedAssetJobDefinition
) -> list[ScheduleDefinition]:
    """The observation job for yesterday's partition; the labelled job (targets, the gate, the export) for the
    partition of the day whose horizon closed yesterday. Its export holds every labelled day up to that
    partition's last, not that partition alone (one month cannot be split into train / validation / test)."""
    history = {"ops": {"training_set": {"config": {"first_day": WINDOW.labelled_start.isoformat()}}}}
    return [daily(observation, lag_days=0), daily(labelled, lag_days=HORIZON_DAYS, run_config=history)]
