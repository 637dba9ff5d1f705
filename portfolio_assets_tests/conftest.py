"""Shared fixtures: one Dagster instance per session, temporary data directories.

Nothing here touches the environment: tests build their resources directly (``resources.py``).
"""

from __future__ import annotations

import os

# Source steps are retried by a Dagster RetryPolicy built when the definitions load; in tests it retries at once.
os.environ.setdefault("PORTFOLIO_SOURCE_RETRY_DELAY", "0")

import sys

import pytest
from dagster import DagsterInstance


@pytest.fixture(scope="session")
def instance() -> DagsterInstance:
    """One in-memory Dagster instance for the whole session."""
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture(scope="session")
def full_backfill(tmp_path_factory, instance):
    """The whole sample window as two single-run backfills (what `make demo` does)."""
    from portfolio_assets.runner import materialize_all
    from portfolio_assets_tests.resources import make_resources

    data_dir = tmp_path_factory.mktemp("full")
    # The raw assets only look the bundled responses up in sample mode (test_live_graph covers them); leaving
    # them out saves Dagster's per-partition bookkeeping of seven assets over five years.
    results = materialize_all(resources=make_resources(data_dir), instance=instance, log_level="WARNING", sources=False)
    assert all(r.success for r in results)
    return data_dir, results


S3_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing-key-id",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_SESSION_TOKEN": "testing-token",
}
"""Fake credentials for the S3-compatible test server (moto accepts any); boto3 finds them in the environment."""


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-compatible server (moto in server mode) on loopback for the session, stopped at its end."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in S3_TEST_ENV.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            patch.delenv(name, raising=False)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, tmp_path, request):
    """A fresh bucket on the test server; yields its location ``s3://<bucket>/store`` (cache under tmp_path)."""
    import re
    import uuid

    from portfolio_assets.objectstore import S3Location, S3Options

    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-") + "-" + uuid.uuid4().hex[:8]
    options = S3Options(endpoint_url=s3_endpoint, region="us-east-1", cache_dir=str(tmp_path / "s3_cache"))
    location = S3Location(name, "store", options)
    location.client.create_bucket(Bucket=name)
    return location


@pytest.fixture(scope="session")
def spark():
    """One ``local[2]`` Spark session for the whole test session, bound to 127.0.0.1, stopped at the end; the
    engine reuses it (same master) and leaves it running."""
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
