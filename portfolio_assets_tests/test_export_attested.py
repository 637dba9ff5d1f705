"""The export trusts the gate's validation of stored sft_rows only where it implies the export's: the files are
the bytes the gate stored (their sha256 in the commit record), validated with today's schemas and ``has_volume``
(the recorded fingerprint), in the features prompt. Anything else is validated as before, with its errors."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import DailyPartitionsDefinition, Output, asset, materialize

from portfolio_assets.assets import training_set
from portfolio_assets.assets.training_set import export_partitions, prepare_chunk
from portfolio_assets.bench_rows import synthetic_rows
from portfolio_assets.checks import has_volume_for
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.definitions import gate_and_rows
from portfolio_assets.export import SplitConfig
from portfolio_assets.features.sft import format_rows
from portfolio_assets.io_managers import (
    COMMITS,
    VALIDATED,
    Commit,
    PartitionedParquetIOManager,
    PartitionStore,
    file_rows,
    files_schema,
    recorded_digests,
)
from portfolio_assets.resources import StorageResource
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, SftRowsSchema, validate_rows
from portfolio_assets.schemas.attestation import export_implied, gate_fingerprint
from portfolio_assets.spans import HORIZON_DAYS
from portfolio_assets.universe import DEFAULT_UNIVERSE, load_universe
from portfolio_assets_tests.test_export_stream import month_keys, tree_bytes
from portfolio_assets_tests.test_quality_gate import run_gate, store, upstream  # noqa: F401 (fixtures)

HAS_VOLUME = {"SYM000": True, "SYM001": True, "SYM002": False}
"""The synthetic assets' classes are crypto, equity and fx: only fx has no volume."""


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rows = format_rows(synthetic_rows(1200, assets=3), FEATURE_COLUMNS, HORIZON_DAYS, pairs=False)  # as stored
    assert validate_rows(rows, SftRowsSchema, has_volume=HAS_VOLUME).ok  # what the gate checks before storing
    return rows


def gate_store(root: Path, rows: pd.DataFrame, *, validated: str | None = None) -> dict[str, Path]:
    """``rows`` stored as the gate stores them (``validated``: the fingerprint; "" for none)."""
    keys = month_keys(rows)
    fingerprint = gate_fingerprint(rows, HAS_VOLUME) if validated is None else validated
    PartitionStore(root).write(["sft_rows"], rows, keys, granularity="monthly", validated=fingerprint)
    return PartitionStore(root).files(["sft_rows"], keys, granularity="monthly")


def export(files: dict[str, Path], out: Path, *, workers: int = 1, **options: object) -> tuple[object, list[str]]:
    """``export_partitions`` of ``files`` with this module's split and chunks; ``options`` override or add."""
    settings: dict[str, object] = {"prompt_format": "features", "has_volume": HAS_VOLUME, **options}
    return export_partitions(
        files,
        out,
        split=SplitConfig(validation_start="2000-08-01", test_start="2000-11-15"),
        shard_by="year",
        provenance=lambda: {"run": "attested"},
        chunk_rows=400,
        workers=workers,
        **settings,  # type: ignore[arg-type]
    )


@pytest.fixture
def spy(monkeypatch) -> list[int]:
    """The number of rows of every validation the export runs (in this process)."""
    calls: list[int] = []
    real = training_set.validate_rows

    def counted(frame, schema, **kwargs):
        calls.append(len(frame))
        return real(frame, schema, **kwargs)

    monkeypatch.setattr(training_set, "validate_rows", counted)
    return calls


@pytest.fixture(scope="module")
def validated_export(rows, tmp_path_factory) -> dict[str, bytes]:
    """The export of ``rows`` stored without a fingerprint: every row validated, as before."""
    root = tmp_path_factory.mktemp("plain")
    export(gate_store(root / "store", rows, validated=""), root / "out")
    return tree_bytes(root / "out")


@pytest.mark.parametrize("workers", [1, 2])
def test_rows_the_gate_stored_are_not_validated_again(rows, validated_export, tmp_path, spy, workers):
    export(gate_store(tmp_path / "store", rows), tmp_path / "out", workers=workers)
    assert spy == []
    assert tree_bytes(tmp_path / "out") == validated_export


