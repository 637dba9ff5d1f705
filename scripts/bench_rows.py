#!/usr/bin/env python
"""Time the export's row work on a synthetic frame: rows per CPU-second of every stage.

Stages: ``format_rows`` per prompt format, ``csv_ready``, ``validate_rows`` (features and
chat schemas), ``canonical_frame``, each writer (CSV, JSONL, Parquet) on the whole frame,
and the whole ``export_training_set`` (every format, to a temporary directory). Each
stage runs ``--repeat`` times; the best CPU time (``time.process_time``) counts. The last
line is JSON: ``{"rows": N, "stages": {stage: rows_per_cpu_second}}``.

Usage::

    python scripts/bench_rows.py [--rows 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

from portfolio_assets.assets.training_set import csv_ready  # noqa: E402
from portfolio_assets.bench_rows import synthetic_rows  # noqa: E402
from portfolio_assets.columns import FEATURE_COLUMNS  # noqa: E402
from portfolio_assets.export import SplitConfig, export_training_set  # noqa: E402
from portfolio_assets.export.encoders import WRITERS  # noqa: E402
from portfolio_assets.export.frame import canonical_frame  # noqa: E402
from portfolio_assets.features.sft import PROMPT_FORMATS, format_rows  # noqa: E402
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, validate_rows  # noqa: E402
from portfolio_assets.spans import HORIZON_DAYS  # noqa: E402


def timed(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    """(best CPU seconds over ``repeat`` runs, the last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run every stage and print its rows per CPU-second; returns the final JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    n, repeat = args.rows, max(1, args.repeat)
    base = synthetic_rows(n)
    stages: dict[str, float] = {}

    def record(stage: str, seconds: float) -> None:
        stages[stage] = round(n / seconds) if seconds > 0 else float("inf")
        print(f"{stage:<28} {seconds:8.3f} s  {stages[stage]:>10,} rows/s", flush=True)

    formatted = {}
    for fmt in PROMPT_FORMATS:
        seconds, formatted[fmt] = timed(
            repeat, lambda fmt=fmt: format_rows(base, FEATURE_COLUMNS, HORIZON_DAYS, prompt_format=fmt)
        )
        record(f"format_rows[{fmt}]", seconds)
    ready = {}
    for fmt in ("features", "chat"):
        seconds, ready[fmt] = timed(repeat, lambda fmt=fmt: csv_ready(formatted[fmt]))
        record(f"csv_ready[{fmt}]", seconds)
    for fmt in ("features", "chat"):
        seconds, result = timed(repeat, lambda fmt=fmt: validate_rows(ready[fmt], TRAINING_SET_SCHEMAS[fmt]))
        if not result.ok:  # type: ignore[union-attr]
            raise SystemExit(f"synthetic rows do not validate: {result.summary()}")  # type: ignore[union-attr]
        record(f"validate_rows[{fmt}]", seconds)
    seconds, (frame, columns) = timed(repeat, lambda: canonical_frame(formatted["chat"]))  # type: ignore[misc]
    record("canonical_frame[chat]", seconds)
    for name, writer in WRITERS.items():
        seconds, _ = timed(repeat, lambda writer=writer: writer(frame, columns))
        record(f"write[{name}]", seconds)
    first, last = base["timestamp"].min(), base["timestamp"].max()
    span = last - first
    split = SplitConfig(validation_start=(first + span * 0.7).date(), test_start=(first + span * 0.85).date())
    with tempfile.TemporaryDirectory() as tmp:
        seconds, _ = timed(
            repeat,
            lambda: export_training_set(
                formatted["chat"], Path(tmp) / "out", split=split, provenance={"bench": True}, synthetic=()
            ),
        )
    record("export_training_set[chat]", seconds)
    seconds = sum(n / stages[s] for s in ("format_rows[chat]", "csv_ready[chat]", "validate_rows[chat]"))
    record("path[chat] (sum)", seconds + n / stages["export_training_set[chat]"])
    out = {"rows": n, "stages": stages}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
