"""Resources: where raw responses, the partitioned store and the exports live, and the universe.

Every setting is a field here, set per deployment in ``definitions.py`` (from the
environment through ``EnvVar`` where it is a variable). Pure code never loads
configuration: assets ask a resource and pass what they got as arguments.
"""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from portfolio_assets.features.sft import DEFAULT_CONTEXT_WINDOW, DEFAULT_PROMPT_FORMAT
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.universe import DEFAULT_UNIVERSE, Universe, load_universe

DEFAULT_DATA_DIR = "data"


class LandingZoneResource(ConfigurableResource):
    """The raw landing zone the source groups replay (default: the bundled sample), and the universe."""

    root: str = str(SAMPLE_LANDING_ROOT)
    universe_file: str = str(DEFAULT_UNIVERSE)
    _universe: Universe | None = PrivateAttr(default=None)

    def zone(self) -> LandingZone:
        """The landing zone at ``root``."""
        return LandingZone(self.root)

    def universe(self) -> Universe:
        """The validated universe file (read once per resource instance)."""
        if self._universe is None:
            self._universe = load_universe(self.universe_file)
        return self._universe

    def is_bundled_sample(self) -> bool:
        """Whether ``root`` is the bundled offline sample."""
        return Path(self.root).resolve() == SAMPLE_LANDING_ROOT.resolve()


class StorageResource(ConfigurableResource):
    """Where the partitioned Parquet store and the exports live.

    ``export_dir`` empty: ``<data_dir>/exports``.
    """

    data_dir: str = DEFAULT_DATA_DIR
    export_dir: str = ""

    def store_root(self) -> Path:
        """Root of the partitioned Parquet store."""
        return Path(self.data_dir)

    def export_root(self) -> Path:
        """Directory that receives ``training_set_<first>_<last>/`` exports."""
        return Path(self.export_dir) if self.export_dir else Path(self.data_dir) / "exports"


class ExportResource(ConfigurableResource):
    """How the training set's rows are shaped, split and sharded, and where it is written.

    ``validation_start`` / ``test_start`` (YYYY-MM-DD) fix the split boundaries;
    left empty they fall at 80% / 90% of the exported dates.
    """

    storage: StorageResource
    context_window: int = DEFAULT_CONTEXT_WINDOW
    prompt_format: str = DEFAULT_PROMPT_FORMAT
    shard_by: str = "year"
    validation_start: str | None = None
    test_start: str | None = None
    embargo_days: int = 0

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Check the resolved values with the same rules the variables are checked by at load."""
        from portfolio_assets import settings  # the settings module reads the window when imported

        for env, field in (
            (settings.CONTEXT_WINDOW_ENV, "context_window"),
            (settings.PROMPT_FORMAT_ENV, "prompt_format"),
            (settings.SHARD_BY_ENV, "shard_by"),
            (settings.EMBARGO_DAYS_ENV, "embargo_days"),
            (settings.VALIDATION_START_ENV, "validation_start"),
            (settings.TEST_START_ENV, "test_start"),
        ):
            value = getattr(self, field)
            if value is not None:
                settings.SETTINGS[env].check(str(value), name=f"ExportResource.{field} ({env})")
        if (self.validation_start is None) != (self.test_start is None) or (
            self.validation_start is not None and not str(self.validation_start) < str(self.test_start)
        ):
            raise settings.SettingError(
                f"ExportResource: validation_start ({self.validation_start}) and test_start ({self.test_start}) "
                "must both be set, in order, or both be empty"
            )
