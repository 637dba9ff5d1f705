"""A range of the heavy assets built apart (in a fresh process) from a copy of the sample store's inputs, and
the comparison of two such builds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas.testing as pdt

from portfolio_assets.io_managers import PartitionStore

FIRST, LAST = "2010-03-01", "2010-04-30"
INPUTS = ("prices", "benchmarks", "macro", "sentiment")
BUILT = ("indicators", "targets", "quarantine", "sft_rows")
ROOT = Path(__file__).resolve().parents[2]


def inputs_of(full_backfill, data_dir: Path) -> Path:
    """``data_dir`` holding the full sample build's stored inputs of the heavy assets."""
    for name in INPUTS:
        shutil.copytree(Path(full_backfill[0]) / name, data_dir / name)
    return data_dir


def build_heavy(data_dir: Path, url: str, app_name: str, direct_io: str = "auto") -> subprocess.CompletedProcess:
    """``build_heavy.py`` over FIRST..LAST of ``data_dir`` with the engine at ``url``, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    module = "portfolio_assets_tests.engine.build_heavy"
    return subprocess.run(
        [sys.executable, "-m", module, str(data_dir), url, app_name, FIRST, LAST, direct_io],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=ROOT,
    )


def staged_by_executors(done: subprocess.CompletedProcess) -> list[str]:
    """The assets a ``build_heavy`` run says the executors staged in the store."""
    return json.loads(done.stdout.strip().splitlines()[-1])["staged_by_executors"]


def same_as_in_process(data_dir: Path, in_process_range: Path) -> None:
    """Every partition the two builds stored of ``BUILT`` is the same, exactly."""
    here, there = PartitionStore(data_dir), PartitionStore(in_process_range)
    for name in BUILT:
        keys = here.keys([name])
        assert keys and keys[0] == FIRST and keys[-1] == "2010-04-01", (name, keys)
        pdt.assert_frame_equal(here.read([name], keys), there.read([name], keys), check_exact=True)
