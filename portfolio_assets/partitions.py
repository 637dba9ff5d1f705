"""Daily partitions: observation days, and labelled days whose horizon is in the data.

Observation partitions (prices, macro, sentiment, indicators) run daily from
``PORTFOLIO_START_DATE``. Labelled partitions (targets, sft_rows,
training_set) are the same days, starting after the indicator warm-up, and a
day exists only once its 90-day horizon is inside the data: with a fixed
``PORTFOLIO_END_DATE`` the labelled set ends ``HORIZON_DAYS`` earlier; open-ended
(live), it trails today by ``HORIZON_DAYS`` partitions (``end_offset``).

The defaults are the bundled sample's window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

from dagster import DailyPartitionsDefinition, TimeWindowPartitionMapping

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
"""Run tags of a single-run backfill over a partition range."""

HORIZON_DAYS = 90
"""Forecast horizon, calendar days."""

INDICATOR_LOOKBACK_DAYS = 730
"""Calendar days of prices each indicators day reads.

SMA-200 needs ~290 calendar days of an equity calendar; Wilder's smoothers
(alpha 1/14) and EMA-26 keep (1 - alpha)^n of their seed, which is below 1e-16
after ~500 observations (two years of trading days). So a day's indicators do
not depend on where a backfill started.
"""

CONTEXT_LOOKBACK_DAYS = 120
"""Calendar days of prices sft_rows reads for its context window (>= 60 trading days)."""

WARMUP_DAYS = 366
"""Labelled days start this long after the first observation day, so SMA-200 is defined."""

DEFAULT_START = "2008-01-01"
DEFAULT_END = "2013-02-28"


@dataclass(frozen=True)
class Window:
    """The configured observation window; ``end`` None means open-ended (live)."""

    start: date
    end: date | None

    @property
    def labelled_start(self) -> date:
        return self.start + timedelta(days=WARMUP_DAYS)

    @property
    def labelled_end(self) -> date | None:
        return None if self.end is None else self.end - timedelta(days=HORIZON_DAYS)


def configured_window() -> Window:
    """Read ``PORTFOLIO_START_DATE`` / ``PORTFOLIO_END_DATE`` (``open`` = live, no end)."""
    start_text = os.environ.get("PORTFOLIO_START_DATE", DEFAULT_START)
    end_text = os.environ.get("PORTFOLIO_END_DATE", DEFAULT_END)
    try:
        start = date.fromisoformat(start_text)
        end = None if end_text.lower() in {"", "open", "none"} else date.fromisoformat(end_text)
    except ValueError as exc:
        raise ValueError(
            f"PORTFOLIO_START_DATE / PORTFOLIO_END_DATE must be YYYY-MM-DD (or 'open' for the end): {exc}"
        ) from exc
    if end is not None and end - start < timedelta(days=WARMUP_DAYS + HORIZON_DAYS + 1):
        raise ValueError(
            f"window {start}..{end} is too short: it needs more than {WARMUP_DAYS} warm-up days "
            f"and the {HORIZON_DAYS}-day horizon"
        )
    return Window(start, end)


def _exclusive_end(day: date | None) -> str | None:
    # Dagster's end_date is exclusive: the last partition is the day before it.
    return None if day is None else (day + timedelta(days=1)).isoformat()


def observation_partitions(window: Window) -> DailyPartitionsDefinition:
    return DailyPartitionsDefinition(start_date=window.start.isoformat(), end_date=_exclusive_end(window.end))


def labelled_partitions(window: Window) -> DailyPartitionsDefinition:
    if window.end is None:
        return DailyPartitionsDefinition(start_date=window.labelled_start.isoformat(), end_offset=-HORIZON_DAYS)
    return DailyPartitionsDefinition(
        start_date=window.labelled_start.isoformat(), end_date=_exclusive_end(window.labelled_end)
    )


WINDOW = configured_window()
OBSERVATION_PARTITIONS = observation_partitions(WINDOW)
LABELLED_PARTITIONS = labelled_partitions(WINDOW)

INDICATOR_LOOKBACK = TimeWindowPartitionMapping(start_offset=-INDICATOR_LOOKBACK_DAYS, end_offset=0)
CONTEXT_LOOKBACK = TimeWindowPartitionMapping(start_offset=-CONTEXT_LOOKBACK_DAYS, end_offset=0)
HORIZON_LOOKAHEAD = TimeWindowPartitionMapping(start_offset=0, end_offset=HORIZON_DAYS)
