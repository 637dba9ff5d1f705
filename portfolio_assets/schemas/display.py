"""How values read in failure messages and constraint texts: 130.0, inf, null, 'text', 2010-05-03T00:00:00Z."""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_assets.timeutil import ISO_UTC_FORMAT


def fmt(value: object) -> str:
    """A failure case as it reads in a message: 130.0, inf, null, 'text', 2010-05-03T00:00:00Z."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "null"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime(ISO_UTC_FORMAT) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value)


def bound(value: object) -> str:
    """A range bound without a needless ``.0``: 100.0 -> "100", 0.5 -> "0.5"."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def is_null(value: object) -> bool:
    """``pd.isna`` of a scalar; False for a value it cannot judge (a list, a dict)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
