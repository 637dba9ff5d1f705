"""The whole graph on the bundled sample with the store, the landing zone and the export on S3 (moto, loopback)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from portfolio_assets.engine import EngineResource
from portfolio_assets.export.s3sink import CURRENT, SUCCESS, current_export, fetch_export
from portfolio_assets.io_managers import PartitionedParquetIOManager
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.resources import ExportResource, LandingZoneResource, SourcesResource, StorageResource
from portfolio_assets.runner import materialize_all
from portfolio_assets_tests.conftest import S3_TEST_ENV
from portfolio_assets_tests.test_end_to_end import SAMPLE_EXPORT_DIGEST
from portfolio_assets_tests.test_s3_landing import upload_tree

pytestmark = pytest.mark.slow


def _executors_get(spark, variables: dict[str, str], request) -> None:
    """Give the session's Python workers ``variables`` for this test (what ``spark.executorEnv.*`` gives them): the
    executors read and write the bucket with credentials of their own, never the driver's."""
    environment = spark.sparkContext.environment
    saved = {name: environment.get(name) for name in variables}
    environment.update(variables)

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value

    request.addfinalizer(restore)


STORED_ASSETS = ["prices", "macro", "benchmarks", "sentiment", "indicators", "targets", "quarantine", "sft_rows"]


@pytest.mark.parametrize("engine", ["in-process", "spark"])
def test_the_full_graph_on_s3_writes_the_local_export_bytes(s3_bucket, tmp_path, instance, engine, request):
    url = f"s3://{s3_bucket.bucket}/{s3_bucket.key}"
    object_store = {"endpoint_url": s3_bucket.options.endpoint_url, "region": "us-east-1", "data_dir": str(tmp_path)}
    landed = upload_tree(s3_bucket / "landing", SAMPLE_LANDING_ROOT)
    storage = StorageResource(storage_url=url, **object_store)
    resources = {
        "parquet_io_manager": PartitionedParquetIOManager(storage=storage),
        "storage": storage,
        "sources": SourcesResource(),
        "landing": LandingZoneResource(root=f"{url}/landing", **object_store),
        "export": ExportResource(storage=storage),
        "engine": EngineResource(master_url="local[2]" if engine == "spark" else ""),
    }
    if engine == "spark":  # the shared session, which the engine reuses
        _executors_get(request.getfixturevalue("spark"), S3_TEST_ENV, request)
    results = materialize_all(resources=resources, instance=instance, log_level="WARNING", sources=False)
    assert all(r.success for r in results)

    objects = s3_bucket.list()
    top = Counter(key.split("/", 1)[0] for key in objects)
    assert set(top) == {*STORED_ASSETS, "landing", "exports"}, top
    assert top["landing"] == landed  # replay read the landing zone and wrote nothing into it
    for asset in STORED_ASSETS:  # one commit per asset (the last run's), its partitions, nothing in flight
        names = [k for k in objects if k.startswith(f"{asset}/")]
        commits = [k for k in names if k.startswith(f"{asset}/_commits/")]
        parquet = [k for k in names if k.endswith(".parquet")]
        assert commits and parquet and not any("/_inflight/" in k for k in names), asset
        assert len(parquet) == sum(len(json.loads(s3_bucket.get(c))["partitions"]) for c in commits), asset
    exports = s3_bucket / "exports"
    (folder,) = {key.split("/")[0] for key in exports.list()} - {"LATEST.json"}
    assert json.loads(exports.get("LATEST.json"))["export"] == folder  # the pointer to the newest export
    version, files = current_export(exports / folder)
    assert sorted(exports.list(folder)) == sorted(
        [f"{folder}/{CURRENT}", f"{folder}/{version.name}/{SUCCESS}"]
        + [f"{folder}/{version.name}/{f['path']}" for f in files]
    )
    metadata = results[-1].asset_materializations_for_node("training_set")[-1].metadata
    assert metadata["path"].value == str(version)
    # What a reader fetches holds the local run's bytes: every data file's sha256, as the pinned digest has them.
    fetched = fetch_export(exports / folder, tmp_path / "fetched")
    manifest = json.loads((fetched / "manifest.json").read_text())
    pairs = sorted((f["path"], f["sha256"]) for f in manifest["files"])
    assert len(pairs) == 15
    assert hashlib.sha256(json.dumps(pairs).encode()).hexdigest() == SAMPLE_EXPORT_DIGEST
    assert all(hashlib.sha256((fetched / path).read_bytes()).hexdigest() == digest for path, digest in pairs)
    # Nothing but the cache on local disk.
    assert [p.name for p in tmp_path.iterdir() if p.name != "fetched"] == ["s3_cache"]
