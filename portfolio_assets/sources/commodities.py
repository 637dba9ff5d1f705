"""Alpha Vantage commodity series: ``function=WTI``, ``BRENT``, ``NATURAL_GAS``, ``COPPER``, ... (JSON).

::

    {"name": "Crude Oil Prices WTI", "interval": "daily", "unit": "dollars per barrel",
     "data": [{"date": "2024-05-13", "value": "79.12"}, {"date": "2024-05-10", "value": "."}, ...]}

Newest first; values are strings and ``"."`` is missing. Values may be
negative (WTI closed at -36.98 on 2020-04-20). Errors and rate limits arrive
with HTTP 200 as the one-key objects of the price series. They land under the
``alphavantage`` source with the series key ``function=WTI,interval=daily``.
"""

from __future__ import annotations

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
from portfolio_assets.sources.alphavantage import SOURCE, _api_message

COLUMNS = ("timestamp", "value")
MISSING = "."
FUNCTIONS = ("WTI", "BRENT", "NATURAL_GAS", "COPPER", "ALUMINUM", "WHEAT", "CORN", "COTTON", "SUGAR", "COFFEE")
"""The Alpha Vantage commodity functions that answer in this format."""

__all__ = ["COLUMNS", "FUNCTIONS", "SOURCE", "parse_commodity"]


def parse_commodity(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse a commodity series: ``timestamp`` (UTC midnight of the date), ``value`` (float64, NaN for ``"."``).

    Sorted by date with unique dates; an empty ``data`` list gives an empty frame.
    """
    data = expect_object(SOURCE, load_json(SOURCE, decode_text(SOURCE, body, where), where), where)
    if "data" not in data:
        _api_message(data, where)
    items = expect_list(SOURCE, data, "data", where)
    dates: list[object] = []
    values: list[float] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail(SOURCE, f"data[{index}]: expected an object, got {type(item).__name__}", where)
        for key in ("date", "value"):
            if key not in item:
                raise fail(SOURCE, f"data[{index}]: missing {key!r} (keys: {list(item)})", where)
        raw = item["value"]
        if raw == MISSING:
            values.append(np.nan)
        else:
            try:
                values.append(to_float(raw))
            except ValueError as exc:
                cause = f"data[{index}] ({item['date']!r}): value is not numeric: {quote(raw, 40)}"
                raise fail(SOURCE, cause, where) from exc
        dates.append(item["date"])
    timestamps = parse_times(SOURCE, dates, "%Y-%m-%d", "date", where)
    duplicate = first_duplicate(timestamps)
    if duplicate is not None:
        raise fail(SOURCE, f"duplicate date {duplicate:%Y-%m-%d}", where)
    frame = pd.DataFrame(
        {"timestamp": timestamps.astype(UTC_NS), "value": np.asarray(values, dtype="float64")},
        columns=list(COLUMNS),
    )
    return frame.sort_values("timestamp", kind="stable", ignore_index=True)
