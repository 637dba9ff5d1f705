"""The one Definitions object of the code location.

Resources are chosen per deployment by ``PORTFOLIO_DEPLOYMENT``:

* ``local`` (default): everything in-process, Parquet under ``$PORTFOLIO_DATA_DIR``
  (default ``data/``), raw responses from ``$PORTFOLIO_LANDING_DIR`` (default: the
  bundled sample), exports under ``$PORTFOLIO_EXPORT_DIR`` (default ``data/exports``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions

from portfolio_assets.assets.indicators import indicators
from portfolio_assets.assets.macro import macro
from portfolio_assets.assets.prices import prices
from portfolio_assets.assets.sentiment import sentiment
from portfolio_assets.assets.sft_rows import quarantine, sft_rows
from portfolio_assets.assets.targets import targets
from portfolio_assets.assets.training_set import training_set
from portfolio_assets.features.sft import DEFAULT_CONTEXT_WINDOW, DEFAULT_PROMPT_FORMAT
from portfolio_assets.io_managers import PartitionedParquetIOManager, default_data_dir
from portfolio_assets.resources import EXPORT_DIR_ENV, ExportResource, LandingZoneResource, default_landing_dir
from portfolio_assets.universe import UNIVERSE_ENV

DEPLOYMENT_ENV = "PORTFOLIO_DEPLOYMENT"
CONTEXT_WINDOW_ENV = "PORTFOLIO_CONTEXT_WINDOW"
PROMPT_FORMAT_ENV = "PORTFOLIO_PROMPT_FORMAT"
SHARD_BY_ENV = "PORTFOLIO_SHARD_BY"
VALIDATION_START_ENV = "PORTFOLIO_VALIDATION_START"
TEST_START_ENV = "PORTFOLIO_TEST_START"
EMBARGO_DAYS_ENV = "PORTFOLIO_EMBARGO_DAYS"

ALL_ASSETS = [prices, macro, sentiment, indicators, targets, quarantine, sft_rows, training_set]
OBSERVATION_ASSETS = [prices, macro, sentiment, indicators]
LABELLED_ASSETS = [targets, quarantine, sft_rows, training_set]


def _int_env(name: str, default: int) -> int:
    """An integer setting from the environment; a bad value names the variable."""
    text = os.environ.get(name, "")
    try:
        return int(text) if text.strip() else default
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a whole number") from None


def local_resources(data_dir: str | None = None, export_dir: str | None = None) -> dict[str, object]:
    """In-process resources reading the environment (see the README's configuration table)."""
    data_dir = data_dir or default_data_dir()
    export_dir = export_dir or os.environ.get(EXPORT_DIR_ENV) or str(Path(data_dir) / "exports")
    return {
        "parquet_io_manager": PartitionedParquetIOManager(base_dir=data_dir),
        "landing": LandingZoneResource(root=default_landing_dir(), universe_file=os.environ.get(UNIVERSE_ENV)),
        "export": ExportResource(
            export_dir=export_dir,
            context_window=_int_env(CONTEXT_WINDOW_ENV, DEFAULT_CONTEXT_WINDOW),
            prompt_format=os.environ.get(PROMPT_FORMAT_ENV) or DEFAULT_PROMPT_FORMAT,
            shard_by=os.environ.get(SHARD_BY_ENV) or "year",
            validation_start=os.environ.get(VALIDATION_START_ENV) or None,
            test_start=os.environ.get(TEST_START_ENV) or None,
            embargo_days=_int_env(EMBARGO_DAYS_ENV, 0),
        ),
    }


RESOURCES_BY_DEPLOYMENT = {"local": local_resources}


def resources_for(deployment: str | None = None) -> dict[str, object]:
    name = deployment or os.environ.get(DEPLOYMENT_ENV, "local")
    try:
        return RESOURCES_BY_DEPLOYMENT[name]()
    except KeyError:
        raise ValueError(
            f"{DEPLOYMENT_ENV}={name!r} is not a known deployment ({', '.join(RESOURCES_BY_DEPLOYMENT)})"
        ) from None


defs = Definitions(assets=ALL_ASSETS, resources=resources_for())
