"""The heavy assets on real Spark processes started from pyspark's distribution on 127.0.0.1: a standalone
master with one worker, and a Spark Connect server. Each build runs in its own process (one Spark context a
process) over a copy of the sample store's inputs, and must store what the in-process build stored."""

from __future__ import annotations

import pytest

from portfolio_assets.io_managers import PartitionStore
from portfolio_assets_tests.engine.cluster import connect_server, standalone_cluster
from portfolio_assets_tests.engine.ranges import BUILT, build_heavy, inputs_of, same_as_in_process, staged_by_executors

pytestmark = pytest.mark.slow


def test_the_heavy_assets_run_on_a_standalone_cluster(tmp_path, full_backfill, in_process_range):
    data_dir = inputs_of(full_backfill, tmp_path / "data")
    app = "portfolio-assets-standalone-test"
    with standalone_cluster(tmp_path / "spark") as cluster:
        # The worker's executors share this host's disk: they read and write the store themselves.
        done = build_heavy(data_dir, cluster.master_url, app, direct_io="on")
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        state = cluster.state()
    assert staged_by_executors(done) == sorted(BUILT)
    # The master ran the applications: one session per run (the second run's two Spark steps, targets and the
    # gate, shared one), each registered under the app name, given the worker's cores, and finished when the
    # run stopped it.
    apps = [a for a in state["completedapps"] if a["name"] == app]
    assert len(apps) == 2, state
    assert all(a["state"] == "FINISHED" and a["cores"] >= 1 for a in apps), apps
    assert not state["activeapps"]
    for app_state in apps:  # the worker launched each application's executor (its own directory and log)
        executors = list((tmp_path / "spark" / "work" / app_state["id"]).glob("*/stderr"))
        assert executors and any("Running task" in p.read_text(errors="replace") for p in executors), app_state["id"]
    assert [w["host"] for w in state["workers"]] == ["127.0.0.1"]
    same_as_in_process(data_dir, in_process_range)


def test_the_heavy_assets_run_through_spark_connect(tmp_path, full_backfill, in_process_range):
    data_dir = inputs_of(full_backfill, tmp_path / "data")
    with connect_server(tmp_path / "spark") as url:
        done = build_heavy(data_dir, url, "portfolio-assets-connect-test", direct_io="on")
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert staged_by_executors(done) == sorted(BUILT)
    same_as_in_process(data_dir, in_process_range)


def test_an_unreachable_master_fails_the_run_at_once_naming_it(tmp_path, full_backfill):
    from portfolio_assets_tests.engine.cluster import free_port

    data_dir = inputs_of(full_backfill, tmp_path / "data")
    done = build_heavy(data_dir, f"spark://127.0.0.1:{free_port()}", "unreachable")
    assert done.returncode != 0
    assert "does not answer at 127.0.0.1" in done.stdout + done.stderr
    assert not PartitionStore(data_dir).keys(["indicators"])  # nothing half-written
