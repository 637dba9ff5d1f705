"""The streaming export (``export_partitions``) writes the bytes and raises the errors of the whole-set export."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.assets.training_set import csv_ready, export_partitions
from portfolio_assets.bench_rows import synthetic_rows
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.export import SplitConfig, export_training_set
from portfolio_assets.export.encoders import WRITERS, ParquetStream
from portfolio_assets.export.frame import Column
from portfolio_assets.features.sft import format_rows
from portfolio_assets.io_managers import BlockedPartitionError, PartitionStore, files_schema, read_files
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, validate_rows
from portfolio_assets.spans import HORIZON_DAYS

PROVENANCE = {"run": "stream"}


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def month_keys(rows: pd.DataFrame) -> list[str]:
    first, last = (rows["timestamp"].min().tz_localize(None), rows["timestamp"].max().tz_localize(None))
    return [f"{p.start_time:%Y-%m-%d}" for p in pd.period_range(start=first, end=last, freq="M")]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """Formatted synthetic sft rows (3 assets, about 2.7 years) in a monthly store, and the keys."""
    rows = format_rows(synthetic_rows(3000, assets=3), FEATURE_COLUMNS, HORIZON_DAYS, pairs=False)  # as stored
    root = tmp_path_factory.mktemp("store")
    keys = month_keys(rows)
    PartitionStore(root).write(["sft_rows"], rows, keys, granularity="monthly")
    return PartitionStore(root), keys


def whole_export(store: PartitionStore, keys: list[str], out: Path, **options: object) -> object:
    """What training_set did before it streamed: every row at once."""
    rows = format_rows(store.read(["sft_rows"], keys), FEATURE_COLUMNS, HORIZON_DAYS)
    result = validate_rows(csv_ready(rows), TRAINING_SET_SCHEMAS["features"])
    if not result.ok:
        raise ValueError(f"training_set: not exported: {result.summary()}")
    return export_training_set(rows, out, provenance=PROVENANCE, synthetic=(), **options)  # type: ignore[arg-type]


def stream_export(store: PartitionStore, keys: list[str], out: Path, chunk_rows: int, **options: object) -> object:
    report, _ = export_partitions(
        store.files(["sft_rows"], keys),
        out,
        prompt_format="features",
        provenance=lambda: PROVENANCE,
        chunk_rows=chunk_rows,
        **options,  # type: ignore[arg-type]
    )
    return report


@pytest.mark.parametrize(
    ("shard_by", "split", "chunk_rows", "workers"),
    [
        ("year", SplitConfig(embargo_days=3), 500, 1),
        ("quarter", SplitConfig(validation_start="2001-09-01", test_start="2002-01-10"), 1, 1),
        ("month", SplitConfig(), 10**9, 1),
        # Chunks formatted, validated and encoded in worker processes, written here in order.
        ("year", SplitConfig(embargo_days=3), 500, 2),
        ("quarter", SplitConfig(validation_start="2001-09-01", test_start="2002-01-10"), 700, 3),
    ],
)
def test_the_streamed_export_is_byte_identical(stored, tmp_path, shard_by, split, chunk_rows, workers):
    store, keys = stored
    whole = whole_export(store, keys, tmp_path / "whole", split=split, shard_by=shard_by)
    streamed = stream_export(
        store, keys, tmp_path / "stream", chunk_rows, split=split, shard_by=shard_by, workers=workers
    )
    assert tree_bytes(tmp_path / "stream") == tree_bytes(tmp_path / "whole")
    assert streamed.rows == whole.rows and streamed.excluded_by_boundary == whole.excluded_by_boundary
    assert [f.path for f in streamed.files] == [f.path for f in whole.files]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stream", "whole"]  # no staging left


def test_parquet_written_in_parts_is_byte_identical():
    rng = np.random.default_rng(3)
    n = 150_000
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2000-01-01", periods=n, freq="h", tz="UTC"),
            "text": pd.Series([f"row {i % 977}" if i % 13 else None for i in range(n)], dtype=object),
            "value": np.where(rng.random(n) < 0.1, np.nan, rng.standard_normal(n)),
            "count": pd.array(rng.integers(0, 50, n), dtype="Int64"),
            "flag": pd.array(rng.random(n) < 0.5, dtype="boolean"),
        }
    )
    columns = [
        Column("timestamp", "timestamp"),
        Column("text", "str"),
        Column("value", "float64"),
        Column("count", "Int64"),
        Column("flag", "boolean"),
    ]
    import pyarrow as pa

    for cuts in ([1, 70_000, 70_001, 140_000], [65_536, 131_072], [10, 20, 65_546, 149_999]):
        sink = pa.BufferOutputStream()
        stream = ParquetStream(sink, columns)  # type: ignore[arg-type]
        for start, stop in zip([0, *cuts], [*cuts, n], strict=True):
            stream.append(frame.iloc[start:stop].reset_index(drop=True))
        stream.close()
        assert sink.getvalue().to_pybytes() == WRITERS["parquet"](frame, columns), cuts


@pytest.mark.parametrize("workers", [1, 2])
def test_a_validation_failure_names_every_invalid_row(stored, tmp_path, workers):
    store, keys = stored
    rows = store.read(["sft_rows"], keys)
    bad = rows.copy()
    for day in ("2000-02-03", "2001-07-04"):
        bad.loc[bad["timestamp"] == pd.Timestamp(day, tz="UTC"), "price_close"] = -1.0
    broken = PartitionStore(tmp_path / "broken")
    broken.write(["sft_rows"], bad, keys, granularity="monthly")
    with pytest.raises(ValueError) as whole:
        whole_export(broken, keys, tmp_path / "whole", split=SplitConfig())
    with pytest.raises(ValueError, match=re.escape(str(whole.value))):
        stream_export(
            broken,
            keys,
            tmp_path / "stream",
            500,
            split=SplitConfig(),
            shard_by="year",
            label="training_set",
            workers=workers,
        )
    assert not any(tmp_path.glob("stream")) and not any(tmp_path.glob(".stream*"))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_split_that_cannot_be_placed_is_the_same_error(stored, tmp_path, workers):
    store, keys = stored
    split = SplitConfig(validation_start="1999-01-01", test_start="2001-01-01")
    with pytest.raises(ValueError) as whole:
        whole_export(store, keys, tmp_path / "whole", split=split)
    with pytest.raises(ValueError, match=re.escape(str(whole.value))):
        stream_export(store, keys, tmp_path / "stream", 500, split=split, shard_by="year", workers=workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_missing_and_blocked_partitions_are_refused_as_a_read_refuses_them(stored, tmp_path):
    store, keys = stored
    with pytest.raises(FileNotFoundError, match="1 partition"):
        store.files(["sft_rows"], [*keys, "2030-01-01"])
    blocked = PartitionStore(tmp_path)
    blocked.write(
        ["sft_rows"], store.read(["sft_rows"], keys[:2]), keys[:2], blocked_by=["schema"], granularity="monthly"
    )
    with pytest.raises(BlockedPartitionError, match="failed blocking check"):
        blocked.files(["sft_rows"], keys[:2])


def test_reading_in_parts_gives_the_dtypes_of_the_whole_read(tmp_path):
    store = PartitionStore(tmp_path)
    days = pd.date_range("2020-01-01", "2020-01-04", tz="UTC")
    first = pd.DataFrame({"timestamp": days[:2], "x": [1.5, 2.5], "n": pd.array([1, None], dtype="Int64")})
    second = pd.DataFrame({"timestamp": days[2:], "x": [None, None], "n": pd.array([3, 4], dtype="Int64")})
    store.write(["a"], first, ["2020-01-01", "2020-01-02"])
    store.write(["a"], second, ["2020-01-03", "2020-01-04"])
    files = store.files(["a"], ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"])
    paths = list(files.values())
    whole = store.read(["a"], list(files))
    schema = files_schema(paths)
    parts = [read_files(paths[:2], schema=schema), read_files(paths[2:], schema=schema)]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    light = read_files(paths, columns=["timestamp", "x"], schema=schema)
    pd.testing.assert_frame_equal(light, whole[["timestamp", "x"]])
