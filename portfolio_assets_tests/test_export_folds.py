"""Walk-forward folds: purged on their label windows, embargoed, consecutive test blocks; folds.json read back."""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_assets.export.folds import (
    FOLD_RULE,
    FOLDS_FORMAT,
    FOLDS_NAME,
    FoldConfig,
    fold_summary,
    read_folds,
    walk_forward,
)
from portfolio_assets.export.manifest import manifest_bytes

HORIZON = 30


def make_rows(
    start: str = "2020-01-01",
    end: str = "2020-12-31",
    symbols: tuple[str, ...] = ("BTC", "GOOG"),
    horizon: int = HORIZON,
    drop: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """One row a day and symbol at 21:00 UTC, label ``horizon`` days later, in export order; ``drop`` a gap."""
    days = pd.date_range(start, end, freq="D", tz="UTC")
    if drop is not None:
        days = days[(days < pd.Timestamp(drop[0], tz="UTC")) | (days > pd.Timestamp(drop[1], tz="UTC"))]
    stamps = np.repeat(days + pd.Timedelta(hours=21), len(symbols))
    frame = pd.DataFrame({"timestamp": stamps, "asset_symbol": list(symbols) * len(days)})
    frame["target_timestamp"] = frame["timestamp"] + pd.Timedelta(days=horizon)
    frame["row_id"] = frame["asset_symbol"] + ":" + frame["timestamp"].dt.strftime("%Y-%m-%d")
    return frame


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def by_id(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.set_index("row_id")


def check_invariants(rows: pd.DataFrame, folds: dict, embargo_days: int) -> None:
    """Everything a trainer relies on, checked against the rows independently of walk_forward."""
    indexed = by_id(rows)
    days = rows["timestamp"].dt.floor("D")
    last_day = days.max()
    test_days = folds["test_days"]
    blocks = [(day(f["test"]["first"]), day(f["test"]["last"])) for f in folds["folds"]]
    assert [f["fold"] for f in folds["folds"]] == list(range(folds["n_folds"]))
    # consecutive, non-overlapping, ordered blocks (of test_days days when given; automatic: the exported days
    # from the first block on shared equally, each block holding some); the last ends on the last exported day
    exported_days = []
    for (first, last), nxt in zip(blocks, [*blocks[1:], None], strict=True):
        if test_days is not None:
            assert last - first == pd.Timedelta(days=test_days - 1)
        else:
            exported_days.append(days[(days >= first) & (days <= last)].nunique())
        if nxt is not None:
            assert nxt[0] == last + pd.Timedelta(days=1)
    if test_days is None:
        assert min(exported_days) >= 1 and max(exported_days) - min(exported_days) <= 1
    assert blocks[-1][1] == last_day
    assert blocks[0][0] > days.min()
    tested: list[str] = []
    order = {rid: i for i, rid in enumerate(rows["row_id"])}
    for fold, (first, last) in zip(folds["folds"], blocks, strict=True):
        train, test = indexed.loc[fold["train"]["row_ids"]], indexed.loc[fold["test"]["row_ids"]]
        assert fold["train"]["rows"] == len(train) > 0 and fold["test"]["rows"] == len(test) > 0
        # purge: no train row's label window reaches the test block
        assert (train["target_timestamp"] < first).all()
        assert (train["timestamp"] < first).all()
        assert day(fold["train"]["first"]) == train["timestamp"].min().floor("D")
        assert day(fold["train"]["last"]) == train["timestamp"].max().floor("D")
        test_day = test["timestamp"].dt.floor("D")
        assert ((test_day >= first + pd.Timedelta(days=embargo_days)) & (test_day <= last)).all()
        # every non-embargoed row of the block is tested; the embargoed count is the rest
        in_block = (days >= first) & (days <= last)
        assert set(test.index) == set(rows.loc[in_block & (days >= first + pd.Timedelta(days=embargo_days)), "row_id"])
        assert fold["embargoed"] == int(in_block.sum()) - len(test)
        # every row before the block (in the rolling window) is either in train or purged
        before = days < first
        if folds["scheme"] == "rolling":
            before &= days >= first - pd.Timedelta(days=folds["train_days"])
        assert fold["purged"] == int(before.sum()) - len(train)
        assert set(train.index) == set(rows.loc[before & (rows["target_timestamp"] < first), "row_id"])
        for part in ("train", "test"):  # in the rows' order
            positions = [order[rid] for rid in fold[part]["row_ids"]]
            assert positions == sorted(positions)
        tested += fold["test"]["row_ids"]
    assert len(tested) == len(set(tested))  # every test row in exactly one fold


@pytest.mark.parametrize(
    ("config", "embargo_days"),
    [
        (FoldConfig(n_folds=4), 0),
        (FoldConfig(n_folds=4), 5),
        (FoldConfig(n_folds=3, test_days=40), 2),
        (FoldConfig(n_folds=5, scheme="rolling", train_days=60), 3),
        (FoldConfig(n_folds=1, scheme="rolling", train_days=100, test_days=90), 0),
    ],
)
def test_no_train_label_reaches_its_test_block_and_blocks_tile_the_end(config, embargo_days):
    rows = make_rows()
    folds = walk_forward(rows, config, embargo_days=embargo_days)
    check_invariants(rows, folds, embargo_days)
    assert all(f["purged"] == HORIZON * 2 for f in folds["folds"])  # the last HORIZON days before each block
    assert folds["embargo_days"] == embargo_days and folds["scheme"] == config.scheme


def test_the_dict_is_the_contract_format():
    folds = walk_forward(make_rows(), FoldConfig(n_folds=2, test_days=50), embargo_days=1)
    assert list(folds) == [
        "format",
        "format_version",
        "scheme",
        "n_folds",
        "test_days",
        "train_days",
        "embargo_days",
        "horizon",
        "rule",
        "folds",
    ]
    assert folds["format"] == FOLDS_FORMAT and folds["format_version"] == 1
    assert (folds["n_folds"], folds["test_days"], folds["train_days"]) == (2, 50, None)
    assert folds["horizon"] == "label window [timestamp, target_timestamp]" and folds["rule"] == FOLD_RULE
    fold = folds["folds"][1]
    assert list(fold) == ["fold", "train", "test", "purged", "embargoed"]
    assert fold["test"] == {
        "first": "2020-11-12",
        "last": "2020-12-31",
        "rows": 2 * 49,
        "row_ids": [f"{s}:{d:%Y-%m-%d}" for d in pd.date_range("2020-11-13", "2020-12-31") for s in ("BTC", "GOOG")],
    }
    assert (fold["train"]["first"], fold["train"]["last"]) == ("2020-01-01", "2020-10-12")
    assert fold["embargoed"] == 2
    json.dumps(folds, allow_nan=False)  # plain JSON types only


def test_embargo_removes_exactly_the_rows_of_the_first_embargo_days():
    rows = make_rows()
    config = FoldConfig(n_folds=3, test_days=60)
    plain = walk_forward(rows, config)
    embargoed = walk_forward(rows, config, embargo_days=7)
    for a, b in zip(plain["folds"], embargoed["folds"], strict=True):
        start = date.fromisoformat(a["test"]["first"])
        first_week = {f"{s}:{start + timedelta(days=i):%Y-%m-%d}" for i in range(7) for s in ("BTC", "GOOG")}
        assert set(a["test"]["row_ids"]) - set(b["test"]["row_ids"]) == first_week
        assert set(b["test"]["row_ids"]) <= set(a["test"]["row_ids"])
        assert (a["embargoed"], b["embargoed"]) == (0, 14)
        assert a["train"] == b["train"] and a["purged"] == b["purged"]  # the embargo only touches test rows


def test_rolling_train_windows_have_the_stated_length():
    rows = make_rows()
    folds = walk_forward(rows, FoldConfig(n_folds=4, scheme="rolling", train_days=80, test_days=45))
    for fold in folds["folds"]:
        start = date.fromisoformat(fold["test"]["first"])
        # the window is [start - 80, start); its last HORIZON days are purged (daily rows, 30-day labels)
        assert date.fromisoformat(fold["train"]["first"]) == start - timedelta(days=80)
        assert date.fromisoformat(fold["train"]["last"]) == start - timedelta(days=HORIZON + 1)
        assert fold["train"]["rows"] == 2 * (80 - HORIZON)
        assert fold["purged"] == 2 * HORIZON


def test_expanding_train_grows_fold_by_fold():
    folds = walk_forward(make_rows(), FoldConfig(n_folds=4), embargo_days=2)
    trains = [set(f["train"]["row_ids"]) for f in folds["folds"]]
    for earlier, later in pairwise(trains):
        assert earlier < later
    assert all(f["train"]["first"] == "2020-01-01" for f in folds["folds"])
    # a later fold trains on an earlier fold's test rows once their labels end before its block
    assert set(folds["folds"][0]["test"]["row_ids"]) & trains[-1]


def test_automatic_test_days_leave_a_third_of_the_days_to_train_first():
    rows = make_rows()  # 366 days
    folds = walk_forward(rows, FoldConfig(n_folds=4))
    assert folds["test_days"] is None
    assert folds["folds"][0]["test"]["first"] == "2020-05-02"  # a third of the days (122) before it
    lengths = [(day(f["test"]["last"]) - day(f["test"]["first"])).days + 1 for f in folds["folds"]]
    assert lengths == [61, 61, 61, 61]  # (366 - 122) / 4
    # the longest label window wins over a third of the days when it is longer
    long_labels = make_rows(horizon=200)
    folds = walk_forward(long_labels, FoldConfig(n_folds=2))
    assert folds["folds"][0]["test"]["first"] == "2020-07-20"  # 201 days after the first day
    assert [f["test"]["rows"] for f in folds["folds"]] == [83 * 2, 82 * 2]  # 165 days shared
    assert folds["folds"][0]["train"]["rows"] > 0
    # rolling: the first block leaves room for a whole train window
    folds = walk_forward(rows, FoldConfig(n_folds=2, scheme="rolling", train_days=250))
    assert folds["folds"][0]["test"]["first"] == "2020-09-07"  # 250 days after the first day
    check_invariants(rows, folds, 0)


def test_automatic_blocks_share_the_exported_days_so_a_gap_leaves_no_block_empty():
    # like an export whose single split purged ~HORIZON days before validation_start and test_start
    rows = make_rows("2020-01-01", "2021-06-30", drop=("2020-09-01", "2020-11-29"))
    folds = walk_forward(rows, FoldConfig(n_folds=5))
    check_invariants(rows, folds, 0)
    assert all(f["test"]["rows"] > 0 for f in folds["folds"])
    with pytest.raises(ValueError, match="holds no exported row"):  # calendar blocks of test_days: one is empty
        walk_forward(rows, FoldConfig(n_folds=10, test_days=30))


def test_a_gap_in_the_exported_days_shortens_a_block_but_keeps_the_calendar():
    # like an export whose single split purged ~HORIZON days before validation_start
    rows = make_rows(drop=("2020-09-01", "2020-09-30"))
    folds = walk_forward(rows, FoldConfig(n_folds=3, test_days=50), embargo_days=1)
    check_invariants(rows, folds, 1)
    # blocks 08-04..09-22, 09-23..11-11, 11-12..12-31 (from the last day back); September is missing
    assert [f["test"]["first"] for f in folds["folds"]] == ["2020-08-04", "2020-09-23", "2020-11-12"]
    assert [f["test"]["rows"] for f in folds["folds"]] == [2 * 27, 2 * 42, 2 * 49]
    assert [f["embargoed"] for f in folds["folds"]] == [2, 0, 2]  # fold 1's embargo day falls in the gap


def test_same_rows_give_the_same_folds():
    config = FoldConfig(n_folds=3, scheme="rolling", train_days=70)
    a = walk_forward(make_rows(), config, embargo_days=3)
    b = walk_forward(make_rows(), config, embargo_days=3)
    assert a == b
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert manifest_bytes(a) == manifest_bytes(b)


def test_fold_summary_drops_only_the_row_ids():
    folds = walk_forward(make_rows(), FoldConfig(n_folds=2), embargo_days=1)
    summary = fold_summary(folds)
    assert "row_ids" not in json.dumps(summary)
    assert {k: v for k, v in summary.items() if k != "folds"} == {k: v for k, v in folds.items() if k != "folds"}
    for short, full in zip(summary["folds"], folds["folds"], strict=True):
        for part in ("train", "test"):
            assert short[part] == {k: v for k, v in full[part].items() if k != "row_ids"}
        assert (short["fold"], short["purged"], short["embargoed"]) == (full["fold"], full["purged"], full["embargoed"])
    assert folds["folds"][0]["train"]["row_ids"]  # the input is left intact


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_folds": 0}, ValueError, "FoldConfig.n_folds must be >= 1"),
        ({"n_folds": 2.0}, TypeError, "FoldConfig.n_folds must be an int"),
        ({"n_folds": True}, TypeError, "FoldConfig.n_folds must be an int"),
        ({"scheme": "sliding"}, ValueError, "FoldConfig.scheme must be one of"),
        ({"test_days": 0}, ValueError, "FoldConfig.test_days must be >= 1"),
        ({"test_days": "30"}, TypeError, "FoldConfig.test_days must be an int"),
        ({"scheme": "rolling"}, ValueError, "FoldConfig.train_days is required for scheme 'rolling'"),
        ({"scheme": "rolling", "train_days": -5}, ValueError, "FoldConfig.train_days must be >= 1"),
        ({"train_days": 100}, ValueError, "FoldConfig.train_days must be None for scheme 'expanding'"),
    ],
)
def test_bad_configs_name_the_field(kwargs, error, message):
    with pytest.raises(error, match=message):
        FoldConfig(**kwargs)


