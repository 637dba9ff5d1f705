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
# alternative.me's classification bands (inclusive, whole values).
BANDS = (("Extreme Fear", 0, 24), ("Fear", 25, 46), ("Neutral", 47, 54), ("Greed", 55, 75), ("Extreme Greed", 76, 100))
_LABELS = ", ".join(repr(name) for name, _low, _high in BANDS[:-1]) + f" or {BANDS[-1][0]!r}"


def band(value: float) -> tuple[str, int, int]:
    """The ``(label, low, high)`` band of a value in 0..100 (a fraction belongs to the band below the next)."""
    return next(entry for entry in BANDS if value < entry[2] + 1 or entry is BANDS[-1])


def _nanoseconds(raw: object) -> int:
    """Unix seconds (a string of ASCII digits or a JSON integer) as nanoseconds within the datetime64 range."""
    if isinstance(raw, str) and is_ascii_digits(raw.strip(ASCII_SPACE)):
        return epoch_ns(raw.strip(ASCII_SPACE), "s")
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return epoch_ns(raw, "s")
    raise ValueError(f"timestamp is not Unix seconds: {quote(raw, 40)}")


def parse_fng(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse the index: ``timestamp`` (UTC), ``value`` (0..100), ``value_classification``; oldest first.

    The classification must be the one :data:`BANDS` gives the value.
    """
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
        if label not in {name for name, _low, _high in BANDS}:
            raise fail(
                SOURCE, f"data[{index}]: unknown value_classification {quote(label, 40)} (expected {_LABELS})", where
            )
        expected, low, high = band(value)
        if label != expected:
            cause = f"value {value:g} is labelled {label!r} but its band ({low}..{high}) is {expected!r}"
            raise fail(SOURCE, f"data[{index}]: {cause}", where)
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
