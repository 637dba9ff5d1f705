"""Daily operation: each morning, the partition holding yesterday's observations; once stored, the one holding
the day whose 90-day horizon has just closed, through to the export of every labelled day up to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagster import (
    DagsterRunStatus,
    FreshnessPolicy,
    JobDefinition,
    RunRequest,
    RunStatusSensorContext,
    RunStatusSensorDefinition,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    run_status_sensor,
    schedule,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster._core.storage.tags import SCHEDULE_NAME_TAG, SCHEDULED_EXECUTION_TIME_TAG

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


def morning_request(
    job: JobDefinition | UnresolvedAssetJobDefinition,
    now: datetime,
    *,
    lag_days: int,
    run_config: Mapping[str, Any] | None = None,
) -> RunRequest | SkipReason:
    """The run of ``job`` for the partition holding the day ``lag_days`` before the day before ``now``, or a skip
    saying why there is none (the same partition is run again as a month fills: a run replaces its rows whole)."""
    day = now.date() - timedelta(days=1 + lag_days)
    key = _partition_of(job, day, now)
    if key is None:
        return SkipReason(f"{job.name}: no partition holds {day} (the window is closed, or it has not begun)")
    return RunRequest(run_key=f"{job.name}-{key}-{now.date()}", partition_key=key, run_config=run_config or {})


def daily(job: JobDefinition | UnresolvedAssetJobDefinition) -> ScheduleDefinition:
    """A schedule that runs ``job`` each morning for the partition holding yesterday."""

    @schedule(name=f"{job.name}_daily", job=job, cron_schedule=DAILY_AT, execution_timezone="UTC")
    def run_daily(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        return morning_request(job, context.scheduled_execution_time or datetime.now(UTC), lag_days=0)

    return run_daily


def labelled_after(
    observation: JobDefinition | UnresolvedAssetJobDefinition, labelled: JobDefinition | UnresolvedAssetJobDefinition
) -> RunStatusSensorDefinition:
    """Once the morning's observation run has succeeded (its schedule's run, not a backfill), the labelled job for
    the partition holding the day whose 90-day horizon closed yesterday: its targets and gate read the prices
    through yesterday, which that run stored (started beside it, they read a partition still being written).
    Its export holds every labelled day from the window's first through that partition (one month alone cannot
    be split into train / validation / test)."""
    history = {"ops": {"training_set": {"config": {"first_day": WINDOW.labelled_start.isoformat()}}}}
    schedule_name = f"{observation.name}_daily"

    @run_status_sensor(
        name=f"{labelled.name}_after_{observation.name}",
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=[observation],
        request_job=labelled,
        description=f"The labelled partition whose horizon closed yesterday, once {schedule_name}'s run succeeded",
    )
    def after(context: RunStatusSensorContext) -> RunRequest | SkipReason:
        tags = context.dagster_run.tags
        scheduled = tags.get(SCHEDULED_EXECUTION_TIME_TAG)
        if tags.get(SCHEDULE_NAME_TAG) != schedule_name or not scheduled:
            return SkipReason(f"run {context.dagster_run.run_id} is not a run of {schedule_name}")
        now = datetime.fromisoformat(scheduled)
        return morning_request(labelled, now, lag_days=HORIZON_DAYS, run_config=history)

    return after


def automation_for(
    observation: JobDefinition | UnresolvedAssetJobDefinition, labelled: JobDefinition | UnresolvedAssetJobDefinition
) -> tuple[list[ScheduleDefinition], list[RunStatusSensorDefinition]]:
    """The observation job each morning for yesterday's partition; the labelled job (targets, the gate, the
    export) after it, for the partition of the day whose horizon closed yesterday."""
    return [daily(observation)], [labelled_after(observation, labelled)]
