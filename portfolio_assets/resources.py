"""Resources: where raw responses, the partitioned store and the exports live, and the universe.

Every setting is a field here, set per deployment in ``definitions.py`` (from the
environment through ``EnvVar`` where it is a variable). Pure code never loads
configuration: assets ask a resource and pass what they got as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from portfolio_assets.features.sft import DEFAULT_CONTEXT_WINDOW, DEFAULT_PROMPT_FORMAT
from portfolio_assets.features.sft_output import DEFAULT_OUTPUT, DEFAULT_RETURN_DECIMALS
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.objectstore import S3Location, S3Options, is_s3_url
from portfolio_assets.universe import DEFAULT_UNIVERSE, Universe, load_universe

DEFAULT_DATA_DIR = "data"


class LandingZoneResource(ConfigurableResource):
    """The raw landing zone the source groups replay (default: the bundled sample), and the universe.

    ``root`` may be an ``s3://<bucket>/<prefix>`` URL: the zone is then objects there, reached with the
    object-store fields (``StorageResource``'s), read through a local mirror under ``cache_dir``.
    """

    root: str = str(SAMPLE_LANDING_ROOT)
    universe_file: str = str(DEFAULT_UNIVERSE)
    endpoint_url: str = ""
    region: str = ""
    profile: str = ""
    cache_dir: str = ""
    data_dir: str = DEFAULT_DATA_DIR
    """Only where the S3 mirror goes by default (``<data_dir>/s3_cache``)."""
    _universe: Universe | None = PrivateAttr(default=None)

    def location(self) -> Path | S3Location:
        """Where the zone is: a local directory, or an ``S3Location``."""
        if not is_s3_url(self.root):
            return Path(self.root)
        from portfolio_assets import settings

        options = s3_options(self.endpoint_url, self.region, self.profile, self.cache_dir, self.data_dir)
        try:
            return S3Location.parse(self.root, options)
        except ValueError as exc:
            raise settings.SettingError(
                f"LandingZoneResource.root ({settings.LANDING_DIR_ENV})={settings.shown_url(self.root)} {exc}"
            ) from None

    def zone(self) -> LandingZone:
        """The landing zone at ``root``."""
        return LandingZone(self.location())

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """On S3: fail when the run starts, naming the URL and the cause, if the bucket is unusable."""
        root = self.location()
        if isinstance(root, S3Location):
            root.check()

    def universe(self) -> Universe:
        """The validated universe file (read once per resource instance)."""
        if self._universe is None:
            self._universe = load_universe(self.universe_file)
        return self._universe

    def is_bundled_sample(self) -> bool:
        """Whether ``root`` is the bundled offline sample."""
        return not is_s3_url(self.root) and Path(self.root).resolve() == SAMPLE_LANDING_ROOT.resolve()

    def holds_sample(self) -> bool:
        """Whether the zone is the bundled sample or a copy of it (another directory, S3): its ``SAMPLE_MARKER``
        names the bundled manifest, whose sources say which series are synthetic."""
        if self.is_bundled_sample():
            return True
        from portfolio_assets.export.provenance import SAMPLE_MARKER, sample_marker

        root = self.location()
        try:
            found = root.get(SAMPLE_MARKER) if isinstance(root, S3Location) else (root / SAMPLE_MARKER).read_bytes()
        except FileNotFoundError:
            return False
        return found == sample_marker()


class StorageResource(ConfigurableResource):
    """Where the partitioned Parquet store and the exports live: ``data_dir``, or S3 when ``storage_url`` is set.

    ``export_dir`` empty: ``<data_dir>/exports`` (``<storage_url>/exports`` on S3). With ``storage_url``
    (``s3://<bucket>/<prefix>``) the store and the exports are objects under it, reached through
    ``endpoint_url`` ("" = AWS), ``region`` and ``profile`` (credentials: boto3's own chain), and downloaded
    objects are cached under ``cache_dir`` (default ``<data_dir>/s3_cache``).
    """

    data_dir: str = DEFAULT_DATA_DIR
    export_dir: str = ""
    storage_url: str = ""
    endpoint_url: str = ""
    region: str = ""
    profile: str = ""
    cache_dir: str = ""

    def s3_options(self) -> S3Options:
        """How to reach the object store (and where its cache is)."""
        return s3_options(self.endpoint_url, self.region, self.profile, self.cache_dir, self.data_dir)

    def s3_root(self) -> S3Location | None:
        """The S3 location of ``storage_url``; None when the storage is the local ``data_dir``."""
        if not self.storage_url:
            return None
        from portfolio_assets import settings

        try:
            return S3Location.parse(self.storage_url, self.s3_options())
        except ValueError as exc:
            raise settings.SettingError(
                f"StorageResource.storage_url ({settings.STORAGE_URL_ENV})={settings.shown_url(self.storage_url)} {exc}"
            ) from None

    def store_root(self) -> Path | S3Location:
        """Root of the partitioned Parquet store (``io_managers.PartitionStore`` takes either)."""
        return self.s3_root() or Path(self.data_dir)

    def export_root(self) -> Path | S3Location:
        """Where ``training_set_<first>_<last>_<format>_<digest>/`` exports go (``export.sink.open_sink`` takes
        either)."""
        if is_s3_url(self.export_dir):
            from portfolio_assets import settings

            try:
                return S3Location.parse(self.export_dir, self.s3_options())
            except ValueError as exc:
                shown = settings.shown_url(self.export_dir)
                raise settings.SettingError(
                    f"StorageResource.export_dir ({settings.EXPORT_DIR_ENV})={shown} {exc}"
                ) from None
        if self.export_dir:
            return Path(self.export_dir)
        root = self.s3_root()
        return root / "exports" if root is not None else Path(self.data_dir) / "exports"

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """On S3: fail when the run starts, naming the URL and the cause, if the bucket is unusable."""
        root = self.s3_root()
        if root is not None:
            root.check()


def s3_options(endpoint_url: str, region: str, profile: str, cache_dir: str, data_dir: str) -> S3Options:
    """``S3Options`` from resource fields; the cache defaults to ``<data_dir>/s3_cache``."""
    from portfolio_assets import settings

    for env, value in (
        (settings.AWS_ENDPOINT_URL_ENV, endpoint_url),
        (settings.AWS_REGION_ENV, region),
        (settings.AWS_PROFILE_ENV, profile),
    ):
        if value:
            settings.SETTINGS[env].check(str(value), name=f"{env}")
    return S3Options(endpoint_url, region, profile, cache_dir or str(Path(data_dir) / "s3_cache"))


class ExportResource(ConfigurableResource):
    """How the training set's rows are shaped, split and sharded, and where it is written.

    ``validation_start`` / ``test_start`` (YYYY-MM-DD) fix the split boundaries;
    left empty they fall at 80% / 90% of the exported dates. ``workers`` > 1 formats, validates and encodes
    the export's chunks in that many worker processes (the files are the same bytes).
    ``output_fields`` / ``return_decimals``: the output text (``features.sft_output``); ``mask_identity``: the
    prompt text names neither ticker nor date. ``folds`` walk-forward folds (0: none), ``fold_scheme``
    expanding or rolling (``fold_train_days`` long), test blocks ``fold_test_days`` long (None: automatic).
    """

    storage: StorageResource
    context_window: int = DEFAULT_CONTEXT_WINDOW
    prompt_format: str = DEFAULT_PROMPT_FORMAT
    shard_by: str = "year"
    validation_start: str | None = None
    test_start: str | None = None
    embargo_days: int = 0
    workers: int = 1
    """Worker processes that format, validate and encode the export's chunks (1: this process)."""
    output_fields: str = ",".join(DEFAULT_OUTPUT.fields)
    return_decimals: int = DEFAULT_RETURN_DECIMALS
    mask_identity: bool = False
    folds: int = 5
    fold_scheme: str = "expanding"
    fold_test_days: int | None = None
    fold_train_days: int | None = None

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Check the resolved values with the same rules the variables are checked by at load."""
        from portfolio_assets import settings  # the settings module reads the window when imported

        settings.check_fields(
            self,
            (
                (settings.CONTEXT_WINDOW_ENV, "context_window"),
                (settings.PROMPT_FORMAT_ENV, "prompt_format"),
                (settings.SHARD_BY_ENV, "shard_by"),
                (settings.EMBARGO_DAYS_ENV, "embargo_days"),
                (settings.WORKERS_ENV, "workers"),
                (settings.VALIDATION_START_ENV, "validation_start"),
                (settings.TEST_START_ENV, "test_start"),
                (settings.OUTPUT_FIELDS_ENV, "output_fields"),
                (settings.RETURN_DECIMALS_ENV, "return_decimals"),
                (settings.FOLDS_ENV, "folds"),
                (settings.FOLD_SCHEME_ENV, "fold_scheme"),
                (settings.FOLD_TEST_DAYS_ENV, "fold_test_days"),
                (settings.FOLD_TRAIN_DAYS_ENV, "fold_train_days"),
            ),
        )
        settings.check_fold_settings(
            self.fold_scheme,
            self.fold_train_days,
            name=f"ExportResource.fold_train_days ({settings.FOLD_TRAIN_DAYS_ENV})",
        )
        if (self.validation_start is None) != (self.test_start is None) or (
            self.validation_start is not None and not str(self.validation_start) < str(self.test_start)
        ):
            raise settings.SettingError(
                f"ExportResource: validation_start ({self.validation_start}) and test_start ({self.test_start}) "
                "must both be set, in order, or both be empty"
            )


RAW_ASSET_SOURCES: dict[str, str] = {
    "raw_alphavantage": "alphavantage",
    "raw_fred": "fred",
    "raw_gdelt": "gdelt",
    "raw_coingecko": "coingecko",
    "raw_fear_greed": "alternative_me",
    "raw_social": "social",
    "raw_google_trends": "google_trends",
}
"""Raw asset -> the landing-zone source it fills (one raw asset per source)."""


def _raw_assets_in_run(context: InitResourceContext) -> list[str]:
    """The raw assets the run executes (its asset selection, else its plan's steps); all when unknown."""
    run = context.run
    found: set[str] = set()
    if run is not None and run.asset_selection:
        found = {key.to_user_string() for key in run.asset_selection}
    elif run is not None and context.instance is not None and run.execution_plan_snapshot_id:
        plan = context.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        found = {step.key for step in plan.steps}
    names = [name for name in RAW_ASSET_SOURCES if name in found]
    return names if found else list(RAW_ASSET_SOURCES)


class SourcesResource(ConfigurableResource):
    """Where the raw assets get their responses: the bundled sample (``mode="sample"``) or the live APIs.

    Both modes hand the raw assets a client per source with the same requests and
    results (:meth:`client`); sample mode answers from the stored responses and
    sends nothing. Keys are ``EnvVar`` fields: Dagster resolves them when a run
    starts and never shows them. Empty base URLs mean the providers' own; rates
    are the providers' free-tier limits.
    """

    mode: str = "sample"
    alphavantage_api_key: str | None = None
    fred_api_key: str | None = None
    coingecko_api_key: str | None = None
    alphavantage_base_url: str = ""
    fred_base_url: str = ""
    gdelt_base_url: str = ""
    coingecko_base_url: str = ""
    fear_greed_base_url: str = ""
    social_csv_path: str = ""
    google_trends_csv_path: str = ""
    alphavantage_calls_per_minute: float = 5.0
    alphavantage_daily_budget: int = 25
    gdelt_seconds_per_call: float = 5.0
    fred_calls_per_second: float = 2.0
    coingecko_calls_per_minute: float = 30.0
    http_retries: int = 5
    http_backoff_seconds: float = 1.0
    http_timeout_seconds: float = 60.0

    def __repr__(self) -> str:  # never a key
        return f"SourcesResource(mode={self.mode!r})"

    __str__ = __repr__

    def required(self, source: str) -> list[tuple[str, str]]:
        """``(variable, field)`` of each setting ``source`` cannot run without in this mode."""
        if self.mode != "live":
            return []
        from portfolio_assets import settings

        return {
            "alphavantage": [(settings.ALPHAVANTAGE_API_KEY_ENV, "alphavantage_api_key")],
            "fred": [(settings.FRED_API_KEY_ENV, "fred_api_key")],
            "coingecko": [(settings.COINGECKO_API_KEY_ENV, "coingecko_api_key")],
            "social": [(settings.SOCIAL_CSV_PATH_ENV, "social_csv_path")],
            "google_trends": [(settings.TRENDS_CSV_PATH_ENV, "google_trends_csv_path")],
        }.get(source, [])

    def missing(self, sources: list[str]) -> list[str]:
        """The variables of ``sources`` that live mode needs and that are not set."""
        return [env for source in sources for env, field in self.required(source) if not getattr(self, field)]

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Fail when the run starts, naming the variable, if the mode or a setting the run needs is unusable."""
        from portfolio_assets import settings

        if self.mode not in settings.SOURCE_MODES:
            raise settings.SettingError(
                f"SourcesResource.mode ({settings.SOURCE_MODE_ENV})={self.mode!r} must be one of"
                f" {', '.join(settings.SOURCE_MODES)}"
            )
        settings.check_fields(
            self,
            (
                (settings.ALPHAVANTAGE_BASE_URL_ENV, "alphavantage_base_url"),
                (settings.FRED_BASE_URL_ENV, "fred_base_url"),
                (settings.GDELT_BASE_URL_ENV, "gdelt_base_url"),
                (settings.COINGECKO_BASE_URL_ENV, "coingecko_base_url"),
                (settings.FEAR_GREED_BASE_URL_ENV, "fear_greed_base_url"),
                (settings.ALPHAVANTAGE_API_KEY_ENV, "alphavantage_api_key"),
                (settings.FRED_API_KEY_ENV, "fred_api_key"),
                (settings.COINGECKO_API_KEY_ENV, "coingecko_api_key"),
            ),
        )
        names = _raw_assets_in_run(context)
        missing = self.missing([RAW_ASSET_SOURCES[name] for name in names])
        if missing:
            raise settings.SettingError(
                f"{settings.SOURCE_MODE_ENV}=live needs {', '.join(missing)} for the sources of this run"
                f" ({', '.join(names)}): set {'it' if len(missing) == 1 else 'them'} in the environment"
                f" (or run with {settings.SOURCE_MODE_ENV}=sample)"
            )

    def client(self, source: str, landing_root: str | Path, **overrides: Any) -> Any:
        """The client of ``source``: the HTTP (or local-files) client in live mode, stored responses in sample."""
        from portfolio_assets import clients
        from portfolio_assets.clients.sample import StoredResponsesClient

        if self.mode != "live":
            return StoredResponsesClient(source, landing_root)
        missing = self.missing([source])
        if missing:
            raise ValueError(f"{source}: live mode needs {', '.join(missing)}")
        if source in ("social", "google_trends"):
            return clients.LocalFilesClient(landing_root, **overrides)
        kinds = {
            "alphavantage": (clients.AlphaVantageClient, self.alphavantage_api_key, self.alphavantage_base_url),
            "fred": (clients.FredClient, self.fred_api_key, self.fred_base_url),
            "gdelt": (clients.GdeltClient, None, self.gdelt_base_url),
            "coingecko": (clients.CoinGeckoClient, self.coingecko_api_key, self.coingecko_base_url),
            "alternative_me": (clients.FearGreedClient, None, self.fear_greed_base_url),
        }
        kind, key, base_url = kinds[source]
        pacing = {
            "alphavantage": 60.0 / self.alphavantage_calls_per_minute,
            "fred": 1.0 / self.fred_calls_per_second,
            "gdelt": self.gdelt_seconds_per_call,
            "coingecko": 60.0 / self.coingecko_calls_per_minute,
        }
        retry = clients.RetryPolicy(
            total=self.http_retries,
            backoff_factor=self.http_backoff_seconds,
            backoff_jitter=self.http_backoff_seconds,
            connect_timeout=min(10.0, self.http_timeout_seconds),
            read_timeout=self.http_timeout_seconds,
        )
        options: dict[str, Any] = {"api_key": key, "base_url": base_url or None, "retry": retry}
        if source in pacing:
            options["min_interval"] = pacing[source]
        if source == "alphavantage":
            options["daily_budget"] = self.alphavantage_daily_budget
        options.update(overrides)
        return kind(landing_root, **options)
