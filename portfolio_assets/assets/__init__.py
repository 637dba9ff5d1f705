"""One module per asset group; each asset is thin: load, call ``features``, attach metadata."""

import warnings

from dagster import BetaWarning

# Single-run backfills are the point of this project; Dagster still labels the
# parameter beta. Silence that one warning rather than every import's log.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
