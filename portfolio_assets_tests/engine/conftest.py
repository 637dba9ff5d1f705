"""The engine tests' shared build of a range in-process (the shared Spark session is in the top conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio_assets_tests.engine.ranges import build_heavy, inputs_of


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
