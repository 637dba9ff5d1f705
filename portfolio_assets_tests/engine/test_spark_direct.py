"""Store to store on Spark (``direct.py``): executors read the input's files and stage the output's, the driver
commits; a failure on an executor commits nothing and leaves nothing staged; the rows-through-the-driver path
(``PORTFOLIO_SPARK_DIRECT_IO=off``) stores what the in-process engine stores."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
import pytest

from portfolio_assets.direct import StepCall, run_stored, stored_input
from portfolio_assets.engine import EngineResource
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.objectstore import S3Location, S3Options
from portfolio_assets.partsummary import partition_summary

DAYS = [f"2021-01-{d:02d}" for d in range(1, 11)]
FIRST, LAST = pd.Timestamp("2021-01-03", tz="UTC"), pd.Timestamp("2021-01-09", tz="UTC")


def _prices() -> pd.DataFrame:
    rows = []
    for day in DAYS:
        for i, symbol in enumerate(("A", "B", "C")):
            if symbol == "C" and day > "2021-01-05":
                continue  # C stops: later days hold fewer assets, the last run days none of it
            rows.append((symbol, pd.Timestamp(day, tz="UTC"), 10.0 * (i + 1) + int(day[-2:]) / 7))
    return pd.DataFrame(rows, columns=["asset_symbol", "timestamp", "price_close"])


def moved(prices: pd.DataFrame, *, scale: float) -> pd.DataFrame:
    """A per-asset function: each close's change from the asset's previous one, scaled."""
    out = prices.sort_values(["asset_symbol", "timestamp"], kind="stable", ignore_index=True)
    return out.assign(change=out.groupby("asset_symbol")["price_close"].diff() * scale)


def refuse_b(prices: pd.DataFrame, *, scale: float) -> pd.DataFrame:
    if (prices["asset_symbol"] == "B").any():
        raise LookupError("asset B has no history before 2021")
    return moved(prices, scale=scale)


def rows_of(out: pd.DataFrame, **_: object) -> dict[str, int]:
    return out["asset_symbol"].value_counts().to_dict()


@pytest.fixture
def store(tmp_path) -> PartitionStore:
    store = PartitionStore(tmp_path)
    store.write(["prices"], _prices(), DAYS)
    return store


def _run(store: PartitionStore, function, engine: EngineResource):
    source = stored_input(
        store, "prices", ["prices"], DAYS, granularity="daily", first_day=FIRST - pd.Timedelta(days=2), last_day=LAST
    )
    keys = [d for d in DAYS if FIRST.strftime("%Y-%m-%d") <= d <= LAST.strftime("%Y-%m-%d")]
    staging = store.begin(["moved"], keys, granularity="daily")
    call = StepCall(function, ("moved",), (FIRST, LAST), rows_of)
    try:
        return staging, run_stored(
            engine, call, [source], store=store, outputs={"moved": staging}, shared={"scale": 2.0}
        )
    except BaseException:
        store.abort(staging)
        raise


def test_executors_stage_every_partition_and_the_commit_shows_the_in_process_rows(store, spark):
    staging, done = _run(store, moved, EngineResource(master_url="local[2]"))
    assert not store.keys(["moved"])  # staged, not visible before the commit
    store.commit(staging, digests=done.digests["moved"])
    keys = store.keys(["moved"])
    assert keys == list(staging.keys) and done.counts["moved"]["2021-01-09"] == 2  # C has stopped
    whole = moved(store.read(["prices"], DAYS), scale=2.0)
    expected = whole[(whole["timestamp"] >= FIRST) & (whole["timestamp"] <= LAST)]
    expected = expected.sort_values(["timestamp", "asset_symbol"], ignore_index=True)  # read day by day
    pdt.assert_frame_equal(store.read(["moved"], keys), expected, check_exact=True)
    assert done.partials == {"A": {"A": 7}, "B": {"B": 7}, "C": {"C": 3}}  # each asset's partial, by symbol
    # Each partition's summary, made by the task that staged its file, is the summary of the rows it holds.
    for key in keys:
        held = pa.Table.from_pandas(store.read(["moved"], [key]), preserve_index=False)
        assert done.summaries["moved"][key] == partition_summary(held), key
    assert done.summaries["moved"]["2021-01-09"]["assets"] == "A, B"
    assert done.summaries["moved"]["2021-01-09"]["date_range"] == "2021-01-09..2021-01-09"


def test_an_error_on_an_executor_is_raised_as_itself_and_nothing_is_left(store, spark):
    with pytest.raises(LookupError, match="asset B has no history before 2021"):
        _run(store, refuse_b, EngineResource(master_url="local[2]"))
    folder = store.folder(["moved"])
    assert not store.keys(["moved"])
    assert not list(folder.glob("*.parquet")) and not list((folder / "_inflight").glob("*"))


def test_where_the_rows_go_is_chosen_by_direct_io_and_the_store():
    s3 = PartitionStore(S3Location("bucket", "store", S3Options(cache_dir="/tmp/cache")))
    local = PartitionStore("/data")
    cases = {
        ("", "auto", "local"): False,  # in-process
        ("local[2]", "auto", "local"): True,  # one host: the executors see the directory
        ("spark://dgx:7077", "auto", "local"): False,  # a directory a remote executor may not see
        ("spark://dgx:7077", "on", "local"): True,  # the operator says it is mounted everywhere
        ("spark://dgx:7077", "auto", "s3"): True,
        ("local[2]", "off", "s3"): False,
    }
    for (url, direct_io, where), expected in cases.items():
        engine = EngineResource(master_url=url, direct_io=direct_io)
        assert engine.reads_store(s3 if where == "s3" else local) is expected, (url, direct_io, where)


def test_the_rows_through_the_driver_store_what_the_in_process_engine_stores(tmp_path, full_backfill, spark):
    """``direct_io=off``: the pieces go through the driver (``EngineResource.map_assets``); the heavy assets of a
    range are still the in-process ones, and no step says the executors staged it."""
    from dagster import DagsterInstance

    from portfolio_assets.definitions import gate_and_rows, indicators, targets
    from portfolio_assets.runner import materialize_range
    from portfolio_assets_tests.engine.ranges import BUILT, inputs_of
    from portfolio_assets_tests.engine.ranges import FIRST as RANGE_FIRST
    from portfolio_assets_tests.engine.ranges import LAST as RANGE_LAST
    from portfolio_assets_tests.resources import make_resources

    engines = {"off": EngineResource(master_url="local[2]", direct_io="off"), "in-process": EngineResource()}
    built = {}
    for name, engine in engines.items():
        data_dir = inputs_of(full_backfill, tmp_path / name)
        resources = make_resources(data_dir, engine=engine)
        with DagsterInstance.ephemeral() as instance:
            for selection in ([indicators], [targets, gate_and_rows]):
                result = materialize_range(
                    selection, RANGE_FIRST, RANGE_LAST, resources=resources, instance=instance, log_level="WARNING"
                )
                assert result.success
                events = result.get_asset_materialization_events()
                assert not any("staged_by" in e.materialization.metadata for e in events)
        built[name] = PartitionStore(data_dir)
    for asset in BUILT:
        keys = built["in-process"].keys([asset])
        assert keys and built["off"].keys([asset]) == keys
        pdt.assert_frame_equal(
            built["off"].read([asset], keys), built["in-process"].read([asset], keys), check_exact=True
        )


def test_an_unreadable_input_file_fails_the_step_naming_it_and_nothing_is_left(store, spark):
    broken = store.files(["prices"], ["2021-01-04"])["2021-01-04"]
    broken.write_bytes(b"not parquet")
    with pytest.raises(pa.ArrowInvalid, match=broken.name):
        _run(store, moved, EngineResource(master_url="local[2]"))
    folder = store.folder(["moved"])
    assert not store.keys(["moved"]) and not list(folder.glob("*.parquet"))


def test_no_asset_with_a_row_still_gives_the_checks_their_partial(store, spark):
    """Every asset left out (a source outage): the partial is the in-process call's on no rows, and every
    partition gets its empty file."""
    source = stored_input(
        store,
        "prices",
        ["prices"],
        DAYS,
        granularity="daily",
        first_day=FIRST,
        last_day=LAST,
        leave_out=("A", "B", "C"),
    )
    staging = store.begin(["moved"], DAYS[2:9], granularity="daily")
    call = StepCall(moved, ("moved",), (FIRST, LAST), rows_of)
    done = run_stored(
        EngineResource(master_url="local[2]"),
        call,
        [source],
        store=store,
        outputs={"moved": staging},
        shared={"scale": 2.0},
    )
    assert done.partials == {"": {}}
    assert done.counts["moved"] == dict.fromkeys(DAYS[2:9], 0)
    assert done.summaries["moved"] == {key: {"rows": 0} for key in DAYS[2:9]}
    store.commit(staging, digests=done.digests["moved"])
    assert list(store.read(["moved"], DAYS[2:9]).columns) == ["asset_symbol", "timestamp", "price_close", "change"]


def test_a_failure_after_the_job_gives_up_what_the_executors_staged(store):
    from portfolio_assets.assets.stored import Step, given_up_on_error

    staging = store.begin(["moved"], DAYS[:2], granularity="daily")
    store.stage(staging, DAYS[0], pa_table())
    step = Step({}, [], stagings={"moved": staging})
    with pytest.raises(RuntimeError, match="merging the checks failed"), given_up_on_error(store, step):
        raise RuntimeError("merging the checks failed")
    folder = store.folder(["moved"])
    assert not list(folder.glob("*.parquet")) and not list((folder / "_inflight").glob("*"))


def test_collecting_garbage_spares_a_file_a_live_writer_is_staging(store):
    """Another write of the asset collects garbage when it begins: a running task's temporary file survives it,
    and giving up the write removes it."""
    staging = store.begin(["moved"], DAYS[:2], granularity="daily")
    target = store.path(["moved"], DAYS[0], staging.generation)
    partial_file = target.with_name(f".{target.name}.0123abcd.tmp")
    partial_file.write_bytes(b"half a parquet file")
    store.begin(["moved"], DAYS[2:4], granularity="daily")  # another run's write of the asset
    assert partial_file.exists()
    store.abort(staging)
    assert not partial_file.exists()


def pa_table():
    return pa.table({"asset_symbol": ["A"], "timestamp": [pd.Timestamp(DAYS[0], tz="UTC")], "price_close": [1.0]})


def test_the_assets_results_come_back_by_symbol_whatever_the_rows_order(spark):
    frame = pd.DataFrame(
        {"asset_symbol": ["BTC-USD", "AAPL", "BTC-USD"], "timestamp": pd.to_datetime([1, 2, 3], utc=True)}
    )
    results = EngineResource(master_url="local[2]").map_assets(rows_of, {"out": frame})
    assert results == [{"AAPL": 1}, {"BTC-USD": 2}]
