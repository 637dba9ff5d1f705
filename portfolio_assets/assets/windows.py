"""Partition windows of a run, and checks on the windows Dagster hands to inputs.

Dagster silently truncates a mapped window at the edge of the upstream
partitions. An asset that needs a lookback or a look-ahead therefore states
the window it needs and refuses to compute on a different one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from dagster import AssetExecutionContext, MetadataValue

from portfolio_assets.errors import PartitionWindowError


def run_window(context: AssetExecutionContext) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The run's partitions as [first day, last day] UTC midnights."""
    window = context.partition_time_window
    return _utc(window.start), _utc(window.end) - pd.Timedelta(days=1)


def _utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def input_days(context: AssetExecutionContext, input_name: str) -> list[str]:
    """The partition keys (``YYYY-MM-DD``) the run's input ``input_name`` is mapped to."""
    window = context.asset_partitions_time_window_for_input(input_name)
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(_utc(window.start), _utc(window.end), inclusive="left")]


def require_input_window(
    context: AssetExecutionContext,
    input_name: str,
    *,
    first_day: pd.Timestamp,
    last_day: pd.Timestamp,
) -> None:
    """Raise unless the input's mapped partitions are exactly ``first_day..last_day``."""
    window = context.asset_partitions_time_window_for_input(input_name)
    got_first = _utc(window.start)
    got_last = _utc(window.end) - pd.Timedelta(days=1)
    if (got_first, got_last) != (first_day, last_day):
        raise PartitionWindowError(
            f"{context.assets_def.key.to_user_string()}: input '{input_name}' covers "
            f"{got_first:%Y-%m-%d}..{got_last:%Y-%m-%d} but this run needs {first_day:%Y-%m-%d}..{last_day:%Y-%m-%d}; "
            "materialise the missing upstream partitions (or widen the configured window)"
        )


def clamp_lookback(first_day: pd.Timestamp, lookback_days: int, data_start: pd.Timestamp) -> pd.Timestamp:
    """Start of a lookback window, truncated only by the first observation day."""
    return max(first_day - timedelta(days=lookback_days), data_start)


def in_window(frame: pd.DataFrame, first_day: pd.Timestamp, last_day: pd.Timestamp) -> pd.DataFrame:
    """Rows whose ``timestamp`` falls on the run's days."""
    ts = frame["timestamp"]
    return frame[(ts >= first_day) & (ts < last_day + pd.Timedelta(days=1))].reset_index(drop=True)


def summary_metadata(frame: pd.DataFrame, first_day: pd.Timestamp, last_day: pd.Timestamp) -> dict[str, object]:
    """Row count, date range, assets and a preview, for every materialisation."""
    meta: dict[str, object] = {
        "rows": len(frame),
        "partition_range": f"{first_day:%Y-%m-%d}..{last_day:%Y-%m-%d}",
    }
    if "asset_symbol" in frame.columns:
        meta["assets"] = ", ".join(sorted(frame["asset_symbol"].unique()))
        meta["rows_per_asset"] = MetadataValue.json(frame["asset_symbol"].value_counts().sort_index().to_dict())
    if len(frame):
        meta["date_range"] = f"{frame['timestamp'].min():%Y-%m-%d}..{frame['timestamp'].max():%Y-%m-%d}"
        preview = frame.tail(5)
        meta["preview"] = MetadataValue.md(preview.to_markdown(index=False))
    return meta
