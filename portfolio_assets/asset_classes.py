"""The asset classes and what follows from a class alone (pure, no configuration)."""

from __future__ import annotations

ASSET_CLASSES = ("crypto", "equity", "fx", "commodity", "bond")
ALL_CLASSES: frozenset[str] = frozenset(ASSET_CLASSES)
VOLUME_CLASSES: frozenset[str] = ALL_CLASSES - {"fx"}
"""Classes whose prices carry a volume (fx quotes have none)."""

PERIODS_PER_YEAR = {"crypto": 365, "equity": 252, "fx": 252, "commodity": 252, "bond": 252}
"""Observations per year: annualises volatilities, and turns observations into calendar days."""