def test_a_worker_skips_them_too(rows, tmp_path, spy):
    files = gate_store(tmp_path / "store", rows)
    paths = list(files.values())
    recorded = recorded_digests(paths)
    assert set(recorded) == set(paths)
    prepared = prepare_chunk(paths, files_schema(paths), "features", HAS_VOLUME, None, 0, recorded)
    assert spy == [] and (prepared.valid, prepared.invalid, prepared.frame_errors) == (len(rows), 0, [])
    again = prepare_chunk(paths, files_schema(paths), "features", None, None, 0, recorded)
    assert spy == [len(rows)] and (again.valid, again.invalid, again.frame_errors) == (len(rows), 0, [])


def rewrite(path: Path, change) -> None:
    frame = pq.read_table(path).to_pandas()
    pq.write_table(pa.Table.from_pandas(change(frame), preserve_index=False), path)


def out_of_range(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(rsi_14=frame["rsi_14"].where(frame.index != 3, 130.0))


def bad_target(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(target_return_pct_90d=frame["target_return_pct_90d"].where(frame.index != 7, -150.0))


@pytest.mark.parametrize(
    ("change", "workers"),
    [(out_of_range, 1), (bad_target, 1), (out_of_range, 2)],
    ids=["rsi_out_of_range", "bad_target", "rsi_out_of_range_in_workers"],
)
def test_a_file_changed_after_the_gate_is_validated_and_refused(rows, tmp_path, change, workers):
    refused = []
    for name, validated in (("plain", ""), ("gated", None)):
        files = gate_store(tmp_path / name, rows, validated=validated)
        rewrite(files[sorted(files)[5]], change)
        with pytest.raises(ValueError, match=re.escape("training_set: not exported: ")) as caught:
            export(files, tmp_path / f"out_{name}", workers=workers)
        refused.append(str(caught.value))
        assert not (tmp_path / f"out_{name}").exists()
    assert refused[0] == refused[1] and "1 invalid rows" in refused[0]


def drop_digests(root: Path) -> None:
    """The commit records as written before they held digests and a fingerprint."""
    for record in (root / "sft_rows" / COMMITS).glob("*.json"):
        data = json.loads(record.read_text())
        data.pop("validated"), data.pop("digests")
        record.write_text(json.dumps(data))


@pytest.mark.parametrize("case", ["has_volume", "fingerprint", "no_digest", "prompt_format"])
def test_anything_else_is_validated(rows, validated_export, tmp_path, spy, case):
    files = gate_store(tmp_path / "store", rows, validated="0" * 64 if case == "fingerprint" else None)
    options: dict[str, object] = {}
    if case == "has_volume":
        options["has_volume"] = {**HAS_VOLUME, "SYM003": True}  # the rows' verdict is the same
    elif case == "no_digest":
        drop_digests(tmp_path / "store")
        assert recorded_digests(list(files.values())) == {}
    elif case == "prompt_format":
        options["prompt_format"] = "chat"
    export(files, tmp_path / "out", **options)
    assert sum(spy) == len(rows)
    if case != "prompt_format":
        assert tree_bytes(tmp_path / "out") == validated_export


def test_timestamps_that_write_alike_are_validated(rows, tmp_path, spy):
    # Two instants of the same second are two keys to the gate but one in the ISO text the export writes.
    twin = rows.iloc[[10]].assign(timestamp=rows["timestamp"].iloc[10] + pd.Timedelta("500ms"))
    doubled = pd.concat([rows, twin], ignore_index=True)
    assert validate_rows(doubled, SftRowsSchema, has_volume=HAS_VOLUME).ok
    with pytest.raises(ValueError, match=re.escape(f"not exported: {len(rows) - 1} valid, 2 invalid rows")):
        export(gate_store(tmp_path / "store", doubled), tmp_path / "out")
    assert 0 < sum(spy) < len(doubled)  # the group holding the twins, not the others


def test_the_export_schema_checks_nothing_else_the_gate_does_not(monkeypatch):
    assert export_implied()
    monkeypatch.setitem(TRAINING_SET_SCHEMAS, "features", TRAINING_SET_SCHEMAS["chat"])  # one more column
    export_implied.cache_clear()
    try:
        assert not export_implied()
    finally:
        monkeypatch.undo()
        export_implied.cache_clear()
    assert export_implied()


def test_the_fingerprint_names_the_map_and_the_dtypes(rows):
    fingerprint = gate_fingerprint(rows, HAS_VOLUME)
    assert fingerprint == gate_fingerprint(rows.iloc[:5], dict(reversed(HAS_VOLUME.items())))
    assert fingerprint != gate_fingerprint(rows, {**HAS_VOLUME, "SYM002": True})
    assert fingerprint != gate_fingerprint(rows, None)
    assert fingerprint != gate_fingerprint(rows.astype({"rsi_14": "float32"}), HAS_VOLUME)


def test_the_commit_record_round_trips_and_an_old_one_loads(tmp_path):
    commit = Commit(
        generation="g",
        partitions=("2020-01-01",),
        validated="ab" * 32,
        digests={"2020-01-01": "cd" * 32},
        granularity="monthly",
    )
    (tmp_path / "new.json").write_bytes(commit.to_json())
    assert Commit.from_path(tmp_path / "new.json") == commit
    assert Commit.from_path(tmp_path / "new.json").digests == {"2020-01-01": "cd" * 32}
    old = {"generation": "g", "run_id": "r", "blocked_by": [], "partitions": ["2020-01-01"]}
    (tmp_path / "old.json").write_text(json.dumps(old))
    loaded = Commit.from_path(tmp_path / "old.json")
    assert (loaded.validated, dict(loaded.digests)) == ("", {})
    plain = Commit(generation="g", partitions=("2020-01-01",))
    assert set(json.loads(plain.to_json())) == {
        "generation",
        "run_id",
        "blocked_by",
        "excluded",
        "committed_at",
        "granularity",
        "partitions",
    }  # a write without a fingerprint records what it did before


def test_the_io_manager_records_the_fingerprint_and_each_files_digest(tmp_path, instance):
    days = DailyPartitionsDefinition(start_date="2020-01-01", end_date="2020-01-05")
    frame = pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=4, tz="UTC"), "x": [1.0, 2.0, 3.0, 4.0]})

    @asset(partitions_def=days, io_manager_key="io")
    def vouched(context) -> Output[pd.DataFrame]:
        return Output(frame, metadata={VALIDATED: "ab" * 32})

    @asset(partitions_def=days, io_manager_key="io")
    def plain(context) -> pd.DataFrame:
        return frame

    io = PartitionedParquetIOManager(storage=StorageResource(data_dir=str(tmp_path)))
    tags = {"dagster/asset_partition_range_start": "2020-01-01", "dagster/asset_partition_range_end": "2020-01-04"}
    assert materialize([vouched, plain], instance=instance, resources={"io": io}, tags=tags).success
    part = PartitionStore(tmp_path)
    keys = part.keys(["vouched"])
    commit = part.commit_of(["vouched"], keys[0])
    files = part.files(["vouched"], keys)
    assert commit is not None and commit.validated == "ab" * 32
    assert dict(commit.digests) == {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    assert recorded_digests(list(files.values())) == {p: (commit.digests[k], "ab" * 32) for k, p in files.items()}
    unvouched = part.commit_of(["plain"], keys[0])
    assert unvouched is not None and (unvouched.validated, dict(unvouched.digests)) == ("", {})
    assert part.read(["vouched"], keys).equals(part.read(["plain"], keys))


@pytest.mark.slow
def test_the_gate_records_what_it_validated_and_the_export_trusts_it(store, instance, spy):  # noqa: F811
    result, _, done, _ = run_gate(store, instance, selection=(gate_and_rows,))
    assert result.success and "sft_rows" in done
    part = PartitionStore(store)
    keys = part.keys(["sft_rows"])
    files = part.files(["sft_rows"], keys, granularity="monthly")
    commit = part.commit_of(["sft_rows"], keys[0])
    assert commit is not None and len(commit.validated) == 64
    assert dict(commit.digests) == {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    paths = list(files.values())
    has_volume = has_volume_for(load_universe(DEFAULT_UNIVERSE).assets)
    prepared = prepare_chunk(paths, files_schema(paths), "features", has_volume, None, 0, recorded_digests(paths))
    assert spy == [] and (prepared.invalid, prepared.frame_errors) == (0, [])
    assert prepared.valid == sum(file_rows(p) for p in paths) > 0