def test_config_normalises_numpy_ints():
    config = FoldConfig(n_folds=np.int64(3), scheme="rolling", train_days=np.int32(40), test_days=np.int64(9))
    assert (type(config.n_folds), type(config.train_days), type(config.test_days)) == (int, int, int)


@pytest.mark.parametrize(
    ("rows", "config", "embargo_days", "message"),
    [
        (make_rows("2020-01-01", "2020-01-20"), FoldConfig(n_folds=3), 0, r"20 exported day\(s\) .* are too few"),
        (make_rows(), FoldConfig(n_folds=4, test_days=100), 0, "too few for 4 fold"),
        (make_rows(), FoldConfig(n_folds=2, test_days=10), 10, r"fold 0 .*all 20 test row\(s\) are embargoed"),
        (
            make_rows(),
            FoldConfig(n_folds=2, scheme="rolling", train_days=HORIZON, test_days=30),
            0,
            r"fold 0 .*train part is empty after purge .*Raise train_days",
        ),
        (
            make_rows(),
            FoldConfig(n_folds=2, test_days=170),
            0,
            r"fold 0 \(test block 2020-01-27\.\.2020-07-14\): its train part is empty after purge "
            r".*Lower n_folds or test_days",
        ),
        (
            make_rows(),
            FoldConfig(n_folds=2, scheme="rolling", train_days=200, test_days=100),
            0,
            "rolling fold 0's train window would start on 2019-11-28, before the first exported day 2020-01-01",
        ),
        (
            make_rows(drop=("2020-10-01", "2020-11-30")),
            FoldConfig(n_folds=4, test_days=30),
            0,
            r"fold 1 \(test block 2020-10-03\.\.2020-11-01\) holds no exported row",
        ),
    ],
)
def test_folds_that_cannot_be_cut_say_which_and_what_to_change(rows, config, embargo_days, message):
    with pytest.raises(ValueError, match=message):
        walk_forward(rows, config, embargo_days=embargo_days)


