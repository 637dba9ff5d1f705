"""The instance storage dagster.yaml selects: Dagster's SQLite storage keeping one engine per database file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterInstance, StaticPartitionsDefinition, asset, materialize
from dagster._core.instance.ref import InstanceRef

from portfolio_assets import instance_storage
from portfolio_assets.instance_storage import EngineCachingSqliteEventLogStorage

PROJECT_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"
PARTS = StaticPartitionsDefinition(["a", "b", "c"])


@asset(partitions_def=PARTS)
def tiny(context) -> int:
    return len(context.partition_key)


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(PROJECT_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_the_project_instance_stores_events_with_one_engine_per_database(tmp_path, monkeypatch):
    home = _home(tmp_path, monkeypatch)
    made: list[str] = []
    real = instance_storage.create_engine

    def counting(url: str, **kwargs: object):
        made.append(url)
        return real(url, **kwargs)

    monkeypatch.setattr(instance_storage, "create_engine", counting)
    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, EngineCachingSqliteEventLogStorage)
        for key in ("a", "b", "c"):
            assert materialize([tiny], instance=instance, partition_key=key).success
        runs = instance.get_runs()
        assert len(runs) == 3
        # dozens of events a run (run, step, materialisation, index): one engine per database file
        assert len(made) == len(set(made)) == 1 + 3  # the index and each run's file
        assert instance.get_materialized_partitions(AssetKey("tiny")) == {"a", "b", "c"}
        ref = instance.get_ref()
    # Dagster's default storage reads what this one wrote (the same files): the storage can be switched back
    plain = tmp_path / "plain"
    shutil.copytree(home, plain)
    (plain / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}}), encoding="utf-8")
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(plain))) as default:
        assert type(default.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert default.get_materialized_partitions(AssetKey("tiny")) == {"a", "b", "c"}
        assert {r.run_id for r in default.get_runs()} == {r.run_id for r in runs}
    # a worker process rebuilds the same storage from the serialised reference
    with DagsterInstance.from_ref(ref) as again:
        assert isinstance(again.event_log_storage, EngineCachingSqliteEventLogStorage)
        assert len(again.get_runs()) == 3


def test_the_engines_kept_are_bounded_and_a_deleted_database_is_created_again(tmp_path, monkeypatch):
    _home(tmp_path, monkeypatch)
    monkeypatch.setattr(instance_storage, "ENGINES_KEPT", 3)  # each new database file costs ~0.5 s to set up
    with DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, EngineCachingSqliteEventLogStorage)
        for i in range(5):
            with storage.run_connection(f"run{i}") as conn:
                conn.exec_driver_sql("SELECT 1")
        assert list(storage._engines) == ["run2", "run3", "run4"]  # the index's engine was dropped too
        Path(storage.path_for_shard("run4")).unlink()  # a run's database deleted under the storage
        with storage.run_connection("run4") as conn:  # the file and its tables come back
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM event_logs").scalar() == 0
        assert materialize([tiny], instance=instance, partition_key="a").success
