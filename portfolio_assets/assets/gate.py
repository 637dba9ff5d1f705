"""What binds an export to the gate: the newest gate run over each partition, in this very store.

The gate step (``gate_and_rows``) writes ``quarantine`` for every partition of its
run (empty ones included) before it evaluates its checks, and writes ``sft_rows``
only when every blocking check passed. So, in one store, the commit that holds a
partition's ``quarantine`` names the newest gate run over it. An export of some
partitions is allowed only when, for every partition,

* that newest gate run's evaluation of every blocking check passed (looked up in
  the instance's check history, read page by page however long it is), and
* the partition's ``sft_rows`` were written by that very run.

A newer failed gate over any overlapping range therefore refuses the export, and
so do rows that no passing evaluation admitted. Taking the gate run from the
store, not from the instance, keeps two stores sharing one instance apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from dagster import AssetCheckKey, AssetKey, DagsterInstance

from portfolio_assets.io_managers import PartitionStore

PAGE = 500


class GateError(RuntimeError):
    """The export's range is not admitted by a passing gate evaluation of its very rows."""


def check_statuses(instance: DagsterInstance, check: AssetCheckKey, run_ids: Iterable[str]) -> dict[str, str]:
    """run id -> status of the newest evaluation of ``check`` in that run (absent: never evaluated)."""
    wanted = set(run_ids)
    found: dict[str, str] = {}
    cursor = None
    while wanted - set(found):
        page = instance.event_log_storage.get_asset_check_execution_history(check, limit=PAGE, cursor=cursor)
        if not page:
            break
        for record in page:  # newest first
            if record.run_id in wanted and record.run_id not in found:
                found[record.run_id] = record.status.value
        cursor = page[-1].id
    return found


def _span(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]} ({len(keys)} partitions)"


def gate_status(
    instance: DagsterInstance,
    store: PartitionStore,
    checks: list[str],
    keys: Sequence[str],
    *,
    gate_asset: str = "quarantine",
    rows_asset: str = "sft_rows",
    log: Callable[[str], None] | None = None,
) -> dict[str, dict[str, str]]:
    """Each blocking check's status and the runs that admitted partitions ``keys``; raises ``GateError`` otherwise."""
    days = list(keys)
    if not days:
        raise GateError("training_set: no partitions to export")
    what = f"training_set {days[0]}..{days[-1]}"
    gates = store.commits([gate_asset])
    rows = store.commits([rows_asset])
    missing = [d for d in days if d not in gates]
    if missing:
        raise GateError(f"{what}: the gate never ran over {_span(missing)} in this store; materialise it first")
    gate_run = {d: gates[d].run_id for d in days}
    statuses: dict[str, dict[str, str]] = {}
    for name in checks:
        found = check_statuses(instance, AssetCheckKey(AssetKey(gate_asset), name), set(gate_run.values()))
        bad = [d for d in days if found.get(gate_run[d], "NOT_EVALUATED") != "SUCCEEDED"]
        if bad:
            run_id = gate_run[bad[0]]
            status = found.get(run_id, "NOT_EVALUATED")
            raise GateError(
                f"{what}: the newest evaluation of blocking check {gate_asset}/{name} for {_span(bad)} is {status} "
                f"(run {run_id}); fix the cause and re-materialise {gate_asset} over those partitions before exporting"
            )
        statuses[name] = {"status": "SUCCEEDED", "run_id": ", ".join(sorted(set(gate_run.values())))}
    stale = [d for d in days if d not in rows or rows[d].run_id != gate_run[d]]
    if stale:
        written = rows[stale[0]].run_id if stale[0] in rows else "(none)"
        raise GateError(
            f"{what}: {rows_asset} of {_span(stale)} were written by run {written}, not by run "
            f"{gate_run[stale[0]]} whose gate evaluation admits them; re-materialise the labelled range"
        )
    if log:
        log(f"{what}: admitted by gate run(s) {', '.join(sorted(set(gate_run.values())))}")
    return statuses
