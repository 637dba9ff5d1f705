"""One local Spark session for every engine test of the session (started once, stopped at the end)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from portfolio_assets_tests.engine.ranges import build_heavy, inputs_of


@pytest.fixture(scope="session")
def spark():
    """A ``local[2]`` session bound to 127.0.0.1; the engine reuses it (same master) and leaves it running."""
    from pyspark.sql import SparkSession

    from portfolio_assets.engine import EngineResource
    from portfolio_assets.settings import use_executor_python

    use_executor_python(sys.executable)
    builder = SparkSession.builder.master("local[2]")
    for key, value in {
        **EngineResource().conf(),
        "spark.ui.enabled": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": "4",
    }.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def in_process_range(tmp_path_factory, full_backfill) -> Path:
    """The heavy assets of FIRST..LAST built by the in-process engine (in a fresh process, as the Spark builds)
    from the same inputs: what every engine must store.

    Not the full backfill's partitions: a range's lookback starts elsewhere, and the recursive smoothers'
    seeds leave differences of ~1e-15 (test_end_to_end compares those with a tolerance)."""
    data_dir = inputs_of(full_backfill, tmp_path_factory.mktemp("in_process_range"))
    done = build_heavy(data_dir, "in-process", "-")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return data_dir
