"""The one Definitions object of the code location, and its resource sets per deployment.

``PORTFOLIO_DEPLOYMENT`` (read once by ``settings``) picks the resource set, the
way Dagster's ``project_fully_featured`` does:

* ``local`` (default, embedded): everything in-process, the Parquet store under
  ``$PORTFOLIO_DATA_DIR`` (default ``data/``), raw responses from
  ``$PORTFOLIO_LANDING_DIR`` (default: the bundled sample), exports under
  ``$PORTFOLIO_EXPORT_DIR`` (default ``<data dir>/exports``). With
  ``PORTFOLIO_STORAGE_URL=s3://<bucket>/<prefix>`` the store, the exports and live mode's landing zone are
  objects under it instead (``AWS_ENDPOINT_URL`` for MinIO, Ceph and other S3-compatible stores), and with
  ``SPARK_MASTER_URL`` or ``SPARK_REMOTE`` the heavy per-asset work runs on Spark (``engine.py``).

Scale-out is a matter of settings, not of another resource set: the same resources take S3 and Spark.
Each setting is a resource field given an ``EnvVar`` when its variable is set.
"""

from __future__ import annotations

from collections.abc import Callable

from dagster import AssetSelection, Definitions, define_asset_job

from portfolio_assets import settings
from portfolio_assets.assets.benchmarks import benchmarks
from portfolio_assets.assets.evaluation import evaluation
from portfolio_assets.assets.indicators import indicators
from portfolio_assets.assets.macro import macro
from portfolio_assets.assets.prices import prices
from portfolio_assets.assets.raw import RAW_ASSETS
from portfolio_assets.assets.sentiment import sentiment
from portfolio_assets.assets.sft_rows import gate_and_rows
from portfolio_assets.assets.targets import targets
from portfolio_assets.assets.training_set import training_set
from portfolio_assets.engine import DEFAULT_APP_NAME, DEFAULT_DRIVER_MEMORY, EngineResource
from portfolio_assets.features.sft import DEFAULT_CONTEXT_WINDOW, DEFAULT_PROMPT_FORMAT
from portfolio_assets.features.sft_output import DEFAULT_OUTPUT, DEFAULT_RETURN_DECIMALS
from portfolio_assets.io_managers import PartitionedParquetIOManager
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS
from portfolio_assets.resources import (
    DEFAULT_DATA_DIR,
    ExportResource,
    LandingZoneResource,
    SourcesResource,
    StorageResource,
)
from portfolio_assets.schedules import automation_for
from portfolio_assets.settings import env_setting
from portfolio_assets.universe import DEFAULT_UNIVERSE

ALL_ASSETS = [*RAW_ASSETS, prices, macro, benchmarks, sentiment, indicators, targets, gate_and_rows, training_set]
OBSERVATION_ASSETS = [*RAW_ASSETS, prices, macro, benchmarks, sentiment, indicators]
LABELLED_ASSETS = [targets, gate_and_rows, training_set]


def local_resources(data_dir: str | None = None, export_dir: str | None = None) -> dict[str, object]:
    """The embedded resource set; ``data_dir`` / ``export_dir`` override their variables (tests, scripts).

    Every variable that is set is checked here, when the definitions load: a bad value fails at once,
    naming the variable, instead of minutes into a run.
    """
    object_store = {  # S3 (PORTFOLIO_STORAGE_URL): how to reach it, for the store, the exports and the landing zone
        "endpoint_url": env_setting(settings.AWS_ENDPOINT_URL_ENV, ""),
        "region": env_setting(settings.AWS_REGION_ENV, ""),
        "profile": env_setting(settings.AWS_PROFILE_ENV, ""),
        "cache_dir": env_setting(settings.STORAGE_CACHE_DIR_ENV, ""),
        "data_dir": data_dir or env_setting(settings.DATA_DIR_ENV, DEFAULT_DATA_DIR),
    }
    storage = StorageResource(
        export_dir=export_dir or env_setting(settings.EXPORT_DIR_ENV, ""),
        storage_url=env_setting(settings.STORAGE_URL_ENV, ""),
        **object_store,
    )
    resources = {
        "parquet_io_manager": PartitionedParquetIOManager(storage=storage),
        "storage": storage,
        "landing": LandingZoneResource(
            root=env_setting(settings.LANDING_DIR_ENV, default_landing_root()),
            universe_file=env_setting(settings.UNIVERSE_FILE_ENV, str(DEFAULT_UNIVERSE)),
            **object_store,
        ),
        "sources": sources_resource(),
        "engine": engine_resource(),
        "export": ExportResource(
            storage=storage,
            context_window=env_setting(settings.CONTEXT_WINDOW_ENV, DEFAULT_CONTEXT_WINDOW),
            prompt_format=env_setting(settings.PROMPT_FORMAT_ENV, DEFAULT_PROMPT_FORMAT),
            shard_by=env_setting(settings.SHARD_BY_ENV, "year"),
            validation_start=env_setting(settings.VALIDATION_START_ENV, None),
            test_start=env_setting(settings.TEST_START_ENV, None),
            embargo_days=env_setting(settings.EMBARGO_DAYS_ENV, 0),
            workers=env_setting(settings.WORKERS_ENV, 1),
            output_fields=env_setting(settings.OUTPUT_FIELDS_ENV, ",".join(DEFAULT_OUTPUT.fields)),
            return_decimals=env_setting(settings.RETURN_DECIMALS_ENV, DEFAULT_RETURN_DECIMALS),
            mask_identity=env_setting(settings.MASK_IDENTITY_ENV, False),
            folds=env_setting(settings.FOLDS_ENV, 5),
            fold_scheme=env_setting(settings.FOLD_SCHEME_ENV, "expanding"),
            fold_test_days=env_setting(settings.FOLD_TEST_DAYS_ENV, None),
            fold_train_days=env_setting(settings.FOLD_TRAIN_DAYS_ENV, None),
        ),
    }
    settings.check_split_settings()
    settings.check_fold_settings()
    return resources


