"""`make bench`: the whole build on a synthetic universe of N assets x Y years, measured.

``python -m portfolio_assets.bench --assets N --years Y [--out DIR]``

1. Writes a deterministic synthetic landing zone in the real wire formats and its ``universe.yaml``
   (``bench_data``: Alpha Vantage daily series for crypto, equities, ETFs, FX and gold, with SPLITS /
   DIVIDENDS; FRED latest values (no vintages) of every macro series; GDELT tone / volume timelines; the
   social feed; Fear & Greed; monthly Google Trends downloads). Classes cycle crypto, equity, fx,
   commodity (an ETF), bond; crypto trades every day, the rest on weekdays; XAUUSD (gold, a macro input)
   is always one of the assets. News and Trends queries are shared per class.
2. Runs the build through Dagster in a child process (the window is read when the definitions load), on a
   persistent SQLite instance under ``DIR/dagster_home``, as ``make demo`` does: the observation assets,
   then the labelled ones through the export.
3. Reports per stage (each asset's steps): wall seconds and rows per second; per run: wall and CPU seconds;
   the peak resident memory of the whole process tree (the sum of its processes' PSS: a page shared after a
   fork counts once), when it happened and which processes held it; the
   share of the wall time spent outside this package's code (Dagster's own
   bookkeeping: event writes, planning, storage), sampled from the running stack every 5 ms; the files
   written; and, in this process on the same prices, ``compute_indicators`` against TA-Lib computing the
   same indicators (time ratio).
4. Prints a one-line JSON summary last.

Figures go in BENCHMARKS.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd

from portfolio_assets import settings
from portfolio_assets.bench_data import write_landing
from portfolio_assets.bench_talib import indicator_vs_talib
from portfolio_assets.fsutil import peak_rss
from portfolio_assets.memprobe import TreeMemory

__all__ = ["StackSampler", "TreeMemory", "main", "partitions_per_run", "peak_rss"]

PACKAGE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- the run (child process)


class StackSampler:
    """The share of the main thread's wall time inside this package's code (vs Dagster's own), sampled.

    Every ``interval`` seconds a timer signal (SIGALRM, restarting interrupted system calls) runs the handler in
    the main thread itself, which looks up the stack it interrupted; each sample weighs the time since the one
    before, so a long call into C (a commit, a numpy kernel) counts for its duration, for whoever called it.
    ``ours`` and ``samples`` are seconds. (Reading the main thread's frames from a sampling thread crashed
    CPython 3.11 with a segmentation fault in a 500 x 20 build.) Use it from the main thread only.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.samples = 0.0
        self.ours = 0.0
        self._last = 0.0
        self._previous: object = None
        self._package = str(PACKAGE) + os.sep
        self._excluded = {str(Path(__file__).resolve()), str(PACKAGE / "runner.py"), str(PACKAGE / "demo.py")}

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        now = time.perf_counter()
        weight, self._last = now - self._last, now
        self.samples += weight
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith(self._package) and name not in self._excluded:
                self.ours += weight
                return
            frame = frame.f_back

    def __enter__(self) -> StackSampler:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("StackSampler: signals reach the main thread only; enter it there")
        self._previous = signal.signal(signal.SIGALRM, self._sample)
        signal.siginterrupt(signal.SIGALRM, False)
        self._last = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]


ROWS_PER_RUN = 250_000
"""About how many price rows one run of the build holds (``--partitions-per-run`` auto): bounds its memory."""


OBSERVATION_ROWS_PER_RUN = 750_000
"""The same for the observation ranges, which hold less per row than the labelled ones (measured: BENCHMARKS.md),
and whose indicators re-read a 730-day lookback in every range: the larger the range, the less re-read."""


