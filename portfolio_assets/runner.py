"""Run the graph over partition ranges as single runs, from Python (demo, tests, scripts)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence

from dagster import (
    AssetsDefinition,
    DagsterInstance,
    DagsterRunStatus,
    ExecuteInProcessResult,
    RunsFilter,
    TimeWindowPartitionsDefinition,
    materialize,
)

from portfolio_assets.assets.raw import RAW_ASSETS
from portfolio_assets.definitions import ALL_ASSETS, LABELLED_ASSETS, OBSERVATION_ASSETS, training_set
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


def chunked(
    first: str, last: str, partitions_def: TimeWindowPartitionsDefinition, size: int | None
) -> list[tuple[str, str]]:
    """The partitions holding days ``first..last`` as consecutive ranges of at most ``size`` partitions
    (None: one range)."""
    lo, hi = partition_range(first, last, partitions_def)
    keys = partitions_def.get_partition_keys()
    selected = keys[keys.index(lo) : keys.index(hi) + 1]
    step = len(selected) if size is None else size
    if step < 1:
        raise ValueError(f"a run must hold at least one partition, got {size}")
    return [(selected[i], selected[min(i + step, len(selected)) - 1]) for i in range(0, len(selected), step)]


def materialize_all(
    *,
    resources: Mapping[str, object],
    instance: DagsterInstance | None = None,
    observation_range: tuple[str, str] | None = None,
    labelled_range: tuple[str, str] | None = None,
    log_level: str = "INFO",
    sources: bool = True,
    partitions_per_run: int | None = None,
) -> list[ExecuteInProcessResult]:
    """Observation assets over their range, then labelled assets over theirs (default: everything), then the
    export of the whole labelled range.

    ``sources=False`` leaves the raw source assets out (the landing zone is read as it is).
    ``partitions_per_run`` bounds a run's memory: the observation assets, then the labelled ones up to
    ``sft_rows``, run over consecutive ranges of that many partitions, oldest first (each reads what the
    earlier ones stored), and ``training_set`` once over the whole labelled range. None: one run each.
    """
    obs = observation_range or (
        OBSERVATION_PARTITIONS.get_first_partition_key(),
        OBSERVATION_PARTITIONS.get_last_partition_key(),
    )
    lab = labelled_range or (
        LABELLED_PARTITIONS.get_first_partition_key(),
        LABELLED_PARTITIONS.get_last_partition_key(),
    )
    observation = [a for a in OBSERVATION_ASSETS if sources or a not in RAW_ASSETS]
    runs = [(observation, span) for span in chunked(*obs, OBSERVATION_PARTITIONS, partitions_per_run)]
    if partitions_per_run is None:
        runs.append((LABELLED_ASSETS, lab))
    else:
        rows = [a for a in LABELLED_ASSETS if a is not training_set]
        runs += [(rows, span) for span in chunked(*lab, LABELLED_PARTITIONS, partitions_per_run)]
        runs.append(([training_set], lab))
    return [
        materialize_range(selection, *span, resources=resources, instance=instance, log_level=log_level)
        for selection, span in runs
    ]
