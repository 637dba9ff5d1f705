"""Run the graph over partition ranges as single runs, from Python (demo, tests, scripts)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence

from dagster import AssetsDefinition, DagsterInstance, DagsterRunStatus, ExecuteInProcessResult, RunsFilter, materialize

from portfolio_assets.assets.raw import RAW_ASSETS
from portfolio_assets.definitions import ALL_ASSETS, LABELLED_ASSETS, OBSERVATION_ASSETS
from portfolio_assets.fsutil import process_alive
from portfolio_assets.partitions import (
    LABELLED_PARTITIONS,
    OBSERVATION_PARTITIONS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    partition_range,
)

PID_TAG = "portfolio/pid"
HOST_TAG = "portfolio/host"
"""Tags naming the process that executes an in-process run, so a dead one can be told apart."""


def fail_dead_runs(instance: DagsterInstance) -> list[str]:
    """Mark failed every in-process run of this host still shown as running whose process is gone
    (killed, out of memory): the instance must not show a dead run as in progress. Returns their ids."""
    host = socket.gethostname()
    running = instance.get_runs(
        filters=RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING],
            tags={HOST_TAG: host},
        )
    )
    dead = []
    for run in running:
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            instance.report_run_failed(run, f"the process that ran it (pid {pid} on {host}) is gone: killed mid-run")
            dead.append(run.run_id)
    return dead


def materialize_range(
    selection: Sequence[AssetsDefinition],
    first: str,
    last: str,
    *,
    resources: Mapping[str, object],
    instance: DagsterInstance | None = None,
    log_level: str = "INFO",
    raise_on_error: bool = True,
) -> ExecuteInProcessResult:
    """Materialise ``selection`` for the partitions holding days ``first..last`` in ONE run (a single-run backfill).

    ``first`` / ``last`` are ``YYYY-MM-DD`` days (a partition key is its first day). ``log_level`` is the
    console's: at DEBUG Dagster prints one event per partition. Runs of a dead process left shown as running
    in ``instance`` are marked failed first (``fail_dead_runs``).
    """
    partitions_defs = {a.partitions_def for a in selection}
    if len(partitions_defs) != 1:
        raise ValueError(f"one run materialises assets of one partitions definition; got {len(partitions_defs)}")
    first, last = partition_range(first, last, partitions_defs.pop())
    if instance is not None:
        fail_dead_runs(instance)
    return materialize(
        ALL_ASSETS,
        selection=list(selection),
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        instance=instance,
        resources=dict(resources),
        raise_on_error=raise_on_error,
        tags={RANGE_START_TAG: first, RANGE_END_TAG: last, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
    )


def materialize_all(
    *,
    resources: Mapping[str, object],
    instance: DagsterInstance | None = None,
    observation_range: tuple[str, str] | None = None,
    labelled_range: tuple[str, str] | None = None,
    log_level: str = "INFO",
    sources: bool = True,
) -> list[ExecuteInProcessResult]:
    """Observation assets over their range, then labelled assets over theirs (default: everything).

    ``sources=False`` leaves the raw source assets out (the landing zone is read as it is).
    """
    obs = observation_range or (
        OBSERVATION_PARTITIONS.get_first_partition_key(),
        OBSERVATION_PARTITIONS.get_last_partition_key(),
    )
    lab = labelled_range or (
        LABELLED_PARTITIONS.get_first_partition_key(),
        LABELLED_PARTITIONS.get_last_partition_key(),
    )
    return [
        materialize_range(
            [a for a in OBSERVATION_ASSETS if sources or a not in RAW_ASSETS],
            *obs,
            resources=resources,
            instance=instance,
            log_level=log_level,
        ),
        materialize_range(LABELLED_ASSETS, *lab, resources=resources, instance=instance, log_level=log_level),
    ]
