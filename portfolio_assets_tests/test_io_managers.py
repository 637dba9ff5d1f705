from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from dagster import DailyPartitionsDefinition, asset, materialize

from portfolio_assets.io_managers import PartitionedParquetIOManager, PartitionStore
from portfolio_assets.resources import StorageResource
from portfolio_assets_tests.killing import kill_at_marker


def frame_for(days: list[str], symbols=("AAA", "BBB"), scale: float = 1.0) -> pd.DataFrame:
    rows = [
        {"timestamp": pd.Timestamp(d, tz="UTC"), "asset_symbol": s, "price_close": scale * (i + 1) * (j + 1)}
        for i, d in enumerate(days)
        for j, s in enumerate(symbols)
    ]
    return pd.DataFrame(rows)


def test_round_trip_of_a_partition_range(tmp_path):
    store = PartitionStore(tmp_path)
    keys = [d.strftime("%Y-%m-%d") for d in pd.date_range("2020-01-01", "2020-03-31")]
    weekdays = [k for k in keys if pd.Timestamp(k).dayofweek < 5]
    frame = frame_for(weekdays)
    summaries = store.write(["prices"], frame, keys)
    assert len(summaries) == len(keys)
    assert summaries["2020-01-04"] == {"rows": 0}  # a Saturday: an empty partition, still written
    assert summaries["2020-01-06"]["rows"] == 2 and summaries["2020-01-06"]["assets"] == "AAA, BBB"
    assert summaries["2020-01-06"]["date_range"] == "2020-01-06..2020-01-06"
    back = store.read(["prices"], keys)
    pd.testing.assert_frame_equal(back, frame)
    assert str(back["timestamp"].dtype) == "datetime64[ns, UTC]"
    sub = store.read(["prices"], keys[10:20])
    assert set(sub["timestamp"].dt.strftime("%Y-%m-%d")) <= set(keys[10:20])


