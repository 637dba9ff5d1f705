"""The only module that reads the environment.

Two things must be known when the definitions load, before any resource is
built: the partitions (``PORTFOLIO_START_DATE`` / ``PORTFOLIO_END_DATE`` and
``PORTFOLIO_PARTITIONS``) and which resource set to use (``PORTFOLIO_DEPLOYMENT``). They are read once,
here. Every other setting is a field of a Dagster resource; :func:`env_setting`
hands that field an ``EnvVar`` when the variable is set (Dagster resolves it at
run launch and never shows its value), else the field's default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from dagster import EnvVar

from portfolio_assets.export.shards import SHARD_BY
from portfolio_assets.features.sft import PROMPT_FORMATS
from portfolio_assets.features.sft_output import MAX_RETURN_DECIMALS, output_fields
from portfolio_assets.objectstore import is_s3_url, parse_s3_url
from portfolio_assets.spans import HORIZON_DAYS, MAX_CONTEXT_WINDOW, WARMUP_DAYS
from portfolio_assets.spark_urls import redacted_url, spark_conf, spark_master, spark_memory, spark_remote
from portfolio_assets.universe import load_universe

T = TypeVar("T")

START_DATE_ENV = "PORTFOLIO_START_DATE"
END_DATE_ENV = "PORTFOLIO_END_DATE"
DEPLOYMENT_ENV = "PORTFOLIO_DEPLOYMENT"
PARTITIONS_ENV = "PORTFOLIO_PARTITIONS"
PARTITION_GRANULARITIES = ("monthly", "daily")
"""How many days one partition of every asset holds: a calendar month (default) or a day."""

DEFAULT_START = "2008-01-01"
DEFAULT_END = "2013-02-28"
"""The bundled sample's observation window."""
DEFAULT_DEPLOYMENT = "local"

# Resource settings, each the field of a resource (see definitions.py and the README's table).
DATA_DIR_ENV = "PORTFOLIO_DATA_DIR"
EXPORT_DIR_ENV = "PORTFOLIO_EXPORT_DIR"
LANDING_DIR_ENV = "PORTFOLIO_LANDING_DIR"
UNIVERSE_FILE_ENV = "PORTFOLIO_UNIVERSE_FILE"
CONTEXT_WINDOW_ENV = "PORTFOLIO_CONTEXT_WINDOW"
PROMPT_FORMAT_ENV = "PORTFOLIO_PROMPT_FORMAT"
SHARD_BY_ENV = "PORTFOLIO_SHARD_BY"
VALIDATION_START_ENV = "PORTFOLIO_VALIDATION_START"
TEST_START_ENV = "PORTFOLIO_TEST_START"
EMBARGO_DAYS_ENV = "PORTFOLIO_EMBARGO_DAYS"
WORKERS_ENV = "PORTFOLIO_WORKERS"
OUTPUT_FIELDS_ENV, RETURN_DECIMALS_ENV = "PORTFOLIO_OUTPUT_FIELDS", "PORTFOLIO_RETURN_DECIMALS"
MASK_IDENTITY_ENV, FOLDS_ENV, FOLD_SCHEME_ENV = "PORTFOLIO_MASK_IDENTITY", "PORTFOLIO_FOLDS", "PORTFOLIO_FOLD_SCHEME"
FOLD_TEST_DAYS_ENV, FOLD_TRAIN_DAYS_ENV = "PORTFOLIO_FOLD_TEST_DAYS", "PORTFOLIO_FOLD_TRAIN_DAYS"
FOLD_SCHEMES = ("expanding", "rolling")  # the train window grows from the first day, or is the last N days
MAX_FOLDS, MAX_FOLD_DAYS = 100, 36_500
MAX_WORKERS = 64
"""Worker processes the export formats, validates and encodes its chunks in (1: in the step's own process)."""

