"""Storage on S3 chosen by configuration; a bad URL, an unreachable endpoint or a missing bucket named at once."""

from __future__ import annotations

import socket

import pandas as pd
import pytest
from dagster import DailyPartitionsDefinition, EnvVar, asset, materialize

from portfolio_assets import settings
from portfolio_assets.clients.status import SeriesStatus, excluded_assets, read_status, record_status
from portfolio_assets.definitions import local_resources
from portfolio_assets.io_managers import PartitionedParquetIOManager, PartitionStore
from portfolio_assets.objectstore import ObjectStoreError, S3Location, S3Options
from portfolio_assets.resources import LandingZoneResource, StorageResource
from portfolio_assets.s3store import S3PartitionStore


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        ("http://bucket/prefix", "is not an s3://<bucket>/<prefix> URL"),
        ("s3://Bad_Bucket/prefix", "has no valid bucket name ('Bad_Bucket'"),
        ("s3://ab/prefix", "has no valid bucket name ('ab'"),
        ("s3://bucket/a//b", "has an unusable prefix segment ''"),
        ("s3://bucket/a/../b", "has an unusable prefix segment '..'"),
        ("s3://bucket/a b", "is not an s3:// URL (it holds spaces"),
        ("s3://bucket/prefix?versionId=1", "must not carry credentials, a query or a fragment"),
    ],
)
def test_a_bad_storage_url_fails_when_the_definitions_load(value, cause):
    with pytest.raises(settings.SettingError) as failure:
        settings.env_setting(settings.STORAGE_URL_ENV, "", environ={settings.STORAGE_URL_ENV: value})
    assert str(failure.value).startswith(f"{settings.STORAGE_URL_ENV}=") and cause in str(failure.value)


def test_credentials_in_a_url_are_refused_and_never_shown():
    for env, value in (
        (settings.STORAGE_URL_ENV, "s3://AKIDEXAMPLE:s3cr3t@bucket/prefix"),
        (settings.AWS_ENDPOINT_URL_ENV, "http://minio:s3cr3t@127.0.0.1:9000"),
    ):
        with pytest.raises(settings.SettingError, match="must not carry credentials") as failure:
            settings.env_setting(env, "", environ={env: value})
        assert "s3cr3t" not in str(failure.value) and env in str(failure.value)
    # a key:secret pair where the bucket goes (no @) is no bucket name, and is not shown either
    with pytest.raises(settings.SettingError, match="has no valid bucket name") as failure:
        settings.env_setting(
            settings.STORAGE_URL_ENV, "", environ={settings.STORAGE_URL_ENV: "s3://AKIDEXAMPLE:s3cr3t/prefix"}
        )
    assert "s3cr3t" not in str(failure.value) and "AKIDEXAMPLE" not in str(failure.value)


