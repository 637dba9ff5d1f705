from __future__ import annotations

from dagster import AssetKey, BackfillPolicy, TimeWindowPartitionMapping

from portfolio_assets.definitions import ALL_ASSETS, defs
from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS

RAW = {
    "raw_alphavantage",
    "raw_fred",
    "raw_gdelt",
    "raw_coingecko",
    "raw_fear_greed",
    "raw_social",
    "raw_google_trends",
}
GROUPS = {
    **{name: "sources" for name in sorted(RAW)},
    "prices": "prices",
    "macro": "macro",
    "benchmarks": "macro",
    "sentiment": "sentiment",
    "indicators": "indicators",
    "targets": "targets",
    "quarantine": "sft_rows",
    "sft_rows": "sft_rows",
    "training_set": "training_set",
    "evaluation": "evaluation",
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
    labelled = {"targets", "quarantine", "sft_rows"}
    for assets_def in ALL_ASSETS:
        names = {key.to_user_string() for key in assets_def.keys}
        if names == {"training_set"}:  # an export is one materialisation, not a partition's: a failed one fails none
            assert assets_def.partitions_def is None and assets_def.backfill_policy is None
            continue
        assert assets_def.backfill_policy == BackfillPolicy.single_run(), names
        expected = LABELLED_PARTITIONS if names <= labelled else OBSERVATION_PARTITIONS
        assert assets_def.partitions_def == expected, names
    # the labelled job, partitioned, still runs the export: over the run's labelled partitions
    job = defs.resolve_job_def("labelled")
    assert (
        job.partitions_def == LABELLED_PARTITIONS and AssetKey("training_set") in job.asset_layer.executable_asset_keys
    )
    assert job.backfill_policy == BackfillPolicy.single_run()  # from the partitioned assets: a UI backfill is one run


def test_lineage_and_window_mappings():
    graph = defs.get_repository_def().asset_graph
    parents = {
        k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys} for k in graph.get_all_asset_keys()
    }
    assert parents == {
        **{name: set() for name in RAW},
        "prices": {"raw_alphavantage", "raw_coingecko"},
        "macro": {"raw_fred", "raw_alphavantage"},
        "sentiment": {"raw_gdelt", "raw_social", "raw_google_trends", "raw_fear_greed"},
        "benchmarks": {"raw_fred", "raw_alphavantage"},
        "indicators": {"prices", "benchmarks"},
        "targets": {"prices"},
        "quarantine": {"prices", "indicators", "macro", "sentiment", "targets"},
        "sft_rows": {"prices", "indicators", "macro", "sentiment", "targets"},
        "training_set": {"sft_rows"},
        "evaluation": {"training_set"},
    }
    # Day to day: lookbacks and look-aheads are read by days from the store, so a backfill does not fan out.
    graph = defs.get_repository_def().asset_graph
    for child, upstream in parents.items():
        for parent in upstream:
            mapping = graph.get_partition_mapping(AssetKey(child), AssetKey(parent))
            if graph.get(AssetKey(parent)).is_partitioned and graph.get(AssetKey(child)).is_partitioned:
                assert mapping == TimeWindowPartitionMapping(), (child, parent)


def test_checks_on_every_group_and_which_block():
    graph = defs.get_repository_def().asset_graph
    specs = {(key.asset_key.to_user_string(), key.name): graph.get_check_spec(key) for key in graph.asset_check_keys}
    blocking = {k for k, spec in specs.items() if spec.blocking}
    for group in ("prices", "macro", "sentiment", "indicators", "targets", "quarantine"):
        assert (group, "schema") in blocking, group
    assert {("prices", "temporal_gaps"), ("indicators", "rsi_bounds"), ("indicators", "completeness")} <= blocking
    gate = {name for asset, name in blocking if asset == "quarantine"}
    assert gate == {"schema", "point_in_time", "completeness", "temporal_gaps", "rsi_bounds", "target_coverage"}
    # a source's failed series excludes its assets instead of halting the run; the export names them, blocking
    assert ("training_set", "universe_complete") in blocking
    reports = set(specs) - blocking
    assert reports == {
        *((name, "fetch") for name in RAW),
        ("prices", "feature_distribution"),
        ("prices", "cross_source_consistency"),
        ("quarantine", "feature_target_ic"),
        ("quarantine", "suspect_moves"),
    }
    assert all(spec.description for spec in specs.values())


def test_column_schemas_are_shown_in_the_ui():
    graph = defs.get_repository_def().asset_graph
    from portfolio_assets.schemas import SCHEMAS

    for name, model in SCHEMAS.items():
        schema = graph.get(AssetKey(name)).metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] != [] and all(c.type and c.description for c in schema.columns), name
        assert {c.name for c in schema.columns} == set(model.to_schema().columns), name


