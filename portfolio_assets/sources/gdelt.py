"""GDELT DOC 2.0 timelines (``mode=timelinetone`` and ``mode=timelinevolraw``).

GDELT answers errors with HTTP 200 and a plain-text body (no JSON), e.g.
``Please limit requests to one every 5 seconds ...``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from portfolio_assets.sources._wire import (
    INT64_MAX,
    UTC_NS,
    decode_text,
    expect_list,
    expect_object,
    fail,
    first_duplicate,
    load_json,
    parse_times,
    quote,
    to_count,
    to_float,
)

SOURCE = "gdelt"
COLUMNS = ("timestamp", "value", "norm")
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
TONE_SERIES = "Average Tone"  # mode=timelinetone: GDELT's tone scale is -100..+100
COUNT_SERIES = "Article Count"  # mode=timelinevolraw: value and norm are article counts
TONE_RANGE = (-100.0, 100.0)
DAILY = "day"  # query_details.date_resolution of a daily timeline: every point at 00:00:00
_RATE_LIMIT = re.compile(r"(?i)limit requests|rate limit|too many requests")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series([], dtype=UTC_NS),
            "value": pd.Series([], dtype="float64"),
            "norm": pd.Series([], dtype="float64"),
        }
    )


def _count(raw: object, what: str) -> float:
    """An article count: a non-negative whole number within int64, also once stored as float64."""
    number = to_count(raw, what)
    if float(number) > INT64_MAX:  # rounds up to 2**63 in the float64 column
        raise ValueError(f"{what} {quote(raw, 40)} is beyond int64")
    return float(number)


def _tone(raw: object) -> float:
    number = to_float(raw)
    low, high = TONE_RANGE
    if not low <= number <= high:
        raise ValueError(f"tone {number!r} outside {low:g}..{high:g}")
    return number


def parse_timeline(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse a one-series timeline: ``timestamp`` (UTC), ``value``, ``norm`` (NaN when absent).

    ``Average Tone`` values are finite and within -100..100; ``Article Count`` values
    and any ``norm`` are non-negative whole numbers within int64. When
    ``query_details.date_resolution`` is ``day`` every point must be stamped
    00:00:00; otherwise the time of day is kept. An empty ``timeline`` list is
    valid and gives an empty frame.
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
    name = series.get("series")
    if name not in (TONE_SERIES, COUNT_SERIES):
        expected = f"{TONE_SERIES!r} or {COUNT_SERIES!r}"
        raise fail(
            SOURCE,
            f"unknown timeline series {quote(name, 60) if name is not None else None} (expected {expected})",
            where,
        )
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
            values.append(_count(item["value"], "article count") if name == COUNT_SERIES else _tone(item["value"]))
            norms.append(_count(item["norm"], "norm") if item.get("norm") is not None else np.nan)
        except ValueError as exc:
            raise fail(SOURCE, f"{name!r} item {index} ({item['date']!r}): {exc}", where) from exc
        dates.append(item["date"])
    if not dates:
        return _empty()

    timestamps = parse_times(SOURCE, dates, DATE_FORMAT, f"{name!r} date", where)
    details = data.get("query_details")
    if isinstance(details, dict) and details.get("date_resolution") == DAILY:
        intraday = np.flatnonzero((timestamps != timestamps.dt.normalize()).to_numpy())
        if intraday.size:
            bad = dates[int(intraday[0])]
            raise fail(SOURCE, f"{name!r}: date {bad} is not at 00:00:00 but date_resolution is {DAILY!r}", where)
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