def test_the_variables_reach_the_storage_and_landing_resources(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.STORAGE_URL_ENV, "s3://portfolio-data/team/prod")
    monkeypatch.setenv(settings.AWS_ENDPOINT_URL_ENV, "http://127.0.0.1:9000")
    monkeypatch.setenv(settings.AWS_REGION_ENV, "eu-west-1")
    monkeypatch.setenv(settings.STORAGE_CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(settings.AWS_PROFILE_ENV, raising=False)
    resources = local_resources()
    storage, landing = resources["storage"], resources["landing"]
    assert storage.storage_url == EnvVar(settings.STORAGE_URL_ENV)
    assert storage.endpoint_url == landing.endpoint_url == EnvVar(settings.AWS_ENDPOINT_URL_ENV)
    assert storage.cache_dir == landing.cache_dir == EnvVar(settings.STORAGE_CACHE_DIR_ENV)
    assert resources["export"].storage is storage and resources["parquet_io_manager"].storage is storage
    assert settings.live_landing_default() == "s3://portfolio-data/team/prod/landing"
    monkeypatch.setenv(settings.AWS_REGION_ENV, "eu west")
    with pytest.raises(settings.SettingError, match=f"{settings.AWS_REGION_ENV}='eu west' is not a region"):
        local_resources()


def test_a_storage_resource_on_s3_puts_store_exports_and_cache_under_the_url(tmp_path):
    storage = StorageResource(data_dir=str(tmp_path), storage_url="s3://portfolio-data/prod")
    root = storage.store_root()
    assert isinstance(root, S3Location) and str(root) == "s3://portfolio-data/prod"
    assert isinstance(PartitionStore(root), S3PartitionStore)
    assert str(storage.export_root()) == "s3://portfolio-data/prod/exports"
    assert root.cache_path() == tmp_path / "s3_cache" / "portfolio-data" / "prod"
    assert StorageResource(data_dir=str(tmp_path)).store_root() == tmp_path  # unset: the local directory, as before
    with pytest.raises(settings.SettingError, match=r"StorageResource.storage_url \(PORTFOLIO_STORAGE_URL\)="):
        StorageResource(storage_url="s3://x/prefix").store_root()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_endpoint_is_named_with_the_url_and_what_to_check(s3_endpoint, tmp_path):
    port = closed_port()
    options = S3Options(
        endpoint_url=f"http://minio:s3cr3t@127.0.0.1:{port}", region="us-east-1", cache_dir=str(tmp_path)
    )
    with pytest.raises(ObjectStoreError) as failure:
        S3Location("portfolio-data", "prod", options).check()
    message = str(failure.value)
    assert message.startswith(f"s3://portfolio-data/prod at 'http://127.0.0.1:{port}'")
    assert "the endpoint cannot be reached; check AWS_ENDPOINT_URL" in message and "s3cr3t" not in message


def test_a_missing_bucket_fails_the_run_at_its_start(s3_endpoint, tmp_path, instance):
    storage = StorageResource(
        data_dir=str(tmp_path),
        storage_url="s3://no-such-bucket-here/prod",
        endpoint_url=s3_endpoint,
        region="us-east-1",
    )
    with pytest.raises(ObjectStoreError, match="the bucket 'no-such-bucket-here' does not exist there; create it"):
        storage.s3_root().check()
    ran = []

    @asset(partitions_def=DailyPartitionsDefinition(start_date="2020-01-01"), io_manager_key="io")
    def stored(context) -> pd.DataFrame:
        ran.append(context.partition_key)
        return pd.DataFrame({"timestamp": [pd.Timestamp(context.partition_key, tz="UTC")]})

    with pytest.raises(Exception) as failure:
        materialize(
            [stored],
            instance=instance,
            partition_key="2020-01-02",
            resources={"io": PartitionedParquetIOManager(storage=storage)},
        )
    causes, error = [], failure.value
    while error is not None:
        causes.append(error)
        error = error.__cause__
    assert any(
        isinstance(e, ObjectStoreError) and str(e).startswith("s3://no-such-bucket-here/prod at ") for e in causes
    )
    assert ran == []  # failed before the asset computed anything


def test_the_fetch_status_ledger_lives_on_s3(s3_bucket):
    failure = SeriesStatus(
        "function=X",
        False,
        pd.Timestamp("2012-01-01").date(),
        pd.Timestamp("2012-01-31").date(),
        ("BTC-USD",),
        True,
        "HTTP 500",
    )
    record_status(s3_bucket, "alphavantage", [failure])
    assert sorted(s3_bucket.list("_fetch_status")) == ["_fetch_status/alphavantage.json"]
    assert read_status(s3_bucket, "alphavantage")["function=X"].owners == ("BTC-USD",)
    assert "BTC-USD" in excluded_assets(s3_bucket, ["BTC-USD", "GOOG"], ["alphavantage"])


def test_exports_may_go_to_s3_alone_and_the_data_dir_stays_local(tmp_path):
    storage = StorageResource(data_dir=str(tmp_path), export_dir="s3://portfolio-exports/team")
    assert str(storage.export_root()) == "s3://portfolio-exports/team" and storage.store_root() == tmp_path
    env = {settings.EXPORT_DIR_ENV: "s3://Bad_Bucket/x"}
    with pytest.raises(settings.SettingError, match=f"{settings.EXPORT_DIR_ENV}=.* has no valid bucket name"):
        settings.env_setting(settings.EXPORT_DIR_ENV, "", environ=env)
    env = {settings.DATA_DIR_ENV: "s3://portfolio-data/prod"}
    with pytest.raises(settings.SettingError, match=f"is an S3 URL; .*set {settings.STORAGE_URL_ENV} to store on S3"):
        settings.env_setting(settings.DATA_DIR_ENV, "", environ=env)


@pytest.mark.parametrize(
    ("code", "status", "cause"),
    [
        ("AccessDenied", 403, "access denied; check the credentials' permissions and the bucket policy"),
        (
            "InvalidAccessKeyId",
            403,
            "the credentials were refused (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
        ),
        ("SlowDown", 503, "the server answered SlowDown (HTTP 503)"),
    ],
)
def test_a_refusal_names_the_url_and_what_to_check(s3_bucket, code, status, cause):
    from botocore.stub import Stubber

    with Stubber(s3_bucket.client) as stub:  # the server's answer, as boto3 receives it
        stub.add_client_error("list_objects_v2", service_error_code=code, http_status_code=status)
        with pytest.raises(ObjectStoreError) as failure:
            s3_bucket.list("prices")
    assert str(failure.value) == (
        f"{s3_bucket} at '{s3_bucket.options.endpoint_url}': cannot list store/prices/: {cause}"
    )


def test_a_landing_zone_in_a_missing_bucket_fails_the_run_at_its_start(s3_endpoint, tmp_path, instance):
    landing = LandingZoneResource(
        root="s3://no-such-landing-bucket/landing", endpoint_url=s3_endpoint, region="us-east-1", data_dir=str(tmp_path)
    )

    @asset
    def uses_landing(landing: LandingZoneResource) -> None:
        raise AssertionError("not reached: the resource fails first")

    with pytest.raises(Exception) as failure:
        materialize([uses_landing], instance=instance, resources={"landing": landing})
    causes, error = [], failure.value
    while error is not None:
        causes.append(error)
        error = error.__cause__
    assert any("s3://no-such-landing-bucket/landing at " in str(e) and "does not exist" in str(e) for e in causes)


def test_a_refused_upload_names_the_url_and_what_to_check(s3_bucket, tmp_path):
    """boto3's transfer wraps the server's refusal in S3UploadFailedError: it is classified like any call's."""
    from botocore.stub import Stubber

    path = tmp_path / "part.parquet"
    path.write_bytes(b"x" * 10)
    with Stubber(s3_bucket.client) as stub:  # a small file is one put_object, refused
        stub.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(ObjectStoreError) as failure:
            s3_bucket.upload("prices/part.parquet", path)
    assert str(failure.value) == (
        f"{s3_bucket} at '{s3_bucket.options.endpoint_url}': cannot write store/prices/part.parquet: "
        "access denied; check the credentials' permissions and the bucket policy"
    )


def test_a_bad_s3_export_dir_given_in_python_names_the_field_and_variable():
    from portfolio_assets.resources import StorageResource

    with pytest.raises(settings.SettingError, match=r"StorageResource.export_dir \(PORTFOLIO_EXPORT_DIR\)=.*bucket"):
        StorageResource(export_dir="s3://Bad_Bucket/exports").export_root()
