"""The benchmark's synthetic universe: every file parses as the real wire format, and the universe loads.

Speed itself is measured by ``make bench`` (BENCHMARKS.md), never by a timed test.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from portfolio_assets import bench_data, replay
from portfolio_assets.bench import split_boundaries
from portfolio_assets.landing import LandingZone
from portfolio_assets.universe import load_universe


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    written = bench_data.write_landing(out, 7, 3)
    return out, written


def test_every_series_the_graph_reads_parses(generated):
    out, written = generated
    universe = load_universe(out / "universe.yaml")
    zone = LandingZone(out / "landing")
    assert [a.asset_class for a in universe.assets] == [
        "commodity",
        "crypto",
        "equity",
        "fx",
        "commodity",
        "bond",
        "crypto",
    ]
    first, last = pd.Timestamp(written["first"], tz="UTC"), pd.Timestamp(written["last"], tz="UTC")
    for spec in universe.assets:
        prices = replay.read_prices(zone, spec)  # the stated clocks match the bar ends
        assert prices["timestamp"].iloc[0] == first or spec.asset_class != "crypto"
        assert prices["timestamp"].iloc[-1] <= last
        replay.read_actions(zone, spec)
        assert replay.read_gdelt(zone, spec.news_query, "timelinetone")["timestamp"].iloc[-1] == last
        assert len(replay.read_trends(zone, spec.trends_query)) == 48  # monthly, from a year before the window
    for macro in universe.macro:
        if macro.source == "fred":
            assert not replay.read_fred(zone, macro.series_id).frame.empty
    social = replay.read_social(zone)
    assert set(social["asset_symbol"]) == set(universe.symbols)
    assert len(replay.read_fear_greed(zone)) > 3 * 365


def test_the_universe_is_deterministic_and_the_splits_outlast_their_labels(generated, tmp_path):
    out, _ = generated
    again = bench_data.write_landing(tmp_path, 7, 3)
    for name in ("universe.yaml",):
        assert (out / name).read_text() == (tmp_path / name).read_text()
    first = sorted((out / "landing").rglob("*.json"))[0]
    assert first.read_bytes() == (tmp_path / first.relative_to(out)).read_bytes()
    bounds = split_boundaries(again["first"], again["last"])
    validation, test = (pd.Timestamp(bounds[k]) for k in ("PORTFOLIO_VALIDATION_START", "PORTFOLIO_TEST_START"))
    assert test - validation > pd.Timedelta(days=90)
    assert json.dumps(bounds)


def test_the_memory_of_child_processes_is_counted():
    import os
    import subprocess
    import sys
    import time

    from portfolio_assets.bench import TreeMemory

    started = time.perf_counter()
    with TreeMemory(interval=0.05) as memory:
        own = memory.sample()
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import time; x = bytearray(200 * 2**20); x[::4096] = b'1' * len(x[::4096]); "
                "print(flush=True); time.sleep(2)",
            ],
            stdout=subprocess.PIPE,
        )
        child.stdout.readline()  # the child holds its 200 MB from here
        time.sleep(0.5)
        child.wait()
    assert memory.peak >= own + 200 * 2**20
    assert memory.peak == sum(rss for *_, rss in memory.peak_processes)
    assert (child.pid, os.getpid()) in [(pid, ppid) for pid, ppid, rss in memory.peak_processes if rss >= 200 * 2**20]
    assert len({pid for pid, *_ in memory.peak_processes}) == len(memory.peak_processes)
    assert 0.0 < memory.peak_at < time.perf_counter() - started


def test_the_stack_sampler_weighs_the_time_in_this_package_against_the_rest():
    import time

    import numpy as np

    from portfolio_assets import fpmath
    from portfolio_assets.bench import StackSampler

    x = np.random.default_rng(0).uniform(1.0, 2.0, 2_000_000)
    fpmath.log(x[:10])  # compiled before the measure
    with StackSampler(interval=0.002) as sampler:
        started = time.perf_counter()
        while time.perf_counter() - started < 0.4:  # this test's own code: not the package's
            pass
        started = time.perf_counter()
        while time.perf_counter() - started < 0.4:  # the package's (the call into C counts for its caller)
            fpmath.log(x)
    assert 0.7 < sampler.samples < 1.2
    assert 0.3 < sampler.ours / sampler.samples < 0.7
    with pytest.raises(RuntimeError, match="main thread"):
        import threading

        errors = []

        def enter() -> None:
            try:
                StackSampler().__enter__()
            except RuntimeError as exc:
                errors.append(exc)

        thread = threading.Thread(target=enter)
        thread.start()
        thread.join()
        raise errors[0]


def test_pages_shared_with_a_forked_child_count_once():
    """A child forked from a process holding 300 MB shares those pages: the tree holds 300 MB, not 600."""
    import subprocess
    import sys
    import time

    from portfolio_assets.bench import TreeMemory

    script = (
        "import os, sys, time; x = bytearray(300 * 2**20); x[::4096] = b'1' * len(x[::4096]); "
        "pid = os.fork()\n"
        "if pid == 0:\n    time.sleep(3); os._exit(0)\n"
        "print(flush=True); time.sleep(1.5); os.waitpid(pid, 0)"
    )
    with TreeMemory(interval=0.05) as memory:
        own = memory.sample()
        parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        parent.stdout.readline()  # both processes are alive from here, sharing the 300 MB
        time.sleep(0.5)
        both = [b for pid, ppid, b in memory.processes() if pid == parent.pid or ppid == parent.pid]
        parent.wait()
    assert len(both) == 2
    assert 300 * 2**20 <= sum(both) < 400 * 2**20  # the shared pages once; an RSS sum says 600 MB
    assert 300 * 2**20 <= memory.peak - own < 450 * 2**20


def test_worker_peaks_are_reported_per_phase():
    from portfolio_assets.bench import partitions_per_run, worker_peaks
    from portfolio_assets.runner import WorkerRun

    def run(assets: tuple[str, ...], mb: int) -> WorkerRun:
        return WorkerRun("id", True, assets, ("2010-01-01", "2010-06-01"), mb * 2**20, 1)

    runs = [
        run(("benchmarks", "macro", "prices", "sentiment"), 900),
        run(("benchmarks", "macro", "prices", "sentiment"), 1100),
        run(("indicators",), 700),
        run(("targets", "gate_and_rows"), 2400),
        run(("training_set",), 300),
    ]
    assert worker_peaks(runs) == {"observation": 1100, "indicators": 700, "labelled": 2400, "export": 300}
    assert partitions_per_run(500, 2) == 8 and partitions_per_run(500, 2, 750_000) == 24
    assert partitions_per_run(100_000, 2) == 1  # at least one month a run


@pytest.mark.slow
def test_the_instance_cost_counts_each_runs_events(full_backfill, instance):
    from dagster import DagsterEventType

    from portfolio_assets.bench import instance_cost

    _, results = full_backfill
    run_ids = [r.run_id for r in results]
    cost = instance_cost(instance, run_ids)
    planned = sum(
        1
        for run_id in run_ids
        for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    )
    assert cost["planned"] == planned > 0
    # every planned partition was materialised: the sample's runs succeed
    assert cost["materializations"] == planned
    assert cost["events"] > 2 * planned and cost["event_mb"] > 0
    assert (
        0
        < cost["seconds_before_first_step"]
        < sum(e[-1].timestamp - e[0].timestamp for e in (instance.all_logs(r) for r in run_ids))
    )
