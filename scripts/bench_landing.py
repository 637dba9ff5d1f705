#!/usr/bin/env python
"""Time every landing-zone reader on a synthetic ``bench_data`` landing zone: CPU seconds and rows/s.

Readers: ``read_prices`` / ``read_actions`` (every asset), ``read_fred`` (every FRED series),
``read_gdelt`` (tone and volume of every query), ``read_trends`` (every query), ``read_social``,
``read_fear_greed``, and the asset glue ``canonical_prices``, ``macro_series`` (every macro
field) and ``benchmark_frame``. Each runs ``--repeat`` times; the best CPU time
(``time.process_time``) counts. ``--profile`` prints the top cProfile entries of each reader.
The last line is JSON: ``{"assets": N, "years": Y, "readers": {name: {"cpu_s": s, "rows": r, "rows_per_s": x}}}``.

Usage::

    python scripts/bench_landing.py [--assets 50] [--years 10] [--repeat 1] [--only social,trends] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

from portfolio_assets import replay  # noqa: E402
from portfolio_assets.assets.benchmarks import benchmark_frame  # noqa: E402
from portfolio_assets.assets.macro import macro_series  # noqa: E402
from portfolio_assets.assets.prices import canonical_prices  # noqa: E402
from portfolio_assets.bench_data import write_landing  # noqa: E402
from portfolio_assets.resources import LandingZoneResource  # noqa: E402


def _rows(result: object) -> int:
    if isinstance(result, list):
        return sum(_rows(item) for item in result)
    frame = getattr(result, "frame", result)
    try:
        return len(frame)  # type: ignore[arg-type]
    except TypeError:
        return 0


def readers(landing: LandingZoneResource) -> dict[str, Callable[[], object]]:
    """Reader name -> a call reading its whole share of the landing zone."""
    zone, universe = landing.zone(), landing.universe()
    queries = sorted({a.news_query for a in universe.assets if a.news_query})
    terms = sorted({a.trends_query for a in universe.assets if a.trends_query})
    fred_ids = sorted({m.series_id for m in universe.macro if m.source == "fred" and m.series_id})
    return {
        "prices": lambda: [replay.read_prices(zone, a) for a in universe.assets],
        "actions": lambda: [replay.read_actions(zone, a).splits for a in universe.assets],
        "fred": lambda: [replay.read_fred(zone, s) for s in fred_ids],
        "gdelt": lambda: [replay.read_gdelt(zone, q, m) for q in queries for m in ("timelinetone", "timelinevolraw")],
        "trends": lambda: [s.frame for q in terms for s in replay.read_trends(zone, q)],
        "social": lambda: replay.read_social(zone),
        "fear_greed": lambda: replay.read_fear_greed(zone),
        "canonical_prices": lambda: canonical_prices(landing),
        "macro_series": lambda: [macro_series(landing, m) for m in universe.macro],
        "benchmark_frame": lambda: benchmark_frame(landing),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Write the landing zone, time each reader, print its CPU seconds and rows/s; returns the JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=50)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated reader names (default: all)")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries of each reader")
    args = parser.parse_args(argv)
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_landing(Path(tmp), args.assets, args.years)
        print(f"landing zone: {args.assets} assets x {args.years} years written in {time.perf_counter() - start:.1f} s")
        landing = LandingZoneResource(root=str(Path(tmp) / "landing"), universe_file=str(Path(tmp) / "universe.yaml"))
        wanted = {name for name in args.only.split(",") if name}
        for name, call in readers(landing).items():
            if wanted and name not in wanted:
                continue
            best, result = float("inf"), None
            for _ in range(max(1, args.repeat)):
                gc.collect()
                begin = time.process_time()
                result = call()
                best = min(best, time.process_time() - begin)
            rows = _rows(result)
            out[name] = {"cpu_s": round(best, 3), "rows": rows, "rows_per_s": round(rows / best) if best > 0 else 0}
            print(f"{name:<18} {best:8.3f} s  {rows:>10,} rows  {out[name]['rows_per_s']:>12,} rows/s", flush=True)
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(call)
                pstats.Stats(profile).sort_stats("cumulative").print_stats(12)
    record = {"assets": args.assets, "years": args.years, "readers": out}
    print(json.dumps(record))
    return record


if __name__ == "__main__":
    main()
