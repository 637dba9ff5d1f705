"""The export's chunks prepared as Spark tasks (each gets its partitions' stored bytes): the same files, bytes
and errors as in this process."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from portfolio_assets.engine import EngineResource
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets_tests.test_export_attested import HAS_VOLUME, export, gate_store
from portfolio_assets_tests.test_export_attested import rows as rows_fixture

rows = pytest.fixture(scope="module", name="rows")(rows_fixture.__wrapped__)

pytestmark = pytest.mark.slow


@pytest.fixture
def jobs(monkeypatch) -> list[int]:
    """The number of calls of each Spark job the export submits."""
    seen: list[int] = []
    original = EngineResource.map_calls

    def counted(self, function, calls):
        seen.append(len(calls))
        return original(self, function, calls)

    monkeypatch.setattr(EngineResource, "map_calls", counted)
    return seen


@pytest.mark.parametrize("prompt_format", ["features", "chat"])
def test_the_export_on_spark_writes_the_in_process_bytes(rows, tmp_path, spark, jobs, prompt_format):
    files = gate_store(tmp_path / "store", rows)
    here, _ = export(files, tmp_path / "local", prompt_format=prompt_format)
    there, assets = export(
        files, tmp_path / "spark", prompt_format=prompt_format, engine=EngineResource(master_url="local[2]")
    )
    assert jobs and sum(jobs) > 1 and max(jobs) <= 2  # chunks of 400 / 2 rows, two a job: local[2]'s slots
    assert [(f.path, f.sha256) for f in there.files] == [(f.path, f.sha256) for f in here.files]
    for f in here.files:
        assert (there.out_dir / f.path).read_bytes() == (here.out_dir / f.path).read_bytes()
    assert assets == sorted(rows["asset_symbol"].unique())


def test_an_invalid_row_found_by_a_spark_task_fails_the_export_as_in_process(rows, tmp_path, spark):
    bad = rows.copy()
    bad.loc[bad.index[-1], "rsi_14"] = 250.0  # out of range, and the gate's record no longer vouches for it
    store = tmp_path / "store"
    files = gate_store(store, rows)
    keys = list(files)
    PartitionStore(store).write(["sft_rows"], bad, keys, granularity="monthly")
    files = PartitionStore(store).files(["sft_rows"], keys, granularity="monthly")
    errors = []
    for name, engine in (("local", None), ("spark", EngineResource(master_url="local[2]"))):
        with pytest.raises(ValueError, match="not exported") as err:
            export(files, tmp_path / name, engine=engine)
        errors.append(str(err.value))
        assert not (tmp_path / name).exists()  # nothing half-written
    assert errors[0] == errors[1]


def test_a_shipped_group_keeps_the_gates_attestation(rows, tmp_path, monkeypatch):
    """What a Spark task does with its group (here, in this process): the stored bytes it gets and their recorded
    digests let it skip the validation the gate already did, and tampered bytes do not."""
    from portfolio_assets.assets import training_set
    from portfolio_assets.assets.training_set import _calls, _shipped, prepare_shipped
    from portfolio_assets.io_managers import files_schema, recorded_digests

    validations: list[int] = []
    real = training_set.validate_rows
    monkeypatch.setattr(training_set, "validate_rows", lambda f, s, **k: validations.append(len(f)) or real(f, s, **k))
    files = gate_store(tmp_path / "store", rows)
    paths = list(files.values())
    counts = {k: len(PartitionStore(tmp_path / "store").read(["sft_rows"], [k])) for k in files}
    args = (files_schema(paths), "features", HAS_VOLUME, None)
    (call,) = _calls(files, [list(files)], counts, args, recorded_digests(paths))
    shipped = _shipped(call)
    prepared = prepare_shipped(*shipped)
    assert (prepared.valid, prepared.invalid) == (len(rows), 0) and validations == []
    (first_name, data), *others = shipped[0]
    table = pq.read_table(pa.BufferReader(data))
    frame = table.to_pandas()
    frame.loc[0, "rsi_14"] = 50.0  # not the bytes the gate hashed (and, its row in the warm-up, not valid)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), sink)
    again = prepare_shipped([(first_name, sink.getvalue().to_pybytes()), *others], *shipped[1:])
    assert validations and (again.valid, again.invalid) == (len(rows) - 1, 1)  # validated this time, and caught