def test_a_failure_while_writing_leaves_the_previous_state_intact(tmp_path, monkeypatch):
    store = PartitionStore(tmp_path)
    keys = [d.strftime("%Y-%m-%d") for d in pd.date_range("2021-01-01", "2021-01-10")]
    old = frame_for(keys, scale=1.0)
    store.write(["x"], old, keys)

    calls = {"n": 0}
    real_write = pq.write_table

    def failing_write(table, where, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise OSError("disk full")
        return real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", failing_write)
    with pytest.raises(OSError, match="disk full"):
        store.write(["x"], frame_for(keys, scale=100.0), keys)
    monkeypatch.undo()

    pd.testing.assert_frame_equal(store.read(["x"], keys), old)
    # Only the committed generation's files remain: the failed write removed what it staged.
    assert len(list((tmp_path / "x").glob("*.parquet"))) == len(keys)
    assert [p.name for p in (tmp_path / "x").iterdir() if p.name.startswith(".")] == []


def test_rows_outside_the_run_are_refused(tmp_path):
    store = PartitionStore(tmp_path)
    frame = frame_for(["2020-01-01", "2020-01-05"])
    with pytest.raises(ValueError, match=r"outside the run's partitions 2020-01-01\.\.2020-01-02"):
        store.write(["x"], frame, ["2020-01-01", "2020-01-02"])
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").glob("*.parquet")) == []
    assert store.keys(["x"]) == []


def test_missing_partitions_are_named(tmp_path):
    store = PartitionStore(tmp_path)
    store.write(["x"], frame_for(["2020-01-01"]), ["2020-01-01"])
    with pytest.raises(FileNotFoundError, match="2020-01-02"):
        store.read(["x"], ["2020-01-01", "2020-01-02"])


def test_io_manager_in_a_single_run_backfill(tmp_path, instance):
    days = DailyPartitionsDefinition(start_date="2020-01-01", end_date="2020-02-01")

    @asset(partitions_def=days, io_manager_key="io")
    def upstream(context) -> pd.DataFrame:
        window = context.partition_time_window
        keys = [d.strftime("%Y-%m-%d") for d in pd.date_range(window.start, window.end, inclusive="left")]
        return frame_for(keys)

    @asset(partitions_def=days, io_manager_key="io")
    def downstream(upstream: pd.DataFrame) -> pd.DataFrame:
        return upstream.assign(price_close=upstream["price_close"] * 2)

    io = PartitionedParquetIOManager(storage=StorageResource(data_dir=str(tmp_path)))
    result = materialize(
        [upstream, downstream],
        instance=instance,
        resources={"io": io},
        tags={"dagster/asset_partition_range_start": "2020-01-03", "dagster/asset_partition_range_end": "2020-01-20"},
    )
    assert result.success
    stored = PartitionStore(tmp_path).keys(["downstream"])
    assert stored[0] == "2020-01-03" and stored[-1] == "2020-01-20" and len(stored) == 18
    out = PartitionStore(tmp_path).read(["downstream"], stored)
    assert len(out) == 36 and out["price_close"].min() == 2.0


def test_a_write_killed_mid_commit_is_invisible_and_cleaned_up(tmp_path):
    """kill -9 in the middle of a write: readers keep the previous generation whole; the next write cleans up."""
    import textwrap

    store = PartitionStore(tmp_path)
    keys = [d.strftime("%Y-%m-%d") for d in pd.date_range("2021-01-01", "2021-03-31")]
    old = frame_for(keys, scale=1.0)
    store.write(["prices"], old, keys)
    marker = tmp_path / "half-written"
    script = textwrap.dedent(
        f"""
        import os, time, pandas as pd, pyarrow.parquet as pq
        from portfolio_assets.io_managers import PartitionStore
        from portfolio_assets_tests.test_io_managers import frame_for
        keys = [d.strftime("%Y-%m-%d") for d in pd.date_range("2021-01-01", "2021-03-31")]
        real, calls = pq.write_table, [0]
        def slow(table, where, **kw):
            calls[0] += 1
            real(table, where, **kw)
            if calls[0] == 31:  # each file is serialised, then written: 30 are on disk
                open({str(marker)!r}, "w").close()
                time.sleep(60)
        pq.write_table = slow
        PartitionStore({str(tmp_path)!r}).write(["prices"], frame_for(keys, scale=100.0), keys)
        """
    )
    kill_at_marker(script, marker, "the middle of its write")
    # 30 partitions of the new generation are on disk, uncommitted: no reader sees any of them.
    assert len(list((tmp_path / "prices").glob("*.parquet"))) == len(keys) + 30
    pd.testing.assert_frame_equal(store.read(["prices"], keys), old)
    # The next write of the asset removes what the dead writer left, and commits its own generation whole.
    new = frame_for(keys, scale=3.0)
    store.write(["prices"], new, keys)
    pd.testing.assert_frame_equal(store.read(["prices"], keys), new)
    assert len(list((tmp_path / "prices").glob("*.parquet"))) == len(keys)
    assert list((tmp_path / "prices" / "_inflight").iterdir()) == []


def test_a_blocked_write_is_stored_but_never_read(tmp_path):
    from portfolio_assets.io_managers import BlockedPartitionError

    store = PartitionStore(tmp_path)
    keys = ["2020-01-01", "2020-01-02", "2020-01-03"]
    store.write(["prices"], frame_for(keys), keys)
    store.write(
        ["prices"], frame_for(keys[1:], scale=9.0), keys[1:], run_id="run-1", blocked_by=["schema", "temporal_gaps"]
    )
    assert store.read(["prices"], keys[:1])["price_close"].tolist() == [1.0, 2.0]
    with pytest.raises(
        BlockedPartitionError,
        match=r"prices: 2 partition\(s\) failed blocking check\(s\) schema, temporal_gaps in run run-1",
    ):
        store.read(["prices"], keys)
    assert store.commit_of(["prices"], "2020-01-02").blocked_by == ("schema", "temporal_gaps")
    # A later clean write replaces the blocked partitions.
    store.write(["prices"], frame_for(keys[1:]), keys[1:])
    assert len(store.read(["prices"], keys)) == 6


def test_a_store_of_one_granularity_refuses_the_other(tmp_path):
    # "2010-03-01" names a day in a daily store and a month in a monthly one: never mixed up.
    store = PartitionStore(tmp_path)
    month = pd.DataFrame({"timestamp": pd.to_datetime(["2010-03-01", "2010-03-17"], utc=True), "x": [1.0, 2.0]})
    store.write(["prices"], month, ["2010-03-01"], granularity="monthly")
    assert store.read(["prices"], ["2010-03-01"], granularity="monthly")["x"].tolist() == [1.0, 2.0]
    assert json.loads(next((tmp_path / "prices" / "_commits").glob("*.json")).read_text())["granularity"] == "monthly"
    with pytest.raises(
        ValueError, match="prices: this store holds monthly partitions and the code location uses daily"
    ):
        store.read(["prices"], ["2010-03-01"], granularity="daily")
    with pytest.raises(ValueError, match="set PORTFOLIO_PARTITIONS=monthly"):
        store.write(["prices"], month.iloc[:1], ["2010-03-01"], granularity="daily")
    assert store.read(["prices"], ["2010-03-01"], granularity="monthly")["x"].tolist() == [1.0, 2.0]
    # a row outside the month's key is refused, and nothing is written
    april = month.assign(timestamp=pd.to_datetime(["2010-04-02", "2010-04-03"], utc=True))
    with pytest.raises(ValueError, match=r"1 output partition\(s\) outside the run's partitions .*2010-04-01"):
        store.write(["prices"], pd.concat([month, april]), ["2010-03-01"], granularity="monthly")
    assert store.keys(["prices"]) == ["2010-03-01"]


def test_a_writer_that_starts_during_anothers_cleanup_keeps_its_files(tmp_path, monkeypatch):
    """Found at 500 x 20 with two workers: a commit named files that were gone. One writer's cleanup listed the
    writers in flight, another writer then announced itself, and the cleanup's last loop removed that new
    record as a dead writer's; the next cleanup took the new writer's first files for leftovers."""
    import os
    import socket

    store = PartitionStore(tmp_path)
    store.write(["macro"], frame_for(["2020-01-01"]), ["2020-01-01"])
    folder = tmp_path / "macro"
    generation = "09999999999999999999-aaaaaaaa"
    record = folder / "_inflight" / f"{generation}.json"
    first_file = store.path(["macro"], "2020-02-01", generation)
    index = PartitionStore._index

    def another_writer_starts(self, asset_path):  # called by collect_garbage after it listed the writers
        if not record.exists():
            record.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
            frame_for(["2020-02-01"]).to_parquet(first_file)
        return index(self, asset_path)

    monkeypatch.setattr(PartitionStore, "_index", another_writer_starts)
    store.collect_garbage(["macro"])
    monkeypatch.setattr(PartitionStore, "_index", index)
    store.collect_garbage(["macro"])  # e.g. the first writer's cleanup after its commit
    assert record.exists()
    assert first_file.exists()


@pytest.mark.parametrize("same_namespace", [True, False])
def test_a_dead_writer_is_told_from_another_containers_by_its_pid_namespace(tmp_path, same_namespace):
    """Two containers on one shared volume may share a host name but not their process ids: a writer of another
    pid namespace is never taken for dead from here, while a dead one of this namespace is collected."""
    import socket
    import subprocess
    import sys

    from portfolio_assets.fsutil import writer_identity

    store = PartitionStore(tmp_path)
    store.write(["macro"], frame_for(["2020-01-01"]), ["2020-01-01"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    generation = "09999999999999999999-bbbbbbbb"
    record = tmp_path / "macro" / "_inflight" / f"{generation}.json"
    ours = writer_identity()
    namespace = ours["pidns"] if same_namespace else "4026531836x"
    record.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "pidns": namespace}))
    staged = store.path(["macro"], "2020-02-01", generation)
    frame_for(["2020-02-01"]).to_parquet(staged)
    store.collect_garbage(["macro"])
    assert staged.exists() is not same_namespace and record.exists() is not same_namespace