def partitions_per_run(assets: int, workers: int = 1, rows: int = ROWS_PER_RUN) -> int:
    """Monthly partitions per run so the runs held at once (one per worker) hold about ``rows`` price rows
    together (at least one month a run)."""
    return max(1, rows // (assets * 31 * max(workers, 1)))


def phase_of(assets: Sequence[str]) -> str:
    """The phase of ``materialize_all`` a worker run's assets (node names) belong to."""
    if "training_set" in assets:
        return "export"
    if tuple(assets) == ("indicators",):
        return "indicators"
    return "labelled" if "gate_and_rows" in assets else "observation"


def run_build(
    out: Path, per_run: int | None, workers: int = 1, observation_per_run: int | None = None
) -> dict[str, object]:
    """Materialise everything (no raw assets: the landing zone is the raw responses) and measure it.

    The peak RSS is the largest resident memory of this process and all its children together (their PSS
    summed, so pages shared after a fork count once), sampled every 0.1 s (``TreeMemory``), or this process's
    own peak if larger. With ``workers`` > 1 every run
    executes in a worker process (the export's own workers below it): the CPU time is this process's and its
    children's, and Dagster's share is sampled in the workers."""
    from dagster import AssetKey, DagsterInstance

    from portfolio_assets.definitions import resources_for
    from portfolio_assets.runner import WorkerRun, materialize_all

    instance = DagsterInstance.get()
    started, cpu0 = time.perf_counter(), os.times()
    with StackSampler() as sampler, TreeMemory() as memory:
        results = materialize_all(
            resources=resources_for(),
            instance=instance,
            sources=False,
            log_level="WARNING",
            partitions_per_run=per_run,
            observation_partitions_per_run=observation_per_run if per_run is not None else None,
            workers=workers,
            sampler=StackSampler if workers > 1 else None,
        )
    wall = time.perf_counter() - started
    cpu1 = os.times()
    cpu = sum(getattr(cpu1, f) - getattr(cpu0, f) for f in ("user", "system", "children_user", "children_system"))
    in_workers = [r for r in results if isinstance(r, WorkerRun)]
    rss = max(memory.peak, peak_rss())
    if in_workers:
        ours = sum(r.samples[0] for r in in_workers if r.samples)
        share = 1.0 - ours / max(sum(r.samples[1] for r in in_workers if r.samples), 1e-9)
    else:
        share = 1.0 - sampler.ours / max(sampler.samples, 1e-9)
    stages, rows, runs = run_stats(instance, [r.run_id for r in results])
    cost = instance_cost(instance, [r.run_id for r in results])
    event = instance.get_latest_materialization_event(AssetKey("training_set"))
    assert event is not None and event.asset_materialization is not None
    export = event.asset_materialization.metadata
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_rss_mb": rss / 2**20,
        "peak_at": memory.peak_at,
        "peak_processes_mb": [(round(b / 2**20), pid, ppid) for pid, ppid, b in memory.peak_processes if b >= 2**26],
        "dagster_share": share,
        "stage_seconds": stages,
        "stage_rows": rows,
        "rows": int(export["rows"].value),
        "export": str(export["path"].value),
        "run_seconds": runs,
        "workers": workers,
        "worker_peaks_mb": worker_peaks(in_workers),
        "instance": cost,
    }


def worker_peaks(runs: Sequence[Any]) -> dict[str, int]:
    """The largest peak RSS of one worker process in each phase (MB): each phase runs in fresh processes."""
    peaks: dict[str, int] = {}
    for run in runs:
        phase = phase_of(run.assets)
        peaks[phase] = max(peaks.get(phase, 0), round(run.peak_rss / 2**20))
    return peaks


def instance_cost(instance, run_ids: list[str]) -> dict[str, object]:
    """What the runs cost the persistent instance: events per type, their serialised megabytes, and the seconds
    from each run's first event to its first step (Dagster planning the run: one planned event per partition
    per asset), summed."""
    from dagster import DagsterEventType
    from dagster._serdes import serialize_value

    kinds: dict[str, int] = defaultdict(int)
    size = before_steps = 0.0
    for run_id in run_ids:
        entries = instance.all_logs(run_id)
        first_step = next(
            (
                e.timestamp
                for e in entries
                if e.dagster_event and e.dagster_event.event_type == DagsterEventType.STEP_START
            ),
            None,
        )
        if entries and first_step is not None:
            before_steps += first_step - entries[0].timestamp
        for entry in entries:
            kinds[entry.dagster_event.event_type_value if entry.dagster_event else "LOG"] += 1
            size += len(serialize_value(entry))
    return {
        "events": sum(kinds.values()),
        "event_mb": round(size / 2**20, 2),
        "planned": kinds.get(DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value, 0),
        "materializations": kinds.get(DagsterEventType.ASSET_MATERIALIZATION.value, 0),
        "seconds_before_first_step": round(before_steps, 2),
    }


