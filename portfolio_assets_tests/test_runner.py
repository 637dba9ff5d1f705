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
