"""What binds an export to the gate: the newest evaluation of every blocking gate check, day by day.

A labelled run evaluates the gate's checks over its range and, only when every
blocking check passed, writes ``sft_rows`` in the same step. An export of
``first..last`` is allowed only when, for every day of it, the newest
evaluation of each blocking check whose run covered that day passed, and that
day's ``sft_rows`` were written by that very run. So a newer failed gate
evaluation of any overlapping range refuses the export, and so do rows that no
passing evaluation admitted. The instance's check history is read page by page
until every day is decided, however long it is.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.partitions import RANGE_END_TAG, RANGE_START_TAG

PARTITION_TAG = "dagster/partition"
PAGE = 500


class GateError(RuntimeError):
    """The export's range is not admitted by a passing gate evaluation of its very rows."""


def run_range(instance: DagsterInstance, run_id: str) -> tuple[str, str] | None:
    """The partition range a run materialised (single-run backfill tags, or one partition)."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return None
    start = run.tags.get(RANGE_START_TAG) or run.tags.get(PARTITION_TAG)
    end = run.tags.get(RANGE_END_TAG) or run.tags.get(PARTITION_TAG)
    return (start, end) if start and end else None


def deciding_evaluations(
    instance: DagsterInstance, check: AssetCheckKey, days: list[str]
) -> dict[str, tuple[str, str]]:
    """day -> (status, run id) of the newest evaluation of ``check`` whose run covered that day."""
    undecided = set(days)
    decided: dict[str, tuple[str, str]] = {}
    ranges: dict[str, tuple[str, str] | None] = {}
    cursor = None
    while undecided:
        page = instance.event_log_storage.get_asset_check_execution_history(check, limit=PAGE, cursor=cursor)
        if not page:
            break
        for record in page:  # newest first
            if record.run_id not in ranges:
                ranges[record.run_id] = run_range(instance, record.run_id)
            covered = ranges[record.run_id]
            if covered is None:
                continue
            for day in [d for d in undecided if covered[0] <= d <= covered[1]]:
                decided[day] = (record.status.value, record.run_id)
                undecided.discard(day)
        cursor = page[-1].id
    return decided


def _span(days: list[str]) -> str:
    return days[0] if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"


def gate_status(
    instance: DagsterInstance,
    store: PartitionStore,
    checks: list[str],
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    gate_asset: str = "quarantine",
    rows_asset: str = "sft_rows",
    log: Callable[[str], None] | None = None,
) -> dict[str, dict[str, str]]:
    """Each blocking check's status and the runs that admitted ``first..last``; raises ``GateError`` otherwise."""
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last)]
    what = f"training_set {days[0]}..{days[-1]}"
    statuses: dict[str, dict[str, str]] = {}
    admitting: dict[str, str] = {}
    for name in checks:
        decided = deciding_evaluations(instance, AssetCheckKey(AssetKey(gate_asset), name), days)
        missing = [d for d in days if d not in decided]
        if missing:
            raise GateError(
                f"{what}: blocking check {gate_asset}/{name} was never evaluated for {_span(missing)}; "
                f"materialise {gate_asset} over them first"
            )
        bad = [d for d in days if decided[d][0] != "SUCCEEDED"]
        if bad:
            status, run_id = decided[bad[0]]
            raise GateError(
                f"{what}: the newest evaluation of blocking check {gate_asset}/{name} for {_span(bad)} is {status} "
                f"(run {run_id}); fix the cause and re-materialise {gate_asset} over those days before exporting"
            )
        for day in days:
            admitting.setdefault(day, decided[day][1])
            if admitting[day] != decided[day][1]:
                raise GateError(
                    f"{what}: on {day} the newest evaluations of the gate's checks come from different runs "
                    f"({admitting[day]}, {decided[day][1]}); re-materialise {gate_asset} over the range"
                )
        runs = sorted({decided[d][1] for d in days})
        statuses[name] = {"status": "SUCCEEDED", "run_id": ", ".join(runs)}
    stale = []
    for day in days:
        commit = store.commit_of([rows_asset], day)
        if commit is None or commit.run_id != admitting[day]:
            stale.append(day)
    if stale:
        commit = store.commit_of([rows_asset], stale[0])
        raise GateError(
            f"{what}: {rows_asset} of {_span(stale)} were written by run {commit.run_id if commit else '(none)'}, "
            f"not by run {admitting[stale[0]]} whose gate evaluation admits them; re-materialise the labelled range"
        )
    if log:
        log(f"{what}: admitted by gate run(s) {', '.join(sorted(set(admitting.values())))}")
    return statuses
