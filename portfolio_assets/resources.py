"""Resources: where raw responses and exports live, and the universe."""

from __future__ import annotations

import os

from dagster import ConfigurableResource

from portfolio_assets.features.sft import DEFAULT_CONTEXT_WINDOW, DEFAULT_PROMPT_FORMAT
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.universe import Universe, load_universe

LANDING_DIR_ENV = "PORTFOLIO_LANDING_DIR"
EXPORT_DIR_ENV = "PORTFOLIO_EXPORT_DIR"


def default_landing_dir() -> str:
    """``$PORTFOLIO_LANDING_DIR``, else the bundled offline sample."""
    return os.environ.get(LANDING_DIR_ENV) or str(SAMPLE_LANDING_ROOT)


class LandingZoneResource(ConfigurableResource):
    """The raw landing zone the source groups replay (default: the bundled sample)."""

    root: str
    universe_file: str | None = None

    def zone(self) -> LandingZone:
        return LandingZone(self.root)

    def universe(self) -> Universe:
        return load_universe(self.universe_file)


class ExportResource(ConfigurableResource):
    """Where the training set is written, and how its rows are shaped and split.

    ``validation_start`` / ``test_start`` (YYYY-MM-DD) fix the split boundaries;
    left empty they fall at 80% / 90% of the exported dates.
    """

    export_dir: str
    context_window: int = DEFAULT_CONTEXT_WINDOW
    prompt_format: str = DEFAULT_PROMPT_FORMAT
    shard_by: str = "year"
    validation_start: str | None = None
    test_start: str | None = None
    embargo_days: int = 0
