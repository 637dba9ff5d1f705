"""Each partition's materialisation says what that partition holds (its rows, assets, days and a small preview);
what is the whole run's is named as the run's and logged once; a single-partition run ties its check
evaluations to its partition."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterEventType, EventRecordsFilter
from dagster._serdes import serialize_value

from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.partsummary import partition_summary
from portfolio_assets.runner import materialize_range
from portfolio_assets_tests.resources import make_resources

FIRST, LAST = "2010-03-01", "2010-05-31"
MONTHS = ["2010-03-01", "2010-04-01", "2010-05-01"]
OBSERVED = ("prices", "macro", "benchmarks", "sentiment")
EVENT_BYTES = 2048
"""At most this many bytes of metadata on one partition's materialisation (the widest asset's included)."""


@pytest.fixture(scope="module")
def observed(tmp_path_factory, instance):
    """The observation assets that the IO manager stores, over three monthly partitions as one run."""
    from portfolio_assets.definitions import benchmarks, macro, prices, sentiment

    data_dir = tmp_path_factory.mktemp("partition_metadata")
    resources = make_resources(data_dir)
    result = materialize_range(
        [prices, macro, benchmarks, sentiment], FIRST, LAST, resources=resources, instance=instance
    )
    assert result.success
    return data_dir, result


def _events(result, asset: str) -> dict[str, dict[str, object]]:
    found = {}
    for event in result.get_asset_materialization_events():
        done = event.materialization
        if done.asset_key.to_user_string() == asset:
            found[done.partition] = {k: getattr(v, "value", v) for k, v in done.metadata.items()}
    return found


def _preview_days(preview: str) -> list[str]:
    """The days of the rows a preview shows (its first column, the timestamp)."""
    lines = [line for line in preview.splitlines() if line.startswith("| ")]
    assert lines[0].startswith("| timestamp |"), preview
    return [line.split("|")[1].strip()[:10] for line in lines[1:]]


@pytest.mark.parametrize("asset", OBSERVED)
def test_each_partition_carries_its_own_rows_days_and_preview(observed, asset):
    data_dir, result = observed
    store = PartitionStore(data_dir)
    events = _events(result, asset)
    assert sorted(events) == MONTHS
    for key, meta in events.items():
        stored = store.read([asset], [key])
        assert meta["rows"] == len(stored) > 0, key
        days = stored["timestamp"].dt.strftime("%Y-%m-%d")
        assert meta["date_range"] == f"{days.min()}..{days.max()}", key
        month = key[:7]
        assert meta["date_range"].startswith(month) and meta["date_range"].endswith(f"{days.max()}")
        assert days.max()[:7] == month
        shown = _preview_days(str(meta["preview"]))
        assert shown and shown[-1] == days.max() and all(d[:7] == month for d in shown), (key, shown)
        if "asset_symbol" in stored.columns:
            assert meta["assets"] == ", ".join(sorted(stored["asset_symbol"].unique()))
        # nothing of the whole run presented as the partition's
        assert "rows_per_asset" not in meta and "partition_range" not in meta
    runs = {meta["run_rows"] for meta in events.values()}
    assert runs == {sum(meta["rows"] for meta in events.values())}
    assert {meta["run_partition_range"] for meta in events.values()} == {f"{FIRST}..{LAST}"}


def test_a_partitions_metadata_stays_small(observed):
    _, result = observed
    for event in result.get_asset_materialization_events():
        size = len(serialize_value(event.materialization.metadata))
        assert size < EVENT_BYTES, (event.materialization.asset_key, event.materialization.partition, size)


def test_the_run_summary_is_logged_once_per_output(observed, instance):
    _, result = observed
    messages = [
        e.user_message
        for e in instance.all_logs(result.run_id)
        if e.dagster_event is None and e.user_message.startswith(OBSERVED)
    ]
    for asset in OBSERVED:
        mine = [m for m in messages if m.startswith(f"{asset} {FIRST}..{LAST}:")]
        assert len(mine) == 1, (asset, messages)
    prices = next(m for m in messages if m.startswith("prices"))
    assert "| asset | rows |" in prices and "BTC-USD" in prices


def test_a_partition_without_rows_says_so(tmp_path, instance):
    """A partition no row falls on still gets its own count: 0."""
    from dagster import DailyPartitionsDefinition, asset, materialize

    from portfolio_assets.io_managers import PartitionedParquetIOManager
    from portfolio_assets.resources import StorageResource

    days = DailyPartitionsDefinition(start_date="2020-01-01", end_date="2020-01-10")

    @asset(partitions_def=days, io_manager_key="io")
    def weekdays() -> pd.DataFrame:
        stamps = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06"], utc=True)
        return pd.DataFrame({"timestamp": stamps, "asset_symbol": ["A", "B", "A"], "price_close": [1.0, 2.0, 3.0]})

    io = PartitionedParquetIOManager(storage=StorageResource(data_dir=str(tmp_path)))
    tags = {"dagster/asset_partition_range_start": "2020-01-02", "dagster/asset_partition_range_end": "2020-01-06"}
    result = materialize([weekdays], instance=instance, resources={"io": io}, tags=tags)
    events = _events(result, "weekdays")
    assert {k: m["rows"] for k, m in events.items()} == {
        "2020-01-02": 1,
        "2020-01-03": 1,
        "2020-01-04": 0,
        "2020-01-05": 0,
        "2020-01-06": 1,
    }
    assert events["2020-01-03"]["assets"] == "B" and events["2020-01-03"]["date_range"] == "2020-01-03..2020-01-03"
    assert "preview" not in events["2020-01-04"] and "date_range" not in events["2020-01-04"]


def test_a_single_partition_run_ties_its_check_evaluations_to_the_partition(tmp_path, instance):
    from portfolio_assets.definitions import benchmarks

    result = materialize_range(
        [benchmarks], "2010-03-01", "2010-03-31", resources=make_resources(tmp_path), instance=instance
    )
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and {e.partition for e in evaluations} == {"2010-03-01"}
    history = instance.event_log_storage.get_asset_check_execution_history(
        AssetCheckKey(AssetKey("benchmarks"), "schema"), limit=5
    )
    mine = [r for r in history if r.run_id == result.run_id]
    assert [(r.partition, r.status.value) for r in mine] == [("2010-03-01", "SUCCEEDED")]
    records = instance.get_event_records(EventRecordsFilter(DagsterEventType.ASSET_CHECK_EVALUATION), limit=50)
    assert "2010-03-01" in {r.event_log_entry.dagster_event.event_specific_data.partition for r in records}


def test_a_range_run_records_each_check_against_every_partition_it_covered(observed, instance):
    """Dagster records a range run's evaluation unpartitioned and leaves each partition's check planned (shown
    skipped in the UI): each partition gets the run's verdict, its days, and where the cases are."""
    _, result = observed
    evaluations = result.get_asset_check_evaluations()
    by_check: dict[tuple[str, str], dict[str | None, object]] = {}
    for evaluation in evaluations:
        key = (evaluation.asset_key.to_user_string(), evaluation.check_name)
        by_check.setdefault(key, {})[evaluation.partition] = evaluation
        assert evaluation.metadata["partition_range"].value == f"{FIRST}..{LAST}"
    assert {name for name, _ in by_check} == set(OBSERVED)
    for (asset, name), per_partition in by_check.items():
        assert set(per_partition) == {None, *MONTHS}, (asset, name)
        run_evaluation = per_partition[None]
        assert {e.passed for e in per_partition.values()} == {run_evaluation.passed}
        assert "cases" in per_partition[MONTHS[0]].metadata and "summary" in run_evaluation.metadata
        history = instance.event_log_storage.get_asset_check_execution_history(AssetCheckKey(AssetKey(asset), name), 50)
        statuses = {r.partition: r.status.value for r in history if r.run_id == result.run_id}
        assert set(statuses) == {None, *MONTHS} and "PLANNED" not in statuses.values(), (asset, name, statuses)


def test_the_preview_of_the_widest_rows_stays_small():
    """A prompt's JSON and eighty feature columns: the preview shows the keys and a few values, cut short."""
    days = pd.date_range("2010-03-01", periods=40, tz="UTC")
    frame = pd.DataFrame({"instruction": ["Predict the 90-day forward price of X. " * 5] * 40})
    frame["input"] = json.dumps({f"feature_{i}": i / 7 for i in range(80)})
    frame["timestamp"], frame["asset_symbol"] = days, ["X|Y"] * 40
    for i in range(80):
        frame[f"feature_{i}"] = float(i) / 3
    summary = partition_summary(pa.Table.from_pandas(frame, preserve_index=False))
    preview = str(summary["preview"])
    assert len(preview.encode()) < 800, len(preview.encode())
    assert "6 of 84 columns" in preview and "X\\|Y" in preview  # a cell's pipe does not break the table
    assert preview.splitlines()[2] == "| timestamp | asset_symbol | instruction | input | feature_0 | feature_1 |"
    assert summary["rows"] == 40 and summary["assets"] == "X|Y" and summary["date_range"] == "2010-03-01..2010-04-09"
