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
    "quarantine": "sft_rows",
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
        labelled = {"targets", "quarantine", "sft_rows", "training_set"}
        expected = LABELLED_PARTITIONS if name in labelled else OBSERVATION_PARTITIONS
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
        "quarantine": {"prices", "indicators", "macro", "sentiment", "targets"},
        "sft_rows": {"prices", "indicators", "macro", "sentiment", "targets", "quarantine"},
        "training_set": {"sft_rows"},
    }
    by_name = {a.key.to_user_string(): a for a in ALL_ASSETS}
    lookback = by_name["indicators"].get_partition_mapping(AssetKey("prices"))
    assert lookback == TimeWindowPartitionMapping(start_offset=-INDICATOR_LOOKBACK_DAYS, end_offset=0)
    lookahead = by_name["targets"].get_partition_mapping(AssetKey("prices"))
    assert lookahead == TimeWindowPartitionMapping(start_offset=0, end_offset=HORIZON_DAYS)


def test_checks_on_every_group_and_which_block():
    graph = defs.get_repository_def().asset_graph
    specs = {(key.asset_key.to_user_string(), key.name): graph.get_check_spec(key) for key in graph.asset_check_keys}
    blocking = {k for k, spec in specs.items() if spec.blocking}
    for group in ("prices", "macro", "sentiment", "indicators", "targets", "quarantine"):
        assert (group, "schema") in blocking, group
    assert {("prices", "temporal_gaps"), ("indicators", "rsi_bounds"), ("indicators", "completeness")} <= blocking
    gate = {name for asset, name in blocking if asset == "quarantine"}
    assert gate == {"schema", "completeness", "temporal_gaps", "rsi_bounds", "target_coverage"}
    reports = set(specs) - blocking
    assert reports == {
        ("prices", "feature_distribution"),
        ("prices", "cross_source_consistency"),
        ("quarantine", "feature_target_ic"),
    }
    assert all(spec.description for spec in specs.values())


def test_column_schemas_are_shown_in_the_ui():
    graph = defs.get_repository_def().asset_graph
    for name in ("prices", "macro", "sentiment", "indicators", "targets", "sft_rows", "training_set"):
        schema = graph.get(AssetKey(name)).metadata["dagster/column_schema"]
        assert len(schema.columns) >= 6 and all(c.type and c.description for c in schema.columns), name


def test_export_settings_come_from_the_environment(monkeypatch):
    import pytest

    from portfolio_assets.definitions import local_resources

    monkeypatch.setenv("PORTFOLIO_CONTEXT_WINDOW", "60")
    monkeypatch.setenv("PORTFOLIO_PROMPT_FORMAT", "chat")
    monkeypatch.setenv("PORTFOLIO_EMBARGO_DAYS", "5")
    export = local_resources("/tmp/x")["export"]
    assert (export.context_window, export.prompt_format, export.embargo_days) == (60, "chat", 5)
    monkeypatch.setenv("PORTFOLIO_EMBARGO_DAYS", "five")
    with pytest.raises(ValueError, match="PORTFOLIO_EMBARGO_DAYS='five' is not a whole number"):
        local_resources("/tmp/x")
