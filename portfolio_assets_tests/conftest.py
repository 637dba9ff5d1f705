"""Shared fixtures: one Dagster instance per session, temporary data directories.

Nothing here touches the environment: tests build their resources directly (``resources.py``).
"""

from __future__ import annotations

import os

# Source steps are retried by a Dagster RetryPolicy built when the definitions load; in tests it retries at once.
os.environ.setdefault("PORTFOLIO_SOURCE_RETRY_DELAY", "0")

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
