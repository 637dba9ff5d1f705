"""Run the graph over partition ranges as single runs, from Python (demo, tests, scripts)."""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetsDefinition,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    ExecuteInProcessResult,
    RunsFilter,
    TimeWindowPartitionsDefinition,
)
from dagster._core.instance.ref import InstanceRef
from dagster._serdes import deserialize_value, serialize_value
from pydantic import BaseModel

from portfolio_assets.assets.export_range import export_run_config
from portfolio_assets.assets.raw import RAW_ASSETS
from portfolio_assets.definitions import (
    ALL_ASSETS,
    JOBS,
    LABELLED_ASSETS,
    OBSERVATION_ASSETS,
    indicators,
    training_set,
)
from portfolio_assets.fsutil import peak_rss, process_alive
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

    ``first`` / ``last`` are ``YYYY-MM-DD`` days (a partition key is its first day). The unpartitioned export,
    ``training_set``, exports the labelled days of those partitions: run with partitioned assets, as the run's
    range (tags); alone, named in its run config (``export_range``), in a run without partitions.
    ``log_level`` is the console's: at DEBUG Dagster prints one event per partition. Runs of a dead process left
    shown as running in ``instance`` are marked failed first (``fail_dead_runs``).
    """
    partitions_defs = {a.partitions_def for a in selection if a.partitions_def is not None}
    if len(partitions_defs) > 1:
        raise ValueError(f"one run materialises assets of one partitions definition; got {len(partitions_defs)}")
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    run_config: dict[str, object] = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    partition_key = None
    if partitions_defs:
        partitions_def = partitions_defs.pop()
        lo, hi = partition_range(first, last, partitions_def)
        if lo == hi:  # one partition is run as that partition (as a schedule runs it): its checks then name it
            partition_key = lo
        else:
            tags |= {RANGE_START_TAG: lo, RANGE_END_TAG: hi}
    else:  # the export alone: its days in its config
        partitions_def = LABELLED_PARTITIONS
        run_config |= export_run_config(first, last)
    if instance is not None:
        fail_dead_runs(instance)
    # The run belongs to its partitions set's named job (the UI lists it under "observation" or "labelled").
    job = next(j for j in JOBS if j.partitions_def == partitions_def)
    resolved = Definitions(assets=ALL_ASSETS, jobs=[job], resources=dict(resources)).resolve_job_def(job.name)
    return resolved.execute_in_process(
        run_config=run_config,
        instance=instance,
        raise_on_error=raise_on_error,
        asset_selection=[key for a in selection for key in a.keys],
        partition_key=partition_key,
        tags=tags,
    )


def run_ranges(
    runs: Sequence[tuple[Sequence[AssetsDefinition], str, str]],
    *,
    resources: Mapping[str, object],
    instance: DagsterInstance | None,
    log: Callable[[str], None] = print,
    log_level: str = "WARNING",
) -> dict[str, Any]:
    """Each (assets, first day, last day) of ``runs`` as one run (``materialize_range``), in order, stopping at the
    first that fails; a JSON-able summary: per run its assets, range, run id, seconds, rows stored per asset, the
    export it wrote (its days and folder) and, if it failed, what its steps raised."""
    summary: dict[str, Any] = {"runs": [], "success": True}
    for selection, first, last in runs:
        names = ", ".join(a.node_def.name for a in selection)
        exporting = all(a.partitions_def is None for a in selection)  # the export alone: one export of those days
        log(f"{'exporting' if exporting else 'materialising'} {names} {first}..{last}")
        started = time.monotonic()
        result = materialize_range(
            selection, first, last, resources=resources, instance=instance, log_level=log_level, raise_on_error=False
        )
        stored = rows_stored(result, selection)
        record: dict[str, Any] = {"assets": names, "range": f"{first}..{last}", "run_id": result.run_id}
        record |= {"success": result.success, "seconds": round(time.monotonic() - started, 1), "rows": stored}
        record |= exported(result, selection)
        failures = [e.step_failure_data.error for e in result.get_step_failure_events() if e.step_failure_data]
        if failures:
            record["errors"] = [_cause(error) for error in failures if error is not None]
        summary["runs"].append(record)
        log(f"  {'done' if result.success else 'FAILED'} in {record['seconds']} s (run {result.run_id})")
        if not result.success:
            summary["success"] = False
            break
    return summary


def exported(result: ExecuteInProcessResult, selection: Sequence[AssetsDefinition]) -> dict[str, Any]:
    """``{"export": {"days", "path"}}`` of the export a run of ``selection`` wrote (``{}``: none)."""
    done = result.asset_materializations_for_node(training_set.node_def.name) if training_set in selection else []
    if not done:
        return {}
    metadata = done[-1].metadata
    return {"export": {"days": metadata["date_range"].value, "path": str(metadata["path"].value)}}


def rows_stored(result: ExecuteInProcessResult, selection: Sequence[AssetsDefinition]) -> dict[str, int]:
    """The rows a run stored, per asset key, in the selection's order."""
    rows: dict[str, int] = {}
    for node in dict.fromkeys(a.node_def.name for a in selection):
        for done in result.asset_materializations_for_node(node):
            count = run_rows(done.metadata)
            if count is not None:
                rows[done.asset_key.to_user_string()] = count
    return rows


