"""The evaluation harness end to end on a small synthetic export (portfolio_assets.evaluate.harness)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.evaluate import harness
from portfolio_assets.evaluate.baselines import fit_gbm
from portfolio_assets.evaluate.data import ExportDirError, load_export
from portfolio_assets.evaluate.harness import MODEL, MODEL_VALID, run_evaluation
from portfolio_assets_tests.evaluate_exports import TEST_START, expanding_folds, panel, row_id, write_export


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def long_export(tmp_path_factory):
    """A test split of 350 days (four independent 90-day outcomes): intervals are reported."""
    return write_export(tmp_path_factory.mktemp("long"), panel(n_days=1000))


@pytest.fixture(scope="module")
def test_rows(export):
    data = load_export(export, "test")
    return data.rows.loc[list(data.sets[0].test_ids)]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_row_ids_and_synthetic_flags_are_derived_when_the_export_lacks_them(export):
    data = load_export(export)
    assert data.mode == "test"  # no folds.json
    assert data.rows.index[0] == row_id(data.rows["asset_symbol"].iloc[0], data.rows["timestamp"].iloc[0])
    flags = data.rows.groupby("asset_symbol")["is_synthetic"].first().to_dict()
    assert flags == {"BTC-USD": True, "ETH-USD": True, "GOOG": False, "IXIC": False}
    assert any("row_id computed" in n for n in data.notes) and any("provenance" in n for n in data.notes)


def test_an_asset_without_a_price_source_has_no_synthetic_flag(tmp_path):
    rows = panel()
    rows.loc[rows["asset_symbol"] == "IXIC", "asset_symbol"] = "ZZZ"
    data = load_export(write_export(tmp_path, rows))
    assert data.rows.loc[data.rows["asset_symbol"] == "ZZZ", "is_synthetic"].isna().all()
    assert any("is_synthetic unknown for ZZZ" in n for n in data.notes)


def test_existing_row_id_and_is_synthetic_columns_are_used(tmp_path):
    rows = panel()
    rows["row_id"] = [f"X{i}" for i in range(len(rows))]
    rows["is_synthetic"] = rows["asset_symbol"] == "GOOG"
    data = load_export(write_export(tmp_path, rows))
    assert data.rows.index[0] == "X0"
    assert data.rows.groupby("asset_symbol")["is_synthetic"].first().to_dict()["GOOG"]
    assert not data.notes or "row_id computed" not in " ".join(data.notes)


def test_true_targets_score_perfectly_and_the_random_walk_scores_zero(export, test_rows, tmp_path):
    predictions = _write(
        tmp_path / "truth.jsonl",
        [
            {"row_id": rid, "generation": json.dumps({"predicted_return_90d": y})}
            for rid, y in zip(test_rows.index, test_rows["target_return_90d"], strict=True)
        ],
    )
    result = run_evaluation(export, predictions)
    pooled = result.metrics["all"]
    assert pooled[MODEL]["mae"].value == 0.0
    assert pooled[MODEL]["rmse"].value == 0.0
    assert pooled[MODEL]["skill"].value == 1.0
    assert pooled[MODEL]["direction_accuracy"].value == 1.0
    assert pooled[MODEL]["ic"]["mean"].value == pytest.approx(1.0, abs=1e-12)
    assert pooled[MODEL]["rank_ic"]["mean"].value == pytest.approx(1.0, abs=1e-12)
    assert pooled["random_walk"]["skill"].value == 0.0
    for name in ("class crypto", "class equity", "real", "synthetic"):
        assert result.metrics[name]["random_walk"]["skill"].value == 0.0
        assert result.metrics[name][MODEL]["skill"].value == 1.0
    assert result.predictions["ok"] == len(test_rows)
    assert result.predictions["missing"] == 0
    versus = result.comparisons["all"]
    assert set(versus) == {"random_walk", "historical_drift", "momentum_12_1", "gbm"}
    assert versus["random_walk"]["relative_skill"].value == 1.0
    # a 50-day test split holds one 90-day outcome: no interval, no verdict
    assert all(c["mae_difference"].note.startswith("not identifiable") for c in versus.values())
    assert any(w.startswith("no verdict: the pooled intervals are not identifiable") for w in result.warnings)


def test_true_targets_beat_every_baseline_on_a_long_test_split(long_export, tmp_path):
    data = load_export(long_export, "test")
    rows = data.rows.loc[list(data.sets[0].test_ids)]
    predictions = _write(
        tmp_path / "truth.jsonl",
        [
            {"row_id": rid, "predicted_return_90d": y}
            for rid, y in zip(rows.index, rows["target_return_90d"], strict=True)
        ],
    )
    result = run_evaluation(long_export, predictions)
    assert result.metrics["all"][MODEL]["independent_outcomes"] == 4
    assert all(c["mae_difference"].high < 0 for c in result.comparisons["all"].values())
    assert not result.warnings


def test_corrupted_generations_are_counted_and_scored_as_the_random_walk(export, test_rows, tmp_path):
    ids = list(test_rows.index)
    y = test_rows["target_return_90d"]
    good = [{"row_id": rid, "predicted_return_90d": float(y[rid])} for rid in ids[:20]]
    garbage = [{"row_id": rid, "generation": "the market will go up, probably"} for rid in ids[20:23]]
    truncated = [{"row_id": rid, "generation": '{"predicted_return_90d": 0.0'} for rid in ids[23:25]]
    nans = [{"row_id": rid, "generation": '{"predicted_return_90d": NaN}'} for rid in ids[25:27]]
    inconsistent = [
        {"row_id": rid, "generation": '{"predicted_return_90d": 0.05, "predicted_return_pct_90d": -3.00}'}
        for rid in ids[27:29]
    ]
    lenient = [{"row_id": ids[29], "generation": "```json\n{'predicted_return_90d': 0.01,}\n```"}]
    extra = [
        {"row_id": "NOPE:2012-01-01", "generation": "{}"},  # unknown
        {"row_id": ids[0], "predicted_return_90d": 0.5},  # duplicate: the first line wins
        {"row_id": test_rows.index[0].split(":")[0] + ":2010-01-05", "generation": "{}"},  # a train row
    ]
    predictions = _write(tmp_path / "corrupt.jsonl", good + garbage + truncated + nans + inconsistent + lenient + extra)
    result = run_evaluation(export, predictions)
    p = result.predictions
    assert (p["ok"], p["unparseable"], p["inconsistent"]) == (21, 7, 2)
    assert (p["unknown_row_id"], p["duplicate_row_id"], p["outside_evaluation"]) == (1, 1, 1)
    assert p["missing"] == len(ids) - 30
    assert p["parsed_by"] == {"numbers": 20, "lenient": 1, "strict": 2}
    assert len(p["examples"]["unparseable"]) == 7
    # every evaluated row is scored; the failed and missing ones as 0
    scored = result.scored.set_index("row_id")
    expected = pd.Series(0.0, index=ids)
    expected[ids[:20]] = y[ids[:20]]
    expected[ids[29]] = 0.01
    assert scored[MODEL].loc[ids].tolist() == expected.tolist()
    pooled = result.metrics["all"]
    assert pooled[MODEL]["rows"] == len(ids)
    assert pooled[MODEL]["mae"].value == pytest.approx(np.abs(expected - y[ids]).mean(), rel=1e-12)
    assert pooled[MODEL_VALID]["rows"] == 21


def test_the_gbm_is_fitted_on_the_train_rows_only(export, monkeypatch):
    seen = []

    def spy(train, test, *args, **kwargs):
        seen.append((train.copy(), test.copy()))
        return fit_gbm(train, test, *args, **kwargs)

    monkeypatch.setattr(harness, "fit_gbm", spy)
    result = run_evaluation(export)
    ((train, test),) = seen
    assert set(train.index).isdisjoint(test.index)
    assert (train["split"] == "train").all() and (test["split"] == "test").all()
    assert train["target_timestamp"].max() < test["timestamp"].min()
    info = result.gbm["test"]
    assert info["train_rows"] == len(train)
    assert info["train_last_target"] < info["test_first"]
    assert result.metrics["all"]["gbm"]["rows"] == len(test)


def test_walk_forward_folds_are_evaluated_per_fold(tmp_path, monkeypatch):
    rows = panel()
    starts = [TEST_START, TEST_START + pd.Timedelta(days=25)]
    folds = expanding_folds(rows, starts, 25)
    export = write_export(tmp_path / "folds", rows, folds)
    seen = []

    def spy(train, test, *args, **kwargs):
        seen.append((train.copy(), test.copy()))
        return fit_gbm(train, test, *args, **kwargs)

    monkeypatch.setattr(harness, "fit_gbm", spy)
    first_test = folds[0]["test"]["row_ids"]
    predictions = _write(
        tmp_path / "p.jsonl",
        [{"row_id": first_test[0], "predicted_return_90d": 0.01, "fold": 1}]
        + [{"row_id": rid, "predicted_return_90d": 0.01, "fold": 0} for rid in first_test[1:]],
    )
    result = run_evaluation(export, predictions)
    assert result.data.mode == "folds"
    assert {"fold 0", "fold 1"} <= set(result.metrics)
    assert result.metrics["fold 0"][MODEL]["rows"] == len(first_test)
    assert result.predictions["fold_mismatch"] == 1
    assert result.predictions["missing"] == len(folds[1]["test"]["row_ids"])
    for (train, test), fold in zip(seen, folds, strict=True):
        assert set(train.index) == set(fold["train"]["row_ids"])
        assert train["target_timestamp"].max() < test["timestamp"].min()
    plain = write_export(tmp_path / "plain")
    with pytest.raises(ExportDirError, match=r"folds\.json: missing"):
        run_evaluation(plain, split="folds")


def test_a_folds_file_naming_unknown_rows_is_refused(tmp_path):
    rows = panel()
    folds = expanding_folds(rows, [TEST_START], 20)
    folds[0]["test"]["row_ids"].append("ZZZ:2012-01-01")
    export = write_export(tmp_path, rows, folds)
    with pytest.raises(ExportDirError, match=r"folds.json: folds\[0\] names 1 row id"):
        load_export(export)


def test_knowledge_cutoff_counts_the_rows_before_it(export, test_rows):
    cutoff = (TEST_START + pd.Timedelta(days=10)).strftime("%Y-%m-%d")
    result = run_evaluation(export, knowledge_cutoff=cutoff)
    before = int((test_rows["timestamp"] < pd.Timestamp(cutoff, tz="UTC")).sum())
    assert result.cutoff["timestamp_before"] == before > 0
    assert result.cutoff["target_before"] == 0
    assert f"{before} of {len(test_rows)}" in result.cutoff["warning"]
    quiet = run_evaluation(export, knowledge_cutoff="2000-01-01")
    assert quiet.cutoff["timestamp_before"] == 0 and quiet.cutoff["warning"] is None
    with pytest.raises(ValueError, match="not a date"):
        run_evaluation(export, knowledge_cutoff="yesterday")


def test_a_bad_export_dir_is_named(tmp_path):
    with pytest.raises(ExportDirError, match="not a directory"):
        load_export(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportDirError, match=r"manifest\.json: missing"):
        load_export(tmp_path / "empty")


def test_baseline_metrics_are_finite(long_export):
    result = run_evaluation(long_export)
    pooled = result.metrics["all"]
    for name in ("historical_drift", "momentum_12_1", "gbm"):
        assert math.isfinite(pooled[name]["mae"].value)
        assert math.isfinite(pooled[name]["skill"].se)
    assert set(pooled["always_up"]) >= {"direction_accuracy", "mcc"} and "mae" not in pooled["always_up"]
    up = (result.scored["y"] > 0).mean()
    assert pooled["always_up"]["direction_accuracy"].value == pytest.approx(up)


def test_auto_split_takes_the_folds_only_when_every_prediction_names_its_fold(tmp_path, monkeypatch):
    # which rows are scored is the point here, not the GBM: it is left unfitted to keep the test fast
    monkeypatch.setattr(harness, "fit_gbm", lambda train, test: fit_gbm(train, test, min_rows=10**9))
    rows = panel()
    early = TEST_START - pd.Timedelta(days=200)  # a fold whose test block lies in the export's train split
    folds = expanding_folds(rows, [early, TEST_START], 25)
    export = write_export(tmp_path / "folds", rows, folds)
    ids = [rid for fold in folds for rid in fold["test"]["row_ids"]]
    fold_of = {rid: fold["fold"] for fold in folds for rid in fold["test"]["row_ids"]}
    bare = _write(tmp_path / "bare.jsonl", [{"row_id": rid, "predicted_return_90d": 0.01} for rid in ids])
    one_folded = _write(
        tmp_path / "one.jsonl",
        [{"row_id": ids[0], "predicted_return_90d": 0.01, "fold": 0}]
        + [{"row_id": rid, "predicted_return_90d": 0.01} for rid in ids[1:]],
    )
    folded = _write(
        tmp_path / "folded.jsonl", [{"row_id": r, "predicted_return_90d": 0.01, "fold": fold_of[r]} for r in ids]
    )
    for predictions in (bare, one_folded):
        result = run_evaluation(export, predictions)
        assert result.data.mode == "test"
        assert any(
            'not every prediction line names its "fold": evaluated on the export\'s test split' in n
            for n in result.data.notes
        )
    assert run_evaluation(export, folded).data.mode == "folds"
    assert run_evaluation(export).data.mode == "folds"  # the baselines alone: the folds
    assert not any("in-sample" in w for w in run_evaluation(export, folded, split="folds").warnings)
    forced = run_evaluation(export, bare, split="folds")
    assert forced.data.mode == "folds"
    in_train = len(folds[0]["test"]["row_ids"])
    (warning,) = [w for w in forced.warnings if "in-sample" in w]
    assert warning.startswith(f'{len(ids)} prediction line(s) name no "fold" under --split folds: {in_train} of ')


def test_a_row_in_two_folds_test_blocks_is_refused(tmp_path):
    rows = panel()
    folds = expanding_folds(rows, [TEST_START, TEST_START + pd.Timedelta(days=20)], 20)
    shared = folds[1]["test"]["row_ids"][0]
    folds[0]["test"]["row_ids"].append(shared)
    export = write_export(tmp_path / "twice", rows, folds)
    with pytest.raises(
        ExportDirError, match=rf"folds\.json: row '{shared}' of fold 1's test block is listed also in fold 0"
    ):
        load_export(export)
    folds = expanding_folds(rows, [TEST_START], 20)
    folds[0]["test"]["row_ids"].append(folds[0]["test"]["row_ids"][0])
    with pytest.raises(ExportDirError, match=r"folds\.json: row .* of fold 0's test block is listed twice"):
        load_export(write_export(tmp_path / "dup", rows, folds))


def test_null_generations_are_unparseable_and_large_failure_shares_are_warnings(export, test_rows, tmp_path):
    ids = list(test_rows.index)
    lines = [{"row_id": rid, "generation": None} for rid in ids[: len(ids) // 2]]
    result = run_evaluation(export, _write(tmp_path / "nulls.jsonl", lines))
    p = result.predictions
    assert (p["unparseable"], p["missing"]) == (len(ids) // 2, len(ids) - len(ids) // 2)
    assert p["examples"]["unparseable"][0]["reason"] == "generation is null"
    assert any(
        w.startswith(f"{len(ids) // 2} of {len(ids)} evaluated rows (50.0%) are unparseable") for w in result.warnings
    )
    assert any("are missing" in w for w in result.warnings)
    pooled = result.metrics["all"]
    assert pooled[MODEL]["direction_accuracy"].value == 0.0  # every answer failed: every direction wrong
    assert pooled[MODEL]["mae"].value == pooled["random_walk"]["mae"].value


def test_a_model_that_answered_few_rows_gets_no_verdict(long_export, tmp_path):
    """Found: 4 true answers among 5,353 rows scored 'better' than the GBM: the rest were the random walk's."""
    from portfolio_assets.evaluate.report import markdown

    data = load_export(long_export, "test")
    rows = data.rows.loc[list(data.sets[0].test_ids)].iloc[:4]
    predictions = _write(
        tmp_path / "few.jsonl",
        [{"row_id": r, "predicted_return_90d": y} for r, y in zip(rows.index, rows["target_return_90d"], strict=True)],
    )
    result = run_evaluation(long_export, predictions)
    assert result.no_verdict.startswith(f"{len(data.sets[0].test_ids) - 4} of {len(data.sets[0].test_ids)}")
    assert any(w.startswith("no verdict for the model") for w in result.warnings)
    report = markdown(result, {})
    assert "**No verdict (model):**" in report and "**Verdict (model)" not in report
    assert "| better |" not in report and "| worse |" not in report
