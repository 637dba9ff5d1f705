"""Real materialisations of the whole graph on the bundled sample (slow, run in CI)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets import fpmath
from portfolio_assets.export import read_export
from portfolio_assets.features import TECHNICAL_FEATURES
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.runner import materialize_all, materialize_range
from portfolio_assets.spans import HORIZON_DAYS, INDICATOR_LOOKBACK_DAYS
from portfolio_assets.universe import load_universe
from portfolio_assets_tests.resources import make_resources
from portfolio_assets_tests.sample_frames import mapped_span, month_keys

pytestmark = pytest.mark.slow

# A Monday deep inside the sample whose 90-day horizon is a Sunday: equities'
# targets must come from the Friday before. Its partition (a month) is materialised alone.
DAY = "2011-06-13"
MONTH = ("2011-06-01", "2011-06-30")
LOOKBACK_START = mapped_span(*MONTH, INDICATOR_LOOKBACK_DAYS, 0)[0]
HORIZON_END = (pd.Timestamp(DAY) + pd.Timedelta(days=HORIZON_DAYS)).strftime("%Y-%m-%d")
MONTH_HORIZON_END = mapped_span(*MONTH, 0, HORIZON_DAYS)[1]


@pytest.fixture(scope="session")
def single_day(tmp_path_factory, instance):
    """DAY's partition materialised on its own: only the prices it needs (the months its lookback and horizon
    mappings name), then each downstream asset for that partition alone."""
    from portfolio_assets.definitions import (
        benchmarks,
        gate_and_rows,
        indicators,
        macro,
        prices,
        sentiment,
        targets,
    )

    data_dir = tmp_path_factory.mktemp("single")
    resources = make_resources(data_dir)
    steps = [
        ([prices], LOOKBACK_START, MONTH_HORIZON_END),
        ([benchmarks], LOOKBACK_START, DAY),
        ([macro, sentiment, indicators], DAY, DAY),
        ([targets, gate_and_rows], DAY, DAY),
    ]
    for selection, first, last in steps:
        assert materialize_range(selection, first, last, resources=resources, instance=instance).success
    return data_dir


MONTHS = ("2009-01-01", "2009-09-30")
SPLIT_DAYS = {"validation_start": "2009-04-15", "test_start": "2009-08-01"}
"""Every split's labels are purged against the next split's start, so train and validation must each span more
than the 90-day horizon: two weeks of training rows and about three of validation rows survive."""


@pytest.fixture(scope="session")
def multi_month(tmp_path_factory, instance):
    """A multi-month labelled range on a fresh store: observations only as far as it needs."""
    data_dir = tmp_path_factory.mktemp("months")
    horizon_end = mapped_span(*MONTHS, 0, HORIZON_DAYS)[1]  # the partitions the horizon mapping names
    results = materialize_all(
        resources=make_resources(data_dir, **SPLIT_DAYS),
        instance=instance,
        observation_range=("2008-01-01", horizon_end),
        labelled_range=MONTHS,
    )
    assert all(r.success for r in results)
    return data_dir, results


def read(data_dir, asset: str, first: str, last: str) -> pd.DataFrame:
    """The stored rows of days ``first..last`` (read from the monthly partitions that hold them)."""
    rows = PartitionStore(data_dir).read([asset], month_keys(first, last))
    day = rows["timestamp"].dt.strftime("%Y-%m-%d")
    return rows[(day >= first) & (day <= last)].reset_index(drop=True)


SAMPLE_EXPORT_DIGEST = "f13bbdc4c683c8de51ea3a52599f31e7c7464c699f039d6bdb40c1fd6aa8b295"
"""sha256 of the sorted (path, sha256) pairs of every data file the sample export writes.

