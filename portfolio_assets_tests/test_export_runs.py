"""An export is one materialisation of the unpartitioned ``training_set``: a failed export marks no partition
failed and leaves the previous export, its pointer and its materialisation as they were."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from dagster import AssetKey, AssetPartitionStatus, DagsterInstance, DagsterRunStatus

from portfolio_assets.backfill import plan
from portfolio_assets.definitions import ALL_ASSETS, defs, gate_and_rows, labelled_job, training_set
from portfolio_assets.export import sink
from portfolio_assets.runner import materialize_range, run_ranges
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS
from portfolio_assets_tests.resources import make_resources
from portfolio_assets_tests.sample_frames import group_frames, mapped_span, store_frames

pytestmark = pytest.mark.slow

SPAN = ("2010-02-01", "2010-09-30")
SPLIT_DAYS = {"validation_start": "2010-05-15", "test_start": "2010-08-31"}
"""Six labelled months whose train and validation splits each outlast the 90-day labels (test_quality_gate)."""


@pytest.fixture(scope="module")
def frames():
    prices = mapped_span(*SPAN, CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS)
    return prices, group_frames(*SPAN, prices_from=prices[0], prices_to=prices[1])


@pytest.fixture
def span_store(tmp_path, frames):
    """The upstream partitions of SPAN's labelled months, built directly."""
    prices, groups = frames
    store_frames(tmp_path, groups, *SPAN, prices=prices)
    return tmp_path


@pytest.fixture
def fresh_instance():
    """An instance of this test's runs only: another test's failed gate must not show here."""
    with DagsterInstance.ephemeral() as inst:
        yield inst


def failed_partitions(instance: DagsterInstance, name: str) -> list[str]:
    """The partitions of asset ``name`` the instance shows failed (none for an unpartitioned asset)."""
    key = AssetKey(name)
    partitions_def = defs.get_repository_def().asset_graph.get(key).partitions_def
    if partitions_def is None:
        return []
    status = instance.get_status_by_partition(key, partitions_def.get_partition_keys(), partitions_def) or {}
    return sorted(k for k, s in status.items() if s == AssetPartitionStatus.FAILED)


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def export_path(result) -> Path:
    return Path(result.asset_materializations_for_node("training_set")[-1].metadata["path"].value)


def step_error(result) -> str:
    return " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)


def test_a_failed_export_marks_no_partition_failed_and_leaves_the_previous_export(
    span_store, fresh_instance, monkeypatch
):
    """Issue 14: a failed export marked every partition of training_set failed though the previous export was
    intact. Now the export is one materialisation: its failure is the asset's latest attempt, nothing else."""
    resources = make_resources(span_store, **SPLIT_DAYS)
    first = materialize_range([gate_and_rows, training_set], *SPAN, resources=resources, instance=fresh_instance)
    assert first.success
    meta = first.asset_materializations_for_node("training_set")[-1].metadata
    # in a run of labelled partitions, the export's days are the run's
    assert (meta["date_range"].value, meta["range_from"].value) == ("2010-02-01..2010-09-30", "run partitions")
    previous = export_path(first)
    exports = span_store / "exports"
    before = files_under(exports)
    assert json.loads(before["LATEST.json"])["export"] == previous.name

    def disk_full(self) -> None:
        raise OSError("no space left on device (injected)")

    monkeypatch.setattr(sink.LocalSink, "commit", disk_full)  # every file staged, then the swap fails
    again = materialize_range(
        [gate_and_rows, training_set],
        *SPAN,
        resources=resources,
        instance=fresh_instance,
        raise_on_error=False,
        log_level="CRITICAL",
    )
    monkeypatch.undo()
    assert not again.success and "no space left on device (injected)" in step_error(again)
    assert {e.asset_key.to_user_string() for e in again.get_asset_materialization_events()} >= {"sft_rows"}

    assert failed_partitions(fresh_instance, "sft_rows") == []
    assert failed_partitions(fresh_instance, "training_set") == []
    assert training_set.partitions_def is None
    # The previous export, its pointer and its materialisation are as they were; the failure is the latest attempt.
    assert files_under(exports) == before
    latest = fresh_instance.get_latest_materialization_event(AssetKey("training_set"))
    assert latest is not None and latest.run_id == first.run_id
    assert latest.asset_materialization.metadata["path"].value == str(previous)
    planned = fresh_instance.get_latest_planned_materialization_info(AssetKey("training_set"))
    assert planned is not None and planned.run_id == again.run_id
    assert fresh_instance.get_run_by_id(again.run_id).status == DagsterRunStatus.FAILURE


def test_a_reexport_in_another_prompt_format_keeps_the_earlier_export_and_moves_latest(span_store, fresh_instance):
    """`make export START=… END=…` with another PORTFOLIO_PROMPT_FORMAT: one more materialisation, beside the
    earlier export, which stays byte for byte; LATEST.json names the new one."""
    first = materialize_range(
        [gate_and_rows, training_set],
        *SPAN,
        resources=make_resources(span_store, **SPLIT_DAYS),
        instance=fresh_instance,
    )
    assert first.success
    exports = span_store / "exports"
    earlier = files_under(exports / export_path(first).name)
    lines: list[str] = []
    summary = run_ranges(
        plan(date(2010, 2, 1), date(2010, 9, 30), "export"),
        resources=make_resources(span_store, prompt_format="chat", **SPLIT_DAYS),
        instance=fresh_instance,
        log=lines.append,
    )
    assert summary["success"] and lines[0] == "exporting training_set 2010-02-01..2010-09-30"
    (run,) = summary["runs"]
    assert run["assets"] == "training_set" and run["export"]["days"] == "2010-02-01..2010-09-30"
    path = Path(run["export"]["path"])
    assert path.name.startswith("training_set_2010-02-01_2010-09-30_chat_") and path.parent == exports
    assert files_under(exports / export_path(first).name) == earlier
    assert json.loads((exports / "LATEST.json").read_text())["export"] == path.name
    latest = fresh_instance.get_latest_materialization_event(AssetKey("training_set")).asset_materialization
    assert latest.metadata["path"].value == str(path) and latest.metadata["range_from"].value == "config"
    assert latest.metadata["settings"].value["prompt_format"] == "chat"
    assert fresh_instance.get_run_by_id(run["run_id"]).job_name == "labelled"
    assert failed_partitions(fresh_instance, "sft_rows") == []


def test_config_days_outside_the_labelled_window_are_refused_naming_the_setting(tmp_path, fresh_instance):
    from dagster import Definitions

    job = Definitions(assets=ALL_ASSETS, jobs=[labelled_job], resources=make_resources(tmp_path)).resolve_job_def(
        "labelled"
    )
    result = job.execute_in_process(
        run_config={"ops": {"training_set": {"config": {"first_day": "2008-03-01", "last_day": "2010-03-31"}}}},
        asset_selection=[training_set.key],
        instance=fresh_instance,
        raise_on_error=False,
    )
    assert not result.success
    assert "training_set config first_day..last_day 2008-03-01..2010-03-31 is outside the labelled days" in (
        step_error(result)
    )
    assert not (tmp_path / "exports").exists()
