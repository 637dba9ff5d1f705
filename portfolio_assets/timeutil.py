"""UTC timestamps: the one home of the conversion rules and the ISO text format."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How every timestamp is written as text (CSV cells, manifests, JSON)."""


def utc_timestamp(value: object) -> pd.Timestamp:
    """One instant as a UTC ``Timestamp``; a naive value is taken to be UTC already."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def utc_index(values: pd.Series | pd.Index | np.ndarray | list[datetime]) -> pd.DatetimeIndex:
    """Many instants as a UTC ``DatetimeIndex``; naive values are taken to be UTC already."""
    index = pd.DatetimeIndex(values)
    return index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")


def iso_utc(value: object) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of one instant (naive = UTC)."""
    return utc_timestamp(value).strftime(ISO_UTC_FORMAT)


def strftime_distinct(series: pd.Series, fmt: str) -> pd.Series:
    """``series.dt.strftime(fmt)``, formatting each distinct instant once (rows share few dates).

    Same values, index and name; NaT gives NaN, as pandas does."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = pd.Series(uniques, dtype=series.dtype).dt.strftime(fmt).to_numpy(dtype=object)
    values = np.append(texts, np.nan)  # code -1 (NaT) takes the last slot
    return pd.Series(values[codes], index=series.index, name=series.name, dtype=object)
