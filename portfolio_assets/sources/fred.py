"""FRED / ALFRED ``series/observations`` JSON.

Values are strings and ``"."`` means missing. With ``output_type=4`` (initial
release only) each observation's ``realtime_start`` is its first-release date,
which the point-in-time logic uses instead of a fixed release lag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_assets.sources._wire import (
    UTC_NS,
    decode_text,
    expect_list,
    expect_object,
    fail,
    first_duplicate,
    is_ascii_digits,
    load_json,
    parse_times,
    quote,
    to_count,
    to_float,
)

SOURCE = "fred"
COLUMNS = ("observation_date", "value", "realtime_start")
MISSING = "."
VINTAGE_OUTPUT_TYPE = 4


@dataclass(frozen=True)
class FredObservations:
    """Parsed observations; ``vintage`` is True iff the response has ``output_type == 4``."""

    series_id: str | None
    vintage: bool
    frame: pd.DataFrame


def _output_type(data: dict[str, object], where: str) -> int:
    raw = data.get("output_type", 1)
    if isinstance(raw, str) and is_ascii_digits(raw):
        output_type = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        output_type = raw
    else:
        raise fail(SOURCE, f"output_type is not an integer: {quote(raw, 40)}", where)
    if output_type not in (1, VINTAGE_OUTPUT_TYPE):
        raise fail(SOURCE, f"unsupported output_type {output_type} (only 1 and 4 are one row per date)", where)
    return output_type


def _check_count(data: dict[str, object], received: int, where: str) -> None:
    """``count`` (all observations) minus ``offset`` must be the number received: fewer is an incomplete page."""
    if "count" not in data:
        return
    try:
        count = to_count(data["count"], "count")
        offset = to_count(data.get("offset", 0), "offset")
    except ValueError as exc:
        raise fail(SOURCE, str(exc), where) from exc
    expected = max(count - offset, 0)
    if received < expected:
        cause = f"incomplete response: count is {count} but only {received} observations from offset {offset}"
        raise fail(SOURCE, cause, where)
    if received > expected:
        cause = f"count is {count} but there are {received} observations from offset {offset} (more than the count)"
        raise fail(SOURCE, cause, where)


def parse_observations(body: bytes | str, *, where: str = "", series_id: str | None = None) -> FredObservations:
    """Parse an observations response.

    ``frame`` columns: ``observation_date`` (UTC), ``value`` (float64, NaN for
    ``"."``), ``realtime_start`` (UTC, never before the observation's date),
    sorted by date with unique dates. ``count`` minus ``offset`` must be the
    number of observations.
    """
    where = where or (f"series_id={series_id}" if series_id else "")
    data = expect_object(SOURCE, load_json(SOURCE, decode_text(SOURCE, body, where), where), where)
    if "error_code" in data or "error_message" in data:
        code = data.get("error_code", "?")
        raise fail(SOURCE, f"API error {code}: {quote(data.get('error_message', ''))}", where)
    observations = expect_list(SOURCE, data, "observations", where)
    vintage = _output_type(data, where) == VINTAGE_OUTPUT_TYPE

    _check_count(data, len(observations), where)

    dates: list[object] = []
    starts: list[object] = []
    values: list[float] = []
    for index, item in enumerate(observations):
        if not isinstance(item, dict):
            raise fail(SOURCE, f"observation {index}: expected an object, got {type(item).__name__}", where)
        for key in ("date", "value", "realtime_start"):
            if key not in item:
                raise fail(SOURCE, f"observation {index}: missing {key!r} (keys: {list(item)})", where)
        raw = item["value"]
        if raw == MISSING:
            values.append(np.nan)
        else:
            try:
                values.append(to_float(raw))
            except ValueError as exc:
                raise fail(
                    SOURCE, f"observation {item['date']!r}: value is not numeric: {quote(raw, 40)}", where
                ) from exc
        dates.append(item["date"])
        starts.append(item["realtime_start"])

    observation_date = parse_times(SOURCE, dates, "%Y-%m-%d", "observation date", where)
    realtime_start = parse_times(SOURCE, starts, "%Y-%m-%d", "realtime_start", where)
    duplicate = first_duplicate(observation_date)
    if duplicate is not None:
        raise fail(SOURCE, f"duplicate observation date {duplicate:%Y-%m-%d}", where)
    early = np.flatnonzero((realtime_start < observation_date).to_numpy())
    if early.size:
        index = int(early[0])
        date, start = observation_date.iloc[index], realtime_start.iloc[index]
        cause = f"realtime_start {start:%Y-%m-%d} is before its own date (visible before it existed)"
        raise fail(SOURCE, f"observation {date:%Y-%m-%d}: {cause}", where)
    frame = pd.DataFrame(
        {
            "observation_date": observation_date.astype(UTC_NS),
            "value": np.asarray(values, dtype="float64"),
            "realtime_start": realtime_start.astype(UTC_NS),
        },
        columns=list(COLUMNS),
    )
    frame = frame.sort_values("observation_date", kind="stable", ignore_index=True)
    return FredObservations(series_id=series_id, vintage=vintage, frame=frame)
