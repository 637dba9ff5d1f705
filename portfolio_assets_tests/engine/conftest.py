"""One local Spark session for every engine test of the session (started once, stopped at the end)."""

from __future__ import annotations

import sys

import pytest


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
