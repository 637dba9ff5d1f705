from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from dagster import DailyPartitionsDefinition, asset, materialize

from portfolio_assets.io_managers import PartitionedParquetIOManager, PartitionStore
from portfolio_assets.resources import StorageResource


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
    counts = store.write(["prices"], frame, keys)
    assert len(counts) == len(keys)
    assert counts["2020-01-04"] == 0  # a Saturday: an empty partition, still written
    assert counts["2020-01-06"] == 2
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
    leftovers = [
        p.name for p in (tmp_path / "x").iterdir() if not p.name.endswith(".parquet") or p.name.startswith(".")
    ]
    assert leftovers == []


def test_rows_outside_the_run_are_refused(tmp_path):
    store = PartitionStore(tmp_path)
    frame = frame_for(["2020-01-01", "2020-01-05"])
    with pytest.raises(ValueError, match=r"outside the run's partitions 2020-01-01\.\.2020-01-02"):
        store.write(["x"], frame, ["2020-01-01", "2020-01-02"])
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").iterdir()) == []


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
    stored = sorted(p.stem for p in (tmp_path / "downstream").glob("*.parquet"))
    assert stored[0] == "2020-01-03" and stored[-1] == "2020-01-20" and len(stored) == 18
    out = PartitionStore(tmp_path).read(["downstream"], stored)
    assert len(out) == 36 and out["price_close"].min() == 2.0
