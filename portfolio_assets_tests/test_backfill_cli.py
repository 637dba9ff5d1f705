"""Daily operation from the command line: named jobs per partitions set, and `make backfill` / `make export`
(``python -m portfolio_assets.backfill``) over a range, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance

from portfolio_assets.backfill import plan
from portfolio_assets.definitions import defs
from portfolio_assets.partitions import day_bounds
from portfolio_assets_tests.webserver import project_env

ROOT = Path(__file__).resolve().parents[1]


def test_each_partitions_set_has_a_named_job():
    observation, labelled = defs.resolve_job_def("observation"), defs.resolve_job_def("labelled")
    keys = {
        name: {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
        for name, job in (("observation", observation), ("labelled", labelled))
    }
    assert {"prices", "indicators", "raw_alphavantage"} <= keys["observation"]
    assert keys["labelled"] == {"targets", "quarantine", "sft_rows", "training_set"}
    assert observation.partitions_def != labelled.partitions_def


def test_a_backfill_plan_runs_each_partitions_set_once_clipped_to_its_days():
    low, high = day_bounds(labelled=True)
    runs = plan(date(2010, 3, 1), date(2010, 6, 30))
    assert [([a.node_def.name for a in selection], first, last) for selection, first, last in runs] == [
        (["prices", "macro", "benchmarks", "sentiment", "indicators"], "2010-03-01", "2010-06-30"),
        (["targets", "gate_and_rows"], "2010-03-01", "2010-06-30"),
        (["training_set"], "2010-03-01", "2010-06-30"),
    ]
    past = plan(high, day_bounds(labelled=False)[1])  # the newest days are observed, not labelled yet
    assert [last for _, _, last in past] == [str(day_bounds(labelled=False)[1]), str(high), str(high)]
    assert [s[0].node_def.name for s, _, _ in plan(date(2010, 3, 1), date(2010, 6, 30), "export")] == ["training_set"]
    with pytest.raises(ValueError, match="the last day is before the first"):
        plan(date(2010, 6, 30), date(2010, 3, 1))
    with pytest.raises(ValueError, match="no labelled partition holds these days"):
        plan(date(1990, 1, 1), date(1990, 2, 1), "labelled")
    assert low <= high


def test_make_backfill_rebuilds_a_range_as_runs_the_ui_shows(tmp_path, full_backfill, monkeypatch):
    """`python -m portfolio_assets.backfill` over a month of a built store: one run per partitions set, named after
    its job, in the instance of DAGSTER_HOME; the JSON summary says what each stored."""
    data_dir = tmp_path / "data"
    shutil.copytree(full_backfill[0], data_dir, ignore=shutil.ignore_patterns("exports"))
    home = tmp_path / "dagster_home"
    env = project_env(home, data_dir)
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the repository's dagster.yaml names it
    command = [sys.executable, "-m", "portfolio_assets.backfill", "2010-03-01", "2010-03-31", "--only"]
    done = subprocess.run([*command, "labelled"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    # A month is too short to split into train / validation / test: the export refuses, naming why, and the
    # command fails; the month's targets and gate were stored by their run.
    assert done.returncode == 1 and not summary["success"]
    (built, export) = summary["runs"]
    assert built["success"] and built["assets"] == "targets, gate_and_rows" and built["rows"]["sft_rows"] > 0
    assert not export["success"] and "the train split is empty" in " ".join(export["errors"])
    done = subprocess.run([*command, "observation"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (observed,) = json.loads(done.stdout.strip().splitlines()[-1])["runs"]
    assert observed["rows"]["indicators"] > 0 and observed["range"] == "2010-03-01..2010-03-31"
    with DagsterInstance.from_config(str(home)) as instance:
        names = sorted(run.job_name for run in instance.get_runs())
    assert names == ["labelled", "labelled", "observation"]


def test_bad_days_are_refused_before_anything_runs():
    done = subprocess.run(
        [sys.executable, "-m", "portfolio_assets.backfill", "2010-03-01", "March"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "'March' is not a day (YYYY-MM-DD)" in done.stderr


@pytest.mark.slow
def test_make_demo_says_what_each_run_stored(tmp_path):
    """`make demo` (``python -m portfolio_assets.demo``) prints a line as each run starts and one with the rows it
    stored and its seconds, then where the training set is."""
    env = project_env(tmp_path / "home", tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "portfolio_assets.demo"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    starts = [line for line in lines if line.endswith(" …")]
    assert starts == [
        "prices, macro, benchmarks, sentiment, indicators 2008-01-01..2013-02-28 …",
        "targets, gate_and_rows 2009-01-01..2012-11-30 …",
        "training_set 2009-01-01..2012-11-30 …",
    ]
    reports = [line for line in lines if line.startswith("  ") and line.endswith(" s")]
    assert len(reports) == len(starts) and "indicators" in reports[0] and " rows" in reports[0]
    assert any(line.startswith("training set: ") for line in lines)
    # Again, with the same code: nothing to build, the export reported again.
    again = subprocess.run(
        [sys.executable, "-m", "portfolio_assets.demo"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert again.stdout.startswith("already built by this code from the bundled sample: nothing to do")
    assert [line for line in again.stdout.splitlines() if line.startswith("training set: ")] == [
        line for line in lines if line.startswith("training set: ")
    ]
    # The store lost an asset: only its partitions set is built again, then the export.
    shutil.rmtree(tmp_path / "data" / "targets")
    rebuilt = subprocess.run(
        [sys.executable, "-m", "portfolio_assets.demo"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    assert rebuilt.stdout.startswith("building what is not built yet")
    starts = [line for line in rebuilt.stdout.splitlines() if line.endswith(" …")]
    assert starts == ["targets, gate_and_rows 2009-01-01..2012-11-30 …", "training_set 2009-01-01..2012-11-30 …"]


@pytest.mark.slow
def test_make_demo_after_an_interrupted_build_builds_only_the_rest(tmp_path):
    """Part of the observation window built (a demo stopped after its first months, or a backfill): the demo
    builds the observation months after it, the labelled days reading any of them, and the export."""
    env = project_env(tmp_path / "home", tmp_path / "data")
    command = [sys.executable, "-m", "portfolio_assets.backfill", "2008-01-01", "2011-12-31", "--only", "observation"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    demo = subprocess.run(
        [sys.executable, "-m", "portfolio_assets.demo"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    starts = [line for line in demo.stdout.splitlines() if line.endswith(" …")]
    assert starts == [
        "prices, macro, benchmarks, sentiment, indicators 2012-01-01..2013-02-28 …",
        "targets, gate_and_rows 2009-01-01..2012-11-30 …",  # none built yet
        "training_set 2009-01-01..2012-11-30 …",
    ]
