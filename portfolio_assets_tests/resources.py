"""Resources built directly for tests: no environment variable is read."""

from __future__ import annotations

from pathlib import Path

from portfolio_assets.engine import EngineResource
from portfolio_assets.io_managers import PartitionedParquetIOManager
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.resources import ExportResource, LandingZoneResource, SourcesResource, StorageResource
from portfolio_assets.universe import DEFAULT_UNIVERSE


def make_resources(
    data_dir: str | Path,
    *,
    export_dir: str | Path | None = None,
    landing_root: str | Path = SAMPLE_LANDING_ROOT,
    universe_file: str | Path = DEFAULT_UNIVERSE,
    sources: SourcesResource | None = None,
    engine: EngineResource | None = None,
    **export_settings: object,
) -> dict[str, object]:
    """The embedded resource set over ``data_dir`` and the bundled sample; ``export_settings`` go to ExportResource.

    ``sources`` defaults to sample mode (the stored responses, no call), ``engine`` to in-process.
    """
    storage = StorageResource(data_dir=str(data_dir), export_dir=str(export_dir) if export_dir else "")
    return {
        "parquet_io_manager": PartitionedParquetIOManager(storage=storage),
        "storage": storage,
        "sources": sources or SourcesResource(),
        "engine": engine or EngineResource(),
        "landing": LandingZoneResource(root=str(landing_root), universe_file=str(universe_file)),
        "export": ExportResource(storage=storage, **export_settings),
    }


def run_evaluations(result) -> list:
    """A run's own check evaluations: in a range run, the unpartitioned ones (each partition also gets one with
    the run's verdict, ``quality.per_partition``); in a run of one partition, those (they name it)."""
    evaluations = result.get_asset_check_evaluations()
    own = [e for e in evaluations if e.partition is None]
    return own or list(evaluations)
