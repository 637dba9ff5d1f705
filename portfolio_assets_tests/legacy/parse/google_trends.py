"""Google Trends ``multiTimeline.csv`` export (one search term).

A ``Category: ...`` preamble and blank lines, then a header ``Day|Week|Month,<term>: (<geo>)``
and one row a period. ``<1`` means below 1 and is read as 0.5. Weeks start on
the Sunday given; months are written ``YYYY-MM``.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd

from portfolio_assets_tests.legacy.parse._wire import (
    OUT_OF_RANGE,
    UTC_NS,
    decode_text,
    ends_inside_quotes,
    fail,
    matches_format,
    quote,
    to_float,
)

SOURCE = "google_trends"
COLUMNS = ("period_start", "period_end", "value")
BELOW_ONE = "<1"
BELOW_ONE_VALUE = 0.5
PERIODS = {
    "Day": ("%Y-%m-%d", pd.DateOffset(days=1)),
    "Week": ("%Y-%m-%d", pd.DateOffset(days=7)),
    "Month": ("%Y-%m", pd.DateOffset(months=1)),
}
_TERM = re.compile(r"(?P<term>.+): \((?P<geo>.+)\)")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE = {"Day": _DAY, "Week": _DAY, "Month": re.compile(r"[0-9]{4}-[0-9]{2}")}
_SUNDAY = 6


def _fields(line: str, number: int, where: str) -> list[str]:
    """The cells of one line; a quote left open (``2008-01-13,"5``) is a truncated line, not the value 5."""
    try:
        return [cell.strip() for cell in next(csv.reader([line], strict=True))]
    except csv.Error as exc:
        cause = "unterminated quote (truncated line?)" if ends_inside_quotes(exc) else f"malformed CSV ({exc})"
        raise fail(SOURCE, f"line {number}: {cause}", where) from exc


def _value(raw: str) -> float:
    if raw == BELOW_ONE:
        return BELOW_ONE_VALUE
    number = to_float(raw)
    if not 0 <= number <= 100:
        raise ValueError(f"value {raw!r} outside 0..100")
    return number


def parse_trends_csv(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse the export: ``period_start``, ``period_end`` (UTC, exclusive) and ``value`` (0..100)."""
    text = decode_text(SOURCE, body, where)
    lines = text.splitlines()
    period: str | None = None
    starts: list[str] = []
    values: list[float] = []
    row_lines: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if period is None:
            if line.strip().lower().startswith("category:"):
                continue
            header = _fields(line, number, where)
            if header[0] not in PERIODS:
                raise fail(SOURCE, f"line {number}: expected a Day/Week/Month header, got {quote(line, 120)}", where)
            if len(header) != 2 or not _TERM.fullmatch(header[1]):
                raise fail(
                    SOURCE,
                    f"line {number}: expected '{header[0]},<term>: (<geo>)' (one term), got {quote(line, 120)}",
                    where,
                )
            period = header[0]
            continue
        row = _fields(line, number, where)
        if len(row) != 2:
            hint = " (truncated line?)" if len(row) < 2 else ""
            raise fail(SOURCE, f"line {number}: expected 2 fields, got {len(row)}{hint}", where)
        if not _DATE[period].fullmatch(row[0]):
            expected = PERIODS[period][0]
            raise fail(SOURCE, f"line {number}: {period.lower()} {quote(row[0], 40)} is not {expected}", where)
        try:
            values.append(_value(row[1]))
        except ValueError as exc:
            raise fail(SOURCE, f"line {number}: {exc}", where) from exc
        starts.append(row[0])
        row_lines.append(number)
    if period is None:
        raise fail(SOURCE, "no Day/Week/Month header line found", where)

    fmt, length = PERIODS[period]
    raw = pd.Series(starts, dtype=object)
    period_start = pd.to_datetime(raw, format=fmt, errors="coerce", utc=True)
    if period_start.isna().any():
        bad = int(np.flatnonzero(period_start.isna().to_numpy())[0])
        if matches_format(starts[bad], fmt):
            raise fail(
                SOURCE, f"line {row_lines[bad]}: {period.lower()} {quote(starts[bad], 40)} {OUT_OF_RANGE}", where
            )
        raise fail(SOURCE, f"line {row_lines[bad]}: invalid date {quote(starts[bad], 40)}", where)
    period_start = period_start.astype(UTC_NS)
    if len(period_start):
        # datetime64 arithmetic wraps round silently: the latest period must end within the range
        latest = int(np.argmax(period_start.to_numpy()))
        try:
            end_ok = period_start.iloc[latest] + length <= pd.Timestamp.max.tz_localize("UTC")
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            end_ok = False
        if not end_ok:
            cause = f"the end of {period.lower()} {starts[latest]} {OUT_OF_RANGE}"
            raise fail(SOURCE, f"line {row_lines[latest]}: {cause}", where)
    if period == "Week":
        not_sunday = period_start.dt.dayofweek != _SUNDAY
        if not_sunday.any():
            bad = int(np.flatnonzero(not_sunday.to_numpy())[0])
            raise fail(SOURCE, f"line {row_lines[bad]}: week {starts[bad]} does not start on a Sunday", where)
    duplicated = period_start.duplicated()
    if duplicated.any():
        bad = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise fail(SOURCE, f"line {row_lines[bad]}: duplicate period {starts[bad]}", where)
    frame = pd.DataFrame(
        {
            "period_start": period_start,
            "period_end": (period_start + length).astype(UTC_NS),
            "value": np.asarray(values, dtype="float64"),
        },
        columns=list(COLUMNS),
    )
    return frame.sort_values("period_start", kind="stable", ignore_index=True)
