"""A run killed mid-way is marked failed in the instance, not left shown as running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

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
