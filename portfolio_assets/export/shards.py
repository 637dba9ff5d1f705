"""Date shards: the UTC year, quarter or month of each row's timestamp."""

from __future__ import annotations

import pandas as pd

from portfolio_assets.timeutil import strftime_distinct

__all__ = ["SHARD_BY", "SHARD_RULES", "shard_key"]

SHARD_BY = ("year", "quarter", "month")
SHARD_RULES = {
    "year": "UTC year of timestamp (YYYY)",
    "quarter": "UTC calendar quarter of timestamp (YYYYQn)",
    "month": "UTC month of timestamp (YYYY-MM)",
}
"""How each ``shard_by`` names a shard (written to the manifest)."""


def shard_key(timestamps: pd.Series | pd.DatetimeIndex, shard_by: str) -> pd.Series:
    """The shard of each timestamp's UTC date: ``"2010"`` (year), ``"2010Q1"`` (quarter), ``"2010-01"`` (month).

    Keys sort lexicographically in time order.
    """
    if shard_by not in SHARD_BY:
        raise ValueError(f"unknown shard_by {shard_by!r}; expected one of {SHARD_BY}")
    series = pd.Series(timestamps) if isinstance(timestamps, pd.DatetimeIndex) else timestamps
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"shard_key needs timezone-aware datetime64 (UTC) timestamps, got dtype {series.dtype}")
    if series.isna().any():
        raise ValueError("shard_key: null timestamps have no shard")
    utc = series.dt.tz_convert("UTC")
    if shard_by == "year":
        keys = strftime_distinct(utc, "%Y")
    elif shard_by == "month":
        keys = strftime_distinct(utc, "%Y-%m")
    else:
        keys = strftime_distinct(utc, "%Y") + "Q" + utc.dt.quarter.astype(str)
    return keys.astype(object).rename("shard")
