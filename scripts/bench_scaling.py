#!/usr/bin/env python
"""How the checks and per-asset feature functions scale with the number of assets, at a fixed number of days.

For each asset count (``--assets 50,500``) it builds the same synthetic inputs over ``--days`` calendar
days (crypto every day, the other classes on weekdays; some assets with gaps, NaNs, bad ticks, splits,
late values, missing targets or an early last trading day, so the checks' failure paths run too) and
times every function in CPU seconds (``time.process_time``, best of ``--repeat``). It prints the cost
per 1,000 input rows at each size and the ratio of the largest size to the smallest: about 1 for a
function linear in the assets, about 10 for 50 -> 500 when it is quadratic.

``sentiment_frame`` (assets/sentiment.py) reads a synthetic landing zone in the wire formats written
by ``portfolio_assets.bench_data`` (in a temporary directory, whole years ending 2019-12-31); being by
far the slowest, it is timed once.

Usage::

    python scripts/bench_scaling.py [--assets 50,500] [--days 730] [--repeat 2] [--only completeness,...]
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

from portfolio_assets import checks  # noqa: E402
from portfolio_assets.checks.bounds import DEFAULT_BOUNDS  # noqa: E402
from portfolio_assets.columns import FEATURE_COLUMNS, INDICATOR_COLUMNS  # noqa: E402
from portfolio_assets.features import compute_cross_asset, compute_targets  # noqa: E402
from portfolio_assets.features.adjustment import CorporateActions, with_adjustment  # noqa: E402
from portfolio_assets.features.registry import available_column, feature  # noqa: E402
from portfolio_assets.features.spec import Bound  # noqa: E402

CLASSES = ("crypto", "equity", "fx", "commodity", "bond")
START = pd.Timestamp("2018-01-01", tz="UTC")
Case = tuple[int, Callable[[], object]]
"""(input rows, the call to time)."""


def symbol(i: int) -> str:
    return f"A{i:04d}"


def synthetic_prices(assets: int, days: int, seed: int = 0) -> pd.DataFrame:
    """Seeded random walks, sorted by (asset, timestamp); every 10th asset has a 12-day hole, every 5th a
    one-day spike reversed the next day, every 7th an unadjusted 2-for-1 split; crypto has a CoinGecko close."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(assets):
        asset_class = CLASSES[i % len(CLASSES)]
        stamps = pd.date_range(START, periods=days, freq="D")
        if asset_class != "crypto":
            stamps = stamps[stamps.dayofweek < 5]
        n = len(stamps)
        close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
        if i % 5 == 1 and n > 40:
            close[n // 2] *= 1.9  # a bad tick
        if i % 7 == 3 and n > 40:
            close[n // 3 :] *= 0.5  # an unadjusted split
        frame = pd.DataFrame(
            {
                "asset_symbol": symbol(i),
                "asset_class": asset_class,
                "timestamp": stamps,
                "price_open": close * np.exp(rng.normal(0.0, 0.003, n)),
                "price_close": close,
                "volume": np.nan if asset_class == "fx" else rng.lognormal(14.0, 0.5, n).round(),
                "available_at": stamps + pd.Timedelta(days=1),
                "reference_close": close * (1 + rng.normal(0.0, 0.002, n)) if asset_class == "crypto" else np.nan,
            }
        )
        frame["price_high"] = frame[["price_open", "price_close"]].max(axis=1) * 1.01
        frame["price_low"] = frame[["price_open", "price_close"]].min(axis=1) * 0.99
        if asset_class == "crypto" and n > 10:
            frame.loc[n // 4, "reference_close"] *= 1.05  # off by 5%
        if i % 10 == 2 and n > 60:
            frame = frame.drop(index=range(n // 5, n // 5 + 12))  # a 12-day hole
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def within(bound: Bound | None, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` values inside ``bound`` (standard normal when unbounded)."""
    if bound is None or (bound.low is None and bound.high is None):
        return rng.normal(0.0, 1.0, n)
    if bound.low is not None and bound.high is not None:
        span = bound.high - bound.low
        return bound.low + span * rng.uniform(0.05, 0.95, n)
    if bound.low is not None:
        return bound.low + 0.1 + np.abs(rng.normal(0.0, 1.0, n))
    return bound.high - 0.1 - np.abs(rng.normal(0.0, 1.0, n))


def synthetic_rows(prices: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Labelled rows like sft_rows: every feature (a few NaNs; every 10th asset 20% incomplete), its
    availability, targets (every 9th asset with holes), ties in rounded features, some late values; values
    inside their declared bounds except a few RSIs of 130."""
    rng = np.random.default_rng(seed)
    rows = prices.copy().reset_index(drop=True)
    n = len(rows)
    codes = rows["asset_symbol"].str[1:].astype(int).to_numpy()
    rows["decision_time"] = rows["available_at"]
    columns: dict[str, object] = {}
    for j, name in enumerate(FEATURE_COLUMNS):
        if name in ("price_close", "volume"):
            continue
        values = within(DEFAULT_BOUNDS.get(name), rng, n)
        if j % 3 == 0:
            values = values.round(1)  # ties
        if name == "rsi_14":
            values[(codes % 11 == 4) & (rng.random(n) < 0.001)] = 130.0
        values[rng.random(n) < 0.002] = np.nan
        if j % 17 == 5:
            values[(codes % 10 == 0) & (rng.random(n) < 0.2)] = np.nan
        columns[name] = values
        family = feature(name).family
        if family not in ("price", "technical"):
            available = rows["decision_time"] - pd.Timedelta(hours=6)
            late = (codes % 13 == 6) & (rng.random(n) < 0.002)
            available = available.where(~late, available + pd.Timedelta(days=2))
            columns[available_column(name)] = available
    rows = pd.concat([rows, pd.DataFrame(columns, index=rows.index)], axis=1)
    rows["target_timestamp"] = rows["timestamp"] + pd.Timedelta(days=90)
    rows["target_price_90d"] = rows["price_close"] * np.exp(rng.normal(0.0, 0.1, n))
    rows.loc[(codes % 9 == 7) & (rng.random(n) < 0.01), "target_price_90d"] = np.nan
    ratio = rows["target_price_90d"] / rows["price_close"]
    rows["target_return_90d"] = np.log(ratio)
    rows["target_return_pct_90d"] = (ratio - 1) * 100
    return rows


def last_trading_days(prices: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Every 25th asset stops trading 30 days before the end."""
    end = prices["timestamp"].max() - pd.Timedelta(days=30)
    return {s: end for s in prices["asset_symbol"].unique() if int(s[1:]) % 25 == 12}


def synthetic_benchmarks(prices: pd.DataFrame, seed: int = 2) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(prices["timestamp"].min(), prices["timestamp"].max(), tz="UTC")
    out = {}
    for name, level, lag in (("sp500", 2000.0, 0), ("dxy", 100.0, 7)):
        values = level * np.exp(np.cumsum(rng.normal(0.0, 0.01, len(days))))
        values[rng.random(len(days)) < 0.03] = np.nan
        out[name] = pd.DataFrame(
            {"observation_date": days, "value": values, "available_at": days + pd.Timedelta(days=lag, hours=21)}
        )
    return out


def check_cases(assets: int, days: int) -> dict[str, Case]:
    """Every check of portfolio_assets/checks on the synthetic frames."""
    prices = synthetic_prices(assets, days)
    rows = synthetic_rows(prices)
    has_volume = {s: c != "fx" for s, c in prices.groupby("asset_symbol")["asset_class"].first().items()}
    calendars = {
        s: "daily" if c == "crypto" else "weekdays"
        for s, c in prices.groupby("asset_symbol")["asset_class"].first().items()
    }
    ended = last_trading_days(prices)
    cut = START + pd.Timedelta(days=days // 4)
    window, before = prices[prices["timestamp"] >= cut], prices[prices["timestamp"] < cut]
    last = prices["timestamp"].max()
    moves = checks.feature_distribution(window, previous=before, max_cases=len(prices)).failures
    warmup = checks.warmup_ends(prices, features=INDICATOR_COLUMNS, has_volume=has_volume)
    n, nw = len(rows), len(window)
    return {
        "completeness": (n, lambda: checks.completeness(rows, features=FEATURE_COLUMNS, has_volume=has_volume)),
        "completeness (warm-up)": (
            n,
            lambda: checks.completeness(rows, features=INDICATOR_COLUMNS, has_volume=has_volume, warmup_end=warmup),
        ),
        "warmup_ends": (
            len(prices),
            lambda: checks.warmup_ends(prices, features=INDICATOR_COLUMNS, has_volume=has_volume),
        ),
        "value_bounds": (n, lambda: checks.value_bounds(rows)),
        "rsi_bounds": (n, lambda: checks.rsi_bounds(rows)),
        "temporal_gaps": (
            nw,
            lambda: checks.temporal_gaps(
                window,
                calendars=calendars,
                previous=before.groupby("asset_symbol").tail(1),
                window_start=cut,
                window_end=last,
                last_trading_days=ended,
            ),
        ),
        "feature_distribution": (nw, lambda: checks.feature_distribution(window, previous=before)),
        "cross_source_consistency": (len(prices), lambda: checks.cross_source_consistency(prices)),
        "feature_target_ic": (n, lambda: checks.feature_target_ic(rows, features=FEATURE_COLUMNS)),
        "point_in_time": (n, lambda: checks.point_in_time(rows, features=FEATURE_COLUMNS)),
        "target_coverage": (n, lambda: checks.target_coverage(rows, last_trading_days=ended)),
        "no_target_reasons": (n, lambda: checks.no_target_reasons(rows, ended)),
        "suspect_moves": (n, lambda: checks.suspect_moves(rows, moves)),
    }


def feature_cases(assets: int, days: int) -> dict[str, Case]:
    """The per-asset feature functions: targets, cross-asset, corporate-action adjustment."""
    prices = synthetic_prices(assets, days)
    benchmarks = synthetic_benchmarks(prices)
    ended = last_trading_days(prices)
    end = prices["timestamp"].max()
    split_day = START + pd.Timedelta(days=days // 2)
    actions = {
        symbol(i): CorporateActions(
            splits=pd.DataFrame({"effective_date": [split_day], "split_factor": [2.0]}),
            dividends=pd.DataFrame({"ex_dividend_date": [split_day + pd.Timedelta(days=30)], "amount": [0.5]}),
        )
        for i in range(assets)
        if i % 3 == 1
    }
    n = len(prices)
    return {
        "compute_targets": (n, lambda: compute_targets(prices, data_end=end, last_trading_days=ended)),
        "compute_cross_asset": (n, lambda: compute_cross_asset(prices, benchmarks)),
        "with_adjustment": (n, lambda: with_adjustment(prices, actions)),
    }


def sentiment_cases(assets: int, days: int, workdir: Path) -> dict[str, Case]:
    """``sentiment_frame`` over the last ``days`` days of a synthetic landing zone of ``assets`` assets."""
    from portfolio_assets.assets.sentiment import sentiment_frame
    from portfolio_assets.bench_data import END, write_landing
    from portfolio_assets.resources import LandingZoneResource

    out = workdir / f"landing_{assets}"
    write_landing(out, assets, max(1, math.ceil(days / 365)))
    landing = LandingZoneResource(root=str(out / "landing"), universe_file=str(out / "universe.yaml"))
    range_ = pd.date_range(END - pd.Timedelta(days=days - 1), END, freq="D", tz="UTC")
    rows = len(landing.universe().assets) * len(range_)
    return {"sentiment_frame": (rows, lambda: sentiment_frame(landing, range_))}


def cpu_seconds(call: Callable[[], object], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", default="50,500", help="comma-separated asset counts (default 50,500)")
    parser.add_argument("--days", type=int, default=730, help="calendar days of every input (default 730)")
    parser.add_argument("--repeat", type=int, default=2, help="timings per function, the best kept (default 2)")
    parser.add_argument("--only", default="", help="comma-separated function names to time (default: all)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.assets.split(",")]
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    results: dict[str, dict[int, tuple[int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            builders = [check_cases, feature_cases]
            if not only or "sentiment_frame" in only:
                builders.append(lambda assets, days: sentiment_cases(assets, days, Path(tmp)))
            for build in builders:
                for name, (rows, call) in build(size, args.days).items():
                    if only and name not in only:
                        continue
                    # sentiment_frame is by far the slowest: timed once
                    seconds = cpu_seconds(call, 1 if name == "sentiment_frame" else args.repeat)
                    results.setdefault(name, {})[size] = (rows, seconds)
                    print(f"  {size:>5} assets  {name:<26} {rows:>9} rows  {seconds:8.3f} s", file=sys.stderr)
    lo, hi = sizes[0], sizes[-1]
    head = f"{'function':<26}" + "".join(f" {f'rows@{s}':>11} {f's/1k@{s}':>10}" for s in sizes) + f" {'ratio':>6}"
    print(f"\nCPU seconds per 1,000 rows, {args.days} days, best of {args.repeat}; ratio = {hi} / {lo} assets\n")
    print(head)
    print("-" * len(head))
    for name, by_size in results.items():
        cells = "".join(f" {by_size[s][0]:>11} {1e3 * by_size[s][1] / by_size[s][0]:>10.5f}" for s in sizes)
        ratio = (by_size[hi][1] / by_size[hi][0]) / (by_size[lo][1] / by_size[lo][0]) if by_size[lo][1] else math.nan
        print(f"{name:<26}{cells} {ratio:>6.2f}{'  <-- super-linear' if ratio > 1.3 else ''}")


if __name__ == "__main__":
    main()
