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
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_assets.sources._columnar import counts, decimals, plain_csv, read_strings
from portfolio_assets.sources._wire import (
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


def _frame(stamps: pd.Series, symbols: object, scores: np.ndarray, counts: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": stamps,
            "asset_symbol": pd.Series(symbols, dtype=object),
            "social_sentiment_score": scores,
            "social_mention_count": counts,
        },
        columns=list(COLUMNS),
    )


def _present(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Which cells are non-empty (empty ones are missing values), and those cells."""
    present = pc.not_equal(column, "").to_numpy(zero_copy_only=False)
    return present, column.filter(pa.array(present))


def _fast(text: str) -> pd.DataFrame | None:
    """The parsed feed of a plain, valid body, read column-wise; ``None`` at the first doubt."""
    plain = plain_csv(text)
    if plain is None:
        return None
    header, data = plain
    if any(name not in header for name in COLUMNS) or len(set(header)) != len(header):
        return None
    table = read_strings(data, len(header))
    if table is None or table.num_rows == 0:
        return None
    cell = {name: table.column(str(header.index(name))) for name in COLUMNS}
    symbols = cell["asset_symbol"].to_numpy(zero_copy_only=False)
    if not (symbols != "").all():  # an empty symbol is an error: the reference names its line
        return None
    # A daily feed repeats each day once per asset: parse each distinct stamp once, with the reference rule.
    encoded = pc.dictionary_encode(cell["timestamp"]).combine_chunks()
    try:
        moments = [_timestamp(raw).value for raw in encoded.dictionary.to_pylist()]
    except ValueError:
        return None
    nanoseconds = np.asarray(moments, dtype="int64")[encoded.indices.to_numpy(zero_copy_only=False)]
    has_score, score_cells = _present(cell["social_sentiment_score"])
    has_count, count_cells = _present(cell["social_mention_count"])
    present_scores, present_counts = decimals(score_cells), counts(count_cells)
    if present_scores is None or present_counts is None:
        return None
    if not ((present_scores >= -1) & (present_scores <= 1)).all():
        return None
    scores = np.full(table.num_rows, np.nan)
    scores[has_score] = present_scores
    mentions = np.zeros(table.num_rows, dtype="int64")
    mentions[has_count] = present_counts
    codes, uniques = pd.factorize(symbols, sort=True)
    key = nanoseconds // 86_400_000_000_000 * len(uniques) + codes  # stamps are whole UTC days
    if pd.Index(key).has_duplicates:
        return None
    order = np.lexsort((codes, nanoseconds))
    stamps = pd.Series(pd.to_datetime(nanoseconds[order], utc=True), dtype=UTC_NS)
    return _frame(stamps, symbols[order], scores[order], pd.arrays.IntegerArray(mentions[order], ~has_count[order]))


def parse_social_csv(body: bytes | str, *, where: str = "") -> pd.DataFrame:
    """Parse the feed, sorted by (timestamp, asset_symbol); errors name the line number.

    A plain valid body is read column-wise (``_fast``); anything else, and every error,
    goes through the line-by-line reference reader below.
    """
    text = decode_text(SOURCE, body, where)
    if not text.strip():
        raise fail(SOURCE, "empty body (no header)", where)
    fast = _fast(text)
    return fast if fast is not None else _reference(text, where)


def _reference(text: str, where: str) -> pd.DataFrame:
    """The line-by-line reader: every body, the errors with their line numbers."""
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

    frame = _frame(
        pd.Series(pd.to_datetime(stamps, utc=True), dtype=UTC_NS),
        symbols,
        np.asarray(scores, dtype="float64"),
        pd.array(counts, dtype="Int64"),
    )
    return frame.sort_values(["timestamp", "asset_symbol"], kind="stable", ignore_index=True)
