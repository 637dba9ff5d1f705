"""Alpha Vantage daily series: ``TIME_SERIES_DAILY``, ``FX_DAILY``, ``DIGITAL_CURRENCY_DAILY``.

Alpha Vantage answers errors and rate limits with HTTP 200 and a one-key JSON
object (``"Error Message"``, ``"Note"``, ``"Information"``); those become
:class:`~portfolio_assets.errors.SourceError` with the API key redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets.errors import SECRET_PARAMS
from portfolio_assets.sources._columnar import decimals, strings
from portfolio_assets.sources._wire import (
    UTC_NS,
    decode_text,
    expect_object,
    fail,
    first_duplicate,
    load_json,
    parse_times,
    quote,
    to_float,
)

SOURCE = "alphavantage"
COLUMNS = ("timestamp", "price_open", "price_high", "price_low", "price_close", "volume")
PRICE_FIELDS = ("open", "high", "low", "close")

# "1. open", "1a. open (USD)", "1b. open (USD)", "5. volume", "6. volume" (adjusted series).
_FIELD = re.compile(r"\s*[0-9]+([ab]?)\.\s+(open|high|low|close|volume)(?:\s+\(([A-Za-z0-9]+)\))?\s*")
_VARIANT_RANK = {"": 0, "a": 1, "b": 2}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_ANCHORED = f"^{_DATE.pattern}$"
_RATE_LIMIT = re.compile(r"(?i)rate limit|call frequency|(?:requests|calls) per (?:second|minute|day)")
_NOT_SERIES_PARAMS = frozenset({"outputsize", "datatype"}) | SECRET_PARAMS


def series_params(params: Mapping[str, str]) -> dict[str, str]:
    """Landing-zone series-key params: the request params minus ``outputsize``, ``datatype`` and keys."""
    return {str(k): str(v) for k, v in params.items() if str(k).lower() not in _NOT_SERIES_PARAMS}


def _api_message(data: dict[str, object], where: str) -> None:
    """Raise for the HTTP-200 error / rate-limit bodies (called when there is no time series)."""
    if "Error Message" in data:
        raise fail(SOURCE, f"API error: {quote(data['Error Message'])}", where)
    for key in ("Note", "Information"):
        if key in data:
            message = str(data[key])
            kind = "rate limited" if _RATE_LIMIT.search(message) else f"API {key.lower()} instead of data"
            raise fail(SOURCE, f"{kind}: {quote(message)}", where)


def _field_map(day: str, fields: dict[str, object], where: str) -> dict[str, object]:
    """Map ``open``/``high``/``low``/``close``/``volume`` to raw values, preferring the plain or "a" variant."""
    try:
        keys = _field_keys(fields)
    except ValueError as exc:
        raise fail(SOURCE, f"{day}: {exc}", where) from None
    return {name: fields[key] for name, key in keys.items()}


def _field_keys(fields: dict[str, object]) -> dict[str, str]:
    """``open``/``high``/``low``/``close``/``volume`` -> the key holding it; ValueError when two keys tie."""
    candidates: dict[str, list[tuple[int, str]]] = {}
    for key in fields:
        match = _FIELD.fullmatch(key)
        if match:
            variant, name, _market = match.groups()
            candidates.setdefault(name, []).append((_VARIANT_RANK[variant], key))
    chosen: dict[str, str] = {}
    for name, found in candidates.items():
        best = min(rank for rank, _key in found)
        keys = [key for rank, key in found if rank == best]
        if len(keys) > 1:
            raise ValueError(f"ambiguous fields for {name}: {keys}")
        chosen[name] = keys[0]
    return chosen


def _reference_values(
    series_key: str, series: dict[str, object], wanted: tuple[str, ...], where: str
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Day by day: the dates and float64 fields of every body, the errors naming the day and field."""
    days: list[str] = []
    values: dict[str, list[float]] = {name: [] for name in (*PRICE_FIELDS, "volume")}
    for day, fields in series.items():
        if not _DATE.fullmatch(day):
            raise fail(SOURCE, f"{series_key!r}: date {quote(day, 40)} is not YYYY-MM-DD", where)
        if not isinstance(fields, dict):
            raise fail(SOURCE, f"{day}: expected an object of fields, got {type(fields).__name__}", where)
        mapped = _field_map(day, fields, where)
        for name in wanted:
            if name not in mapped:
                raise fail(SOURCE, f"{day}: missing field {name!r} (fields: {list(fields)})", where)
            try:
                number = to_float(mapped[name])
            except ValueError as exc:
                raise fail(SOURCE, f"{day}: {name} is not numeric: {quote(mapped[name], 40)}", where) from exc
            if name == "volume" and number < 0:
                raise fail(SOURCE, f"{day}: negative volume {number}", where)
            if name != "volume" and number <= 0:
                raise fail(SOURCE, f"{day}: non-positive {name} price {number}", where)
            values[name].append(number)
        days.append(day)

    return days, {name: np.asarray(found, dtype="float64") for name, found in values.items()}