def test_bad_rows_and_embargo_are_refused():
    rows = make_rows("2020-01-01", "2020-06-30")
    config = FoldConfig(n_folds=2)
    with pytest.raises(ValueError, match="embargo_days must be >= 0"):
        walk_forward(rows, config, embargo_days=-1)
    with pytest.raises(TypeError, match="embargo_days must be an int"):
        walk_forward(rows, config, embargo_days=1.5)
    with pytest.raises(ValueError, match="rows have no 'target_timestamp' column"):
        walk_forward(rows.drop(columns="target_timestamp"), config)
    with pytest.raises(TypeError, match="timestamp must be timezone-aware"):
        walk_forward(rows.assign(timestamp=rows["timestamp"].dt.tz_localize(None)), config)
    with pytest.raises(ValueError, match="rows have no 'row_id' column"):
        walk_forward(rows.drop(columns="row_id"), config)
    twice = rows.assign(row_id=rows["row_id"].where(rows.index != 1, rows["row_id"][0]))
    with pytest.raises(ValueError, match=r"appear more than once \(e.g. 'BTC:2020-01-01'\)"):
        walk_forward(twice, config)
    backwards = rows.assign(target_timestamp=rows["target_timestamp"].where(rows.index != 3, rows["timestamp"][0]))
    with pytest.raises(ValueError, match=r"1 row\(s\) have target_timestamp before timestamp"):
        walk_forward(backwards, config)
    with pytest.raises(ValueError, match="no rows"):
        walk_forward(rows.iloc[:0], config)


