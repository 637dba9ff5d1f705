"""LocalSink fsyncs the files written in parts in a background thread, and publishes them only once all are."""

from __future__ import annotations

import os
import threading

import pytest

from portfolio_assets.export import sink as sink_module
from portfolio_assets.export.sink import LocalSink


def fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def test_parts_are_fsynced_off_the_writing_thread_before_the_commit(tmp_path, monkeypatch):
    real_fsync, synced = os.fsync, {}

    def fsync(fd: int) -> None:
        synced[fd_path(fd)] = threading.current_thread().name
        real_fsync(fd)

    monkeypatch.setattr(sink_module.os, "fsync", fsync)
    real_replace = sink_module._replace_dir

    def replace(new, target):
        assert set(synced) >= {str(new / "a" / "x.csv"), str(new / "b.jsonl")}  # all fsynced before the swap
        real_replace(new, target)

    monkeypatch.setattr(sink_module, "_replace_dir", replace)
    sink = LocalSink(tmp_path / "out", marker="m")
    for relative in ("a/x.csv", "b.jsonl"):
        staged = sink.open(relative)
        staged.write(b"rows\n")
        staged.close()
        assert staged.closed and staged.size == 5
        assert (sink.staging / relative).read_bytes() == b"rows\n"  # flushed at close
    sink.commit()
    assert (tmp_path / "out" / "a" / "x.csv").read_bytes() == b"rows\n"
    parts = {path: name for path, name in synced.items() if ".staging-" in path}
    assert len(parts) == 2 and all(name.startswith("export-fsync") for name in parts.values())


def test_a_failed_fsync_fails_the_commit_and_publishes_nothing(tmp_path, monkeypatch):
    def fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sink_module.os, "fsync", fsync)
    sink = LocalSink(tmp_path / "out", marker="m")
    staged = sink.open("x.csv")
    staged.write(b"rows\n")
    staged.close()
    with pytest.raises(OSError, match="Input/output error"):
        sink.commit()
    sink.abort()
    assert list(tmp_path.iterdir()) == []


def test_an_aborted_parquet_file_writes_nothing_when_its_writer_is_collected(tmp_path):
    """pyarrow's ParquetWriter closes itself when collected: an aborted export's would write its footer into a
    file already closed (an 'mmap closed or invalid' error on every aborted export)."""
    import gc
    import sys

    import pyarrow as pa

    from portfolio_assets.export.encoders import ParquetStream

    sink = LocalSink(tmp_path / "out", marker="m")
    staged = sink.open("x.parquet")
    stream = ParquetStream(staged, [])
    stream.append_table(pa.table({"a": [1, 2]}))
    stream.discard()
    staged.close()
    sink.abort()
    raised = []
    hook, sys.unraisablehook = sys.unraisablehook, raised.append
    try:
        del stream
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert raised == [] and not (tmp_path / "out").exists()
