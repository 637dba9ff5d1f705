"""Rows known to pass a check, so the check judges only the others (``validate_rows``' fast path).

While ``known_passing(masks)`` is open, ``known(check, column, index)`` gives the rows of the
frame being validated that ``check`` (on ``column``; None for a row rule) is known to pass:
``canonical.known_good`` proves it from the rows' texts being exactly what
``features.sft.format_rows`` writes. A check still judges every row not in the mask, with
its own code, so its result is the same as judging all rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

KnownGood = dict[tuple[str, str | None], np.ndarray]
"""(check name, column or None for a row rule) -> per row of the validated frame: known to pass."""

_KNOWN: KnownGood | None = None


@contextmanager
def known_passing(masks: KnownGood) -> Iterator[None]:
    """Let the checks skip the rows ``masks`` marks as passing while open."""
    global _KNOWN
    previous, _KNOWN = _KNOWN, masks
    try:
        yield
    finally:
        _KNOWN = previous


def known(check: str, column: str | None, index: pd.Index) -> np.ndarray | None:
    """The rows (of a frame indexed ``index``) known to pass ``check`` on ``column``, or None if none are known.

    Only the validated frame itself (a ``RangeIndex`` of the mask's length) has a mask.
    """
    if _KNOWN is None:
        return None
    mask = _KNOWN.get((check, column))
    if mask is None or not mask.any() or not isinstance(index, pd.RangeIndex):
        return None
    if len(index) != len(mask) or index.start != 0 or index.step != 1:
        return None
    return mask
