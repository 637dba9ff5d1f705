"""What a row rule is: a dataframe-level check judged per row, with the explanation of its failing rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Problem = tuple[int, str, object, str]
"""(position in the failing rows, column, failure case, message)."""


@dataclass(frozen=True)
class RowRule:
    """A dataframe-level check judged per row, with the explanation of its failing rows."""

    columns: tuple[str, ...]
    """Columns the rule is about (table_schema lists its constraint under them)."""
    constraint: str
    ok: Callable[[pd.DataFrame], pd.Series]
    explain: Callable[[pd.DataFrame], list[Problem]]
    """The problems of the failing rows (given together, positions 0..n-1: one vectorised pass)."""
    derived: bool = False
    """A cross-check of two representations (JSON text vs columns): listed after the direct errors."""


def all_true(df: pd.DataFrame) -> pd.Series:
    """Every row passes (a rule whose columns are not all in the frame)."""
    return pd.Series(True, index=df.index)


def num(df: pd.DataFrame, column: str) -> np.ndarray:
    """``df[column]`` as float64, NaN where null or not a number."""
    series = df[column]
    if isinstance(series, pd.Series) and series.dtype == np.float64:  # to_numeric gives it back (copied here)
        return series.to_numpy(dtype="float64", copy=True)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
