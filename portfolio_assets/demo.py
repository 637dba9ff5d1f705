"""`make demo`: materialise the whole sample window and report the training-set CSV.

A second `make demo` with the same code builds nothing: every partition of every asset is already stored and
materialised by this code version from the bundled sample (which never changes), and the export's latest
materialisation is the export of every labelled day with the current settings, the one ``LATEST.json`` names;
so it says so and reports the export again. `REBUILD=1 make demo` (``--rebuild``) builds everything again;
live mode always builds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import AssetsDefinition, DagsterInstance

from portfolio_assets import settings
from portfolio_assets.assets.export_range import whole_window
from portfolio_assets.assets.raw import RAW_ASSETS
from portfolio_assets.definitions import ALL_ASSETS, resources_for
from portfolio_assets.export.naming import export_name, latest_export
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.runner import materialize_all

CODE_VERSION_TAG = "dagster/code_version"


def already_built(
    instance: DagsterInstance, store: PartitionStore, assets: Sequence[AssetsDefinition], export: Any = None
) -> bool:
    """Whether every asset of ``assets`` is materialised in ``instance`` by its current code version: every
    partition of a partitioned one (and, for a stored one, committed in ``store``); for the unpartitioned export,
    its latest materialisation must be the export of every labelled day that ``export`` (a resolved
    ``ExportResource``) names, written whole, and ``LATEST.json`` must point at it (``current_export``)."""
    for definition in assets:
        partitions_def = definition.partitions_def
        for key in definition.keys:
            if partitions_def is not None and not set(partitions_def.get_partition_keys()) <= set(
                instance.get_materialized_partitions(key)
            ):
                return False
            latest = instance.get_latest_materialization_event(key)
            materialization = latest.asset_materialization if latest is not None else None
            if (
                materialization is None
                or materialization.tags.get(CODE_VERSION_TAG) != definition.code_versions_by_key[key]
            ):
                return False
            if partitions_def is None:
                if export is None or not current_export(export, materialization.metadata):
                    return False
                continue
            in_store = definition.get_io_manager_key_for_asset_key(key) == "parquet_io_manager"
            if in_store and not set(partitions_def.get_partition_keys()) <= set(store.keys(key.path)):
                return False  # the store was emptied since
    return True


def current_export(export: Any, metadata: Mapping[str, Any]) -> bool:
    """Whether an export's materialisation ``metadata`` is the export of every labelled day with ``export``'s
    settings, still there, and the one ``LATEST.json`` names."""
    span = whole_window()
    name = export_name(export, span.first, span.last)
    root = export.storage.export_root()
    path = str(metadata["path"].value) if "path" in metadata else ""
    if path != str(root / name) and not path.startswith(f"{root / name}/"):  # on S3: a version under it
        return False
    if getattr(root, "scheme", None) != "s3" and not (Path(path) / "manifest.json").is_file():
        return False
    return latest_export(root) == name


def _report(metadata: Mapping[str, object]) -> None:
    path = Path(metadata["path"].value).resolve()  # type: ignore[attr-defined]
    print(f"training set: {path}  (csv/, jsonl/, parquet/, manifest.json, README.md)")
    rows, splits, excluded = (metadata[k].value for k in ("rows", "rows_per_split", "excluded_rows"))  # type: ignore[attr-defined]
    print(f"rows: {rows} {splits}  excluded: {excluded}")
    print(f"assets: {metadata['assets'].value}  range: {metadata['date_range'].value}")  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> None:
    rebuild = "--rebuild" in (sys.argv[1:] if argv is None else argv)
    instance = DagsterInstance.get()
    started = time.monotonic()
    # In sample mode the raw assets would only look the bundled responses up, at the price of Dagster's
    # bookkeeping for seven assets over five years (it doubles the demo); live, they fetch.
    live = settings.SOURCE_MODE == "live"
    resources = resources_for()
    built = [a for a in ALL_ASSETS if live or a not in RAW_ASSETS]
    with (
        resources["storage"].process_config_and_initialize_cm() as storage,  # type: ignore[attr-defined]
        resources["export"].process_config_and_initialize_cm() as export,  # type: ignore[attr-defined]
    ):
        store = PartitionStore(storage.store_root())  # their settings resolved, as a run resolves them
    if not live and not rebuild and already_built(instance, store, built, export):
        print("already built by this code from the bundled sample: nothing to do (REBUILD=1 make demo builds again)")
        latest = instance.get_latest_materialization_event(ALL_ASSETS[-1].key)
        _report(latest.asset_materialization.metadata)  # type: ignore[union-attr]
        return
    print("building the sample: the observation assets, then the labelled ones, then the export", flush=True)
    results = materialize_all(resources=resources, instance=instance, sources=live, progress=_say)
    _report(results[-1].asset_materializations_for_node("training_set")[-1].metadata)
    print(f"took {time.monotonic() - started:.0f}s; open the UI with `make dev` to see the runs and lineage")


def _say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    main()