def _fast_values(series: dict[str, object], wanted: tuple[str, ...]) -> tuple[pd.Series, dict[str, np.ndarray]] | None:
    """Column-wise: the timestamps and fields when every day has the same field keys (in the same order) and
    valid decimal text, and every date is a real ``YYYY-MM-DD`` within the supported range.

    ``None`` at the first doubt (``_reference_values`` then names the error or reads the odd body).
    """
    rows = list(series.values())
    first = rows[0]
    if type(first) is not dict:
        return None
    keys = list(first)
    try:
        if list(chain.from_iterable(map(dict.keys, rows))) != keys * len(rows):
            return None
    except TypeError:  # a day that is not an object
        return None
    try:
        mapping = _field_keys(first)
    except ValueError:
        return None
    if any(name not in mapping for name in wanted):
        return None
    timestamps = _fast_dates(list(series))
    if timestamps is None:
        return None
    width, cells = len(keys), list(chain.from_iterable(map(dict.values, rows)))
    # the wanted fields, one after the other, in one array
    column = strings(list(chain.from_iterable(cells[keys.index(mapping[name]) :: width] for name in wanted)))
    numbers = decimals(column) if column is not None else None
    if numbers is None:
        return None
    values = dict(zip(wanted, numbers.reshape(len(wanted), len(rows)), strict=True))
    if not all((values[name] >= 0 if name == "volume" else values[name] > 0).all() for name in wanted):
        return None
    return timestamps, values


_NS_PER_DAY = 86_400 * 10**9
_DAYS_IN_RANGE = (-(-pd.Timestamp.min.value // _NS_PER_DAY), pd.Timestamp.max.value // _NS_PER_DAY)


def _fast_dates(days: list[str]) -> pd.Series | None:
    """``parse_times(days, "%Y-%m-%d")`` for real ``YYYY-MM-DD`` days within pandas' range; ``None`` otherwise."""
    dates = strings(days)
    if dates is None or not pc.all(pc.match_substring_regex(dates, _DATE_ANCHORED)).as_py():
        return None
    try:
        ordinals = pc.cast(dates, pa.date32()).to_numpy(zero_copy_only=False).astype("int64")
    except pa.ArrowInvalid:  # no such day (2019-02-30)
        return None
    if len(ordinals) and not (_DAYS_IN_RANGE[0] <= ordinals.min() and ordinals.max() <= _DAYS_IN_RANGE[1]):
        return None
    return pd.Series(pd.DatetimeIndex((ordinals * _NS_PER_DAY).view("M8[ns]")).tz_localize("UTC"))


def _members(data: object) -> int:
    """A lower bound of the object members of a parsed daily body (``load_json``): its top three levels."""
    if type(data) is not dict:
        return 0
    total = len(data)
    for value in data.values():
        if type(value) is dict:
            total += len(value) + sum(len(row) for row in value.values() if type(row) is dict)
    return total


def parse_daily(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse a daily time-series response into one row a day.

    Columns: ``timestamp`` (UTC midnight of the date), ``price_open``,
    ``price_high``, ``price_low``, ``price_close``, ``volume`` (float64; NaN for
    FX), sorted ascending with unique timestamps. ``frame.attrs`` holds what the
    ``Meta Data`` states: ``time_zone`` and ``last_refreshed`` (text, where given).
    """
    data = expect_object(SOURCE, load_json(SOURCE, decode_text(SOURCE, body, where), where, _members), where)
    series_keys = [key for key in data if key.startswith("Time Series")]
    if not series_keys:
        _api_message(data, where)
        keys = ", ".join(quote(k, 60) for k in list(data)[:10])
        raise fail(SOURCE, f"no 'Time Series ...' key in the response (keys: {keys or 'none'})", where)
    if len(series_keys) > 1:
        raise fail(SOURCE, f"several time-series keys: {series_keys}", where)
    series_key = series_keys[0]
    series = data[series_key]
    if not isinstance(series, dict):
        raise fail(SOURCE, f"{series_key!r} is a {type(series).__name__}, expected an object of days", where)
    if not series:
        raise fail(SOURCE, f"{series_key!r} is empty", where)
    has_volume = "FX" not in series_key.split()
    wanted = (*PRICE_FIELDS, "volume") if has_volume else PRICE_FIELDS

    fast = _fast_values(series, wanted)
    if fast is not None:
        timestamps, values = fast
    else:
        days, values = _reference_values(series_key, series, wanted, where)
        timestamps = parse_times(SOURCE, days, "%Y-%m-%d", series_key, where)
    duplicate = first_duplicate(timestamps)
    if duplicate is not None:
        raise fail(SOURCE, f"duplicate date {duplicate:%Y-%m-%d}", where)
    frame = pd.DataFrame(
        {
            "timestamp": timestamps.astype(UTC_NS),
            **{f"price_{name}": values[name] for name in PRICE_FIELDS},
            "volume": values["volume"] if has_volume else np.full(len(timestamps), np.nan),
        },
        columns=list(COLUMNS),
    )
    frame = frame.sort_values("timestamp", kind="stable", ignore_index=True)
    frame.attrs.update(_stated(data))
    return frame


def _stated(data: dict[str, object]) -> dict[str, str]:
    """What the response's ``Meta Data`` states about its clock: ``time_zone`` and ``last_refreshed`` (if given)."""
    meta = data.get("Meta Data")
    out: dict[str, str] = {}
    if isinstance(meta, dict):
        for key, value in meta.items():
            name = re.sub(r"^[0-9]+\.\s*", "", str(key)).strip().lower()
            if name in ("time zone", "last refreshed") and isinstance(value, str):
                out[name.replace(" ", "_")] = value.strip()
    return out
