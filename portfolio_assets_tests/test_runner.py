"""A run killed mid-way is marked failed in the instance, not left shown as running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.instance.ref import InstanceRef

from portfolio_assets.runner import fail_dead_runs

pytestmark = pytest.mark.slow


def test_a_killed_run_is_marked_failed(tmp_path):
    home, marker = tmp_path / "home", tmp_path / "started"
    home.mkdir()
    script = textwrap.dedent(
        f"""
        import time
        from dagster import DagsterInstance
        from dagster._core.instance.ref import InstanceRef
        import portfolio_assets.assets.prices as prices_module
        from portfolio_assets.runner import materialize_range
        from portfolio_assets_tests.resources import make_resources

        def stuck(*args):
            open({str(marker)!r}, "w").close()
            time.sleep(120)

        prices_module.canonical_prices = stuck
        instance = DagsterInstance.from_ref(InstanceRef.from_dir({str(home)!r}))
        materialize_range(
            [prices_module.prices], "2010-01-01", "2010-01-31", resources=make_resources({str(tmp_path / "data")!r}),
            instance=instance,
        )
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=os.getcwd())
    try:
        for _ in range(1200):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the run never reached its step"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        (run,) = instance.get_runs()
        assert run.status == DagsterRunStatus.STARTED  # what Dagster shows for a killed in-process run
        assert fail_dead_runs(instance) == [run.run_id]
        run = instance.get_run_by_id(run.run_id)
        assert run.status == DagsterRunStatus.FAILURE
        assert fail_dead_runs(instance) == []


def test_ranges_are_cut_into_runs_of_whole_partitions():
    from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS
    from portfolio_assets.runner import chunked

    # days name the partitions (months) that hold them
    assert chunked("2008-01-15", "2008-03-02", OBSERVATION_PARTITIONS, None) == [("2008-01-01", "2008-03-01")]
    assert chunked("2009-01-01", "2009-12-31", LABELLED_PARTITIONS, 5) == [
        ("2009-01-01", "2009-05-01"),
        ("2009-06-01", "2009-10-01"),
        ("2009-11-01", "2009-12-01"),
    ]
    with pytest.raises(ValueError, match="at least one partition"):
        chunked("2009-01-01", "2009-12-31", LABELLED_PARTITIONS, 0)
    with pytest.raises(ValueError, match=r"outside the partitions 2009-01-01\.\.2012-11-01 \(monthly"):
        chunked("2008-01-01", "2009-12-31", LABELLED_PARTITIONS, 3)


def test_a_build_in_many_runs_exports_the_same_rows(tmp_path, instance, full_backfill):
    """Observation and labelled assets over runs of seven months, the export over everything: the same rows as
    one run each. Every text (the prompts' rounded numbers included) is identical; full-precision columns agree
    to 1e-9 (ADX's Wilder recursion and TA-Lib's CCI sum in an order that depends on where a run starts)."""
    from pathlib import Path

    from portfolio_assets.export import read_export
    from portfolio_assets.runner import materialize_all
    from portfolio_assets_tests.resources import make_resources

    results = materialize_all(
        resources=make_resources(tmp_path), instance=instance, log_level="WARNING", sources=False, partitions_per_run=7
    )
    assert len(results) == 9 + 7 + 1  # 62 observation months, 47 labelled months, the export
    chunked_rows = read_export(
        results[-1].asset_materializations_for_node("training_set")[-1].metadata["path"].value, "parquet"
    )
    one_run = full_backfill[1][-1].asset_materializations_for_node("training_set")[-1].metadata["path"].value
    single_rows = read_export(one_run, "parquet")
    assert (
        Path(one_run).name
        == Path(results[-1].asset_materializations_for_node("training_set")[-1].metadata["path"].value).name
    )
    assert list(chunked_rows.columns) == list(single_rows.columns) and len(chunked_rows) == len(single_rows) > 8000
    numeric = single_rows.select_dtypes("number").columns
    pd.testing.assert_frame_equal(chunked_rows[numeric], single_rows[numeric], check_exact=False, rtol=1e-9, atol=0)
    others = [c for c in single_rows.columns if c not in numeric]
    pd.testing.assert_frame_equal(chunked_rows[others], single_rows[others])


def test_ranges_for_worker_processes_are_even_and_a_multiple_of_the_workers():
    from portfolio_assets.partitions import LABELLED_PARTITIONS
    from portfolio_assets.runner import chunked

    # 12 months in runs of at most 5: three runs, four with two workers, three months each
    assert chunked("2009-01-01", "2009-12-31", LABELLED_PARTITIONS, 5, workers=2) == [
        ("2009-01-01", "2009-03-01"),
        ("2009-04-01", "2009-06-01"),
        ("2009-07-01", "2009-09-01"),
        ("2009-10-01", "2009-12-01"),
    ]
    assert chunked("2009-01-01", "2009-12-31", LABELLED_PARTITIONS, 100, workers=2) == [
        ("2009-01-01", "2009-06-01"),
        ("2009-07-01", "2009-12-01"),
    ]
    assert chunked("2009-01-01", "2009-02-28", LABELLED_PARTITIONS, 100, workers=3) == [
        ("2009-01-01", "2009-01-01"),
        ("2009-02-01", "2009-02-01"),
    ]


