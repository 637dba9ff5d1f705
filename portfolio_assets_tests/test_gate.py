"""The export's gate lookup reads the whole check history, newest first, day by day."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pandas as pd
import pytest

from portfolio_assets.assets.gate import GateError, deciding_evaluations, gate_status
from portfolio_assets.io_managers import PartitionStore


class Status(Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass
class Record:
    id: int
    run_id: str
    status: Status


@dataclass
class Run:
    tags: dict[str, str]


class History:
    """What DagsterInstance offers the gate: check history in pages, newest first, and runs with tags."""

    def __init__(self, records: list[Record], runs: dict[str, tuple[str, str]]) -> None:
        self.records = sorted(records, key=lambda r: -r.id)
        self.runs = runs
        self.pages = 0
        self.event_log_storage = self

    def get_asset_check_execution_history(self, check_key, limit, cursor=None):
        self.pages += 1
        newer = [r for r in self.records if cursor is None or r.id < cursor]
        return newer[:limit]

    def get_run_by_id(self, run_id):
        start, end = self.runs[run_id]
        return Run({"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end})


def test_the_range_is_decided_by_evaluations_older_than_any_fixed_window():
    # 1,200 newer evaluations of another range, then the one that covers ours.
    runs = {f"other-{i}": ("2012-01-01", "2012-01-31") for i in range(1200)}
    runs["ours"] = ("2010-01-01", "2010-12-31")
    records = [Record(1, "ours", Status.SUCCEEDED)] + [
        Record(i + 2, f"other-{i}", Status.SUCCEEDED) for i in range(1200)
    ]
    history = History(records, runs)
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2010-03-01", "2010-03-31")]
    decided = deciding_evaluations(history, "check", days)
    assert set(decided) == set(days) and {v for v in decided.values()} == {("SUCCEEDED", "ours")}
    assert history.pages == 3  # 500 a page


def test_a_newer_failed_evaluation_of_part_of_the_range_decides_those_days(tmp_path):
    runs = {"clean": ("2010-02-01", "2010-07-31"), "march": ("2010-03-01", "2010-03-31")}
    history = History([Record(1, "clean", Status.SUCCEEDED), Record(2, "march", Status.FAILED)], runs)
    store = PartitionStore(tmp_path)
    with pytest.raises(GateError) as raised:
        gate_status(history, store, ["temporal_gaps"], pd.Timestamp("2010-02-01"), pd.Timestamp("2010-07-31"))
    assert str(raised.value) == (
        "training_set 2010-02-01..2010-07-31: the newest evaluation of blocking check quarantine/temporal_gaps for "
        "2010-03-01..2010-03-31 (31 days) is FAILED (run march); fix the cause and re-materialise quarantine over "
        "those days before exporting"
    )


def test_rows_not_written_by_the_admitting_run_are_refused(tmp_path):
    store = PartitionStore(tmp_path)
    keys = ["2010-03-01", "2010-03-02"]
    frame = pd.DataFrame({"timestamp": pd.to_datetime(keys, utc=True), "asset_symbol": "A"})
    store.write(["sft_rows"], frame, keys, run_id="older")
    history = History([Record(1, "newer", Status.SUCCEEDED)], {"newer": ("2010-03-01", "2010-03-02")})
    with pytest.raises(
        GateError, match=r"sft_rows of 2010-03-01\.\.2010-03-02 \(2 days\) were written by run older, not by run newer"
    ):
        gate_status(history, store, ["schema"], pd.Timestamp(keys[0]), pd.Timestamp(keys[1]))
    store.write(["sft_rows"], frame, keys, run_id="newer")
    assert gate_status(history, store, ["schema"], pd.Timestamp(keys[0]), pd.Timestamp(keys[1])) == {
        "schema": {"status": "SUCCEEDED", "run_id": "newer"}
    }


def test_a_range_never_evaluated_is_refused(tmp_path):
    history = History([], {})
    with pytest.raises(GateError, match="was never evaluated for 2010-03-01"):
        gate_status(
            history, PartitionStore(tmp_path), ["schema"], pd.Timestamp("2010-03-01"), pd.Timestamp("2010-03-01")
        )