A refactor must leave every exported byte as it was. A change that means to alter the
export (a new feature, another rounding) updates this value in the same commit and says why.
"""


def test_the_sample_export_is_byte_identical_to_the_pinned_one(full_backfill):
    _, results = full_backfill
    path = Path(results[-1].asset_materializations_for_node("training_set")[-1].metadata["path"].value)
    manifest = json.loads((path / "manifest.json").read_text())
    files = sorted((f["path"], f["sha256"]) for f in manifest["files"])
    assert len(files) == 15  # csv, jsonl, parquet x train, validation, test x shards
    digest = hashlib.sha256(json.dumps(files).encode()).hexdigest()
    assert digest == SAMPLE_EXPORT_DIGEST, files


def test_demo_csv_covers_every_asset_with_every_target(full_backfill):
    _, results = full_backfill
    meta = results[-1].asset_materializations_for_node("training_set")[-1].metadata
    path = meta["path"].value
    frame = read_export(path, "csv").drop(columns="split")
    universe = load_universe()
    assert set(frame["asset_symbol"]) == set(universe.symbols)
    assert {
        "instruction",
        "input",
        "output",
        "context_window",
        "timestamp",
        "asset_symbol",
        "asset_class",
        "price_close",
        "volume",
        "target_price_90d",
        "target_return_90d",
        "target_return_pct_90d",
        *TECHNICAL_FEATURES,
    } <= set(frame.columns)
    assert frame[["target_price_90d", "target_return_90d", "target_return_pct_90d"]].notna().all().all()
    assert len(frame) == meta["rows"].value
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    assert stamps.min() == pd.Timestamp("2009-01-01", tz="UTC")
    assert stamps.max() == pd.Timestamp("2012-11-30", tz="UTC")  # crypto trades on the last labelled day
    # At least two years of fully labelled rows per asset.
    for symbol, group in frame.groupby("asset_symbol"):
        span = pd.to_datetime(group["timestamp"]).max() - pd.to_datetime(group["timestamp"]).min()
        assert span >= timedelta(days=730), symbol
    # Strict JSON everywhere, consistent with the canonical columns.
    files = sorted(Path(path).glob("csv/*/*.csv"))
    assert {f.parent.name for f in files} == {"train", "validation", "test"}
    for file in files:
        handle = file.open(newline="", encoding="utf-8")
        for row in csv.DictReader(handle):
            features = json.loads(row["input"], parse_constant=_reject)
            target = json.loads(row["output"], parse_constant=_reject)
            closes = json.loads(row["context_window"], parse_constant=_reject)
            assert features["price_close"] == pytest.approx(float(row["price_close"]), rel=1e-5)
            assert target["predicted_price_90d"] == pytest.approx(float(row["target_price_90d"]), rel=1e-5)
            assert closes[-1] == features["price_close"] and 1 <= len(closes) <= 30


def _reject(token: str) -> float:
    raise ValueError(f"non-standard JSON constant {token}")


def test_a_multi_month_range_of_the_full_graph(multi_month, full_backfill):
    data_dir, results = multi_month
    meta = results[-1].asset_materializations_for_node("training_set")[-1].metadata
    assert meta["date_range"].value == f"{MONTHS[0]}..{MONTHS[1]}"
    frame = read_export(meta["path"].value, "csv")
    assert set(frame["asset_symbol"]) == set(load_universe().symbols)
    assert frame["target_price_90d"].notna().all()
    # The same rows as inside the full multi-year backfill, which started elsewhere.
    keys = ["asset_symbol", "timestamp"]
    here = read(data_dir, "sft_rows", *MONTHS).sort_values(keys).reset_index(drop=True)
    there = read(full_backfill[0], "sft_rows", *MONTHS).sort_values(keys).reset_index(drop=True)
    manifest = json.loads((Path(meta["path"].value) / "manifest.json").read_text())
    rows = manifest["rows"]
    assert len(here) == rows["input"] == len(frame) + rows["purged"] + rows["embargoed"] and len(frame) > 0
    pd.testing.assert_frame_equal(here, there, check_exact=False, rtol=1e-9, atol=1e-12)


def test_targets_are_the_close_90_days_later(full_backfill):
    data_dir, _ = full_backfill
    prices = read(data_dir, "prices", "2008-01-01", "2013-02-28")
    targets = read(data_dir, "targets", "2010-03-01", "2010-03-31")
    split = targets[(targets["asset_symbol"] == "TLT") & (targets["timestamp"] >= pd.Timestamp("2010-03-17", tz="UTC"))]
    for row in pd.concat([targets.sample(20, random_state=1), split.head(1)]).itertuples():
        own = prices[
            (prices["asset_symbol"] == row.asset_symbol)
            & (prices["timestamp"] <= row.timestamp + pd.Timedelta(days=90))
        ]
        expected = own.iloc[-1]
        assert row.target_timestamp == expected["timestamp"]
        # in the row's share basis: a split inside the horizon (TLT's 2-for-1 in 2010-06) scales the close
        today = own[own["timestamp"] == row.timestamp].iloc[0]
        basis = expected["split_factor_cum"] / today["split_factor_cum"]
        assert row.target_price_90d == expected["price_close"] * basis
        assert row.target_return_90d == pytest.approx(
            fpmath.log(expected["price_close"] * basis / today["price_close"]), rel=1e-12
        )


@pytest.mark.parametrize(
    ("asset", "keys"),
    [
        ("indicators", ["asset_symbol", "timestamp"]),
        ("targets", ["asset_symbol", "timestamp"]),
        ("sft_rows", ["asset_symbol", "timestamp"]),
        ("macro", ["timestamp"]),
        ("sentiment", ["asset_symbol", "timestamp"]),
    ],
)
def test_a_partition_alone_equals_the_same_partition_inside_a_multi_year_backfill(
    full_backfill, single_day, asset, keys
):
    alone = read(single_day, asset, *MONTH).sort_values(keys).reset_index(drop=True)
    inside = read(full_backfill[0], asset, *MONTH).sort_values(keys).reset_index(drop=True)
    assert len(alone) > 0 and list(alone.columns) == list(inside.columns)
    numeric = alone.select_dtypes("number").columns
    pd.testing.assert_frame_equal(alone[numeric], inside[numeric], check_exact=False, rtol=1e-9, atol=1e-12)
    others = [c for c in alone.columns if c not in numeric]
    pd.testing.assert_frame_equal(alone[others], inside[others])


def test_weekend_horizon_takes_the_last_close_before_it(single_day):
    assert pd.Timestamp(HORIZON_END).day_name() == "Sunday"
    targets = read(single_day, "targets", DAY, DAY).set_index("asset_symbol")
    assert targets["target_price_90d"].notna().all()
    assert targets.loc["GOOG", "target_timestamp"] == pd.Timestamp(HORIZON_END, tz="UTC") - pd.Timedelta(days=2)
    assert targets.loc["BTC-USD", "target_timestamp"] == pd.Timestamp(HORIZON_END, tz="UTC")


def test_not_applicable_is_per_asset(full_backfill):
    rows = read(full_backfill[0], "sft_rows", DAY, DAY).set_index("asset_symbol")
    assert json.loads(rows.loc["GOOG", "not_applicable"]) == ["fear_greed_index"]
    assert json.loads(rows.loc["BTC-USD", "not_applicable"]) == []
    no_volume = ["volume", "mfi_14", "volume_zscore_20", "fear_greed_index"]
    assert sorted(json.loads(rows.loc["XAUUSD", "not_applicable"])) == sorted(no_volume)
    assert sorted(json.loads(rows.loc["EURUSD", "not_applicable"])) == sorted(no_volume)
    assert json.loads(rows.loc["XAUUSD", "input"])["volume"] is None


def test_a_single_month_cannot_be_split_and_is_not_exported(single_day, instance):
    from portfolio_assets.definitions import training_set

    resources = make_resources(single_day)
    result = materialize_range([training_set], DAY, DAY, resources=resources, instance=instance, raise_on_error=False)
    assert not result.success
    assert not list(single_day.glob("exports/*"))


def test_a_truncated_lookback_is_refused(tmp_path, instance):
    """Indicators for a day whose lookback prices are not all materialised must not run."""
    from portfolio_assets.definitions import indicators, prices

    resources = make_resources(tmp_path)
    assert materialize_range([prices], "2010-06-01", "2011-06-15", resources=resources, instance=instance).success
    with pytest.raises(Exception, match="not materialised"):
        materialize_range([indicators], DAY, DAY, resources=resources, instance=instance)


def test_input_keys_are_the_partitions_holding_the_days_and_refuse_days_outside_the_window():
    from types import SimpleNamespace

    from dagster import AssetKey

    from portfolio_assets.assets.windows import input_keys
    from portfolio_assets.errors import PartitionWindowError
    from portfolio_assets.partitions import OBSERVATION_PARTITIONS

    context = SimpleNamespace(
        assets_def=SimpleNamespace(key=AssetKey("targets")),
        asset_partitions_def_for_input=lambda name: OBSERVATION_PARTITIONS,
    )
    day = pd.Timestamp("2011-01-03", tz="UTC")
    assert input_keys(context, "prices", first_day=day, last_day=day + pd.Timedelta(days=90)) == [
        "2011-01-01",
        "2011-02-01",
        "2011-03-01",
        "2011-04-01",
    ]
    # The sample's prices end on 2013-02-28: a horizon past it is refused, naming both spans.
    with pytest.raises(
        PartitionWindowError,
        match=r"input 'prices' covers 2008-01-01\.\.2013-02-28 but this run needs 2012-12-01\.\.2013-03-01",
    ):
        input_keys(
            context,
            "prices",
            first_day=pd.Timestamp("2012-12-01", tz="UTC"),
            last_day=pd.Timestamp("2013-03-01", tz="UTC"),
        )


def test_the_export_records_its_provenance_and_is_reproducible(full_backfill, instance, tmp_path):
    from portfolio_assets.definitions import training_set

    data_dir, results = full_backfill
    meta = results[-1].asset_materializations_for_node("training_set")[-1].metadata
    first_export = Path(meta["path"].value)
    manifest = json.loads((first_export / "manifest.json").read_text())
    provenance = manifest["provenance"]
    assert provenance["partitions"] == {"first": "2009-01-01", "last": "2012-11-30", "count": 1430}
    kinds = {entry["kind"] for entry in provenance["sources"].values()}
    assert kinds == {"real", "synthetic"}
    assert provenance["sources"]["alphavantage/function=TIME_SERIES_DAILY,symbol=GOOG"]["kind"] == "real"
    assert {name: c["status"] for name, c in provenance["checks"].items()} == dict.fromkeys(
        ["schema", "point_in_time", "completeness", "temporal_gaps", "rsi_bounds", "target_coverage"], "SUCCEEDED"
    )
    assert provenance["code_version"].startswith("0.1.0")
    assert (first_export / "README.md").read_text().startswith("---")
    # A second export of the same partitions, elsewhere, is byte-identical.
    again = tmp_path / "again"
    resources = make_resources(data_dir, export_dir=again)
    assert materialize_range([training_set], "2009-01-01", "2012-11-30", resources=resources, instance=instance).success
    second_export = again / first_export.name
    names = sorted(p.relative_to(first_export) for p in first_export.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second_export) for p in second_export.rglob("*") if p.is_file())
    for name in names:
        assert (first_export / name).read_bytes() == (second_export / name).read_bytes(), name
    shutil.rmtree(again)


@pytest.mark.parametrize("prompt_format", ["chat", "timeseries"])
def test_the_export_in_another_prompt_format(full_backfill, instance, tmp_path, prompt_format):
    from portfolio_assets.definitions import training_set

    data_dir, _ = full_backfill
    resources = make_resources(data_dir, export_dir=tmp_path, prompt_format=prompt_format)
    result = materialize_range([training_set], "2009-01-01", "2012-11-30", resources=resources, instance=instance)
    frame = read_export(result.asset_materializations_for_node("training_set")[-1].metadata["path"].value, "jsonl")
    first = frame.iloc[0]
    if prompt_format == "chat":
        messages = first["messages"]  # a real list of {role, content}, not JSON text
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
        assert messages[2]["content"] == first["output"]
        assert first["prompt"] == messages[:2] and first["completion"] == messages[2:]
    else:
        features = json.loads(first["input"], parse_constant=_reject)
        assert list(features)[:2] == ["context_window", "current_price"]
        assert json.loads(first["output"]).keys() == {"predicted_return_90d", "predicted_return_pct_90d"}
    path = Path(result.asset_materializations_for_node("training_set")[-1].metadata["path"].value)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["provenance"]["prompt_format"] == prompt_format
    # Named by its content, beside the features export of the same range; LATEST.json names the newest.
    assert path.name.startswith(f"training_set_2009-01-01_2012-11-30_{prompt_format}_") and path.parent == tmp_path
    assert json.loads((tmp_path / "LATEST.json").read_text())["export"] == path.name


def test_bookkeeping_grows_with_months_not_days(full_backfill, instance):
    """Dagster's events and the store's files are one per partition per asset: 62 observation months and 47
    labelled ones for the five-year sample, not 1,885 and 1,430 days; the export is one materialisation."""
    from dagster import DagsterEventType

    from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS

    data_dir, results = full_backfill
    observed, labelled = len(OBSERVATION_PARTITIONS.get_partition_keys()), len(LABELLED_PARTITIONS.get_partition_keys())
    assert (observed, labelled) == (62, 47)
    expected = dict.fromkeys(["prices", "macro", "benchmarks", "sentiment", "indicators"], observed)
    expected.update(dict.fromkeys(["targets", "quarantine", "sft_rows"], labelled))
    counted: dict[str, dict[str, int]] = {"planned": {}, "materialised": {}}
    for result in results:
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None or event.asset_key is None:
                continue
            kind = {
                DagsterEventType.ASSET_MATERIALIZATION_PLANNED: "planned",
                DagsterEventType.ASSET_MATERIALIZATION: "materialised",
            }.get(event.event_type)
            if kind:
                name = event.asset_key.to_user_string()
                counted[kind][name] = counted[kind].get(name, 0) + 1
    expected["training_set"] = 1  # the export: one planned materialisation, made once
    assert counted["planned"] == expected and counted["materialised"] == expected
    for asset in ("prices", "indicators", "sft_rows"):
        files = list((Path(data_dir) / asset).glob("*.parquet"))
        assert len(files) == expected[asset], asset  # one file per month


def test_an_export_with_other_settings_is_written_beside_the_earlier_one(full_backfill, instance, tmp_path):
    """Exports are named by their range and settings: another prompt format never overwrites the earlier export,
    and LATEST.json names the newest (a reader's pointer)."""
    from portfolio_assets.definitions import training_set

    paths = []
    for prompt_format in ("features", "timeseries"):
        resources = make_resources(full_backfill[0], export_dir=tmp_path, prompt_format=prompt_format)
        result = materialize_range([training_set], "2009-01-01", "2012-11-30", resources=resources, instance=instance)
        paths.append(Path(result.asset_materializations_for_node("training_set")[-1].metadata["path"].value))
        assert json.loads((tmp_path / "LATEST.json").read_text())["export"] == paths[-1].name
    assert len({p.name for p in paths}) == 2 and all((p / "manifest.json").is_file() for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(p.name for p in paths)
