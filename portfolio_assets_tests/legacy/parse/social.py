"""Licensed social-sentiment daily CSV feed.

Header ``timestamp,asset_symbol,social_sentiment_score,social_mention_count``
(extra columns are ignored); ``timestamp`` like ``2008-01-01T00:00:00Z`` (any
offset, but 00:00 UTC: the feed is daily), score in -1..1, count a non-negative
integer within int64. Empty score / count cells are missing.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime

import numpy as np
import pandas as pd

from portfolio_assets_tests.legacy.parse._wire import (
    UTC_NS,
    decode_text,
    ends_inside_quotes,
    fail,
    quote,
    to_count,
    to_float,
    utc_timestamp,
)

SOURCE = "social"
COLUMNS = ("timestamp", "asset_symbol", "social_sentiment_score", "social_mention_count")


def _timestamp(raw: str) -> pd.Timestamp:
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        detail = "" if str(exc).startswith("Invalid isoformat string") else f" ({exc})"
        raise ValueError(f"timestamp {raw!r} is not an ISO 8601 date-time{detail}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {raw!r} has no time zone")
    stamp = utc_timestamp(parsed, raw)
    if stamp != stamp.normalize():
        raise ValueError(f"timestamp {raw!r} is not 00:00 UTC (the feed is daily)")
    return stamp


def _count(raw: str) -> int:
    return to_count(raw, "mention count")


def _score(raw: str) -> float:
    number = to_float(raw)
    if not -1 <= number <= 1:
        raise ValueError(f"sentiment score {raw!r} outside -1..1")
    return number


def parse_social_csv(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse the feed, sorted by (timestamp, asset_symbol); errors name the line number."""
    text = decode_text(SOURCE, body, where)
    if not text.strip():
        raise fail(SOURCE, "empty body (no header)", where)
    # strict: a quote left open to the end is an error, not a cell (a last cell `"2` would be read as 2)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise fail(SOURCE, f"line 1: missing required column(s) {missing} (header: {quote(header, 200)})", where)
        if len(set(header)) != len(header):
            raise fail(SOURCE, f"line 1: duplicate column names in header {quote(header, 200)}", where)
        position = {name: header.index(name) for name in COLUMNS}

        stamps: list[pd.Timestamp] = []
        symbols: list[str] = []
        scores: list[float] = []
        counts: list[object] = []
        seen: dict[tuple[pd.Timestamp, str], int] = {}
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                hint = " (truncated line?)" if len(row) < len(header) else ""
                raise fail(SOURCE, f"line {line}: expected {len(header)} fields, got {len(row)}{hint}", where)
            cells = {name: row[index].strip() for name, index in position.items()}
            try:
                stamp = _timestamp(cells["timestamp"])
                score = _score(cells["social_sentiment_score"]) if cells["social_sentiment_score"] else math.nan
                count = _count(cells["social_mention_count"]) if cells["social_mention_count"] else pd.NA
            except ValueError as exc:
                raise fail(SOURCE, f"line {line}: {exc}", where) from exc
            symbol = cells["asset_symbol"]
            if not symbol:
                raise fail(SOURCE, f"line {line}: empty asset_symbol", where)
            if (stamp, symbol) in seen:
                first = seen[stamp, symbol]
                cause = f"line {line}: duplicate row for {symbol} at {stamp.isoformat()} (first on line {first})"
                raise fail(SOURCE, cause, where)
            seen[stamp, symbol] = line
            stamps.append(stamp)
            symbols.append(symbol)
            scores.append(score)
            counts.append(count)
    except csv.Error as exc:
        if ends_inside_quotes(exc):
            cause = "unterminated quote: the body ends inside a quoted field (truncated?)"
        else:
            cause = f"malformed CSV ({exc})"
        raise fail(SOURCE, f"line {reader.line_num}: {cause}", where) from exc

    frame = pd.DataFrame(
        {
            "timestamp": pd.Series(pd.to_datetime(stamps, utc=True), dtype=UTC_NS),
            "asset_symbol": pd.Series(symbols, dtype=object),
            "social_sentiment_score": np.asarray(scores, dtype="float64"),
            "social_mention_count": pd.array(counts, dtype="Int64"),
        },
        columns=list(COLUMNS),
    )
    return frame.sort_values(["timestamp", "asset_symbol"], kind="stable", ignore_index=True)
