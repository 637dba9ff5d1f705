"""alternative.me crypto Fear & Greed index (``/fng/?limit=0&format=json``).

Newest item first; values and Unix-second timestamps are strings, one item a
UTC day. Errors set ``metadata.error``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets.sources._wire import (
    ASCII_SPACE,
    UTC_NS,
    decode_text,
    epoch_ns,
    expect_list,
    expect_object,
    fail,
    is_ascii_digits,
    load_json,
    quote,
    to_float,
)

SOURCE = "alternative_me"
COLUMNS = ("timestamp", "value", "value_classification")


def _nanoseconds(raw: object) -> int:
    """Unix seconds (a string of ASCII digits or a JSON integer) as nanoseconds within the datetime64 range."""
    if isinstance(raw, str) and is_ascii_digits(raw.strip(ASCII_SPACE)):
        return epoch_ns(raw.strip(ASCII_SPACE), "s")
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return epoch_ns(raw, "s")
    raise ValueError(f"timestamp is not Unix seconds: {quote(raw, 40)}")


def parse_fng(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse the index: ``timestamp`` (UTC), ``value`` (0..100), ``value_classification``; oldest first."""
    data = expect_object(SOURCE, load_json(SOURCE, decode_text(SOURCE, body, where), where), where)
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and metadata.get("error") is not None:
        raise fail(SOURCE, f"API error: {quote(metadata['error'])}", where)
    items = expect_list(SOURCE, data, "data", where)

    stamps: list[int] = []
    values: list[float] = []
    labels: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail(SOURCE, f"data[{index}]: expected an object, got {type(item).__name__}", where)
        for key in ("value", "value_classification", "timestamp"):
            if key not in item:
                raise fail(SOURCE, f"data[{index}]: missing {key!r} (keys: {list(item)})", where)
        try:
            stamps.append(_nanoseconds(item["timestamp"]))
            value = to_float(item["value"])
        except ValueError as exc:
            raise fail(SOURCE, f"data[{index}]: {exc}", where) from exc
        if not 0 <= value <= 100:
            raise fail(SOURCE, f"data[{index}]: value {value} outside 0..100", where)
        label = item["value_classification"]
        if not isinstance(label, str) or not label.strip():
            raise fail(SOURCE, f"data[{index}]: bad value_classification {quote(label, 40)}", where)
        values.append(value)
        labels.append(label)

    timestamps = pd.Series(pd.to_datetime(np.asarray(stamps, dtype="int64"), unit="ns", utc=True), dtype=UTC_NS)
    duplicated = timestamps[timestamps.duplicated()]
    if not duplicated.empty:
        raise fail(SOURCE, f"duplicate timestamp {duplicated.iloc[0].isoformat()}", where)
    same_day = np.flatnonzero(timestamps.dt.normalize().duplicated().to_numpy())
    if same_day.size:
        index = int(same_day[0])
        day = f"{timestamps.iloc[index]:%Y-%m-%d}"
        raise fail(SOURCE, f"data[{index}]: a second value for the UTC day {day} (the index is daily)", where)
    frame = pd.DataFrame(
        {
            "timestamp": timestamps,
            "value": np.asarray(values, dtype="float64"),
            "value_classification": pd.Series(labels, dtype=object),
        },
        columns=list(COLUMNS),
    )
    return frame.sort_values("timestamp", kind="stable", ignore_index=True)