def test_each_setting_is_a_resource_field_set_from_its_variable(monkeypatch):
    import pytest
    from dagster import EnvVar

    from portfolio_assets.definitions import local_resources
    from portfolio_assets.settings import SettingError

    monkeypatch.setenv("PORTFOLIO_CONTEXT_WINDOW", "60")
    monkeypatch.setenv("PORTFOLIO_PROMPT_FORMAT", "chat")
    monkeypatch.setenv("PORTFOLIO_EMBARGO_DAYS", "5")
    monkeypatch.setenv("PORTFOLIO_DATA_DIR", "/tmp/store")
    monkeypatch.delenv("PORTFOLIO_SHARD_BY", raising=False)
    export = local_resources()["export"]
    # Variables reach the resources as EnvVar (resolved at launch, never shown); unset ones are defaults.
    assert export.context_window == EnvVar.int("PORTFOLIO_CONTEXT_WINDOW")
    assert export.prompt_format == EnvVar("PORTFOLIO_PROMPT_FORMAT")
    assert export.shard_by == "year"
    assert export.storage.data_dir == EnvVar("PORTFOLIO_DATA_DIR")
    with export.process_config_and_initialize_cm() as resolved:
        assert (resolved.context_window, resolved.prompt_format, resolved.embargo_days) == (60, "chat", 5)
        assert str(resolved.storage.export_root()) == "/tmp/store/exports"
    monkeypatch.setenv("PORTFOLIO_EMBARGO_DAYS", "five")
    with pytest.raises(SettingError, match="PORTFOLIO_EMBARGO_DAYS='five' is not a whole number"):
        local_resources()


def test_only_the_settings_module_reads_the_environment_and_modules_stay_small():
    import re
    from pathlib import Path

    import portfolio_assets

    root = Path(portfolio_assets.__file__).parent
    modules = sorted(root.rglob("*.py"))
    reads_env = re.compile(r"os\.environ|getenv\(")
    readers = [str(p.relative_to(root)) for p in modules if reads_env.search(p.read_text())]
    assert readers == ["settings.py"]
    longest = max(modules, key=lambda p: len(p.read_text().splitlines()))
    assert len(longest.read_text().splitlines()) <= 500, longest


def test_source_settings_reach_the_sources_resource_and_keys_stay_hidden(monkeypatch):
    import pytest
    from dagster import EnvVar

    from portfolio_assets.definitions import local_resources
    from portfolio_assets.settings import SettingError

    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "AV-ABC-123")
    monkeypatch.setenv("FRED_BASE_URL", "http://127.0.0.1:9/fred")
    monkeypatch.setenv("GDELT_SECONDS_PER_CALL", "0.5")
    monkeypatch.setenv("ALPHAVANTAGE_DAILY_BUDGET", "75")
    sources = local_resources()["sources"]
    assert sources.alphavantage_api_key == EnvVar("ALPHAVANTAGE_API_KEY")  # resolved at launch, never shown
    assert sources.fred_base_url == EnvVar("FRED_BASE_URL")
    assert sources.alphavantage_daily_budget == EnvVar.int("ALPHAVANTAGE_DAILY_BUDGET")
    assert sources.gdelt_seconds_per_call == 0.5
    assert sources.mode == "sample" and sources.coingecko_api_key is None
    with sources.process_config_and_initialize_cm() as resolved:
        assert resolved.alphavantage_daily_budget == 75
        assert "AV-ABC-123" not in repr(resolved) and "AV-ABC-123" not in str(resolved)

    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "has a space")
    with pytest.raises(SettingError) as raised:
        local_resources()
    assert "ALPHAVANTAGE_API_KEY=(value hidden)" in str(raised.value) and "has a space" not in str(raised.value)
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "AV-ABC-123")
    for name, value, cause in (
        ("FRED_BASE_URL", "ftp://x", "not an http"),
        ("FRED_BASE_URL", "https://api.example/fred?api_key=KEY-IN-URL", "must not carry"),
        ("FRED_BASE_URL", "https://user:KEY-IN-URL@api.example/fred", "must not carry"),
        ("FRED_BASE_URL", "http://localhost:99999/fred", "not a usable URL"),
        ("FRED_BASE_URL", "http://exa mple.com/", "not a URL"),
        ("GDELT_SECONDS_PER_CALL", "1e3", "not a decimal number"),
        ("FRED_CALLS_PER_SECOND", "0", "must be between"),
        ("PORTFOLIO_HTTP_RETRIES", "-1", "must be between"),
    ):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingError, match=f"{name}=.*{cause}") as raised:
            local_resources()
        assert "KEY-IN-URL" not in str(raised.value)
        monkeypatch.delenv(name)
