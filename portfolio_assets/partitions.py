"""Daily partitions: observation days, and labelled days whose horizon is in the data.

Observation partitions (prices, macro, sentiment, benchmarks, indicators) run
daily from ``PORTFOLIO_START_DATE``. Labelled partitions (targets, the gate,
sft_rows, training_set) are the same days, starting after the indicator
warm-up, and a day exists only once its 90-day horizon is inside the data:
with a fixed ``PORTFOLIO_END_DATE`` the labelled set ends ``HORIZON_DAYS``
earlier; open-ended (live), it trails today by ``HORIZON_DAYS`` partitions
(``end_offset``). The window comes from ``settings.WINDOW``.
"""

from __future__ import annotations

from datetime import date, timedelta

from dagster import DailyPartitionsDefinition, TimeWindowPartitionMapping

from portfolio_assets.settings import WINDOW, Window
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS, INDICATOR_LOOKBACK_DAYS

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
"""Run tags of a single-run backfill over a partition range."""


def _exclusive_end(day: date | None) -> str | None:
    # Dagster's end_date is exclusive: the last partition is the day before it.
    return None if day is None else (day + timedelta(days=1)).isoformat()


def observation_partitions(window: Window) -> DailyPartitionsDefinition:
    """Every calendar day of the window."""
    return DailyPartitionsDefinition(start_date=window.start.isoformat(), end_date=_exclusive_end(window.end))


def labelled_partitions(window: Window) -> DailyPartitionsDefinition:
    """The days after the warm-up whose 90-day horizon is inside the window."""
    if window.end is None:
        return DailyPartitionsDefinition(start_date=window.labelled_start.isoformat(), end_offset=-HORIZON_DAYS)
    return DailyPartitionsDefinition(
        start_date=window.labelled_start.isoformat(), end_date=_exclusive_end(window.labelled_end)
    )


OBSERVATION_PARTITIONS = observation_partitions(WINDOW)
LABELLED_PARTITIONS = labelled_partitions(WINDOW)

INDICATOR_LOOKBACK = TimeWindowPartitionMapping(start_offset=-INDICATOR_LOOKBACK_DAYS, end_offset=0)
GATE_PRICES = TimeWindowPartitionMapping(start_offset=-CONTEXT_LOOKBACK_DAYS, end_offset=HORIZON_DAYS)
"""The gate's prices: the context window before each day, and the horizon after it (to judge suspect moves)."""
HORIZON_LOOKAHEAD = TimeWindowPartitionMapping(start_offset=0, end_offset=HORIZON_DAYS)
