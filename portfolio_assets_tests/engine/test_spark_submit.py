"""The graph as a Spark application: ``spark-submit portfolio_assets/submit.py`` on ``local[2]``, by hand and
launched by Dagster Pipes (``PipesSubprocessClient``), stores what the in-process engine stores."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from dagster import PipesSubprocessClient, asset, materialize

import portfolio_assets
from portfolio_assets_tests.engine.cluster import SPARK_HOME
from portfolio_assets_tests.engine.ranges import FIRST, LAST, ROOT, inputs_of, same_as_in_process

pytestmark = pytest.mark.slow

SUBMIT = Path(portfolio_assets.__file__).parent / "submit.py"


def _command(app_name: str, *options: str) -> list[str]:
    return [
        str(SPARK_HOME / "bin" / "spark-submit"),
        "--master", "local[2]",
        "--name", app_name,
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
        str(SUBMIT),
        "--observation", f"{FIRST}:{LAST}",
        "--labelled", f"{FIRST}:{LAST}",
        *options,
    ]  # fmt: skip


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_", "DAGSTER_HOME"))},
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
        "PORTFOLIO_DATA_DIR": str(data_dir),
    }


def test_spark_submit_builds_the_heavy_assets_as_in_process(tmp_path, full_backfill, in_process_range):
    import subprocess

    data_dir = inputs_of(full_backfill, tmp_path / "data")
    command = _command("portfolio-assets-submit-test", "--no-export")  # two months are too short to split
    done = subprocess.run(command, capture_output=True, text=True, env=_env(data_dir), timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["success"] and summary["engine"] == "spark local[2]"
    assert summary["application_id"].startswith("local-")
    assert [r["range"] for r in summary["runs"]] == [f"{FIRST}..{LAST}"] * 2
    assert set(summary["runs"][0]["rows"]) == {"indicators"}
    assert set(summary["runs"][1]["rows"]) == {"targets", "quarantine", "sft_rows"}
    same_as_in_process(data_dir, in_process_range)


def test_a_failed_run_fails_the_job_with_its_summary(tmp_path, full_backfill):
    import subprocess

    data_dir = inputs_of(full_backfill, tmp_path / "data")  # the export of two months cannot be split
    done = subprocess.run(_command("portfolio-assets-failing"), capture_output=True, text=True, env=_env(data_dir))
    assert done.returncode == 1
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert not summary["success"] and [r["success"] for r in summary["runs"]] == [True, True, False]
    assert "the train split is empty" in summary["runs"][2]["errors"][0]


def test_dagster_pipes_launches_the_job_and_receives_its_report(tmp_path, full_backfill, instance):
    data_dir = inputs_of(full_backfill, tmp_path / "data")

    @asset
    def heavy_assets_on_spark(context, pipes: PipesSubprocessClient):
        """What an orchestrating Dagster deployment defines: the graph's heavy assets as one Spark job."""
        return pipes.run(
            context=context, command=_command("portfolio-assets-pipes-test", "--no-export"), env=_env(data_dir)
        ).get_materialize_result()

    result = materialize([heavy_assets_on_spark], resources={"pipes": PipesSubprocessClient()}, instance=instance)
    assert result.success
    (event,) = result.asset_materializations_for_node("heavy_assets_on_spark")
    report = event.metadata["spark_job"].value
    assert report["success"] and report["engine"] == "spark local[2]"
    assert report["runs"][0]["rows"]["indicators"] > 0
    logs = [r.user_message for r in instance.all_logs(result.run_id)]
    assert any(f"materialising indicators {FIRST}..{LAST}" in message for message in logs)
