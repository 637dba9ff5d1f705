"""Exports on an S3-compatible server (moto on loopback): versions, the pointer written last, a killed upload."""

from __future__ import annotations

import json
import textwrap
import time

import pytest

from portfolio_assets.export import export_training_set, read_export
from portfolio_assets.export.s3sink import CURRENT, SUCCESS, current_export, fetch_export
from portfolio_assets_tests.conftest import S3_TEST_ENV
from portfolio_assets_tests.killing import kill_at_marker
from portfolio_assets_tests.test_export import PROVENANCE, SPLIT, SYNTHETIC, make_rows, tree_bytes


@pytest.fixture(scope="module")
def rows():
    return make_rows(end="2011-06-30")


def export_to(location, rows):
    return export_training_set(
        rows, location, split=SPLIT, shard_by="quarter", provenance=PROVENANCE, synthetic=SYNTHETIC
    )


def test_an_export_on_s3_holds_the_local_export_bytes_under_its_current_version(s3_bucket, rows, tmp_path):
    target = s3_bucket / "exports" / "training_set"
    report = export_to(target, rows)
    local = tmp_path / "local" / "training_set"
    export_to(local, rows)
    version, files = current_export(target)
    assert str(report.out_dir) == str(version) and str(report.manifest_path) == f"{version}/manifest.json"
    listed = sorted(target.list())
    assert listed == sorted([CURRENT, f"{version.name}/{SUCCESS}", *(f"{version.name}/{f['path']}" for f in files)])
    fetched = fetch_export(target, tmp_path / "fetched")
    assert tree_bytes(fetched) == tree_bytes(local)  # the same bytes as the local export, every file
    assert read_export(fetched, "parquet").equals(read_export(local, "parquet"))
    assert not (s3_bucket.cache_path() / "exports" / "training_set" / version.name).exists()  # staging removed


def test_a_new_export_keeps_the_previous_version_and_removes_older_ones(s3_bucket, rows, monkeypatch):
    from portfolio_assets.export import s3sink

    monkeypatch.setattr(s3sink, "STALE_AFTER_NS", 0)  # every older version is past the grace period
    target = s3_bucket / "exports" / "training_set"
    first = export_to(target, rows).out_dir.name
    second = export_to(target, rows).out_dir.name
    assert {k.split("/")[0] for k in target.list()} == {CURRENT, first, second}
    third = export_to(target, rows).out_dir.name
    assert {k.split("/")[0] for k in target.list()} == {CURRENT, second, third}
    assert current_export(target)[0].name == third


def test_an_export_never_removes_a_version_another_export_may_still_be_uploading(s3_bucket, rows):
    """Another export that started before this one and is still uploading (a version with no _SUCCESS, younger
    than the grace period) keeps its objects: removing them would let its pointer name missing files."""
    target = s3_bucket / "exports" / "training_set"
    first = export_to(target, rows).out_dir.name
    other = f"v-{time.time_ns():020d}-0e0e0e0e"
    target.put(f"{other}/csv/train/part.csv", b"half of another export")
    second = export_to(target, rows).out_dir.name
    third = export_to(target, rows).out_dir.name
    assert {k.split("/")[0] for k in target.list()} == {CURRENT, first, other, second, third}
    assert current_export(target)[0].name == third


def test_a_pointer_stored_although_its_put_failed_keeps_its_version(s3_bucket, rows, monkeypatch):
    from portfolio_assets.objectstore import S3Location

    target = s3_bucket / "exports" / "training_set"
    export_to(target, rows)
    real = S3Location.put

    def stored_then_failed(self, relative, data):
        result = real(self, relative, data)
        if relative == CURRENT:
            raise OSError("read timeout after the server stored it")
        return result

    monkeypatch.setattr(S3Location, "put", stored_then_failed)
    with pytest.raises(OSError, match="read timeout"):
        export_to(target, make_rows(end="2011-06-30", seed=8))
    monkeypatch.undo()
    version, files = current_export(target)  # the new pointer, and every file it names is there
    listed = set(target.list())
    assert all(f"{version.name}/{f['path']}" in listed for f in files)


def test_a_location_that_holds_something_else_is_refused(s3_bucket, rows):
    target = s3_bucket / "exports" / "mine"
    target.put("notes.txt", b"not an export")
    with pytest.raises(ValueError, match=r"refusing to export to s3://.*/exports/mine: it holds 'notes.txt'"):
        export_to(target, rows)
    assert sorted(target.list()) == ["notes.txt"]