# Sources (issue 10): the mode is read once, like the deployment (it picks the landing zone's default);
# the rest are fields of SourcesResource.
SOURCE_MODE_ENV = "PORTFOLIO_SOURCE_MODE"
SOURCE_MODES = ("sample", "live")
SOURCE_RETRY_DELAY_ENV = "PORTFOLIO_SOURCE_RETRY_DELAY"
DEFAULT_SOURCE_RETRY_DELAY = 60.0
"""Seconds before Dagster re-runs a source step that met a transient failure (doubled each retry)."""
ALPHAVANTAGE_API_KEY_ENV = "ALPHAVANTAGE_API_KEY"
FRED_API_KEY_ENV = "FRED_API_KEY"
COINGECKO_API_KEY_ENV = "COINGECKO_API_KEY"
ALPHAVANTAGE_BASE_URL_ENV = "ALPHAVANTAGE_BASE_URL"
FRED_BASE_URL_ENV = "FRED_BASE_URL"
GDELT_BASE_URL_ENV = "GDELT_BASE_URL"
COINGECKO_BASE_URL_ENV = "COINGECKO_BASE_URL"
FEAR_GREED_BASE_URL_ENV = "FEAR_GREED_BASE_URL"
SOCIAL_CSV_PATH_ENV = "SOCIAL_SENTIMENT_DAILY_CSV_PATH"
TRENDS_CSV_PATH_ENV = "GOOGLE_TRENDS_CSV_PATH"
ALPHAVANTAGE_PER_MINUTE_ENV = "ALPHAVANTAGE_CALLS_PER_MINUTE"
ALPHAVANTAGE_DAILY_BUDGET_ENV = "ALPHAVANTAGE_DAILY_BUDGET"
GDELT_SECONDS_PER_CALL_ENV = "GDELT_SECONDS_PER_CALL"
FRED_PER_SECOND_ENV = "FRED_CALLS_PER_SECOND"
COINGECKO_PER_MINUTE_ENV = "COINGECKO_CALLS_PER_MINUTE"
HTTP_RETRIES_ENV = "PORTFOLIO_HTTP_RETRIES"
HTTP_BACKOFF_ENV = "PORTFOLIO_HTTP_BACKOFF_SECONDS"
HTTP_TIMEOUT_ENV = "PORTFOLIO_HTTP_TIMEOUT_SECONDS"

# The engine (issue 13): fields of EngineResource. Spark's own variable names for the two URLs.
SPARK_MASTER_URL_ENV = "SPARK_MASTER_URL"
SPARK_REMOTE_ENV = "SPARK_REMOTE"
SPARK_APP_NAME_ENV = "PORTFOLIO_SPARK_APP_NAME"
SPARK_EXECUTOR_MEMORY_ENV = "PORTFOLIO_SPARK_EXECUTOR_MEMORY"
SPARK_EXECUTOR_CORES_ENV = "PORTFOLIO_SPARK_EXECUTOR_CORES"
SPARK_DRIVER_MEMORY_ENV = "PORTFOLIO_SPARK_DRIVER_MEMORY"
SPARK_PYTHON_ENV = "PORTFOLIO_SPARK_PYTHON"
SPARK_CONF_ENV = "PORTFOLIO_SPARK_CONF"
SPARK_SHIP_CODE_ENV = "PORTFOLIO_SPARK_SHIP_CODE"
SPARK_DIRECT_IO_ENV = "PORTFOLIO_SPARK_DIRECT_IO"
DIRECT_IO_CHOICES = ("auto", "on", "off")

# Storage on S3 (issue 13): fields of StorageResource (and LandingZoneResource, for a landing zone under it).
STORAGE_URL_ENV = "PORTFOLIO_STORAGE_URL"
STORAGE_CACHE_DIR_ENV = "PORTFOLIO_STORAGE_CACHE_DIR"
AWS_ENDPOINT_URL_ENV = "AWS_ENDPOINT_URL"
AWS_REGION_ENV = "AWS_REGION"
AWS_PROFILE_ENV = "AWS_PROFILE"


class SettingError(ValueError):
    """A setting has an unusable value; the message names the variable."""


@dataclass(frozen=True)
class Window:
    """The configured observation window; ``end`` None means open-ended (live)."""

    start: date
    end: date | None

    @property
    def labelled_start(self) -> date:
        """First labelled day: the warm-up after the first observation day."""
        return self.start + timedelta(days=WARMUP_DAYS)

    @property
    def labelled_end(self) -> date | None:
        """Last labelled day: the horizon before the last observation day (None when open-ended)."""
        return None if self.end is None else self.end - timedelta(days=HORIZON_DAYS)


