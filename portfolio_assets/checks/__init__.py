"""Data-quality checks of the frames the assets produce: pure pandas / numpy, no Dagster.

Every check returns a ``CheckOutcome`` (``outcome``) and never modifies its
input: nothing is dropped, filled or corrected. One module per check:

=================================  ========  =================  ==============================================
check                              severity  module             fails when
=================================  ========  =================  ==============================================
``completeness``                   ERROR     ``complete_rows``  an asset's share of complete dates < min_fraction
``target_coverage``                ERROR     ``targets``        a labelled row lacks a finite, consistent target
``value_bounds`` / ``rsi_bounds``  ERROR     ``bounds``         a present value lies outside its bounds
``temporal_gaps``                  ERROR     ``gaps``           more than max_gap_days expected days are missing
``feature_distribution``           WARN      ``distribution``   a move looks like a bad tick / unadjusted split
``cross_source_consistency``       WARN      ``cross_source``   close and CoinGecko's close differ > tolerance
``feature_target_ic``              WARN      ``ic``             no feature's rank IC could be computed
``suspect_moves``                  WARN      ``suspect_moves``  rows touched by a bad tick / split are held back
``point_in_time``                  ERROR     ``point_in_time``  a row used a value available after its decision
=================================  ========  =================  ==============================================

Per-asset settings for the wrapping layer: ``calendars_for`` and ``last_trading_days_for`` (``calendars``),
``has_volume_for`` and ``warmup_ends`` (``requirements``). Defaults and helper
types (``Bound``, ``DEFAULT_BOUNDS``, ...) are imported from their modules. ``no_target_reasons``
(``targets``) names the rows whose horizon passes their asset's last trading day.
"""

from portfolio_assets.checks.bounds import rsi_bounds, value_bounds
from portfolio_assets.checks.calendars import calendars_for, last_trading_days_for
from portfolio_assets.checks.complete_rows import completeness
from portfolio_assets.checks.cross_source import cross_source_consistency
from portfolio_assets.checks.distribution import feature_distribution
from portfolio_assets.checks.gaps import temporal_gaps
from portfolio_assets.checks.ic import feature_target_ic, spearman
from portfolio_assets.checks.outcome import ERROR, FAILURE_COLUMNS, MAX_CASES, WARN, CheckOutcome, failures_markdown
from portfolio_assets.checks.point_in_time import point_in_time
from portfolio_assets.checks.requirements import has_volume_for, warmup_ends
from portfolio_assets.checks.suspect_moves import suspect_moves
from portfolio_assets.checks.targets import no_target_reasons, target_coverage

__all__ = [
    "ERROR",
    "FAILURE_COLUMNS",
    "MAX_CASES",
    "WARN",
    "CheckOutcome",
    "calendars_for",
    "completeness",
    "cross_source_consistency",
    "failures_markdown",
    "feature_distribution",
    "feature_target_ic",
    "has_volume_for",
    "last_trading_days_for",
    "no_target_reasons",
    "point_in_time",
    "rsi_bounds",
    "spearman",
    "suspect_moves",
    "target_coverage",
    "temporal_gaps",
    "value_bounds",
    "warmup_ends",
]
