"""The whole sample built with the Spark engine (``local[2]``) against the in-process build: the heavy
assets' stored partitions and the exported training set are the same, to the last bit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas.testing as pdt
import pytest

from portfolio_assets.engine import EngineResource
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.runner import materialize_all
from portfolio_assets_tests.resources import make_resources

pytestmark = pytest.mark.slow

HEAVY = ("indicators", "targets", "quarantine", "sft_rows")


@pytest.fixture(scope="session")
def spark_backfill(tmp_path_factory, instance, spark):
    """The sample window as ``make demo`` builds it, the heavy per-asset work on the shared local session."""
    data_dir = tmp_path_factory.mktemp("spark_full")
    engine = EngineResource(master_url="local[2]")
    resources = make_resources(data_dir, engine=engine)
    jobs = len(spark.sparkContext.statusTracker().getJobIdsForGroup())
    results = materialize_all(resources=resources, instance=instance, log_level="WARNING", sources=False)
    assert all(r.success for r in results)
    # Spark ran the work: a job for indicators, targets and the gate, and the export's waves
    assert len(spark.sparkContext.statusTracker().getJobIdsForGroup()) - jobs >= 4
    return data_dir, results


@pytest.mark.parametrize("asset", HEAVY)
def test_every_partition_of_a_heavy_asset_is_the_in_process_one(spark_backfill, full_backfill, asset):
    here, there = PartitionStore(spark_backfill[0]), PartitionStore(full_backfill[0])
    keys = there.keys([asset])
    assert keys and here.keys([asset]) == keys
    # Exact, which is stricter than the 1e-12 the engine promises: the same functions on the same rows.
    pdt.assert_frame_equal(here.read([asset], keys), there.read([asset], keys), check_exact=True)


def test_the_heavy_steps_say_they_ran_on_spark(spark_backfill):
    engines = {
        node: {m.metadata["engine"].value for m in result.asset_materializations_for_node(node)}
        for result in spark_backfill[1]
        for node in ("indicators", "targets", "gate_and_rows", "training_set")
        if result.asset_materializations_for_node(node)
    }
    assert engines == {name: {"spark local[2]"} for name in ("indicators", "targets", "gate_and_rows", "training_set")}
    keys = {m.asset_key.to_user_string() for m in spark_backfill[1][1].asset_materializations_for_node("gate_and_rows")}
    assert keys == {"quarantine", "sft_rows"}  # each output of the gate says it


def _exported(results) -> tuple[Path, list[tuple[str, str]]]:
    path = Path(results[-1].asset_materializations_for_node("training_set")[-1].metadata["path"].value)
    manifest = json.loads((path / "manifest.json").read_text())
    return path, sorted((f["path"], f["sha256"]) for f in manifest["files"])


def test_the_exported_training_set_is_byte_identical(spark_backfill, full_backfill):
    spark_dir, spark_files = _exported(spark_backfill[1])
    local_dir, local_files = _exported(full_backfill[1])
    assert spark_files == local_files and len(spark_files) == 15
    for name, _ in spark_files:
        assert (spark_dir / name).read_bytes() == (local_dir / name).read_bytes(), name


def _checks(results, asset: str) -> list[tuple[str, bool, str, dict]]:
    found = []
    for result in results:
        for evaluation in result.get_asset_check_evaluations():
            # the run's own evaluations (each partition's, in a range run, carries their verdict: quality.per_partition)
            if evaluation.asset_key.to_user_string() == asset and evaluation.partition is None:
                meta = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
                found.append((evaluation.check_name, evaluation.passed, meta.pop("summary"), meta))
    return found


NODE = {"indicators": "indicators", "targets": "targets", "quarantine": "gate_and_rows", "sft_rows": "gate_and_rows"}
CHECKS = {"indicators": 3, "targets": 1, "quarantine": 8, "sft_rows": 0}


def _materialised(results, asset: str) -> list:
    return [
        m
        for r in results
        for m in r.asset_materializations_for_node(NODE[asset])
        if m.asset_key.to_user_string() == asset
    ]


@pytest.mark.parametrize("asset", HEAVY)
def test_executors_read_and_wrote_the_store_and_every_file_is_the_in_process_file(spark_backfill, full_backfill, asset):
    """Store to store (``direct.py``): the step reports that the executors staged its partitions, each file's bytes
    are the in-process file's, and the checks merged from per-asset partials say what the in-process checks say."""
    materialised = _materialised(spark_backfill[1], asset)
    assert materialised and all("staged_by" in m.metadata for m in materialised)
    here, there = PartitionStore(spark_backfill[0]), PartitionStore(full_backfill[0])
    keys = there.keys([asset])
    mine, theirs = here.files([asset], keys), there.files([asset], keys)
    assert [mine[k].read_bytes() for k in keys] == [theirs[k].read_bytes() for k in keys]
    # The gate's attestation (the fingerprint and each file's sha256) is the in-process one.
    attested = [
        sorted((c.partitions, c.validated, sorted(c.digests.items())) for c in set(s.commits([asset]).values()))
        for s in (here, there)
    ]
    assert attested[0] == attested[1]
    assert _checks(spark_backfill[1], asset) == _checks(full_backfill[1], asset)
    assert len(_checks(full_backfill[1], asset)) == CHECKS[asset]
    local = _materialised(full_backfill[1], asset)
    for key, value in local[0].metadata.items():  # the metadata merged from the assets' partials is the in-process one
        if key not in ("engine", "stored_under", "dagster/partition_row_count"):
            assert materialised[0].metadata[key] == value, key


@pytest.mark.parametrize("asset", HEAVY)
def test_each_partition_of_a_heavy_asset_says_what_it_holds(spark_backfill, full_backfill, asset):
    """Store to store, the task that staged a partition's file summarised its rows: each partition's event has its
    own count, days, assets and preview (the in-process event's of the same partition), not the run's."""
    here = PartitionStore(spark_backfill[0])
    mine = {m.partition: m.metadata for m in _materialised(spark_backfill[1], asset)}
    theirs = {m.partition: m.metadata for m in _materialised(full_backfill[1], asset)}
    assert sorted(mine) == here.keys([asset]) == sorted(theirs)
    own = ("rows", "dagster/partition_row_count", "assets", "date_range", "preview")
    for key, meta in mine.items():
        stored = here.read([asset], [key])
        assert meta["rows"].value == len(stored), key
        if len(stored):
            days = stored["timestamp"].dt.strftime("%Y-%m-%d")
            assert meta["date_range"].value == f"{days.min()}..{days.max()}" and days.max()[:7] == key[:7]
        assert "rows_per_asset" not in meta and "run_rows" in meta
        assert {k: meta[k] for k in own if k in meta} == {k: theirs[key][k] for k in own if k in theirs[key]}, key
    assert sum(meta["rows"].value for meta in mine.values()) == next(iter(mine.values()))["run_rows"].value
