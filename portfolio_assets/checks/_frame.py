"""Reading a checked frame: required columns, numeric columns as float64."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def _require(frame: pd.DataFrame, columns: Iterable[str], check: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{check}: the frame has no column(s) {missing} (columns: {list(frame.columns)})")


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing (nullable Int64 included)."""
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
