"""What a feature declaration holds: ``Feature`` and its valid range, ``Bound``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from portfolio_assets.asset_classes import ALL_CLASSES


def _fmt(x: float) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.6g}"


@dataclass(frozen=True)
class Bound:
    """An interval; ``None`` is unbounded on that side."""

    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    @property
    def bounded(self) -> bool:
        return self.low is not None or self.high is not None

    def violated(self, values: np.ndarray) -> np.ndarray:
        """Present values outside the interval (±inf always is); NaN (missing) never is."""
        present = ~np.isnan(values)
        bad = present & np.isinf(values)
        with np.errstate(invalid="ignore"):
            if self.low is not None:
                bad |= present & ((values < self.low) if self.low_inclusive else (values <= self.low))
            if self.high is not None:
                bad |= present & ((values > self.high) if self.high_inclusive else (values >= self.high))
        return bad

    def describe(self) -> str:
        """The interval in interval notation, e.g. ``[0, 100]`` or ``(0, ∞)``."""
        low = "(-∞" if self.low is None else ("[" if self.low_inclusive else "(") + _fmt(self.low)
        high = "∞)" if self.high is None else _fmt(self.high) + ("]" if self.high_inclusive else ")")
        return f"{low}, {high}"

    def pandera_checks(self) -> dict[str, object]:
        """The same interval as ``pandera.Field`` keyword arguments."""
        if self.low is not None and self.high is not None and self.low_inclusive and self.high_inclusive:
            return {"in_range": {"min_value": self.low, "max_value": self.high}}
        checks: dict[str, object] = {}
        if self.low is not None:
            checks["ge" if self.low_inclusive else "gt"] = self.low
        if self.high is not None:
            checks["le" if self.high_inclusive else "lt"] = self.high
        return checks


UNBOUNDED = Bound()
POSITIVE = Bound(0.0, None, low_inclusive=False)
NON_NEGATIVE = Bound(0.0, None)
PERCENT = Bound(0.0, 100.0)
UNIT = Bound(-1.0, 1.0)


@dataclass(frozen=True)
class Feature:
    """One input feature of a training row, declared once.

    The declaration drives the computation (``kernel(series, **params)`` for the
    technical family), the pandera column and its range (``valid``), the value-bound
    checks, the column schema shown in the UI and FEATURES.md.
    """

    name: str
    family: str
    """technical | cross_asset | macro | sentiment"""
    formula: str
    unit: str
    window: int | str
    """technical / cross-asset: observations (int); other families: a description."""
    source: str
    known_at: str
    warmup: int = 0
    """0-based index of the asset's first observation with a value; earlier rows are NaN."""
    smoothing: float | None = None
    """Alpha of a recursive (EMA / Wilder) smoother: its seed's weight decays as (1 − alpha)^k."""
    valid: Bound = UNBOUNDED
    applies_to: frozenset[str] = ALL_CLASSES
    kernel: Callable[..., np.ndarray] | None = field(default=None, compare=False)
    params: Mapping[str, object] = field(default_factory=dict, compare=False)
    dtype: str = "float64"
    """float64, or Int64 for counts."""

    @property
    def recursive(self) -> bool:
        """Exponential / Wilder smoothing: the value depends (ever less) on where the series starts."""
        return self.smoothing is not None

    @property
    def group(self) -> str:
        """Alias of ``family``."""
        return self.family

    @property
    def description(self) -> str:
        """One line for a column schema: formula, unit and when it becomes known."""
        return f"{self.formula} [{self.unit}]; known {self.known_at}"
