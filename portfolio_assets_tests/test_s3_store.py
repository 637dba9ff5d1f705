"""The partitioned store on an S3-compatible server (moto on loopback): the local store's semantics, on objects."""

from __future__ import annotations

import json
import textwrap
import time

import pandas as pd
import pytest

from portfolio_assets.io_managers import (
    BlockedPartitionError,
    PartitionStore,
    files_schema,
    read_attested,
    recorded_digests,
)
from portfolio_assets.objectstore import S3Location, S3Options
from portfolio_assets.s3store import S3PartitionStore
from portfolio_assets_tests.conftest import S3_TEST_ENV
from portfolio_assets_tests.killing import kill_at_marker
from portfolio_assets_tests.test_io_managers import frame_for

KEYS = [d.strftime("%Y-%m-%d") for d in pd.date_range("2021-01-01", "2021-01-31")]


def objects(location: S3Location, folder: str) -> list[str]:
    return sorted(location.list(folder))


def test_a_location_picks_the_s3_store_and_round_trips_like_the_local_one(s3_bucket, tmp_path):
    store = PartitionStore(s3_bucket)
    local = PartitionStore(tmp_path / "local")
    assert isinstance(store, S3PartitionStore)
    weekdays = [k for k in KEYS if pd.Timestamp(k).dayofweek < 5]
    frame = frame_for(weekdays)
    assert store.write(["prices"], frame, KEYS, run_id="r1") == local.write(["prices"], frame, KEYS, run_id="r1")
    pd.testing.assert_frame_equal(store.read(["prices"], KEYS), local.read(["prices"], KEYS))
    pd.testing.assert_frame_equal(store.read(["prices"], KEYS[3:9]), local.read(["prices"], KEYS[3:9]))
    assert store.keys(["prices"]) == local.keys(["prices"]) == KEYS
    names = objects(s3_bucket, "prices")
    generation = store.commit_of(["prices"], KEYS[0]).generation
    assert names == sorted(
        [f"prices/{k}.{generation}.parquet" for k in KEYS] + [f"prices/_commits/{generation}.json"]
    )  # nothing in flight once the write returned
    # A second store with an empty cache (another machine) reads the same rows from the objects alone.
    other = S3Options(endpoint_url=s3_bucket.options.endpoint_url, region="us-east-1", cache_dir=str(tmp_path / "c2"))
    fresh = PartitionStore(S3Location(s3_bucket.bucket, s3_bucket.key, other))
    pd.testing.assert_frame_equal(fresh.read(["prices"], KEYS), frame)
    assert store.location(["prices"]) == f"s3://{s3_bucket.bucket}/store/prices"


def test_a_new_write_supersedes_and_collects_the_old_generation(s3_bucket):
    store = PartitionStore(s3_bucket)
    store.write(["prices"], frame_for(KEYS), KEYS)
    first = store.commit_of(["prices"], KEYS[0]).generation
    store.write(["prices"], frame_for(KEYS[:10], scale=2.0), KEYS[:10])
    second = store.commit_of(["prices"], KEYS[0]).generation
    back = store.read(["prices"], KEYS)
    assert (
        back["price_close"].tolist()
        == frame_for(KEYS[:10], scale=2.0)["price_close"].tolist() + frame_for(KEYS)["price_close"].tolist()[20:]
    )
    names = objects(s3_bucket, "prices")
    # The first generation keeps the 21 partitions its commit still holds; its 10 superseded objects are gone.
    assert sum(f".{first}." in n for n in names) == 21 and sum(f".{second}." in n for n in names) == 10
    store.write(["prices"], frame_for(KEYS[10:], scale=3.0), KEYS[10:])
    assert not any(first in n for n in objects(s3_bucket, "prices"))  # no partition names it: record and files go
    assert not list((s3_bucket.cache_path() / "prices").glob(f"*.{first}.parquet"))


def test_blocked_partitions_are_stored_but_never_read(s3_bucket):
    store = PartitionStore(s3_bucket)
    store.write(["prices"], frame_for(KEYS[:3]), KEYS[:3])
    store.write(["prices"], frame_for(KEYS[1:3], scale=9.0), KEYS[1:3], run_id="run-1", blocked_by=["schema"])
    with pytest.raises(BlockedPartitionError, match=r"failed blocking check\(s\) schema in run run-1"):
        store.read(["prices"], KEYS[:3])
    assert store.read(["prices"], KEYS[:1])["price_close"].tolist() == [1.0, 2.0]
    with pytest.raises(FileNotFoundError, match=rf"not materialised under s3://{s3_bucket.bucket}/store"):
        store.read(["prices"], ["2030-01-01"])


def test_the_validated_digests_are_those_of_the_uploaded_objects(s3_bucket):
    store = PartitionStore(s3_bucket)
    frame = frame_for(KEYS[:4])
    store.write(["sft_rows"], frame, KEYS[:4], validated="fingerprint-1")
    paths = list(store.files(["sft_rows"], KEYS[:4]).values())
    recorded = recorded_digests(paths)
    assert len(recorded) == 4 and {fp for _, fp in recorded.values()} == {"fingerprint-1"}
    back, vouched = read_attested(paths, schema=files_schema(paths), recorded=recorded)
    assert vouched == "fingerprint-1"
    pd.testing.assert_frame_equal(back, frame)