def engine_resource() -> EngineResource:
    """In-process unless ``SPARK_MASTER_URL`` or ``SPARK_REMOTE`` is set (then Spark, with these settings)."""
    return EngineResource(
        master_url=env_setting(settings.SPARK_MASTER_URL_ENV, ""),
        remote=env_setting(settings.SPARK_REMOTE_ENV, ""),
        app_name=env_setting(settings.SPARK_APP_NAME_ENV, DEFAULT_APP_NAME),
        executor_memory=env_setting(settings.SPARK_EXECUTOR_MEMORY_ENV, ""),
        executor_cores=env_setting(settings.SPARK_EXECUTOR_CORES_ENV, 0),
        driver_memory=env_setting(settings.SPARK_DRIVER_MEMORY_ENV, DEFAULT_DRIVER_MEMORY),
        executor_python=env_setting(settings.SPARK_PYTHON_ENV, ""),
        extra_conf=env_setting(settings.SPARK_CONF_ENV, ""),
        ship_code=env_setting(settings.SPARK_SHIP_CODE_ENV, False),
        direct_io=env_setting(settings.SPARK_DIRECT_IO_ENV, "auto"),
    )


def default_landing_root() -> str:
    """The bundled sample in sample mode; ``<data dir>/landing`` in live mode (never the package's own files)."""
    if settings.SOURCE_MODE == "live":
        return str(settings.live_landing_default())
    return str(SAMPLE_LANDING_ROOT)


def sources_resource() -> SourcesResource:
    """The sources resource of ``PORTFOLIO_SOURCE_MODE``, every key an ``EnvVar`` (never a value in config)."""
    return SourcesResource(
        mode=settings.SOURCE_MODE,
        alphavantage_api_key=env_setting(settings.ALPHAVANTAGE_API_KEY_ENV, None),
        fred_api_key=env_setting(settings.FRED_API_KEY_ENV, None),
        coingecko_api_key=env_setting(settings.COINGECKO_API_KEY_ENV, None),
        alphavantage_base_url=env_setting(settings.ALPHAVANTAGE_BASE_URL_ENV, ""),
        fred_base_url=env_setting(settings.FRED_BASE_URL_ENV, ""),
        gdelt_base_url=env_setting(settings.GDELT_BASE_URL_ENV, ""),
        coingecko_base_url=env_setting(settings.COINGECKO_BASE_URL_ENV, ""),
        fear_greed_base_url=env_setting(settings.FEAR_GREED_BASE_URL_ENV, ""),
        social_csv_path=env_setting(settings.SOCIAL_CSV_PATH_ENV, ""),
        google_trends_csv_path=env_setting(settings.TRENDS_CSV_PATH_ENV, ""),
        alphavantage_calls_per_minute=env_setting(settings.ALPHAVANTAGE_PER_MINUTE_ENV, 5.0),
        alphavantage_daily_budget=env_setting(settings.ALPHAVANTAGE_DAILY_BUDGET_ENV, 25),
        gdelt_seconds_per_call=env_setting(settings.GDELT_SECONDS_PER_CALL_ENV, 5.0),
        fred_calls_per_second=env_setting(settings.FRED_PER_SECOND_ENV, 2.0),
        coingecko_calls_per_minute=env_setting(settings.COINGECKO_PER_MINUTE_ENV, 30.0),
        http_retries=env_setting(settings.HTTP_RETRIES_ENV, 5),
        http_backoff_seconds=env_setting(settings.HTTP_BACKOFF_ENV, 1.0),
        http_timeout_seconds=env_setting(settings.HTTP_TIMEOUT_ENV, 60.0),
    )


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


observation_job = define_asset_job(
    "observation",
    selection=AssetSelection.assets(*OBSERVATION_ASSETS),
    partitions_def=OBSERVATION_PARTITIONS,
    description="Every asset of the observation days (the raw sources to indicators), one run per range: in the "
    "UI, Materialize all → a partition range, or `make backfill START=… END=` (both partitions sets).",
)
labelled_job = define_asset_job(
    "labelled",
    selection=AssetSelection.assets(*LABELLED_ASSETS),
    partitions_def=LABELLED_PARTITIONS,
    description="The labelled days (targets, the gate, the export), one run per range; their observation inputs "
    "must be stored (the 90-day horizon after, the lookbacks before). The export (training_set) is not "
    "partitioned: one materialisation per run, of the run's labelled days (or the days of its run config).",
    tags={"dagster/retry_on_asset_or_op_failure": "false"},  # a failed gate fails again on the same data
)
evaluation_job = define_asset_job(
    "evaluate",
    selection=AssetSelection.assets(evaluation),
    description="Score the naive baselines (and a model's predictions file, from the run config) on the newest "
    "export (LATEST.json): per walk-forward fold, asset class, real vs synthetic. Or `make evaluate`.",
)
JOBS = [observation_job, labelled_job, evaluation_job]
SCHEDULES, SENSORS = automation_for(observation_job, labelled_job)

defs = Definitions(
    assets=[*ALL_ASSETS, evaluation], jobs=JOBS, schedules=SCHEDULES, sensors=SENSORS, resources=resources_for()
)