def read_window(environ: Mapping[str, str] = os.environ) -> Window:
    """``PORTFOLIO_START_DATE`` / ``PORTFOLIO_END_DATE`` (``open`` = live, no end) as a :class:`Window`."""
    start_text = environ.get(START_DATE_ENV, DEFAULT_START)
    end_text = environ.get(END_DATE_ENV, DEFAULT_END)
    try:
        start = date.fromisoformat(start_text)
        end = None if end_text.lower() in {"", "open", "none"} else date.fromisoformat(end_text)
    except ValueError as exc:
        raise SettingError(
            f"{START_DATE_ENV} / {END_DATE_ENV} must be YYYY-MM-DD (or 'open' for the end): {exc}"
        ) from exc
    if end is not None and end < start:
        raise SettingError(f"{START_DATE_ENV}={start} is after {END_DATE_ENV}={end}")
    if end is not None and end - start < timedelta(days=WARMUP_DAYS + HORIZON_DAYS + 1):
        raise SettingError(
            f"window {start}..{end} is too short: it needs more than {WARMUP_DAYS} warm-up days "
            f"and the {HORIZON_DAYS}-day horizon"
        )
    return Window(start, end)


def read_partitions(environ: Mapping[str, str] = os.environ) -> str:
    """``PORTFOLIO_PARTITIONS``: ``monthly`` (default) or ``daily``, the span of one partition."""
    text = environ.get(PARTITIONS_ENV, "").strip() or PARTITION_GRANULARITIES[0]
    if text not in PARTITION_GRANULARITIES:
        raise SettingError(f"{PARTITIONS_ENV}={text!r} must be one of {', '.join(PARTITION_GRANULARITIES)}")
    return text


def read_source_mode(environ: Mapping[str, str] = os.environ) -> str:
    """``PORTFOLIO_SOURCE_MODE``: ``sample`` (default: replay the bundled responses) or ``live``."""
    mode = environ.get(SOURCE_MODE_ENV, "").strip() or "sample"
    if mode not in SOURCE_MODES:
        raise SettingError(f"{SOURCE_MODE_ENV}={mode!r} must be one of {', '.join(SOURCE_MODES)}")
    return mode


def read_source_retry_delay(environ: Mapping[str, str] = os.environ) -> float:
    """``PORTFOLIO_SOURCE_RETRY_DELAY``: seconds (0..3600) before a source step is retried (definition-time)."""
    text = environ.get(SOURCE_RETRY_DELAY_ENV, "").strip()
    if not text:
        return DEFAULT_SOURCE_RETRY_DELAY
    return SETTINGS[SOURCE_RETRY_DELAY_ENV].check(text)  # type: ignore[return-value]


def live_landing_default(environ: Mapping[str, str] = os.environ) -> Path | str:
    """Live mode's landing zone when ``PORTFOLIO_LANDING_DIR`` is not set: ``<data dir>/landing``, or
    ``<storage url>/landing`` when ``PORTFOLIO_STORAGE_URL`` is set."""
    url = environ.get(STORAGE_URL_ENV, "").strip()
    if url:
        return f"{url.rstrip('/')}/landing"
    return Path(environ.get(DATA_DIR_ENV, "").strip() or "data") / "landing"


def read_deployment(environ: Mapping[str, str] = os.environ) -> str:
    """``PORTFOLIO_DEPLOYMENT`` (default ``local``)."""
    return environ.get(DEPLOYMENT_ENV) or DEFAULT_DEPLOYMENT


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """A parser of a whole number in ``low..high``."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):  # int() would take "1_0" and non-ASCII digits
            raise ValueError("is not a whole number")
        value = int(text.strip())
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def one_of(choices: Sequence[str]) -> Callable[[str], str]:
    """A parser of one of ``choices``."""

    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def iso_day(text: str) -> str:
    """A calendar day written YYYY-MM-DD."""
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a day written YYYY-MM-DD") from None
    return text


def existing_path(kind: str) -> Callable[[str], str]:
    """A parser of a path that must exist as a ``kind`` (``file`` or ``directory``)."""

    def parse(text: str) -> str:
        path = Path(text).expanduser()
        if not (path.is_file() if kind == "file" else path.is_dir()):
            raise ValueError(f"{text!r}: no such {kind}")
        return text

    return parse


def universe_file(text: str) -> str:
    """A universe file that exists and is valid (every entry checked now, not in the first run)."""
    existing_path("file")(text)
    load_universe(text)  # UniverseError (a ValueError) names the file and the entry
    return text


def number(low: float, high: float) -> Callable[[str], float]:
    """A parser of a decimal number in ``low..high`` (ASCII, no exponent, no NaN)."""

    def parse(text: str) -> float:
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text.strip()):
            raise ValueError("is not a decimal number such as 5 or 0.5")
        value = float(text.strip())
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return value

    return parse


def http_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host (and a valid port), no credentials, query or spaces."""
    if not re.fullmatch(r"[\x21-\x7e]+", text.strip()):
        raise ValueError("is not a URL (it holds spaces, control or non-ASCII characters)")
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"is not a usable URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http:// or https:// URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not carry credentials, a query or a fragment (keys have their own variables)")
    return text.strip()


