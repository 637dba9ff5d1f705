"""The heavy assets on real Spark processes started from pyspark's distribution on 127.0.0.1: a standalone
master with one worker, and a Spark Connect server. Each build runs in its own process (one Spark context a
process) over a copy of the sample store's inputs, and must store what the in-process build stored."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas.testing as pdt
import pytest

from portfolio_assets.io_managers import PartitionStore
from portfolio_assets_tests.engine.cluster import connect_server, standalone_cluster

pytestmark = pytest.mark.slow

FIRST, LAST = "2010-03-01", "2010-04-30"
INPUTS = ("prices", "benchmarks", "macro", "sentiment")
BUILT = ("indicators", "targets", "quarantine", "sft_rows")
ROOT = Path(__file__).resolve().parents[2]


def _inputs_of(full_backfill, data_dir: Path) -> Path:
    for name in INPUTS:
        shutil.copytree(Path(full_backfill[0]) / name, data_dir / name)
    return data_dir


def _build(data_dir: Path, url: str, app_name: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "portfolio_assets_tests.engine.build_heavy", str(data_dir), url, app_name, FIRST, LAST],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def in_process_range(tmp_path_factory, full_backfill) -> Path:
    """The same range built in-process (in this process) from the same inputs: what every engine must store.

    Not the full backfill's partitions: a range's lookback starts elsewhere, and the recursive smoothers'
    seeds leave differences of ~1e-15 (test_end_to_end compares those with a tolerance)."""
    data_dir = _inputs_of(full_backfill, tmp_path_factory.mktemp("in_process_range"))
    done = _build(data_dir, "in-process", "-")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return data_dir


def _same_as_in_process(data_dir: Path, in_process_range: Path) -> None:
    here, there = PartitionStore(data_dir), PartitionStore(in_process_range)
    for name in BUILT:
        keys = here.keys([name])
        assert keys and keys[0] == FIRST and keys[-1] == "2010-04-01", (name, keys)
        pdt.assert_frame_equal(here.read([name], keys), there.read([name], keys), check_exact=True)


def test_the_heavy_assets_run_on_a_standalone_cluster(tmp_path, full_backfill, in_process_range):
    data_dir = _inputs_of(full_backfill, tmp_path / "data")
    app = "portfolio-assets-standalone-test"
    with standalone_cluster(tmp_path / "spark") as cluster:
        done = _build(data_dir, cluster.master_url, app)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        state = cluster.state()
    # The master ran the applications: one session per run (the second run's two Spark steps, targets and the
    # gate, shared one), each registered under the app name, given the worker's cores, and finished when the
    # run stopped it.
    apps = [a for a in state["completedapps"] if a["name"] == app]
    assert len(apps) == 2, state
    assert all(a["state"] == "FINISHED" and a["cores"] >= 1 for a in apps), apps
    assert not state["activeapps"]
    assert [w["host"] for w in state["workers"]] == ["127.0.0.1"]
    _same_as_in_process(data_dir, in_process_range)


def test_the_heavy_assets_run_through_spark_connect(tmp_path, full_backfill, in_process_range):
    data_dir = _inputs_of(full_backfill, tmp_path / "data")
    with connect_server(tmp_path / "spark") as url:
        done = _build(data_dir, url, "portfolio-assets-connect-test")
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    _same_as_in_process(data_dir, in_process_range)


def test_an_unreachable_master_fails_the_run_at_once_naming_it(tmp_path, full_backfill):
    from portfolio_assets_tests.engine.cluster import free_port

    data_dir = _inputs_of(full_backfill, tmp_path / "data")
    done = _build(data_dir, f"spark://127.0.0.1:{free_port()}", "unreachable")
    assert done.returncode != 0
    assert "does not answer at 127.0.0.1" in done.stdout + done.stderr
    assert not PartitionStore(data_dir).keys(["indicators"])  # nothing half-written
