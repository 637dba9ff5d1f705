"""CoinGecko ``coins/{id}/market_chart`` JSON.

Three arrays of ``[unix ms, value]`` pairs, joined on the timestamp (outer
join: the arrays may differ in length). The point stamped day D+1 00:00 UTC is
the close of day D; only the newest point of an array (CoinGecko's "now") may
be stamped at another time of day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets.sources._wire import (
    UTC_NS,
    decode_text,
    epoch_ns,
    expect_list,
    expect_object,
    fail,
    load_json,
    quote,
    to_float,
)

SOURCE = "coingecko"
ARRAYS = {"prices": "price", "market_caps": "market_cap", "total_volumes": "total_volume"}
COLUMNS = ("timestamp", *ARRAYS.values())
MS_PER_DAY = 86_400_000


RATE_LIMITED = 429
RANGE_BEYOND_FREE_TIER = 10012
_HINTS = {
    RANGE_BEYOND_FREE_TIER: " - the requested range is beyond the free tier (public and demo keys reach back 365 days):"
    " request at most 365 days, or use a paid-plan API key",
}


def _raise_api_error(data: dict[str, object], where: str) -> None:
    """Raise for CoinGecko's error bodies: ``{"status": {...}}``, ``{"error": {"status": {...}}}``, ``{"error": x}``."""
    error = data.get("error")
    status = error.get("status") if isinstance(error, dict) else data.get("status")
    if isinstance(status, dict) and ("error_code" in status or "error_message" in status):
        code = status.get("error_code")
        numeric = isinstance(code, int) and not isinstance(code, bool)
        shown = code if numeric else quote(code, 40)
        kind = " (rate limited)" if numeric and code == RATE_LIMITED else ""
        hint = _HINTS.get(code, "") if numeric else ""
        message = quote(status.get("error_message", ""), 500)
        raise fail(SOURCE, f"error {shown}{kind}: {message}{hint}", where)
    if "error" in data:
        raise fail(SOURCE, f"API error: {quote(error)}", where)


def _milliseconds(raw: object) -> int:
    """Whole Unix milliseconds within the datetime64[ns] range."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(f"timestamp is not a number: {quote(raw, 40)}")
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError(f"timestamp is not whole milliseconds: {raw!r}")
    milliseconds = int(raw)
    epoch_ns(milliseconds, "ms")
    return milliseconds


def _array(data: dict[str, object], key: str, where: str) -> pd.Series:
    points = expect_list(SOURCE, data, key, where)
    stamps: list[int] = []
    values: list[float] = []
    for index, point in enumerate(points):
        if not isinstance(point, list) or len(point) != 2:
            raise fail(SOURCE, f"{key}[{index}]: expected [ms, value], got {quote(point, 60)}", where)
        try:
            stamps.append(_milliseconds(point[0]))
            value = np.nan if point[1] is None else to_float(point[1])
        except ValueError as exc:
            raise fail(SOURCE, f"{key}[{index}]: {exc}", where) from exc
        if value < 0 or (key == "prices" and value <= 0):
            raise fail(SOURCE, f"{key}[{index}]: implausible value {value}", where)
        values.append(value)
    newest = max(stamps, default=0)
    for index, stamp in enumerate(stamps):
        if stamp % MS_PER_DAY and stamp != newest:
            moment = pd.Timestamp(stamp, unit="ms", tz="UTC").isoformat()
            cause = f"{key}[{index}]: timestamp {moment} is not 00:00 UTC (only the newest point may be intraday)"
            raise fail(SOURCE, cause, where)
    series = pd.Series(values, index=pd.Index(stamps, dtype="int64"), dtype="float64", name=ARRAYS[key])
    duplicated = series.index[series.index.duplicated()]
    if len(duplicated):
        stamp = pd.Timestamp(int(duplicated[0]), unit="ms", tz="UTC")
        raise fail(SOURCE, f"{key}: duplicate timestamp {duplicated[0]} ({stamp.isoformat()})", where)
    return series


def parse_market_chart(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse a market chart: ``timestamp`` (UTC, exact from ms), ``price``, ``market_cap``, ``total_volume``."""
    data = expect_object(SOURCE, load_json(SOURCE, decode_text(SOURCE, body, where), where), where)
    _raise_api_error(data, where)
    joined = pd.concat([_array(data, key, where) for key in ARRAYS], axis=1, join="outer").sort_index()
    timestamps = pd.to_datetime(np.asarray(joined.index, dtype="int64"), unit="ms", utc=True)
    frame = pd.DataFrame(
        {
            "timestamp": pd.Series(timestamps, dtype=UTC_NS),
            **{name: joined[name].to_numpy(dtype="float64") for name in ARRAYS.values()},
        },
        columns=list(COLUMNS),
    )
    return frame.reset_index(drop=True)
