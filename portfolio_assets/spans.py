"""How far each computation looks back or ahead, in calendar days (pure, no Dagster).

The partition mappings (``partitions.py``), the window check of the settings and
the export's card all take their spans from here.
"""

from __future__ import annotations

from portfolio_assets.features.registry import lookback_days

HORIZON_DAYS = 90
"""Forecast horizon, calendar days."""

WARMUP_DAYS = 366
"""Labelled days start this long after the first observation day, so every feature's
warm-up (SMA-200, the 252-day drawdown) has passed."""

CONTEXT_LOOKBACK_DAYS = 120
"""Calendar days of prices sft_rows reads for its context window (>= 60 trading days)."""

MAX_CONTEXT_WINDOW = 60
"""The longest context window (closes) the context lookback always holds: 120 calendar days are at least
60 trading days on any calendar, holidays included."""

INDICATOR_LOOKBACK_DAYS = lookback_days()
"""Calendar days of prices each indicators day reads, derived from the feature declarations.

The longest warm-up plus, for a recursive smoother (EMA, Wilder), the observations
after which its seed weighs below ``registry.DECAY_TOLERANCE`` ((1 - alpha)^k), in
calendar days of the sparsest calendar: so a day's indicators do not depend on where
a backfill started.
"""