def run_rows(metadata: Mapping[str, Any]) -> int | None:
    """The rows of the whole run a materialisation's metadata names: a stored asset's ``run_rows`` (its ``rows``
    are its partition's own), else the ``rows`` of an output made once per run (the export)."""
    value = metadata.get("run_rows", metadata.get("rows"))
    return None if value is None else int(value.value)


def _stored(result: ExecuteInProcessResult, selection: Sequence[AssetsDefinition]) -> str:
    """``prices 13,012 rows, macro 1,885 rows, …``: what a run stored, per asset."""
    return ", ".join(f"{name} {n:,} rows" for name, n in rows_stored(result, selection).items()) or "nothing stored"


def _cause(error: Any) -> str:
    """The innermost message of a Dagster step failure (what the asset raised)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return str(error.message).strip()


def chunked(
    first: str, last: str, partitions_def: TimeWindowPartitionsDefinition, size: int | None, workers: int = 1
) -> list[tuple[str, str]]:
    """The partitions holding days ``first..last`` as consecutive ranges of at most ``size`` partitions
    (None: one range); with ``workers`` > 1, ranges of even sizes, as many as a multiple of ``workers``."""
    lo, hi = partition_range(first, last, partitions_def)
    keys = partitions_def.get_partition_keys()
    selected = keys[keys.index(lo) : keys.index(hi) + 1]
    step = len(selected) if size is None else size
    if step < 1:
        raise ValueError(f"a run must hold at least one partition, got {size}")
    if workers > 1 and size is not None:  # as many ranges as before, rounded up to a multiple of workers, of even sizes
        count = -(-len(selected) // step)
        count = -(-count // workers) * workers
        step = max(1, -(-len(selected) // count))
    return [(selected[i], selected[min(i + step, len(selected)) - 1]) for i in range(0, len(selected), step)]


@dataclass(frozen=True)
class WorkerRun:
    """A run ``materialize_all(workers=N)`` executed in a worker process."""

    run_id: str
    success: bool
    assets: tuple[str, ...]
    span: tuple[str, str]
    peak_rss: int
    """The worker process's peak RSS so far, in bytes (a worker runs several runs)."""
    pid: int
    samples: tuple[float, float] | None = None
    """``(ours, samples)`` of the ``sampler`` the run was wrapped in (seconds), if one was given."""


Sampler = Callable[[], AbstractContextManager[Any]]
"""A context manager class whose instance has ``ours`` and ``samples`` (seconds; ``bench.StackSampler``)."""


@dataclass(frozen=True)
class _Model:
    """A Dagster resource as its class and field values: resources do not pickle, these rebuild them."""

    cls: type
    fields: dict[str, Any]


def _portable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _Model(type(value), {f: _portable(getattr(value, f)) for f in type(value).model_fields})
    return value


