"""GDELT DOC 2.0 timelines (``mode=timelinetone`` and ``mode=timelinevolraw``).

GDELT answers errors with HTTP 200 and a plain-text body (no JSON), e.g.
``Please limit requests to one every 5 seconds ...``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from portfolio_assets.sources._wire import (
    UTC_NS,
    decode_text,
    expect_list,
    expect_object,
    fail,
    first_duplicate,
    load_json,
    parse_times,
    quote,
    to_float,
)

SOURCE = "gdelt"
COLUMNS = ("timestamp", "value", "norm")
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_RATE_LIMIT = re.compile(r"(?i)limit requests|rate limit|too many requests")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series([], dtype=UTC_NS),
            "value": pd.Series([], dtype="float64"),
            "norm": pd.Series([], dtype="float64"),
        }
    )


def parse_timeline(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse a one-series timeline: ``timestamp`` (UTC), ``value``, ``norm`` (NaN when absent).

    An empty ``timeline`` list is valid and gives an empty frame.
    """
    text = decode_text(SOURCE, body, where)
    stripped = text.strip()
    if not stripped:
        raise fail(SOURCE, "empty body", where)
    if not stripped.startswith(("{", "[")):
        first = stripped.splitlines()[0]
        kind = "rate limited" if _RATE_LIMIT.search(first) else "API error"
        raise fail(SOURCE, f"{kind} (plain-text answer): {quote(first)}", where)
    data = expect_object(SOURCE, load_json(SOURCE, text, where), where)
    timeline = expect_list(SOURCE, data, "timeline", where)
    if not timeline:
        return _empty()
    if len(timeline) > 1:
        names = [series.get("series") if isinstance(series, dict) else series for series in timeline]
        raise fail(SOURCE, f"expected one timeline series, got {len(timeline)}: {quote(names, 120)}", where)
    series = timeline[0]
    if not isinstance(series, dict):
        raise fail(SOURCE, f"timeline series is a {type(series).__name__}, expected an object", where)
    name = series.get("series", "?")
    items = expect_list(SOURCE, series, "data", where)

    dates: list[object] = []
    values: list[float] = []
    norms: list[float] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail(SOURCE, f"{name!r} item {index}: expected an object, got {type(item).__name__}", where)
        for key in ("date", "value"):
            if key not in item:
                raise fail(SOURCE, f"{name!r} item {index}: missing {key!r} (keys: {list(item)})", where)
        try:
            values.append(to_float(item["value"]))
            norms.append(to_float(item["norm"]) if item.get("norm") is not None else np.nan)
        except ValueError as exc:
            raise fail(SOURCE, f"{name!r} item {index} ({item['date']!r}): {exc}", where) from exc
        dates.append(item["date"])
    if not dates:
        return _empty()

    timestamps = parse_times(SOURCE, dates, DATE_FORMAT, f"{name!r} date", where)
    duplicate = first_duplicate(timestamps)
    if duplicate is not None:
        raise fail(SOURCE, f"{name!r}: duplicate date {duplicate:%Y-%m-%dT%H:%M:%SZ}", where)
    frame = pd.DataFrame(
        {
            "timestamp": timestamps.astype(UTC_NS),
            "value": np.asarray(values, dtype="float64"),
            "norm": np.asarray(norms, dtype="float64"),
        },
        columns=list(COLUMNS),
    )
    return frame.sort_values("timestamp", kind="stable", ignore_index=True)
