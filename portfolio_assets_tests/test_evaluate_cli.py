"""``python -m portfolio_assets.evaluate`` and the ``evaluation`` asset on a small synthetic export."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dagster import materialize

from portfolio_assets.evaluate.cli import main
from portfolio_assets.evaluate.data import load_export
from portfolio_assets_tests.evaluate_exports import TEST_START, write_export

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("export") / "training_set_x")


@pytest.fixture(scope="module")
def predictions(export, tmp_path_factory):
    data = load_export(export)
    test = data.rows.loc[list(data.sets[0].test_ids)]
    path = tmp_path_factory.mktemp("preds") / "run1.jsonl"
    lines = [
        json.dumps({"row_id": rid, "generation": json.dumps({"predicted_return_90d": round(y * 0.5, 4)})})
        for rid, y in zip(test.index, test["target_return_90d"], strict=True)
    ]
    lines[0] = json.dumps({"row_id": test.index[0], "generation": "no idea"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_writes_the_report_beside_the_predictions_and_prints_one_json_line(export, predictions, capsys):
    cutoff = (TEST_START + pd.Timedelta(days=5)).strftime("%Y-%m-%d")
    assert main([str(export), str(predictions), "--knowledge-cutoff", cutoff]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["mode"] == "test"
    assert summary["predictions"]["unparseable"] == 1
    assert summary["metrics"]["model"]["skill"][0] > 0.3  # half the realised return
    assert summary["metrics"]["random_walk"]["skill"][0] == 0.0
    assert summary["knowledge_cutoff"]["timestamp_before"] > 0
    assert summary["warnings"] and "knowledge cutoff" in err
    folder = predictions.parent
    for name in ("evaluation.md", "evaluation.json", "skill_per_fold.png", "calibration.png", "ic_over_time.png"):
        assert (folder / f"run1.{name}").is_file()
    report = (folder / "run1.evaluation.md").read_text(encoding="utf-8")
    assert "Warning: knowledge cutoff" in report
    # a 50-day test split holds one 90-day outcome: no interval and no verdict, said in the summary and report
    assert any(w.startswith("no verdict: the pooled intervals are not identifiable") for w in summary["warnings"])
    assert "**No verdict (model):** skill vs the random walk" in report
    assert "not identifiable: fewer than 3 independent 90-day outcomes (1)" in report
    assert "| unparseable (scored as random walk, wrong direction) | 1 |" in report
    assert "![Skill per fold](run1.skill_per_fold.png)" in report
    assert (folder / "run1.skill_per_fold.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    full = json.loads((folder / "run1.evaluation.json").read_text(encoding="utf-8"))
    assert "class crypto" in full["metrics"] and full["predictions"]["examples"]["unparseable"][0]["line"] == 1


def test_cli_without_predictions_reports_the_baselines(export, tmp_path, capsys):
    assert main([str(export), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["predictions"] is None
    assert set(summary["metrics"]) == {"random_walk", "historical_drift", "momentum_12_1", "gbm", "always_up"}
    assert (tmp_path / "out" / "baselines.evaluation.md").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "not a directory"),
        (["{export}", "{bad}"], "bad.jsonl:2: not a JSON object"),
        (["{export}", "--split", "folds"], "folds.json: missing"),
        (["{export}", "--knowledge-cutoff", "someday"], "not a date"),
    ],
)
def test_cli_errors_exit_2_and_name_the_file(export, tmp_path, capsys, args, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"row_id": "BTC-USD:2011-07-15", "generation": "x"}\n{oops\n', encoding="utf-8")
    filled = [a.format(missing=tmp_path / "nowhere", export=export, bad=bad) for a in args]
    assert main([*filled, "--out", str(tmp_path / "o")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err and err.startswith("evaluate: error: ")


def test_python_dash_m_entry_point(export, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "portfolio_assets.evaluate", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 2
    assert "nope: not a directory" in done.stderr


def test_the_evaluation_asset_reports_on_the_latest_export(export, predictions, tmp_path):
    from portfolio_assets.assets.evaluation import evaluation
    from portfolio_assets.export.naming import point_latest
    from portfolio_assets.resources import ExportResource, StorageResource

    root = export.parent
    point_latest(root, export.name, pd.Timestamp("2010-01-01"), pd.Timestamp("2011-11-01"))
    resource = ExportResource(storage=StorageResource(data_dir=str(tmp_path / "data"), export_dir=str(root)))
    result = materialize(
        [evaluation],
        resources={"export": resource},
        run_config={
            "ops": {"evaluation": {"config": {"predictions": str(predictions), "knowledge_cutoff": "2012-01-01"}}}
        },
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert "# Evaluation" in metadata["report"].value
    plots = metadata["plots"].value
    for title in ("Skill per fold", "Calibration (model)", "IC over time"):
        assert f"### {title}\n\n![{title}](data:image/png;base64," in plots
    assert plots.count("data:image/png;base64,") == 3
    assert len(plots) < 300_000  # small PNGs (80 dpi)
    assert "run1.ic_over_time.png`" in plots
    assert metadata["predictions"].value["unparseable"] == 1
    assert metadata["knowledge_cutoff_rows_before"].value == metadata["rows"].value  # the rows are in 2011
    assert metadata["skill_model"].value > 0.3
    assert Path(metadata["plot: IC over time"].value).is_file()
    baselines_only = materialize([evaluation], resources={"export": resource})
    assert baselines_only.success
    assert (root / "evaluations" / export.name / "baselines.evaluation.md").is_file()


def test_the_evaluation_asset_fails_clearly_without_an_export(tmp_path):
    from portfolio_assets.assets.evaluation import evaluation
    from portfolio_assets.resources import ExportResource, StorageResource

    resource = ExportResource(storage=StorageResource(data_dir=str(tmp_path), export_dir=str(tmp_path / "exports")))
    result = materialize([evaluation], resources={"export": resource}, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "LATEST.json; materialise training_set first" in str(failure.step_failure_data.error)


def test_the_evaluation_asset_fetches_an_export_on_s3(s3_bucket, export, tmp_path):
    import hashlib

    from portfolio_assets.assets.evaluation import evaluation
    from portfolio_assets.export.naming import point_latest
    from portfolio_assets.resources import ExportResource, StorageResource

    options = s3_bucket.options
    storage = StorageResource(
        data_dir=str(tmp_path / "data"),
        export_dir=f"s3://{s3_bucket.bucket}/store/exports",
        endpoint_url=options.endpoint_url,
        region=options.region,
        cache_dir=options.cache_dir,
    )
    root = storage.export_root()
    version = "v-00000000000000000001-abcdef12"
    files = []
    for path in sorted(p for p in export.rglob("*") if p.is_file()):
        relative = path.relative_to(export).as_posix()
        data = path.read_bytes()
        (root / export.name).put(f"{version}/{relative}", data)
        files.append({"path": relative, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    pointer = {"version": version, "prefix": f"{version}/", "files": files}
    (root / export.name).put("CURRENT.json", json.dumps(pointer).encode())
    point_latest(root, export.name, pd.Timestamp("2010-01-01"), pd.Timestamp("2011-11-01"))
    result = materialize([evaluation], resources={"export": ExportResource(storage=storage)})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["rows"].value == 200
    report = Path(metadata["report_path"].value)
    assert report.is_file() and report.is_relative_to(Path(options.cache_dir))