def test_a_failed_upload_leaves_the_previous_version_and_no_objects(s3_bucket, monkeypatch):
    store = PartitionStore(s3_bucket)
    store.write(["x"], frame_for(KEYS[:10]), KEYS[:10])
    real = S3Location.put
    calls = {"n": 0}

    def failing(self, relative, data):
        if relative.endswith(".parquet"):
            calls["n"] += 1
            if calls["n"] == 6:
                raise OSError("connection reset")
        return real(self, relative, data)

    monkeypatch.setattr(S3Location, "put", failing)
    with pytest.raises(OSError, match="connection reset"):
        store.write(["x"], frame_for(KEYS[:10], scale=100.0), KEYS[:10])
    monkeypatch.undo()
    pd.testing.assert_frame_equal(store.read(["x"], KEYS[:10]), frame_for(KEYS[:10]))
    assert len([n for n in objects(s3_bucket, "x") if n.endswith(".parquet")]) == 10
    assert not [n for n in objects(s3_bucket, "x") if "_inflight" in n]


def test_a_commit_stored_although_its_put_failed_keeps_every_object_it_names(s3_bucket, monkeypatch):
    """The commit record's PUT reached the server, then the call failed (a timeout, a stopped run): the write
    raises, but nothing the stored record names is deleted, so readers get the whole new version."""
    store = PartitionStore(s3_bucket)
    store.write(["x"], frame_for(KEYS[:10]), KEYS[:10])
    real = S3Location.put

    def stored_then_failed(self, relative, data):
        result = real(self, relative, data)
        if "/_commits/" in relative:
            raise OSError("read timeout after the server stored it")
        return result

    monkeypatch.setattr(S3Location, "put", stored_then_failed)
    with pytest.raises(OSError, match="read timeout"):
        store.write(["x"], frame_for(KEYS[:10], scale=100.0), KEYS[:10])
    monkeypatch.undo()
    pd.testing.assert_frame_equal(store.read(["x"], KEYS[:10]), frame_for(KEYS[:10], scale=100.0))


def test_a_writer_killed_mid_upload_is_invisible_and_cleaned_up(s3_bucket, tmp_path):
    """kill -9 after some partition objects are uploaded, before the commit: readers keep the previous version;
    the next write removes what the dead writer left."""
    store = PartitionStore(s3_bucket)
    old = frame_for(KEYS)
    store.write(["prices"], old, KEYS)
    marker = tmp_path / "half-uploaded"
    options = s3_bucket.options
    script = textwrap.dedent(
        f"""
        import threading, time
        import pandas as pd
        from portfolio_assets.io_managers import PartitionStore
        from portfolio_assets.objectstore import S3Location, S3Options
        from portfolio_assets_tests.test_io_managers import frame_for
        keys = {KEYS!r}
        real, lock, calls = S3Location.put, threading.Lock(), [0]
        def put(self, relative, data):
            real(self, relative, data)
            if relative.endswith(".parquet"):
                with lock:
                    calls[0] += 1
                    if calls[0] == 12:
                        open({str(marker)!r}, "w").close()
                time.sleep(60 if calls[0] >= 12 else 0)
        S3Location.put = put
        options = S3Options(endpoint_url={options.endpoint_url!r}, region="us-east-1", cache_dir={options.cache_dir!r})
        PartitionStore(S3Location({s3_bucket.bucket!r}, "store", options)).write(
            ["prices"], frame_for(keys, scale=100.0), keys)
        """
    )
    pid = kill_at_marker(script, marker, "the middle of its upload", env=S3_TEST_ENV)
    names = objects(s3_bucket, "prices")
    inflight = [n for n in names if "/_inflight/" in n]
    assert len(inflight) == 1 and json.loads(s3_bucket.get(inflight[0]))["pid"] == pid
    assert len([n for n in names if n.endswith(".parquet")]) >= len(KEYS) + 12
    assert len([n for n in names if "/_commits/" in n]) == 1  # the dead writer's generation has no commit
    pd.testing.assert_frame_equal(store.read(["prices"], KEYS), old)
    new = frame_for(KEYS, scale=3.0)
    store.write(["prices"], new, KEYS)
    pd.testing.assert_frame_equal(store.read(["prices"], KEYS), new)
    names = objects(s3_bucket, "prices")
    assert len([n for n in names if n.endswith(".parquet")]) == len(KEYS)
    assert [n for n in names if "/_inflight/" in n] == []


def test_a_store_crosses_to_a_worker_process_by_pickle(s3_bucket, tmp_path):
    import pickle

    store = PartitionStore(s3_bucket)
    store.write(["prices"], frame_for(KEYS[:2]), KEYS[:2])
    copy = pickle.loads(pickle.dumps(store))
    assert isinstance(copy, S3PartitionStore) and copy.root == s3_bucket
    pd.testing.assert_frame_equal(copy.read(["prices"], KEYS[:2]), frame_for(KEYS[:2]))
    assert pickle.loads(pickle.dumps(PartitionStore(tmp_path))).base_dir == tmp_path


def test_an_in_flight_record_of_another_pid_namespace_is_judged_by_its_age():
    """A writer in another container with this host name: its pid says nothing here, so only a day's age ends it."""
    import json
    import socket

    from portfolio_assets.s3store import FOREIGN_WRITER_SECONDS, _writer_alive

    now = time.time()
    record = {"pid": 2**22 + 7, "host": socket.gethostname(), "pidns": "another", "started": now - 60}
    assert _writer_alive(json.dumps(record).encode(), now)
    record["started"] = now - FOREIGN_WRITER_SECONDS - 1
    assert not _writer_alive(json.dumps(record).encode(), now)