def _rebuilt(value: Any) -> Any:
    if isinstance(value, _Model):
        return value.cls(**{k: _rebuilt(v) for k, v in value.fields.items()})
    return value


def _name(asset: AssetsDefinition) -> str:
    return asset.node_def.name


def _worker_run(
    names: tuple[str, ...],
    span: tuple[str, str],
    resources: Mapping[str, Any],
    instance_ref: str,
    log_level: str,
    sampler: Sampler | None,
) -> WorkerRun:
    """One run in a worker process, on the instance ``instance_ref`` (serialised) points at."""
    faulthandler.enable()  # a worker that crashes says where, in the parent's stderr, before the pool breaks
    resources = {k: _rebuilt(v) for k, v in resources.items()}
    selection = [a for a in ALL_ASSETS if _name(a) in names]
    try:
        with (
            DagsterInstance.from_ref(deserialize_value(instance_ref, InstanceRef)) as instance,
            sampler() if sampler is not None else nullcontext() as measured,
        ):
            result = materialize_range(selection, *span, resources=resources, instance=instance, log_level=log_level)
    except Exception as exc:  # Dagster's errors do not all pickle: send their text
        raise RuntimeError(
            f"the run of {', '.join(names)} over {span[0]}..{span[1]} failed in worker process {os.getpid()}: "
            f"{exc}\n{traceback.format_exc()}"
        ) from None
    samples = (measured.ours, measured.samples) if measured is not None else None
    return WorkerRun(result.run_id, result.success, names, span, peak_rss(), os.getpid(), samples)


def _phases(
    observation: list[AssetsDefinition],
    obs: tuple[str, str],
    lab: tuple[str, str],
    partitions_per_run: int | None,
    workers: int,
    observation_per_run: int | None = None,
) -> list[list[tuple[list[AssetsDefinition], tuple[str, str]]]]:
    """The runs, in phases whose runs do not depend on one another (each phase after the one before); the
    observation ranges hold ``observation_per_run`` partitions (default: ``partitions_per_run``).

    One worker: every observation asset per range, oldest first (a range's indicators read the prices of
    the ranges before it), then the labelled ones. Several: the observation assets but ``indicators`` over
    every range, then ``indicators`` (its lookback reaches earlier ranges), then the labelled ones up to
    ``sft_rows`` (they read only observations and their own partitions' targets); ``training_set`` last.
    """
    if partitions_per_run is None:
        obs_spans = chunked(*obs, OBSERVATION_PARTITIONS, None, workers)
        return [[(observation, span)] for span in obs_spans] + [[(LABELLED_ASSETS, lab)]]
    obs_size = partitions_per_run if observation_per_run is None else observation_per_run
    obs_spans = chunked(*obs, OBSERVATION_PARTITIONS, obs_size, workers)
    rows = [a for a in LABELLED_ASSETS if a is not training_set]
    lab_spans = chunked(*lab, LABELLED_PARTITIONS, partitions_per_run, workers)
    if workers == 1:
        phases = [[(observation, span)] for span in obs_spans] + [[(rows, span)] for span in lab_spans]
    else:
        first = [a for a in observation if a is not indicators]
        phases = [
            [(first, span) for span in obs_spans],
            *([[([indicators], span) for span in obs_spans]] if indicators in observation else []),
            [(rows, span) for span in lab_spans],
        ]
    return [*phases, [([training_set], lab)]]


def _run_phase(
    pool: ProcessPoolExecutor,
    phase: list[tuple[list[AssetsDefinition], tuple[str, str]]],
    resources: Mapping[str, object],
    instance: DagsterInstance,
    log_level: str,
    sampler: Sampler | None,
) -> list[WorkerRun]:
    """The runs of one phase in ``pool``; the first failure is raised once the runs already started end."""
    futures = [
        pool.submit(
            _worker_run,
            tuple(_name(a) for a in selection),
            span,
            {k: _portable(v) for k, v in resources.items()},
            serialize_value(instance.get_ref()),
            log_level,
            sampler,
        )
        for selection, span in phase
    ]
    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    failed = [f for f in futures if f in done and f.exception() is not None]
    if failed:
        for future in futures:
            future.cancel()
        wait(futures)
        raise failed[0].exception()  # type: ignore[misc]
    return [f.result() for f in futures]


