#!/usr/bin/env python
"""Time compute_indicators, compute_targets and compute_cross_asset on synthetic assets (100 x 7000 days).

compute_cross_asset runs against a synthetic S&P 500 (business days, ~3% missing,
released the same day) and dollar index (business days, released 7 days later).

Prints CPU time (``time.process_time``: steadier than the wall clock on a shared machine),
rows per second and the peak of Python-tracked memory (tracemalloc,
which sees numpy and pandas buffers; TA-Lib's C temporaries are not included).

Usage::

    python scripts/bench_features.py [--assets 100] [--days 7000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

from portfolio_assets.features import compute_cross_asset, compute_indicators, compute_targets  # noqa: E402

CLASSES = ("crypto", "equity", "fx", "commodity", "bond")


def synthetic_prices(assets: int, days: int, seed: int = 0) -> pd.DataFrame:
    """Seeded random walks with consistent OHLC; crypto on a daily calendar, the rest on business days."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(assets):
        asset_class = CLASSES[i % len(CLASSES)]
        freq = "D" if asset_class == "crypto" else "B"
        close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, days)))
        open_ = close * np.exp(rng.normal(0.0, 0.005, days))
        high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.01, days)))
        low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.01, days)))
        volume = np.full(days, np.nan) if asset_class == "fx" else rng.lognormal(15.0, 0.6, days).round()
        stamps = pd.date_range("1995-01-02", periods=days, freq=freq, tz="UTC")
        frames.append(
            pd.DataFrame(
                {
                    "asset_symbol": f"SYN{i:04d}",
                    "asset_class": asset_class,
                    "timestamp": stamps,
                    "price_open": open_,
                    "price_high": high,
                    "price_low": low,
                    "price_close": close,
                    "volume": volume,
                    "available_at": stamps + pd.Timedelta(days=1),  # decided at 24:00 UTC
                }
            )
        )
    # shuffled, as a partitioned read may hand it over
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def synthetic_benchmarks(prices: pd.DataFrame, seed: int = 1) -> dict[str, pd.DataFrame]:
    """``sp500`` and ``dxy`` benchmark frames on business days covering the prices."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(prices["timestamp"].min(), prices["timestamp"].max(), tz="UTC")
    benchmarks = {}
    for name, start, vol, lag in (("sp500", 1000.0, 0.01, 0), ("dxy", 100.0, 0.004, 7)):
        values = start * np.exp(np.cumsum(rng.normal(0.0, vol, len(days))))
        values[rng.random(len(days)) < 0.03] = np.nan
        benchmarks[name] = pd.DataFrame(
            {"observation_date": days, "value": values, "available_at": days + pd.Timedelta(days=lag)}
        )
    return benchmarks


def measure(name: str, fn: Callable[[], pd.DataFrame], rows: int, repeat: int) -> None:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best = min(times)
    print(
        f"{name:<20} best {best:7.3f} s  median {sorted(times)[len(times) // 2]:7.3f} s  "
        f"{rows / best:12,.0f} rows/s  peak {peak / 2**20:8.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--days", type=int, default=7000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    prices = synthetic_prices(args.assets, args.days)
    rows = len(prices)
    size = prices.memory_usage(deep=True).sum() / 2**20
    print(f"{args.assets} assets x {args.days} days = {rows:,} rows (input {size:.1f} MiB)")
    measure("compute_indicators", lambda: compute_indicators(prices), rows, args.repeat)
    measure("compute_targets", lambda: compute_targets(prices), rows, args.repeat)
    benchmarks = synthetic_benchmarks(prices)
    measure("compute_cross_asset", lambda: compute_cross_asset(prices, benchmarks), rows, args.repeat)


if __name__ == "__main__":
    main()
