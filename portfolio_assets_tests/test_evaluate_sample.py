"""The harness end to end on the bundled sample's export (slow: needs the full backfill)."""

import json

import pytest

from portfolio_assets.evaluate.cli import main
from portfolio_assets.evaluate.data import load_export
from portfolio_assets.evaluate.harness import MODEL, run_evaluation
from portfolio_assets.export.naming import latest_export

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_export(full_backfill):
    data_dir, _ = full_backfill
    root = data_dir / "exports"
    name = latest_export(root)
    assert name is not None
    return root / name


def test_sample_export_true_targets_score_perfectly_and_corruption_is_counted(sample_export, tmp_path, capsys):
    data = load_export(sample_export)
    rows = data.rows
    evaluated = [rid for s in data.sets for rid in s.test_ids]
    # every line names its fold, so --split auto keeps the walk-forward folds (else: the test split)
    fold = {rid: int(s.name) for s in data.sets for rid in s.test_ids} if data.mode == "folds" else {}
    records = [
        {"row_id": rid, "generation": json.dumps({"predicted_return_90d": float(rows.at[rid, "target_return_90d"])})}
        | ({"fold": fold[rid]} if fold else {})
        for rid in evaluated
    ]
    perfect = tmp_path / "perfect.jsonl"
    perfect.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = run_evaluation(sample_export, perfect)
    assert result.data.mode == data.mode and result.predictions["missing"] == 0
    pooled = result.metrics["all"]
    assert pooled[MODEL]["mae"].value == 0.0
    assert pooled[MODEL]["skill"].value == 1.0
    assert pooled[MODEL]["direction_accuracy"].value == 1.0
    assert pooled[MODEL]["rank_ic"]["mean"].value == pytest.approx(1.0, abs=1e-12)
    assert pooled["random_walk"]["skill"].value == 0.0
    assert {"real", "synthetic"} <= set(result.metrics)

    # the exported completions themselves (rounded, three fields) parse as consistent
    outputs = [{"row_id": rid, "generation": rows.at[rid, "output"]} for rid in evaluated]
    corrupt = ["garbage!", '{"predicted_return_90d": 0.0', '{"predicted_return_90d": NaN}', None]
    for i, text in enumerate(corrupt):
        outputs[i] = {"row_id": evaluated[i], "generation": text}
    outputs = [r | ({"fold": fold[r["row_id"]]} if fold else {}) for r in outputs]
    path = tmp_path / "outputs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in outputs), encoding="utf-8")
    assert main([str(sample_export), str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["predictions"]["unparseable"] == len(corrupt)
    assert summary["predictions"]["ok"] == len(evaluated) - len(corrupt)
    assert summary["predictions"]["inconsistent"] == 0
    assert summary["metrics"]["model"]["skill"][0] > 0.95
