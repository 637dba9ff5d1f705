"""The export is admitted day by day by the newest gate run over it in the same store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pandas as pd
import pytest

from portfolio_assets.assets.gate import GateError, check_statuses, gate_status
from portfolio_assets.io_managers import PartitionStore


class Status(Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass
class Record:
    id: int
    run_id: str
    status: Status


class History:
    """What DagsterInstance offers the gate: check history in pages, newest first."""

    def __init__(self, records: list[Record]) -> None:
        self.records = sorted(records, key=lambda r: -r.id)
        self.pages = 0
        self.event_log_storage = self

    def get_asset_check_execution_history(self, check_key, limit, cursor=None):
        self.pages += 1
        return [r for r in self.records if cursor is None or r.id < cursor][:limit]


def keys(first: str, last: str) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last)]


def gate_run(store: PartitionStore, run_id: str, first: str, last: str, *, passed: bool) -> None:
    """What the gate step leaves in the store: quarantine always, sft_rows only past a passing gate."""
    days = keys(first, last)
    empty = pd.DataFrame({"timestamp": pd.to_datetime([], utc=True), "asset_symbol": []})
    rows = pd.DataFrame({"timestamp": pd.to_datetime(days, utc=True), "asset_symbol": "A"})
    store.write(["quarantine"], empty, days, run_id=run_id)
    if passed:
        store.write(["sft_rows"], rows, days, run_id=run_id)


def test_statuses_are_found_however_deep_in_the_history():
    records = [Record(1, "ours", Status.SUCCEEDED)] + [
        Record(i + 2, f"other-{i}", Status.SUCCEEDED) for i in range(1200)
    ]
    history = History(records)
    assert check_statuses(history, "check", {"ours"}) == {"ours": "SUCCEEDED"}
    assert history.pages == 3  # 500 a page, newest first


def test_a_newer_failed_gate_over_part_of_the_range_refuses_the_export(tmp_path):
    store = PartitionStore(tmp_path)
    gate_run(store, "clean", "2010-02-01", "2010-07-31", passed=True)
    gate_run(store, "march", "2010-03-01", "2010-03-31", passed=False)
    history = History([Record(1, "clean", Status.SUCCEEDED), Record(2, "march", Status.FAILED)])
    with pytest.raises(GateError) as raised:
        gate_status(history, store, ["temporal_gaps"], keys("2010-02-01", "2010-07-31"))
    assert str(raised.value) == (
        "training_set 2010-02-01..2010-07-31: the newest evaluation of blocking check quarantine/temporal_gaps for "
        "2010-03-01..2010-03-31 (31 partitions) is FAILED (run march); fix the cause and re-materialise quarantine "
        "over those partitions before exporting"
    )
    # The months the failed gate did not touch still export.
    assert gate_status(history, store, ["temporal_gaps"], keys("2010-04-01", "2010-07-31")) == {
        "temporal_gaps": {"status": "SUCCEEDED", "run_id": "clean"}
    }


def test_another_store_sharing_the_instance_does_not_interfere(tmp_path):
    ours, theirs = PartitionStore(tmp_path / "ours"), PartitionStore(tmp_path / "theirs")
    gate_run(ours, "ours", "2010-03-01", "2010-03-31", passed=True)
    gate_run(theirs, "theirs", "2010-03-10", "2010-03-10", passed=False)
    history = History([Record(1, "ours", Status.SUCCEEDED), Record(2, "theirs", Status.FAILED)])
    assert gate_status(history, ours, ["schema"], keys("2010-03-01", "2010-03-31"))


def test_rows_not_written_by_the_admitting_run_are_refused(tmp_path):
    store = PartitionStore(tmp_path)
    gate_run(store, "older", "2010-03-01", "2010-03-02", passed=True)
    # A gate run whose checks passed, but whose sft_rows write never happened (the step died).
    days = keys("2010-03-01", "2010-03-02")
    store.write(["quarantine"], pd.DataFrame({"timestamp": pd.to_datetime([], utc=True)}), days, run_id="newer")
    history = History([Record(1, "older", Status.SUCCEEDED), Record(2, "newer", Status.SUCCEEDED)])
    with pytest.raises(
        GateError,
        match=r"sft_rows of 2010-03-01\.\.2010-03-02 \(2 partitions\) were written by run older, not by run newer",
    ):
        gate_status(history, store, ["schema"], days)


def test_a_range_the_gate_never_ran_over_is_refused(tmp_path):
    with pytest.raises(GateError, match="the gate never ran over 2010-03-01 in this store"):
        gate_status(History([]), PartitionStore(tmp_path), ["schema"], keys("2010-03-01", "2010-03-01"))


def test_a_gate_run_without_an_evaluation_is_refused(tmp_path):
    store = PartitionStore(tmp_path)
    gate_run(store, "crashed", "2010-03-01", "2010-03-01", passed=True)
    with pytest.raises(GateError, match=r"quarantine/schema for 2010-03-01 is NOT_EVALUATED \(run crashed\)"):
        gate_status(History([]), store, ["schema"], keys("2010-03-01", "2010-03-01"))
