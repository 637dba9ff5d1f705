#!/usr/bin/env python
"""Peak memory of the training_set export path on N synthetic sft rows stored as monthly partitions.

Setup (in this process): ``bench_rows.synthetic_rows(N)`` formatted as sft_rows stores
them (``format_rows``, features prompt), written to a ``PartitionStore`` as monthly
partitions. Each measured path then runs in a fresh child process (``spawn``), whose peak
RSS (``VmHWM``, see ``portfolio_assets.bench.peak_rss``) is reported, with its wall time:

* ``whole``: what training_set did before streaming: ``PartitionStore.read`` of every
  partition, then ``format_rows``, ``csv_ready`` + ``validate_rows`` and
  ``export_training_set`` on the whole set;
* ``stream``: what training_set does now: ``export_partitions`` (a light first pass over a
  few columns, then one bounded chunk of partitions at a time).

Both exports are compared file by file (they must be byte-identical). The last line is JSON.

Usage::

    python scripts/bench_export_memory.py [--rows 300000] [--paths whole,stream] [--shard-by year]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

import pandas as pd  # noqa: E402

from portfolio_assets.bench_rows import synthetic_rows  # noqa: E402
from portfolio_assets.columns import FEATURE_COLUMNS  # noqa: E402
from portfolio_assets.features.sft import format_rows  # noqa: E402
from portfolio_assets.fsutil import peak_rss  # noqa: E402
from portfolio_assets.io_managers import PartitionStore  # noqa: E402
from portfolio_assets.spans import HORIZON_DAYS  # noqa: E402

PROVENANCE = {"bench": True}
GRANULARITY = "monthly"


def build_store(root: Path, n: int) -> list[str]:
    """Write ``n`` synthetic sft rows to ``root`` as monthly partitions; return the partition keys."""
    rows = format_rows(synthetic_rows(n), FEATURE_COLUMNS, HORIZON_DAYS)
    first, last = rows["timestamp"].min(), rows["timestamp"].max()
    keys = [
        f"{p.start_time:%Y-%m-%d}"
        for p in pd.period_range(start=first.tz_localize(None), end=last.tz_localize(None), freq="M")
    ]
    PartitionStore(root).write(["sft_rows"], rows, keys, granularity=GRANULARITY)
    return keys


def _run(path: str, store_root: str, keys: list[str], out_dir: str, shard_by: str, queue: object) -> None:
    """Child process: run one export path, put (peak RSS bytes, wall seconds) on ``queue``."""
    from portfolio_assets.assets.training_set import csv_ready
    from portfolio_assets.export import SplitConfig, export_training_set
    from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, validate_rows

    split = SplitConfig()
    store = PartitionStore(store_root)
    start = time.perf_counter()
    if path == "whole":
        sft_rows = store.read(["sft_rows"], keys, granularity=GRANULARITY)
        rows = format_rows(sft_rows, FEATURE_COLUMNS, HORIZON_DAYS)
        result = validate_rows(csv_ready(rows), TRAINING_SET_SCHEMAS["features"])
        if not result.ok:
            raise ValueError(result.summary())
        del result
        export_training_set(rows, out_dir, split=split, shard_by=shard_by, provenance=PROVENANCE, synthetic=())
    else:
        from portfolio_assets.assets.training_set import export_partitions

        export_partitions(
            store.files(["sft_rows"], keys, granularity=GRANULARITY),
            Path(out_dir),
            split=split,
            shard_by=shard_by,
            prompt_format="features",
            provenance=lambda: PROVENANCE,
        )
    seconds = time.perf_counter() - start
    queue.put((peak_rss(), seconds))  # type: ignore[attr-defined]


def measure(path: str, store_root: Path, keys: list[str], out_dir: Path, shard_by: str) -> dict[str, float]:
    """Peak RSS (MB) and wall seconds of one path, in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_run, args=(path, str(store_root), keys, str(out_dir), shard_by, queue))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{path}: the child process failed (exit code {child.exitcode})")
    peak, seconds = queue.get()
    return {"peak_rss_mb": round(peak / 2**20, 1), "seconds": round(seconds, 1)}


def same_files(a: Path, b: Path) -> bool:
    """Whether two export directories hold the same files with the same bytes."""
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    if names != sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()):
        return False
    return all((a / name).read_bytes() == (b / name).read_bytes() for name in names)


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Build the store, measure each path, print one line per path and the JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--paths", default="whole,stream")
    parser.add_argument("--shard-by", default="year")
    args = parser.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]
    record: dict[str, object] = {"rows": args.rows, "shard_by": args.shard_by, "paths": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        keys = build_store(root / "store", args.rows)
        record["partitions"] = len(keys)
        for path in paths:
            figures = measure(path, root / "store", keys, root / path / "training_set", args.shard_by)
            record["paths"][path] = figures  # type: ignore[index]
            print(f"{path:>7}: peak RSS {figures['peak_rss_mb']:>8.1f} MB, {figures['seconds']:>7.1f} s", flush=True)
        if len(paths) > 1:
            exports = [root / p / "training_set" for p in paths]
            record["identical"] = all(same_files(exports[0], other) for other in exports[1:])
    print(json.dumps(record))
    return record


if __name__ == "__main__":
    main()