def materialize_all(
    *,
    resources: Mapping[str, object],
    instance: DagsterInstance | None = None,
    observation_range: tuple[str, str] | None = None,
    labelled_range: tuple[str, str] | None = None,
    log_level: str = "INFO",
    sources: bool = True,
    partitions_per_run: int | None = None,
    observation_partitions_per_run: int | None = None,
    workers: int = 1,
    sampler: Sampler | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ExecuteInProcessResult | WorkerRun]:
    """Observation assets over their range, then labelled assets over theirs (default: everything), then the
    export of the whole labelled range.

    ``sources=False`` leaves the raw source assets out (the landing zone is read as it is).
    ``partitions_per_run`` bounds a run's memory: the observation assets, then the labelled ones up to
    ``sft_rows``, run over consecutive ranges of that many partitions, oldest first (each reads what the
    earlier ones stored), and ``training_set`` once over the whole labelled range. None: one run each.
    ``observation_partitions_per_run`` (default: ``partitions_per_run``) sizes the observation ranges apart:
    an observation run holds less per partition than a labelled one, and each range re-reads the indicators'
    lookback, so larger observation ranges cost less within the same memory.
    ``progress`` (one process only) gets a line as each run starts and one with the rows it stored and its seconds.
    ``workers`` > 1 runs the ranges of a phase (``_phases``) side by side in that many worker processes, fresh
    for each phase, every run included (the results are then ``WorkerRun``); it needs a persistent ``instance`` and
    ``partitions_per_run``. ``sampler`` wraps each worker's runs (``WorkerRun.samples``).
    """
    obs = observation_range or (
        OBSERVATION_PARTITIONS.get_first_partition_key(),
        OBSERVATION_PARTITIONS.get_last_partition_key(),
    )
    lab = labelled_range or (
        LABELLED_PARTITIONS.get_first_partition_key(),
        LABELLED_PARTITIONS.get_last_partition_key(),
    )
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if observation_partitions_per_run is not None and partitions_per_run is None:
        raise ValueError(
            "observation_partitions_per_run sizes the observation ranges of a build in ranges: "
            "give partitions_per_run too"
        )
    observation = [a for a in OBSERVATION_ASSETS if sources or a not in RAW_ASSETS]
    phases = _phases(observation, obs, lab, partitions_per_run, workers, observation_partitions_per_run)
    if workers == 1:
        done = []
        for selection, span in (run for phase in phases for run in phase):
            started = time.monotonic()
            if progress is not None:
                progress(f"{', '.join(a.node_def.name for a in selection)} {span[0]}..{span[1]} …")
            done.append(
                materialize_range(selection, *span, resources=resources, instance=instance, log_level=log_level)
            )
            if progress is not None:
                progress(f"  {_stored(done[-1], selection)} in {time.monotonic() - started:.0f} s")
        return done
    if instance is None or instance.is_ephemeral:
        raise ValueError(
            "materialize_all(workers > 1) runs in worker processes that share the Dagster instance: give a "
            "persistent one (DAGSTER_HOME), not an ephemeral one"
        )
    if partitions_per_run is None:
        raise ValueError("materialize_all(workers > 1) needs partitions_per_run: a phase's ranges run side by side")
    fail_dead_runs(instance)
    results: list[ExecuteInProcessResult | WorkerRun] = []
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited Dagster state or threads
    *ranged, (export,) = phases
    # Each phase in fresh processes: what one phase's workers keep per process (parsed responses, derived price
    # histories, their heaps) is given back before the next phase, which reads none of it.
    for phase in ranged:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results += _run_phase(pool, phase, resources, instance, log_level, sampler)
    # The export runs alone, in a fresh process, and its own workers (PORTFOLIO_WORKERS) get the cores.
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        results += _run_phase(pool, [export], resources, instance, log_level, sampler)
    return results