def test_phases_run_indicators_after_every_price_range_and_the_export_last():
    from portfolio_assets.definitions import LABELLED_ASSETS, OBSERVATION_ASSETS, indicators, training_set
    from portfolio_assets.runner import _phases

    lab = ("2009-01-01", "2012-11-01")
    phases = _phases(list(OBSERVATION_ASSETS), ("2008-01-01", "2013-02-01"), lab, 12, workers=2)
    assert len(phases) == 4
    first, second, third, last = phases
    assert all(indicators not in selection for selection, _ in first) and len(first) % 2 == 0
    assert all(selection == [indicators] for selection, _ in second) and [s for _, s in second] == [s for _, s in first]
    assert all(training_set not in selection and set(selection) < set(LABELLED_ASSETS) for selection, _ in third)
    assert last == [([training_set], lab)]
    # one worker: each range's observation assets together, oldest first, as before
    serial = _phases(list(OBSERVATION_ASSETS), ("2008-01-01", "2013-02-01"), lab, 12, workers=1)
    assert all(len(phase) == 1 for phase in serial) and serial[0][0][0] == list(OBSERVATION_ASSETS)


def test_worker_processes_need_a_persistent_instance(instance):
    from portfolio_assets.runner import materialize_all
    from portfolio_assets_tests.resources import make_resources

    with pytest.raises(ValueError, match="persistent one"):
        materialize_all(resources=make_resources("unused"), instance=instance, partitions_per_run=6, workers=2)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        materialize_all(resources=make_resources("unused"), instance=instance, workers=0)


def test_a_build_in_worker_processes_exports_the_same_rows(tmp_path, full_backfill):
    """Two worker processes on one persistent instance and one store, each phase's ranges side by side: the
    rows of one run each (texts identical, full precision to 1e-9 as for any build in several runs)."""
    from pathlib import Path

    from dagster import AssetKey

    from portfolio_assets.export import read_export
    from portfolio_assets.runner import WorkerRun, materialize_all
    from portfolio_assets_tests.resources import make_resources

    home = tmp_path / "home"
    home.mkdir()
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as persistent:
        results = materialize_all(
            resources=make_resources(tmp_path / "data"),
            instance=persistent,
            log_level="WARNING",
            sources=False,
            partitions_per_run=12,
            workers=2,
        )
        assert all(isinstance(r, WorkerRun) and r.success for r in results)
        *ranges, export = results
        phases: dict[tuple[str, ...], set[int]] = {}
        for r in ranges:
            phases.setdefault(r.assets, set()).add(r.pid)
        assert len(phases) == 3 and all(len(pids) == 2 for pids in phases.values())  # both workers ran ranges
        assert len(set().union(*phases.values())) == 6  # each phase in fresh processes: nothing held over
        assert export.assets == ("training_set",) and export.pid not in {r.pid for r in ranges}  # a fresh process
        event = persistent.get_latest_materialization_event(AssetKey("training_set"))
        assert event is not None and event.asset_materialization is not None
        path = event.asset_materialization.metadata["path"].value
        assert {r.run_id for r in results} <= {run.run_id for run in persistent.get_runs()}
    one_run = full_backfill[1][-1].asset_materializations_for_node("training_set")[-1].metadata["path"].value
    assert Path(path).name == Path(one_run).name
    rows, single_rows = read_export(path, "parquet"), read_export(one_run, "parquet")
    assert list(rows.columns) == list(single_rows.columns) and len(rows) == len(single_rows) > 8000
    numeric = single_rows.select_dtypes("number").columns
    pd.testing.assert_frame_equal(rows[numeric], single_rows[numeric], check_exact=False, rtol=1e-9, atol=0)
    others = [c for c in single_rows.columns if c not in numeric]
    pd.testing.assert_frame_equal(rows[others], single_rows[others])


def test_the_observation_ranges_may_be_sized_apart_from_the_labelled_ones():
    from portfolio_assets.definitions import OBSERVATION_ASSETS, indicators, training_set
    from portfolio_assets.runner import _phases, materialize_all
    from portfolio_assets_tests.resources import make_resources

    obs, lab = ("2008-01-01", "2010-12-31"), ("2009-01-01", "2010-12-31")
    observation, ranges, labelled, export = _phases(list(OBSERVATION_ASSETS), obs, lab, 6, 2, 12)
    # 36 months in ranges of at most 12, as many as a multiple of the two workers, of even sizes
    assert [span for _, span in observation] == [
        ("2008-01-01", "2008-09-01"),
        ("2008-10-01", "2009-06-01"),
        ("2009-07-01", "2010-03-01"),
        ("2010-04-01", "2010-12-01"),
    ]
    assert [span for _, span in ranges] == [span for _, span in observation]
    assert all(selection == [indicators] for selection, _ in ranges)
    assert [span for _, span in labelled] == [
        ("2009-01-01", "2009-06-01"),
        ("2009-07-01", "2009-12-01"),
        ("2010-01-01", "2010-06-01"),
        ("2010-07-01", "2010-12-01"),
    ]
    assert export == [([training_set], lab)]
    same = _phases(list(OBSERVATION_ASSETS), obs, lab, 6, 2)
    assert len(same[0]) == 6 and len(same[2]) == 4  # by default the observation ranges are the labelled size
    with pytest.raises(ValueError, match="give partitions_per_run too"):
        materialize_all(resources=make_resources("unused"), observation_partitions_per_run=12)
    with pytest.raises(ValueError, match="at least one partition"):
        _phases(list(OBSERVATION_ASSETS), obs, lab, 6, 2, 0)
