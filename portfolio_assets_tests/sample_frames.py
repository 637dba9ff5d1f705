"""Every group's frame for a few months of the bundled sample, built by the assets' pure functions (no Dagster)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from portfolio_assets.assets.benchmarks import benchmark_frame
from portfolio_assets.assets.indicators import indicator_frame
from portfolio_assets.assets.macro import macro_frame
from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.assets.sentiment import sentiment_frame
from portfolio_assets.assets.windows import in_window
from portfolio_assets.features import compute_targets
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.spans import HORIZON_DAYS


def day_keys(first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    """The daily partition keys ``first..last``."""
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last)]


def month_keys(first: pd.Timestamp | str, last: pd.Timestamp | str) -> list[str]:
    """The monthly partition keys of the months holding ``first..last``."""
    months = pd.date_range(pd.Timestamp(first).strftime("%Y-%m-01"), pd.Timestamp(last).strftime("%Y-%m-01"), freq="MS")
    return [m.strftime("%Y-%m-%d") for m in months]


def mapped_span(first: str, last: str, before_days: int, after_days: int) -> tuple[str, str]:
    """The days of the whole monthly partitions holding ``first`` minus ``before_days`` .. ``last`` plus
    ``after_days``: what a fixture must store for a run of ``first..last`` to read its lookback / look-ahead."""
    lo = (pd.Timestamp(first) - pd.Timedelta(days=before_days)).to_period("M")
    hi = (pd.Timestamp(last) + pd.Timedelta(days=after_days)).to_period("M")
    return lo.start_time.strftime("%Y-%m-%d"), hi.end_time.strftime("%Y-%m-%d")


def group_frames(
    first: str, last: str, *, prices_from: str | None = None, prices_to: str | None = None
) -> dict[str, pd.DataFrame]:
    """prices (``prices_from..prices_to``), benchmarks, macro, sentiment, indicators and targets for ``first..last``."""
    landing = LandingZoneResource()
    lo, hi = pd.Timestamp(first, tz="UTC"), pd.Timestamp(last, tz="UTC")
    history = canonical_prices(landing)
    benchmarks = benchmark_frame(landing)
    days = pd.date_range(lo, hi, freq="D")
    # Targets of the last day are final once its horizon is inside the data.
    horizon_end = hi + pd.Timedelta(days=HORIZON_DAYS)
    return {
        "prices": in_window(
            history, pd.Timestamp(prices_from or first, tz="UTC"), pd.Timestamp(prices_to or last, tz="UTC")
        ),
        "benchmarks": in_window(benchmarks, lo, hi),
        "macro": macro_frame(landing, days),
        "sentiment": sentiment_frame(landing, days),
        "indicators": in_window(indicator_frame(history, benchmarks), lo, hi),
        "targets": in_window(
            compute_targets(in_window(history, lo, horizon_end), horizon_days=HORIZON_DAYS, data_end=horizon_end),
            lo,
            hi,
        ),
    }


def store_frames(
    data_dir: Path, frames: dict[str, pd.DataFrame], first: str, last: str, *, prices: tuple[str, str] | None = None
) -> None:
    """Write each frame as the stored monthly partitions of its asset over ``first..last`` (prices over ``prices``)."""
    store = PartitionStore(data_dir)
    for asset, frame in frames.items():
        lo, hi = prices if asset == "prices" and prices else (first, last)
        store.write([asset], frame, month_keys(lo, hi), granularity="monthly")