def test_a_failed_upload_publishes_nothing(s3_bucket, rows, monkeypatch):
    from portfolio_assets.objectstore import S3Location

    target = s3_bucket / "exports" / "training_set"
    first = export_to(target, rows).out_dir.name
    real, calls = S3Location.upload, {"n": 0}

    def failing(self, relative, path):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("connection reset")
        return real(self, relative, path)

    monkeypatch.setattr(S3Location, "upload", failing)
    with pytest.raises(OSError, match="connection reset"):
        export_to(target, make_rows(end="2011-06-30", seed=8))
    assert {k.split("/")[0] for k in target.list()} == {CURRENT, first}  # the partial version is removed
    assert current_export(target)[0].name == first


def test_an_export_killed_mid_upload_leaves_the_previous_export_current(s3_bucket, rows, tmp_path, monkeypatch):
    from portfolio_assets.export import s3sink

    target = s3_bucket / "exports" / "training_set"
    first = export_to(target, rows)
    before = tree_bytes(fetch_export(target, tmp_path / "before"))
    marker = tmp_path / "half-uploaded"
    options = s3_bucket.options
    script = textwrap.dedent(
        f"""
        import time
        from portfolio_assets.export import export_training_set
        from portfolio_assets.objectstore import S3Location, S3Options
        from portfolio_assets_tests.test_export import PROVENANCE, SYNTHETIC, SPLIT, make_rows
        real, calls = S3Location.upload, [0]
        def upload(self, relative, path):
            real(self, relative, path)
            calls[0] += 1
            if calls[0] == 5:
                open({str(marker)!r}, "w").close()
                time.sleep(60)
        S3Location.upload = upload
        options = S3Options(endpoint_url={options.endpoint_url!r}, region="us-east-1", cache_dir={options.cache_dir!r})
        target = S3Location({target.bucket!r}, {target.key!r}, options)
        export_training_set(make_rows(end="2011-06-30", seed=9), target, split=SPLIT, shard_by="quarter",
                            provenance=PROVENANCE, synthetic=SYNTHETIC)
        """
    )
    kill_at_marker(script, marker, "the middle of its upload", env=S3_TEST_ENV)
    folders = {k.split("/")[0] for k in target.list()}
    assert len(folders) == 3  # the pointer, the current version, the dead upload's partial version
    (dead,) = folders - {CURRENT, first.out_dir.name}
    assert not any(k == f"{dead}/{SUCCESS}" for k in target.list())
    assert json.loads(target.get(CURRENT))["version"] == first.out_dir.name
    assert tree_bytes(fetch_export(target, tmp_path / "after")) == before
    # The next export commits its own version; the dead upload's objects stay until they are a day old (it might
    # be another export still uploading), and an export after that removes them.
    newest = export_to(target, rows).out_dir.name
    assert {k.split("/")[0] for k in target.list()} == {CURRENT, first.out_dir.name, dead, newest}
    monkeypatch.setattr(s3sink, "STALE_AFTER_NS", 0)
    last = export_to(target, rows).out_dir.name
    assert {k.split("/")[0] for k in target.list()} == {CURRENT, newest, last}


def test_a_fetch_that_finds_a_changed_file_leaves_the_previous_copy_whole(s3_bucket, rows, tmp_path):
    target = s3_bucket / "exports" / "training_set"
    export_to(target, rows)
    fetched = fetch_export(target, tmp_path / "copy")
    before = tree_bytes(fetched)
    version, files = current_export(target)
    version.put(files[-1]["path"], b"not the bytes the pointer names")
    with pytest.raises(ValueError, match="its bytes differ from the export pointer's sha256"):
        fetch_export(target, tmp_path / "copy")
    assert tree_bytes(tmp_path / "copy") == before  # the earlier copy, untouched
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".incoming")]  # no staging folder left


def test_one_bucket_name_on_two_endpoints_has_two_caches(tmp_path):
    from portfolio_assets.objectstore import S3Location, S3Options

    here = S3Location("data", "prod", S3Options(endpoint_url="http://127.0.0.1:9000", cache_dir=str(tmp_path)))
    there = S3Location("data", "prod", S3Options(endpoint_url="http://10.0.0.7:9000", cache_dir=str(tmp_path)))
    aws = S3Location("data", "prod", S3Options(cache_dir=str(tmp_path)))
    assert len({here.cache_path(), there.cache_path(), aws.cache_path()}) == 3
    assert aws.cache_path() == tmp_path / "data" / "prod"
