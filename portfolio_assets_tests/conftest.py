"""Shared fixtures: one Dagster instance per session, temporary data directories."""

from __future__ import annotations

import os

import pytest

# The tests run on the bundled sample's window, whatever the caller's environment says.
for _name in (
    "PORTFOLIO_START_DATE",
    "PORTFOLIO_END_DATE",
    "PORTFOLIO_LANDING_DIR",
    "PORTFOLIO_UNIVERSE_FILE",
    "PORTFOLIO_DATA_DIR",
    "PORTFOLIO_EXPORT_DIR",
    "PORTFOLIO_DEPLOYMENT",
    "PORTFOLIO_CONTEXT_WINDOW",
    "PORTFOLIO_PROMPT_FORMAT",
    "PORTFOLIO_SHARD_BY",
    "PORTFOLIO_VALIDATION_START",
    "PORTFOLIO_TEST_START",
    "PORTFOLIO_EMBARGO_DAYS",
):
    os.environ.pop(_name, None)

from dagster import DagsterInstance  # noqa: E402


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
    results = materialize_all(resources=make_resources(data_dir), instance=instance, log_level="WARNING")
    assert all(r.success for r in results)
    return data_dir, results
