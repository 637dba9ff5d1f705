"""Alpha Vantage corporate actions: ``function=SPLITS`` and ``function=DIVIDENDS`` (JSON).

``SPLITS``::

    {"symbol": "GOOG", "data": [{"effective_date": "2022-07-18", "split_factor": "20.0000"}, ...]}

``DIVIDENDS``::

    {"symbol": "IBM", "data": [{"ex_dividend_date": "2024-11-12", "declaration_date": "2024-10-29",
                                "record_date": "2024-11-12", "payment_date": "2024-12-10", "amount": "1.67"}, ...]}

Newest first; values are strings; a date Alpha Vantage does not know is the
string ``"None"``. An empty ``data`` list is a valid "no splits" / "no
dividends". Errors and rate limits arrive with HTTP 200 as the same one-key
objects as the price series (``"Error Message"``, ``"Note"``,
``"Information"``) and are classified the same way. Both land under the
``alphavantage`` source with the series key ``function=...,symbol=...``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from portfolio_assets.sources._wire import (
    UTC_NS,
    decode_text,
    expect_list,
    expect_object,
    fail,
    load_json,
    parse_times,
    quote,
    to_float,
)
from portfolio_assets.sources.alphavantage import SOURCE, _api_message

SPLIT_COLUMNS = ("effective_date", "split_factor")
DIVIDEND_COLUMNS = ("ex_dividend_date", "amount", "declaration_date", "record_date", "payment_date")
UNKNOWN_DATE = "None"  # how Alpha Vantage writes a date it does not know
DATE_FORMAT = "%Y-%m-%d"
_OPTIONAL_DATES = ("declaration_date", "record_date", "payment_date")

__all__ = ["DIVIDEND_COLUMNS", "SOURCE", "SPLIT_COLUMNS", "parse_dividends", "parse_splits"]


def _items(body: bytes | str, where: str) -> list[Any]:
    """The ``data`` list; an API message (HTTP-200 error or rate limit) is raised as such."""
    data = expect_object(SOURCE, load_json(SOURCE, decode_text(SOURCE, body, where), where), where)
    if "data" not in data:
        _api_message(data, where)
    return expect_list(SOURCE, data, "data", where)


def _fields(items: list[Any], required: tuple[str, ...], where: str) -> list[dict[str, Any]]:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail(SOURCE, f"data[{index}]: expected an object, got {type(item).__name__}", where)
        for key in required:
            if key not in item:
                raise fail(SOURCE, f"data[{index}]: missing {key!r} (keys: {list(item)})", where)
    return items


def _number(item: dict[str, Any], key: str, index: int, where: str) -> float:
    try:
        return to_float(item[key])
    except ValueError as exc:
        raise fail(SOURCE, f"data[{index}]: {key} is not numeric: {quote(item[key], 40)}", where) from exc


def _optional_dates(values: list[object], what: str, where: str) -> pd.Series:
    """Dates where known, NaT for ``"None"`` (anything else must be a YYYY-MM-DD string)."""
    known = [i for i, value in enumerate(values) if value != UNKNOWN_DATE]
    out = pd.Series(pd.NaT, index=range(len(values)), dtype=UTC_NS)
    if known:
        parsed = parse_times(SOURCE, [values[i] for i in known], DATE_FORMAT, what, where)
        out.iloc[known] = parsed.to_numpy()
    return out


def parse_splits(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse a ``SPLITS`` response: ``effective_date`` (UTC midnight) and ``split_factor`` (> 0, new/old shares).

    Sorted by date; one split a date.
    """
    items = _fields(_items(body, where), SPLIT_COLUMNS, where)
    factors = []
    for index, item in enumerate(items):
        factor = _number(item, "split_factor", index, where)
        if factor <= 0:
            raise fail(SOURCE, f"data[{index}]: split_factor {factor:g} is not positive", where)
        factors.append(factor)
    dates = parse_times(SOURCE, [item["effective_date"] for item in items], DATE_FORMAT, "effective_date", where)
    duplicated = dates[dates.duplicated()]
    if not duplicated.empty:
        raise fail(SOURCE, f"two splits on {duplicated.iloc[0]:%Y-%m-%d}", where)
    frame = pd.DataFrame(
        {"effective_date": dates.astype(UTC_NS), "split_factor": np.asarray(factors, dtype="float64")},
        columns=list(SPLIT_COLUMNS),
    )
    return frame.sort_values("effective_date", kind="stable", ignore_index=True)


def parse_dividends(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse a ``DIVIDENDS`` response.

    Columns: ``ex_dividend_date`` (UTC midnight, required), ``amount`` (float64,
    >= 0, per share), ``declaration_date``, ``record_date``, ``payment_date``
    (UTC midnight or NaT where Alpha Vantage writes ``"None"``). Sorted by
    ex-dividend date then amount; two dividends may share an ex-date (a regular
    and a special one) but not the amount too.
    """
    items = _fields(_items(body, where), DIVIDEND_COLUMNS, where)
    amounts = []
    for index, item in enumerate(items):
        amount = _number(item, "amount", index, where)
        if amount < 0:
            raise fail(SOURCE, f"data[{index}]: negative amount {amount:g}", where)
        amounts.append(amount)
    for index, item in enumerate(items):
        if item["ex_dividend_date"] == UNKNOWN_DATE:
            raise fail(SOURCE, f"data[{index}]: the ex_dividend_date is unknown ('None'); a dividend needs one", where)
    ex_dates = parse_times(SOURCE, [item["ex_dividend_date"] for item in items], DATE_FORMAT, "ex_dividend_date", where)
    frame = pd.DataFrame(
        {
            "ex_dividend_date": ex_dates.astype(UTC_NS),
            "amount": np.asarray(amounts, dtype="float64"),
            **{name: _optional_dates([item[name] for item in items], name, where) for name in _OPTIONAL_DATES},
        },
        columns=list(DIVIDEND_COLUMNS),
    )
    duplicated = frame.duplicated(subset=["ex_dividend_date", "amount"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise fail(SOURCE, f"dividend {row['amount']:g} on {row['ex_dividend_date']:%Y-%m-%d} listed twice", where)
    return frame.sort_values(["ex_dividend_date", "amount"], kind="stable", ignore_index=True)
