from __future__ import annotations

from dagster import AssetKey, BackfillPolicy, TimeWindowPartitionMapping

from portfolio_assets.definitions import ALL_ASSETS, defs
from portfolio_assets.partitions import (
    HORIZON_DAYS,
    INDICATOR_LOOKBACK_DAYS,
    LABELLED_PARTITIONS,
    OBSERVATION_PARTITIONS,
)

GROUPS = {
    "prices": "prices",
    "macro": "macro",
    "sentiment": "sentiment",
    "indicators": "indicators",
    "targets": "targets",
    "sft_rows": "sft_rows",
    "training_set": "training_set",
}


def test_definitions_load_with_every_asset_and_group():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == set(GROUPS)
    for name, group in GROUPS.items():
        assert graph.get(AssetKey(name)).group_name == group
    assert all(graph.get(AssetKey(name)).description for name in GROUPS), "every asset has a docstring"


def test_partitions_and_single_run_backfills():
    for assets_def in ALL_ASSETS:
        name = assets_def.key.to_user_string()
        assert assets_def.backfill_policy == BackfillPolicy.single_run(), name
        expected = LABELLED_PARTITIONS if name in {"targets", "sft_rows", "training_set"} else OBSERVATION_PARTITIONS
        assert assets_def.partitions_def == expected, name


def test_lineage_and_window_mappings():
    graph = defs.get_repository_def().asset_graph
    parents = {
        k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys} for k in graph.get_all_asset_keys()
    }
    assert parents == {
        "prices": set(),
        "macro": set(),
        "sentiment": set(),
        "indicators": {"prices"},
        "targets": {"prices"},
        "sft_rows": {"prices", "indicators", "macro", "sentiment", "targets"},
        "training_set": {"sft_rows"},
    }
    by_name = {a.key.to_user_string(): a for a in ALL_ASSETS}
    lookback = by_name["indicators"].get_partition_mapping(AssetKey("prices"))
    assert lookback == TimeWindowPartitionMapping(start_offset=-INDICATOR_LOOKBACK_DAYS, end_offset=0)
    lookahead = by_name["targets"].get_partition_mapping(AssetKey("prices"))
    assert lookahead == TimeWindowPartitionMapping(start_offset=0, end_offset=HORIZON_DAYS)
