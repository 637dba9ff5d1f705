"""The one Definitions object of the code location, and its resource sets per deployment.

``PORTFOLIO_DEPLOYMENT`` (read once by ``settings``) picks the resource set, the
way Dagster's ``project_fully_featured`` does:

* ``local`` (default, embedded): everything in-process, the Parquet store under
  ``$PORTFOLIO_DATA_DIR`` (default ``data/``), raw responses from
  ``$PORTFOLIO_LANDING_DIR`` (default: the bundled sample), exports under
  ``$PORTFOLIO_EXPORT_DIR`` (default ``<data dir>/exports``).

The scale-out deployment (Spark, S3) adds its set to ``RESOURCES_BY_DEPLOYMENT``.
Each setting is a resource field given an ``EnvVar`` when its variable is set.
"""

from __future__ import annotations

from collections.abc import Callable

from dagster import Definitions

from portfolio_assets import settings
from portfolio_assets.assets.benchmarks import benchmarks
from portfolio_assets.assets.indicators import indicators
from portfolio_assets.assets.macro import macro
from portfolio_assets.assets.prices import prices
from portfolio_assets.assets.sentiment import sentiment
from portfolio_assets.assets.sft_rows import gate_and_rows
from portfolio_assets.assets.targets import targets
from portfolio_assets.assets.training_set import training_set
from portfolio_assets.features.sft import DEFAULT_CONTEXT_WINDOW, DEFAULT_PROMPT_FORMAT
from portfolio_assets.io_managers import PartitionedParquetIOManager
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.resources import DEFAULT_DATA_DIR, ExportResource, LandingZoneResource, StorageResource
from portfolio_assets.settings import env_setting
from portfolio_assets.universe import DEFAULT_UNIVERSE

ALL_ASSETS = [prices, macro, benchmarks, sentiment, indicators, targets, gate_and_rows, training_set]
OBSERVATION_ASSETS = [prices, macro, benchmarks, sentiment, indicators]
LABELLED_ASSETS = [targets, gate_and_rows, training_set]


def local_resources(data_dir: str | None = None, export_dir: str | None = None) -> dict[str, object]:
    """The embedded resource set; ``data_dir`` / ``export_dir`` override their variables (tests, scripts).

    Every variable that is set is checked here, when the definitions load: a bad value fails at once,
    naming the variable, instead of minutes into a run.
    """
    storage = StorageResource(
        data_dir=data_dir or env_setting(settings.DATA_DIR_ENV, DEFAULT_DATA_DIR),
        export_dir=export_dir or env_setting(settings.EXPORT_DIR_ENV, ""),
    )
    resources = {
        "parquet_io_manager": PartitionedParquetIOManager(storage=storage),
        "landing": LandingZoneResource(
            root=env_setting(settings.LANDING_DIR_ENV, str(SAMPLE_LANDING_ROOT)),
            universe_file=env_setting(settings.UNIVERSE_FILE_ENV, str(DEFAULT_UNIVERSE)),
        ),
        "export": ExportResource(
            storage=storage,
            context_window=env_setting(settings.CONTEXT_WINDOW_ENV, DEFAULT_CONTEXT_WINDOW),
            prompt_format=env_setting(settings.PROMPT_FORMAT_ENV, DEFAULT_PROMPT_FORMAT),
            shard_by=env_setting(settings.SHARD_BY_ENV, "year"),
            validation_start=env_setting(settings.VALIDATION_START_ENV, None),
            test_start=env_setting(settings.TEST_START_ENV, None),
            embargo_days=env_setting(settings.EMBARGO_DAYS_ENV, 0),
        ),
    }
    settings.check_split_settings()
    return resources


RESOURCES_BY_DEPLOYMENT: dict[str, Callable[[], dict[str, object]]] = {"local": local_resources}


def resources_for(deployment: str | None = None) -> dict[str, object]:
    """The resource set of ``deployment`` (default: ``PORTFOLIO_DEPLOYMENT``)."""
    name = deployment or settings.DEPLOYMENT
    try:
        build = RESOURCES_BY_DEPLOYMENT[name]
    except KeyError:
        raise settings.SettingError(
            f"{settings.DEPLOYMENT_ENV}={name!r} is not a known deployment ({', '.join(RESOURCES_BY_DEPLOYMENT)})"
        ) from None
    return build()


defs = Definitions(assets=ALL_ASSETS, resources=resources_for())
