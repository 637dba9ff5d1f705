"""Phrases of the one-line summaries and failure reasons: dates, spans, counts, numbers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd


def _date(ts: pd.Timestamp | None) -> str:
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def _span(dates: Iterable[pd.Timestamp]) -> str:
    """``first..last`` of ``dates`` (one date when they are all the same day)."""
    days = [d for d in dates if not pd.isna(d)]
    if not days:
        return "no date"
    first, last = _date(min(days)), _date(max(days))
    return first if first == last else f"{first}..{last}"


def _join(parts: Sequence[str], limit: int = 4) -> str:
    """``parts`` joined by '; ', the tail counted rather than listed."""
    head = "; ".join(parts[:limit])
    return head if len(parts) <= limit else f"{head}; and {len(parts) - limit} more"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _fmt(x: float) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.6g}"