def run_stats(instance, run_ids: list[str]) -> tuple[dict[str, float], dict[str, int], list[float]]:
    """From the runs' event logs: seconds per step, the rows each asset's last materialisation reports, and
    each run's wall seconds."""
    from dagster import DagsterEventType

    from portfolio_assets.runner import run_rows

    stages: dict[str, float] = defaultdict(float)
    rows: dict[str, int] = defaultdict(int)
    runs = []
    for run_id in run_ids:
        starts: dict[str, float] = {}
        counted: dict[str, int] = {}  # every partition's event carries the run's count: take one per run
        entries = instance.all_logs(run_id)
        runs.append(entries[-1].timestamp - entries[0].timestamp if entries else 0.0)
        for entry in entries:
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                starts[event.step_key] = entry.timestamp
            elif event.event_type == DagsterEventType.STEP_SUCCESS and event.step_key in starts:
                stages[event.step_key] += entry.timestamp - starts[event.step_key]
            elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                materialization = entry.asset_materialization
                count = run_rows(materialization.metadata) if materialization else None
                if count is not None:
                    counted[materialization.asset_key.to_user_string()] = count
        for asset, count in counted.items():
            rows[asset] += count
    return dict(stages), dict(rows), runs


# --------------------------------------------------------------------------- main


def split_boundaries(first: str, last: str) -> dict[str, str]:
    """Validation and test starts at 60% and 80% of the labelled days, so each split outlasts its 90-day labels."""
    from portfolio_assets.spans import HORIZON_DAYS, WARMUP_DAYS

    start = pd.Timestamp(first) + pd.Timedelta(days=WARMUP_DAYS)
    span = pd.Timestamp(last) - pd.Timedelta(days=HORIZON_DAYS) - start
    return {
        "PORTFOLIO_VALIDATION_START": str((start + span * 0.6).date()),
        "PORTFOLIO_TEST_START": str((start + span * 0.8).date()),
    }


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder)) if folder.exists() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=10, help="universe size (>= 2; XAUUSD is one)")
    parser.add_argument(
        "--years", type=int, default=3, help="years of daily partitions (>= 3: a year of warm-up, then three splits)"
    )
    parser.add_argument("--out", type=Path, default=Path("data/bench"), help="working directory (replaced)")
    parser.add_argument(
        "--partitions-per-run",
        type=int,
        default=0,
        help=f"monthly partitions per run (0: about {ROWS_PER_RUN:,} price rows a run; -1: one run per stage)",
    )
    parser.add_argument(
        "--observation-partitions-per-run",
        type=int,
        default=0,
        help=f"monthly partitions per observation run (0: about {OBSERVATION_ROWS_PER_RUN:,} price rows a run)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes running a phase's ranges side by side (materialize_all(workers=N))",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    per_run = {0: partitions_per_run(args.assets, args.workers), -1: None}.get(
        args.partitions_per_run, args.partitions_per_run
    )
    observation_per_run = args.observation_partitions_per_run or partitions_per_run(
        args.assets, args.workers, OBSERVATION_ROWS_PER_RUN
    )
    if args.child:
        print(json.dumps(run_build(out, per_run, args.workers, observation_per_run)))
        return 0
    if args.assets < 2 or args.years < 3:
        parser.error("--assets must be >= 2 and --years >= 3")
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    if args.observation_partitions_per_run < 0:
        parser.error("--observation-partitions-per-run must be >= 0")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    landing = write_landing(out, args.assets, args.years)
    generated = time.perf_counter() - started
    home = out / "dagster_home"
    home.mkdir()
    shutil.copy(PACKAGE.parent / "dagster.yaml", home / "dagster.yaml")
    env = settings.child_environment(
        {
            "DAGSTER_HOME": str(home),
            "PORTFOLIO_START_DATE": landing["first"],
            "PORTFOLIO_END_DATE": landing["last"],
            "PORTFOLIO_LANDING_DIR": str(out / "landing"),
            "PORTFOLIO_UNIVERSE_FILE": str(out / "universe.yaml"),
            "PORTFOLIO_DATA_DIR": str(out / "data"),
            "PORTFOLIO_SOURCE_MODE": "sample",
            settings.WORKERS_ENV: str(args.workers),  # the export's chunks too
            **split_boundaries(landing["first"], landing["last"]),
        }
    )
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "portfolio_assets.bench",
            "--child",
            "--out",
            str(out),
            "--assets",
            str(args.assets),
            "--partitions-per-run",
            str(args.partitions_per_run),
            "--observation-partitions-per-run",
            str(args.observation_partitions_per_run),
            "--workers",
            str(args.workers),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        (out / "build.log").write_text(child.stderr, encoding="utf-8")
        sys.stderr.write(child.stderr[-4000:])
        raise SystemExit(f"bench: the build failed (exit {child.returncode}); its log ends above ({out}/build.log)")
    build = json.loads(child.stdout.strip().splitlines()[-1])
    ratio = indicator_vs_talib(args.assets, args.years)
    files = count_files(out / "data")
    print(
        f"{args.assets} assets x {args.years} years ({landing['first']}..{landing['last']}), "
        f"{landing['landing_files']} landing files written in {generated:.1f}s"
    )
    print(f"{'stage':<40} {'seconds':>9} {'rows':>10} {'rows/s':>10}")
    for stage, seconds in sorted(build["stage_seconds"].items(), key=lambda kv: -kv[1]):
        asset = {"gate_and_rows": "sft_rows"}.get(stage, stage)
        count = build["stage_rows"].get(asset)
        rate = f"{count / seconds:,.0f}" if count and seconds else "-"
        print(f"{stage:<40} {seconds:>9.1f} {count if count is not None else '-':>10} {rate:>10}")
    print(
        f"runs: {', '.join(f'{s:.1f}s' for s in build['run_seconds'])}; wall {build['wall']:.1f}s, "
        f"CPU {build['cpu']:.1f}s, peak RSS {build['peak_rss_mb']:.0f} MB, "
        f"Dagster's share {build['dagster_share']:.0%}, "
        f"{files} files in the store and exports; compute_indicators / TA-Lib {ratio:.2f}x"
    )
    print(
        f"memory peaked {build['peak_at']:.0f}s into the build, held by processes of "
        f"{', '.join(f'{mb:,} MB (pid {pid}, parent {ppid})' for mb, pid, ppid in build['peak_processes_mb'])} "
        "(those over 64 MB)"
    )
    cost = build["instance"]
    print(
        f"instance: {cost['events']:,} events ({cost['planned']:,} planned, {cost['materializations']:,} "
        f"materialisations), {cost['event_mb']} MB serialised; {cost['seconds_before_first_step']}s of the runs "
        "before their first step (Dagster planning)"
    )
    if build["worker_peaks_mb"]:
        print(
            "largest worker by phase: "
            + ", ".join(f"{phase} {mb:,} MB" for phase, mb in build["worker_peaks_mb"].items())
            + " (peak RSS of one process)"
        )
    summary = {
        "assets": args.assets,
        "years": args.years,
        "workers": args.workers,
        "rows": build["rows"],
        "seconds": round(build["wall"], 2),
        "cpu_seconds": round(build["cpu"], 2),
        "rows_per_s": round(build["rows"] / build["wall"], 1),
        "stage_seconds": {k: round(v, 2) for k, v in build["stage_seconds"].items()},
        "peak_rss_mb": round(build["peak_rss_mb"], 1),
        "dagster_share": round(build["dagster_share"], 3),
        "files": files,
        "indicator_vs_talib": round(ratio, 2),
        "instance": build["instance"],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
