"""A backfill launched from the UI over N days targets those N days of every asset it selects.

The UI's range backfill (``launchPartitionBackfill``) targets the selected partitions of the root assets and
every partition downstream of them through the dependencies' partition mappings. With the 730-day lookback
expressed as a mapping, 26 days of the observation assets targeted 756 partitions of ``indicators``; the
dependencies are now day to day and the lookbacks are read by days from the store.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.execution.asset_backfill import AssetBackfillData

from portfolio_assets.definitions import LABELLED_ASSETS, OBSERVATION_ASSETS
from portfolio_assets_tests.webserver import project_env

ROOT = Path(__file__).resolve().parents[1]


def backfill_targets(first: str, last: str, labelled: bool) -> dict[str, int]:
    """How many partitions of each asset a UI backfill of the partitions ``first..last`` targets (the observation
    assets, with the labelled ones too when ``labelled``)."""
    from portfolio_assets.definitions import defs

    graph = defs.get_repository_def().asset_graph
    selection = [key for a in [*OBSERVATION_ASSETS, *(LABELLED_ASSETS if labelled else [])] for key in a.keys]
    keys = graph.get(AssetKey("prices")).partitions_def.get_partition_keys()
    names = keys[keys.index(first) : keys.index(last) + 1]
    with DagsterInstance.ephemeral() as instance:
        data = AssetBackfillData.from_asset_partitions(
            asset_graph=graph,
            partition_names=names,
            asset_selection=selection,
            dynamic_partitions_store=instance,
            backfill_start_timestamp=time.time(),
            all_partitions=False,
        )
    subset = data.target_subset
    return {
        key.to_user_string(): len(subset.get_partitions_subset(key).get_partition_keys())
        for key in selection
        if graph.get(key).is_partitioned
    }


def test_a_backfill_of_two_months_targets_two_months_of_each_asset():
    counts = backfill_targets("2010-03-01", "2010-04-01", labelled=True)
    assert counts == {name: 2 for name in counts}
    assert {"indicators", "targets", "sft_rows", "quarantine"} <= set(counts)


@pytest.mark.parametrize("labelled", [False, True])
def test_a_backfill_of_26_days_targets_26_days_with_daily_partitions(labelled, tmp_path):
    script = (
        "import json; from portfolio_assets_tests.test_backfill_fanout import backfill_targets; "
        f"print(json.dumps(backfill_targets('2010-05-05', '2010-05-30', {labelled})))"
    )
    env = project_env(tmp_path / "home", tmp_path / "data", {"PORTFOLIO_PARTITIONS": "daily"})
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["indicators"] == 26  # was 788 (756 in the finding): the lookback fanned out
    assert counts == {name: 26 for name in counts}
    assert ("targets" in counts) == labelled