def test_read_folds_round_trips_the_written_file(tmp_path):
    folds = walk_forward(make_rows(), FoldConfig(n_folds=3, scheme="rolling", train_days=60), embargo_days=2)
    (tmp_path / FOLDS_NAME).write_bytes(manifest_bytes(folds))
    assert read_folds(tmp_path / FOLDS_NAME) == folds
    assert read_folds(tmp_path) == folds  # the export directory


def _write(tmp_path, obj) -> object:
    path = tmp_path / FOLDS_NAME
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return path


def _broken(change) -> dict:
    folds = json.loads(json.dumps(walk_forward(make_rows(), FoldConfig(n_folds=2))))
    change(folds)
    return folds


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ({"format": "portfolio_assets.training_set_export"}, "not a walk-forward folds file"),
        (_broken(lambda f: f.update(format_version=2)), "format_version 2 is not supported"),
        (_broken(lambda f: f.update(scheme="sliding")), "scheme 'sliding' is not one of"),
        (_broken(lambda f: f.update(n_folds=3)), r"n_folds is 3 but the file lists 2 fold\(s\)"),
        (_broken(lambda f: f.update(folds=[])), "'folds' must be a non-empty list"),
        (_broken(lambda f: f["folds"][1].update(fold=0)), r"folds\[1\] has fold=0, expected 1"),
        (_broken(lambda f: f["folds"][0]["test"].update(rows=1)), r"folds\[0\].test.rows is 1 but it lists"),
        (_broken(lambda f: f["folds"][0]["train"].pop("row_ids")), r"folds\[0\].train.row_ids must be a list"),
        (_broken(lambda f: f["folds"][0]["train"].update(first="01/02/2020")), "not an ISO date"),
        (_broken(lambda f: f["folds"][1].update(purged=None)), r"folds\[1\].purged must be an int"),
    ],
)
def test_read_folds_names_the_file_and_the_fault(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(ValueError, match=message) as caught:
        read_folds(path)
    assert str(path) in str(caught.value)


def test_read_folds_says_when_there_is_no_file(tmp_path):
    with pytest.raises(ValueError, match=f"{FOLDS_NAME}: no such folds file"):
        read_folds(tmp_path)


@st.composite
def frames_and_configs(draw):
    span = draw(st.integers(40, 300))
    start = date(2019, 12, 25)
    days = [start + timedelta(days=i) for i in range(span)]
    keep = draw(st.lists(st.booleans(), min_size=span, max_size=span))
    kept = [d for d, k in zip(days, keep, strict=True) if k] or [days[0]]
    kept = sorted({*kept, days[0], days[-1]})
    symbols = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3, unique=True))
    hours = draw(st.integers(0, 23))
    records = []
    for d in kept:
        for s in sorted(symbols):
            horizon = draw(st.integers(0, 20))
            stamp = pd.Timestamp(d, tz="UTC") + pd.Timedelta(hours=hours)
            records.append((stamp, stamp + pd.Timedelta(days=horizon, hours=draw(st.integers(0, 3))), s))
    rows = pd.DataFrame(records, columns=["timestamp", "target_timestamp", "asset_symbol"])
    rows["row_id"] = rows["asset_symbol"] + ":" + rows["timestamp"].dt.strftime("%Y-%m-%d")
    scheme = draw(st.sampled_from(["expanding", "rolling"]))
    config = FoldConfig(
        n_folds=draw(st.integers(1, 4)),
        scheme=scheme,
        test_days=draw(st.none() | st.integers(1, 60)),
        train_days=draw(st.integers(1, 120)) if scheme == "rolling" else None,
    )
    return rows, config, draw(st.integers(0, 4))


@settings(max_examples=150, deadline=None)
@given(frames_and_configs())
def test_walk_forward_properties(case):
    rows, config, embargo_days = case
    try:
        folds = walk_forward(rows, config, embargo_days=embargo_days)
    except ValueError as error:  # refused: with a message that says which fold or why the days are too few
        assert "fold" in str(error) or "too few" in str(error)
        return
    check_invariants(rows, folds, embargo_days)
    if config.test_days is not None:
        assert folds["test_days"] == config.test_days
    if config.scheme == "expanding":
        trains = [set(f["train"]["row_ids"]) for f in folds["folds"]]
        assert all(a <= b for a, b in pairwise(trains))
    assert walk_forward(rows, config, embargo_days=embargo_days) == folds


def test_the_property_cases_are_mostly_cut():
    """The property test is not vacuous: a typical drawn case is cut, not refused."""
    rows = make_rows("2020-01-01", "2020-06-30", symbols=("A", "B", "C"), horizon=20)
    for config in (FoldConfig(n_folds=4), FoldConfig(n_folds=3, scheme="rolling", train_days=40, test_days=30)):
        check_invariants(rows, walk_forward(rows, config, embargo_days=3), 3)
