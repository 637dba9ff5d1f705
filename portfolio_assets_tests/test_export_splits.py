"""Time-ordered splits: every split purged against the next one's start, the embargo, the counts per boundary."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from portfolio_assets.export import SPLITS, SplitConfig, assign_splits, export_training_set, read_export
from portfolio_assets.export.card import dataset_card
from portfolio_assets_tests.test_export import SPLIT, canonical, load_manifest, make_rows

BOUNDARY_NAMES = ["train->validation", "validation->test"]


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return make_rows()


@pytest.fixture(scope="module")
def exported(rows, tmp_path_factory):
    out = tmp_path_factory.mktemp("splits") / "training_set"
    report = export_training_set(rows, out, split=SPLIT, formats=["parquet"], provenance={}, synthetic=())
    return out, report


def test_no_label_of_a_split_reaches_a_later_split(exported):
    out, _ = exported
    manifest = load_manifest(out)
    frame = read_export(out, "parquet")
    v0 = pd.Timestamp(manifest["split"]["boundaries"]["validation_start"], tz="UTC")
    t0 = pd.Timestamp(manifest["split"]["boundaries"]["test_start"], tz="UTC")
    assert (v0.date(), t0.date()) == (SPLIT.validation_start, SPLIT.test_start)
    train, validation, test = (frame[frame["split"] == s] for s in SPLITS)
    # every split has rows, in its own time range
    assert train["timestamp"].max() < v0 <= validation["timestamp"].min()
    assert validation["timestamp"].max() < t0 <= test["timestamp"].min()
    # purge: every label window ends before the next split starts, hence before every later date
    assert train["target_timestamp"].max() < v0
    assert validation["target_timestamp"].max() < t0
    # embargo: nothing exported in the first embargo_days from each boundary
    embargo = pd.Timedelta(days=SPLIT.embargo_days)
    for start in (v0, t0):
        assert not ((frame["timestamp"] >= start) & (frame["timestamp"] < start + embargo)).any()


def test_the_manifest_and_report_count_the_purge_per_boundary(rows, exported):
    out, report = exported
    counts = load_manifest(out)["rows"]
    every = canonical(rows)
    v0 = pd.Timestamp(SPLIT.validation_start, tz="UTC")
    t0 = pd.Timestamp(SPLIT.test_start, tz="UTC")
    embargo = pd.Timedelta(days=SPLIT.embargo_days)
    stamp, target = every["timestamp"], every["target_timestamp"]
    after_v0 = (stamp >= v0) & (stamp < v0 + embargo)
    after_t0 = (stamp >= t0) & (stamp < t0 + embargo)
    # computed independently of assign_splits: a row that is both purged and embargoed counts as embargoed
    expected = {
        "train->validation": {
            "day": "2010-11-01",
            "purged": int(((stamp < v0) & (target >= v0)).sum()),
            "embargoed": int(after_v0.sum()),
        },
        "validation->test": {
            "day": "2011-03-01",
            "purged": int(((stamp >= v0) & (stamp < t0) & (target >= t0) & ~after_v0).sum()),
            "embargoed": int(after_t0.sum()),
        },
    }
    assert counts["excluded_by_boundary"] == expected
    assert all(b["purged"] > 0 and b["embargoed"] > 0 for b in expected.values())
    assert counts["purged"] == sum(b["purged"] for b in expected.values()) == report.excluded["purged"]
    assert counts["embargoed"] == sum(b["embargoed"] for b in expected.values()) == report.excluded["embargoed"]
    assert report.excluded_by_boundary == {
        k: {"purged": v["purged"], "embargoed": v["embargoed"]} for k, v in expected.items()
    }
    assert counts["exported"] + counts["purged"] + counts["embargoed"] == counts["input"] == len(rows)
    assert counts["by_split"] == report.rows
    assert "excluded_by_split" not in counts


def test_the_card_states_the_rule_and_the_purge_per_boundary(exported):
    out, _ = exported
    manifest = load_manifest(out)
    text = (out / "README.md").read_text(encoding="utf-8")
    assert text == dataset_card({**manifest, "cards": None})
    assert "a validation row whose target_timestamp is on or after test_start" in text
    by_boundary = manifest["rows"]["excluded_by_boundary"]
    for name in BOUNDARY_NAMES:
        b = by_boundary[name]
        assert f"| {name} | {b['day']} | {b['purged']} | {b['embargoed']} |" in text
    assert f"| total | | {manifest['rows']['purged']} | {manifest['rows']['embargoed']} |" in text


def test_assign_splits_labels_each_rule():
    days = pd.date_range("2020-01-01", periods=12, freq="D", tz="UTC")
    window = pd.to_timedelta([0, 0, 1, 3, 0, 0, 0, 1, 2, 0, 5, 0], unit="D")
    frame = pd.DataFrame({"timestamp": days, "target_timestamp": days + window})
    splits = assign_splits(frame, SplitConfig(date(2020, 1, 5), date(2020, 1, 10), embargo_days=1))
    assert splits.labels.tolist() == [
        "train",  # 01
        "train",  # 02
        "train",  # 03 -> 04
        "purged",  # 04 -> 07 reaches validation_start (05)
        "embargoed",  # 05 first day of validation
        "validation",  # 06
        "validation",  # 07
        "validation",  # 08 -> 09: ends the day before test_start
        "purged",  # 09 -> 11 reaches test_start (10)
        "embargoed",  # 10 first day of test
        "test",  # 11 -> 16: test is the last split, nothing to purge against
        "test",  # 12
    ]
    assert splits.counts() == {"train": 3, "validation": 3, "test": 2, "purged": 2, "embargoed": 2}
    assert splits.excluded_by_boundary() == {
        "train->validation": {"purged": 1, "embargoed": 1},
        "validation->test": {"purged": 1, "embargoed": 1},
    }
    assert splits.source == "config"


def test_a_validation_label_ending_on_test_start_is_purged_and_one_ending_the_day_before_is_kept():
    days = pd.date_range("2020-01-01", periods=10, freq="D", tz="UTC")
    frame = pd.DataFrame({"timestamp": days, "target_timestamp": days})
    frame.loc[5, "target_timestamp"] = pd.Timestamp("2020-01-08", tz="UTC")  # 06 -> 08 == test_start
    frame.loc[6, "target_timestamp"] = pd.Timestamp("2020-01-07 23:59:59", tz="UTC")  # 07 -> just before
    splits = assign_splits(frame, SplitConfig(date(2020, 1, 4), date(2020, 1, 8)))
    assert splits.labels.iloc[3:8].tolist() == ["validation", "validation", "purged", "validation", "test"]


def test_a_row_both_purged_and_embargoed_counts_once_as_embargoed():
    days = pd.date_range("2020-01-01", periods=12, freq="D", tz="UTC")
    frame = pd.DataFrame({"timestamp": days, "target_timestamp": days})
    frame.loc[4, "target_timestamp"] = pd.Timestamp("2020-01-11", tz="UTC")  # 05: embargoed and reaches test
    splits = assign_splits(frame, SplitConfig(date(2020, 1, 5), date(2020, 1, 10), embargo_days=1))
    assert splits.labels.iloc[4] == "embargoed"
    assert splits.excluded_by_boundary() == {
        "train->validation": {"purged": 0, "embargoed": 1},
        "validation->test": {"purged": 0, "embargoed": 1},
    }


def test_fractions_place_the_boundaries_on_unique_dates():
    days = pd.date_range("2020-01-01", periods=10, freq="D", tz="UTC")
    frame = pd.DataFrame(
        {"timestamp": days.repeat(2), "target_timestamp": days.repeat(2), "asset_symbol": ["A", "B"] * 10}
    )
    splits = assign_splits(frame, SplitConfig(fractions=(0.6, 0.2, 0.2)))
    assert splits.boundaries == {"validation_start": date(2020, 1, 7), "test_start": date(2020, 1, 9)}
    assert splits.source == "fractions"
    assert splits.counts() == {"train": 12, "validation": 4, "test": 4, "purged": 0, "embargoed": 0}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fractions": (0.8, 0.1, 0.2)}, ValueError, "sum to 1"),
        ({"fractions": (0.9, 0.2, -0.1)}, ValueError, "> 0"),
        ({"fractions": (0.5, 0.5)}, ValueError, "3 numbers"),
        ({"embargo_days": -1}, ValueError, "embargo_days must be >= 0"),
        ({"embargo_days": 1.5}, TypeError, "embargo_days must be an int"),
        ({"validation_start": date(2010, 11, 1)}, ValueError, "both validation_start and test_start"),
        ({"validation_start": date(2011, 3, 1), "test_start": date(2011, 3, 1)}, ValueError, "must be before"),
        ({"validation_start": "2011-13-01", "test_start": "2011-12-01"}, ValueError, "not an ISO date"),
        ({"validation_start": pd.Timestamp("2011-01-01"), "test_start": date(2011, 3, 1)}, TypeError, "a calendar"),
    ],
)
def test_bad_split_configs_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        SplitConfig(**kwargs)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (SplitConfig(date(2010, 1, 1), date(2011, 3, 1)), r"validation_start 2010-01-01 must be after the first date"),
        (SplitConfig(date(2010, 11, 1), date(2011, 7, 1)), r"test_start 2011-07-01 must be on or before the last"),
        (SplitConfig(date(2010, 1, 10), date(2011, 3, 1)), r"the train split is empty after purge"),
        # validation shorter than its 90-day labels: every validation label reaches test_start
        (
            SplitConfig(date(2010, 11, 1), date(2011, 1, 15)),
            r"the validation split is empty after purge and embargo \(\d+ row\(s\) purged, 0 embargoed.*"
            r"label windows \(up to 90 days here\)",
        ),
        (SplitConfig(date(2010, 11, 1), date(2011, 3, 1), embargo_days=200), r"empty after purge and embargo"),
    ],
)
def test_split_configs_that_do_not_fit_the_data_raise(rows, config, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        export_training_set(rows, tmp_path / "out", split=config, provenance={}, synthetic=())
    assert not (tmp_path / "out").exists()


def test_fractions_on_a_range_shorter_than_two_label_windows_are_refused():
    """Six months at 80/10/10: validation is 18 days of 90-day labels, all reaching the test start."""
    days = pd.date_range("2010-02-01", "2010-07-31", freq="D", tz="UTC")
    frame = pd.DataFrame({"timestamp": days, "target_timestamp": days + pd.Timedelta(days=90)})
    with pytest.raises(ValueError, match="the validation split is empty after purge"):
        assign_splits(frame, SplitConfig())


def test_too_few_dates_for_the_fractions():
    days = pd.date_range("2020-01-01", periods=3, freq="D", tz="UTC")
    frame = pd.DataFrame({"timestamp": days, "target_timestamp": days})
    with pytest.raises(ValueError, match="too few to place fractions"):
        assign_splits(frame, SplitConfig(fractions=(0.9, 0.05, 0.05)))
