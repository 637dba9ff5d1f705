#!/usr/bin/env python
"""Time the gate's row work (``gate_and_rows`` without Dagster and its IO): CPU µs per row of each stage.

Reads prices, indicators, macro, sentiment and targets of a ``python -m portfolio_assets.bench`` store,
optionally replicates its assets ``--copies`` times under new symbols (500 assets from a 20-asset store),
and replays the gate on ``--first..--last``: context windows, the join, point_in_time, build_sft_rows,
validate_rows, the suspect moves and the quarantine, and the other gate checks. Each stage's best CPU time
(``time.process_time``) over ``--repeat`` runs counts; the last line is JSON.

Usage::

    python -m portfolio_assets.bench --assets 20 --years 5 --out /tmp/gate_bench
    python scripts/bench_gate.py --store /tmp/gate_bench --first 2017-03-01 --last 2017-10-31 --copies 25
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

from portfolio_assets.assets.sft_rows import build_sft_rows, held_rows, join_features  # noqa: E402
from portfolio_assets.assets.windows import in_window  # noqa: E402
from portfolio_assets.checks import (  # noqa: E402
    calendars_for,
    completeness,
    feature_distribution,
    feature_target_ic,
    has_volume_for,
    last_trading_days_for,
    no_target_reasons,
    point_in_time,
    rsi_bounds,
    suspect_moves,
    target_coverage,
    temporal_gaps,
)
from portfolio_assets.columns import FEATURE_COLUMNS  # noqa: E402
from portfolio_assets.features.adjustment import adjusted_close, factors_of  # noqa: E402
from portfolio_assets.features.sft import context_windows  # noqa: E402
from portfolio_assets.io_managers import PartitionStore  # noqa: E402
from portfolio_assets.schemas import SftRowsSchema, validate_rows  # noqa: E402
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS  # noqa: E402
from portfolio_assets.universe import Universe, load_universe  # noqa: E402

INPUTS = ("prices", "indicators", "macro", "sentiment", "targets")


def load(store: Path, first: pd.Timestamp, last: pd.Timestamp, copies: int) -> dict[str, pd.DataFrame]:
    """The gate's inputs over its window (prices with the context lookback and the horizon), assets replicated."""
    partitions = PartitionStore(store / "data")
    frames = {}
    for name in INPUTS:
        frame = partitions.read([name], partitions.keys([name]))
        lo = first - pd.Timedelta(days=CONTEXT_LOOKBACK_DAYS) if name == "prices" else first
        hi = last + pd.Timedelta(days=HORIZON_DAYS) if name == "prices" else last
        frame = frame[(frame["timestamp"] >= lo) & (frame["timestamp"] <= hi)]
        if name != "macro":
            frame = pd.concat([frame.assign(asset_symbol=frame["asset_symbol"] + _suffix(c)) for c in range(copies)])
        frames[name] = frame.reset_index(drop=True)
    return frames


def _suffix(copy: int) -> str:
    return f"_{copy}" if copy else ""


def gate(frames: dict[str, pd.DataFrame], universe: Universe, first: pd.Timestamp, last: pd.Timestamp) -> dict:
    """The gate's row work; returns the CPU seconds of each stage and the row count."""
    prices = frames["prices"]
    times: dict[str, float] = {}
    clock = [time.process_time()]

    def lap(stage: str) -> None:
        now = time.process_time()
        times[stage], clock[0] = now - clock[0], now

    windows = context_windows(prices, 30, factors=factors_of(prices)[1])
    lap("context_windows")
    day_prices = in_window(prices.assign(context_window=windows), first, last)
    joined = join_features(day_prices.drop(columns="context_window"), *(frames[k] for k in INPUTS[1:]))
    lap("join")
    point_in_time(joined, features=FEATURE_COLUMNS)
    lap("point_in_time")
    rows = build_sft_rows(joined, day_prices["context_window"], universe)
    lap("build_sft_rows")
    has_volume, ended = has_volume_for(universe.assets), last_trading_days_for(universe.assets)
    no_target = no_target_reasons(rows, ended, HORIZON_DAYS)
    labelled = rows[no_target.isna().to_numpy()]
    result = validate_rows(labelled, SftRowsSchema, has_volume=has_volume)
    lap("validate_rows")
    before = prices[prices["timestamp"] < first]
    moves = feature_distribution(
        adjusted_close(in_window(prices, first, last + pd.Timedelta(days=HORIZON_DAYS))),
        previous=adjusted_close(before),
        max_cases=len(prices),
    ).failures
    _, reasons = suspect_moves(rows, moves, accepted={a.symbol: a.accepted_moves for a in universe.assets})
    held_rows(rows, result.invalid, reasons, no_target)
    lap("moves_and_held")
    completeness(rows, features=FEATURE_COLUMNS, has_volume=has_volume)
    temporal_gaps(
        in_window(prices, first, last),
        calendars=calendars_for(universe.assets),
        previous=before.groupby("asset_symbol").tail(1),
        window_end=last,
        last_trading_days=ended,
    )
    rsi_bounds(rows)
    target_coverage(rows, last_trading_days=ended, horizon_days=HORIZON_DAYS)
    lap("other_checks")
    feature_target_ic(labelled, features=FEATURE_COLUMNS)
    lap("feature_target_ic")
    return {"rows": len(rows), "times": times}


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Replay the gate and print CPU µs per row of each stage; returns the final JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a bench --out directory")
    parser.add_argument("--first", required=True)
    parser.add_argument("--last", required=True)
    parser.add_argument("--copies", type=int, default=1, help="replicate the store's assets this many times")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    first, last = pd.Timestamp(args.first, tz="UTC"), pd.Timestamp(args.last, tz="UTC")
    frames = load(args.store, first, last, args.copies)
    base = load_universe(args.store / "universe.yaml")
    specs = [dataclasses.replace(a, symbol=a.symbol + _suffix(c)) for c in range(args.copies) for a in base.assets]
    universe = dataclasses.replace(base, assets=tuple(specs))
    best: dict[str, float] = {}
    rows = 0
    for _ in range(max(1, args.repeat)):
        run = gate(frames, universe, first, last)
        rows = run["rows"]
        best = {k: min(v, best.get(k, v)) for k, v in run["times"].items()}
    per_row = {k: round(1e6 * v / max(rows, 1), 1) for k, v in best.items()}
    per_row["total"] = round(sum(per_row.values()), 1)
    for stage, us in per_row.items():
        print(f"{stage:<20} {us:8.1f} us/row", flush=True)
    record = {"rows": rows, "us_per_row": per_row}
    print(json.dumps(record))
    return record


if __name__ == "__main__":
    main()