def shown_url(text: str) -> str:
    """A URL as an error may show it: without credentials, query or fragment (they may hold a key)."""
    try:
        parts = urlsplit(text.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(value hidden: not a parsable URL)"
    extra = " (credentials, query or fragment hidden)" if (parts.username or parts.query or parts.fragment) else ""
    return repr(f"{parts.scheme}://{host}{port}{parts.path}") + extra


def yes_no(text: str) -> bool:
    """``true`` / ``false`` (also ``1`` / ``0``, ``yes`` / ``no``)."""
    value = text.strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError("must be true or false")
    return value in ("true", "1", "yes")


def printable(text: str) -> str:
    """One line of printable ASCII, not blank."""
    if not text.strip() or not re.fullmatch(r"[\x20-\x7e]+", text):
        raise ValueError("must be one line of printable ASCII")
    return text


def api_key(text: str) -> str:
    """A credential: one printable word (the value is never echoed in an error)."""
    if not re.fullmatch(r"[\x21-\x7e]+", text):
        raise ValueError("is not a usable API key (it holds spaces, control or non-ASCII characters)")
    return text


def storage_url(text: str) -> str:
    """An ``s3://<bucket>/<prefix>`` URL (``objectstore.parse_s3_url``'s rules)."""
    parse_s3_url(text)
    return text.strip()


def landing_dir(text: str) -> str:
    """The landing zone: an existing directory, or an ``s3://`` URL."""
    return storage_url(text) if is_s3_url(text) else existing_path("directory")(text)


def export_dir(text: str) -> str:
    """The export directory: a path, or an ``s3://`` URL."""
    return storage_url(text) if is_s3_url(text) else any_path(text)


def local_dir(text: str) -> str:
    """A local path (not blank); an ``s3://`` URL is refused, pointing at ``PORTFOLIO_STORAGE_URL``."""
    if is_s3_url(text):
        raise ValueError(f"is an S3 URL; this is the local directory: set {STORAGE_URL_ENV} to store on S3")
    return any_path(text)


def aws_word(text: str) -> str:
    """An AWS region or profile name: letters, digits, ``-``, ``_`` and ``.``."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", text.strip()):
        raise ValueError("is not a region or profile name (letters, digits, '-', '_' and '.')")
    return text.strip()


def any_path(text: str) -> str:
    """A path (created when first written); not blank."""
    if not text.strip():
        raise ValueError("is empty")
    return text


@dataclass(frozen=True)
class Setting:
    """One resource setting read from an environment variable."""

    env: str
    parse: Callable[[str], object]
    """Turns the variable's text into the value, or raises ValueError saying what is wrong."""
    empty_means_default: bool = False
    """Whether a set but empty variable means the default (else an empty value is an error)."""
    secret: bool = False
    """A credential: errors name the variable but never show its value."""
    shown: Callable[[str], str] | None = None
    """How an error shows the value (default: ``repr``); never used for a secret."""

    def check(self, text: str, *, name: str | None = None) -> object:
        """The parsed value; a ``SettingError`` naming the variable (or ``name``) when it is unusable."""
        try:
            return self.parse(text)
        except ValueError as exc:
            shown = "(value hidden)" if self.secret else (self.shown or repr)(text)
            raise SettingError(f"{name or self.env}={shown} {exc}") from None

    def value(self, default: T, environ: Mapping[str, str] = os.environ) -> EnvVar | T:
        """``EnvVar`` when the variable is set (checked now, resolved by Dagster at launch), else ``default``."""
        if self.env not in environ or (self.empty_means_default and not environ[self.env].strip()):
            return default
        text = environ[self.env]
        if not text.strip():
            raise SettingError(f"{self.env} is set but empty; unset it to use the default")
        value = self.check(text)
        if isinstance(value, (float, bool)):
            return value  # type: ignore[return-value]  # Dagster has no float or bool EnvVar: the checked value
        return EnvVar.int(self.env) if isinstance(value, int) else EnvVar(self.env)


MAX_EMBARGO_DAYS = 365
SETTINGS: dict[str, Setting] = {
    setting.env: setting
    for setting in (
        Setting(DATA_DIR_ENV, local_dir),
        Setting(EXPORT_DIR_ENV, export_dir),
        Setting(LANDING_DIR_ENV, landing_dir),
        Setting(UNIVERSE_FILE_ENV, universe_file),
        Setting(CONTEXT_WINDOW_ENV, whole_number(1, MAX_CONTEXT_WINDOW)),
        Setting(PROMPT_FORMAT_ENV, one_of(PROMPT_FORMATS)),
        Setting(SHARD_BY_ENV, one_of(SHARD_BY)),
        Setting(VALIDATION_START_ENV, iso_day, empty_means_default=True),
        Setting(TEST_START_ENV, iso_day, empty_means_default=True),
        Setting(EMBARGO_DAYS_ENV, whole_number(0, MAX_EMBARGO_DAYS)),
        Setting(WORKERS_ENV, whole_number(1, MAX_WORKERS)),
        Setting(OUTPUT_FIELDS_ENV, output_fields),  # known fields, each once, the log return among them
        Setting(RETURN_DECIMALS_ENV, whole_number(1, MAX_RETURN_DECIMALS)),
        Setting(MASK_IDENTITY_ENV, yes_no),
        Setting(FOLDS_ENV, whole_number(0, MAX_FOLDS)),
        Setting(FOLD_SCHEME_ENV, one_of(FOLD_SCHEMES)),
        Setting(FOLD_TEST_DAYS_ENV, whole_number(1, MAX_FOLD_DAYS), empty_means_default=True),
        Setting(FOLD_TRAIN_DAYS_ENV, whole_number(1, MAX_FOLD_DAYS), empty_means_default=True),
        Setting(SOURCE_RETRY_DELAY_ENV, number(0, 3600)),
        Setting(ALPHAVANTAGE_API_KEY_ENV, api_key, secret=True),
        Setting(FRED_API_KEY_ENV, api_key, secret=True),
        Setting(COINGECKO_API_KEY_ENV, api_key, secret=True),
        Setting(ALPHAVANTAGE_BASE_URL_ENV, http_url, shown=shown_url),
        Setting(FRED_BASE_URL_ENV, http_url, shown=shown_url),
        Setting(GDELT_BASE_URL_ENV, http_url, shown=shown_url),
        Setting(COINGECKO_BASE_URL_ENV, http_url, shown=shown_url),
        Setting(FEAR_GREED_BASE_URL_ENV, http_url, shown=shown_url),
        Setting(SOCIAL_CSV_PATH_ENV, any_path),
        Setting(TRENDS_CSV_PATH_ENV, any_path),
        Setting(ALPHAVANTAGE_PER_MINUTE_ENV, number(0.001, 100_000)),
        Setting(ALPHAVANTAGE_DAILY_BUDGET_ENV, whole_number(0, 10_000_000)),
        Setting(GDELT_SECONDS_PER_CALL_ENV, number(0, 3600)),
        Setting(FRED_PER_SECOND_ENV, number(0.001, 100_000)),
        Setting(COINGECKO_PER_MINUTE_ENV, number(0.001, 100_000)),
        Setting(HTTP_RETRIES_ENV, whole_number(0, 20)),
        Setting(HTTP_BACKOFF_ENV, number(0, 600)),
        Setting(HTTP_TIMEOUT_ENV, number(0.1, 3600)),
        Setting(SPARK_MASTER_URL_ENV, spark_master, empty_means_default=True, shown=redacted_url),
        Setting(SPARK_REMOTE_ENV, spark_remote, empty_means_default=True, shown=redacted_url),
        Setting(SPARK_APP_NAME_ENV, printable),
        Setting(SPARK_EXECUTOR_MEMORY_ENV, spark_memory),
        Setting(SPARK_EXECUTOR_CORES_ENV, whole_number(1, 1024)),
        Setting(SPARK_DRIVER_MEMORY_ENV, spark_memory),
        Setting(SPARK_PYTHON_ENV, any_path),
        Setting(SPARK_CONF_ENV, spark_conf, secret=True),  # it may carry a key (spark.hadoop.fs.s3a.secret.key)
        Setting(SPARK_SHIP_CODE_ENV, yes_no),
        Setting(SPARK_DIRECT_IO_ENV, one_of(DIRECT_IO_CHOICES)),
        Setting(STORAGE_URL_ENV, storage_url, empty_means_default=True, shown=shown_url),
        Setting(STORAGE_CACHE_DIR_ENV, any_path),
        Setting(AWS_ENDPOINT_URL_ENV, http_url, shown=shown_url),
        Setting(AWS_REGION_ENV, aws_word),
        Setting(AWS_PROFILE_ENV, aws_word),
    )
}
"""Every resource setting that comes from a variable (the README's configuration table)."""


def env_setting(name: str, default: T, *, environ: Mapping[str, str] = os.environ) -> EnvVar | T:
    """The resource field value of setting ``name``: ``EnvVar`` when its variable is set (validated now), else
    ``default``. A bad value fails when the definitions load, naming the variable and the cause."""
    return SETTINGS[name].value(default, environ)


def check_fields(resource: object, fields: Sequence[tuple[str, str]]) -> None:
    """Check each set field of ``resource`` (not None, not blank) by the rule of its variable, as the variable is
    checked at load; a ``SettingError`` names the resource, the field and the variable."""
    for env, field in fields:
        value = getattr(resource, field)
        if value is not None and str(value).strip():
            SETTINGS[env].check(str(value), name=f"{type(resource).__name__}.{field} ({env})")


def use_executor_python(python: str, *, chosen: bool = False) -> None:
    """Have Spark start its Python workers with ``python`` (PySpark reads ``PYSPARK_PYTHON``, not its conf,
    when a context starts): always if ``chosen`` (``PORTFOLIO_SPARK_PYTHON``), else unless it is set."""
    if chosen:
        os.environ["PYSPARK_PYTHON"] = python
    else:
        os.environ.setdefault("PYSPARK_PYTHON", python)


def check_split_settings(environ: Mapping[str, str] = os.environ) -> None:
    """Both split boundaries or neither, in order."""
    given = {k: environ.get(k, "").strip() for k in (VALIDATION_START_ENV, TEST_START_ENV)}
    if bool(given[VALIDATION_START_ENV]) != bool(given[TEST_START_ENV]):
        raise SettingError(f"set both {VALIDATION_START_ENV} and {TEST_START_ENV}, or neither (got {given})")
    if given[VALIDATION_START_ENV] and not given[VALIDATION_START_ENV] < given[TEST_START_ENV]:
        raise SettingError(f"{VALIDATION_START_ENV} must be before {TEST_START_ENV} (got {given})")


def check_fold_settings(scheme: str | None = None, train_days: object = None, name: str = FOLD_TRAIN_DAYS_ENV) -> None:
    """Rolling folds need their train window's length, expanding ones take none; None: the variables as set."""
    if scheme is None:
        scheme, train_days = os.environ.get(FOLD_SCHEME_ENV) or FOLD_SCHEMES[0], os.environ.get(FOLD_TRAIN_DAYS_ENV)
    rolling, given = scheme == "rolling", str(train_days if train_days is not None else "").strip() != ""
    if rolling != given:
        need = f"needs {name} (the train window's length in days)" if rolling else f"takes no {name} (rolling only)"
        raise SettingError(f"{FOLD_SCHEME_ENV}={scheme} {need}")


WINDOW = read_window()
"""The window the partitions definitions use, read once when the definitions load."""
PARTITIONS = read_partitions()
"""The partitions' granularity, read once when the definitions load."""
DEPLOYMENT = read_deployment()
SOURCE_MODE = read_source_mode()
"""``sample`` or ``live``, read once: it decides the landing zone's default."""
SOURCE_RETRY_DELAY = read_source_retry_delay()
"""Seconds before the first Dagster retry of a source step (its RetryPolicy is built when definitions load)."""


def child_environment(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment with ``overrides``: for a child process that reads its settings anew."""
    return {**os.environ, **overrides}
