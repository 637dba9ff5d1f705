"""`make demo`: materialise the whole sample window and report the training-set CSV.

It builds only what is not built: the partitions not stored, or whose latest materialisation was made by
another code version (an interrupted demo, a backfill of part of the window, a change to the code, a store
emptied since), as one run per partitions set over the range holding them, and the labelled days that read
rebuilt observation days (their 120-day context before and 90-day horizon after); then the export, unless its
latest materialisation is the export of every labelled day with the current settings, the one ``LATEST.json``
names. The bundled sample never changes, so a partition built by this code holds what a rebuild would. A
second `make demo` with the same code builds nothing and reports the export again. `REBUILD=1 make demo`
(``--rebuild``) builds everything again; live mode always builds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from dagster import AssetKey, AssetRecordsFilter, AssetsDefinition, DagsterInstance

from portfolio_assets import settings
from portfolio_assets.assets.export_range import whole_window
from portfolio_assets.assets.raw import RAW_ASSETS
from portfolio_assets.definitions import ALL_ASSETS, resources_for
from portfolio_assets.export.naming import export_name, latest_export
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS
from portfolio_assets.runner import materialize_all, materialize_range, rows_stored
from portfolio_assets.settings import WINDOW
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS

CODE_VERSION_TAG = "dagster/code_version"


def latest_code_versions(instance: DagsterInstance, key: AssetKey) -> dict[str, str]:
    """Each materialised partition of ``key`` -> the code version of its latest materialisation."""
    seen: dict[str, str] = {}
    cursor = None
    while True:
        page = instance.fetch_materializations(AssetRecordsFilter(asset_key=key), limit=1000, cursor=cursor)
        for record in page.records:  # newest first
            materialization = record.asset_materialization
            if materialization is not None and materialization.partition is not None:
                seen.setdefault(materialization.partition, materialization.tags.get(CODE_VERSION_TAG, ""))
        if not page.has_more:
            return seen
        cursor = page.cursor


def unbuilt_partitions(instance: DagsterInstance, store: PartitionStore, definition: AssetsDefinition) -> list[str]:
    """The partitions of a partitioned asset not materialised by its current code version, or (stored) not in
    ``store``, in order."""
    partitions_def = definition.partitions_def
    assert partitions_def is not None
    every = partitions_def.get_partition_keys()
    unbuilt: set[str] = set()
    for key in definition.keys:
        current = definition.code_versions_by_key[key]
        versions = latest_code_versions(instance, key)
        unbuilt |= {p for p in every if versions.get(p) != current}
        if definition.get_io_manager_key_for_asset_key(key) == "parquet_io_manager":
            unbuilt |= set(every) - set(store.keys(key.path))
    return [p for p in every if p in unbuilt]


def _days(keys: Sequence[str], partitions_def: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first day of the first partition and the last day of the last."""
    first = partitions_def.time_window_for_partition_key(keys[0]).start
    last = partitions_def.time_window_for_partition_key(keys[-1]).end
    return pd.Timestamp(first.date()), pd.Timestamp(last.date()) - pd.Timedelta(days=1)


def plan(
    instance: DagsterInstance, store: PartitionStore, built: Sequence[AssetsDefinition], export: Any
) -> list[tuple[list[AssetsDefinition], str, str]]:
    """The runs that build what is not built (module docstring): (assets, first day, last day), in order."""
    runs: list[tuple[list[AssetsDefinition], str, str]] = []
    observation = [a for a in built if a.partitions_def == OBSERVATION_PARTITIONS]
    labelled = [a for a in built if a.partitions_def == LABELLED_PARTITIONS]
    observed = sorted({k for a in observation for k in unbuilt_partitions(instance, store, a)})
    label_keys = set().union(*(unbuilt_partitions(instance, store, a) for a in labelled))
    if observed:
        first, last = _days(observed, OBSERVATION_PARTITIONS)
        runs.append((observation, f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"))
        # Labelled days whose context window or horizon reads a rebuilt observation day.
        low = max(first - pd.Timedelta(days=HORIZON_DAYS), pd.Timestamp(WINDOW.labelled_start))
        high = last + pd.Timedelta(days=CONTEXT_LOOKBACK_DAYS)
        for key in LABELLED_PARTITIONS.get_partition_keys():
            k_first, k_last = _days([key], LABELLED_PARTITIONS)
            if k_first <= high and k_last >= low:
                label_keys.add(key)
    if label_keys:
        first, last = _days(sorted(label_keys), LABELLED_PARTITIONS)
        runs.append((labelled, f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"))
    exporting = [a for a in built if a.partitions_def is None]
    if exporting and (runs or not current_export_built(instance, exporting[0], export)):
        span = whole_window()
        runs.append((exporting, f"{span.first:%Y-%m-%d}", f"{span.last:%Y-%m-%d}"))
    return runs


def current_export_built(instance: DagsterInstance, definition: AssetsDefinition, export: Any) -> bool:
    """Whether the export's latest materialisation is by its current code version and ``current_export``."""
    latest = instance.get_latest_materialization_event(definition.key)
    materialization = latest.asset_materialization if latest is not None else None
    return (
        materialization is not None
        and materialization.tags.get(CODE_VERSION_TAG) == definition.code_versions_by_key[definition.key]
        and current_export(export, materialization.metadata)
    )


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
    print(f"training set: {path}  (csv/, jsonl/, parquet/, manifest.json, columns.json, folds.json, README.md)")
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
    if live or rebuild:
        print("building the sample: the observation assets, then the labelled ones, then the export", flush=True)
        results = materialize_all(resources=resources, instance=instance, sources=live, progress=_say)
        _report(results[-1].asset_materializations_for_node("training_set")[-1].metadata)
        print(f"took {time.monotonic() - started:.0f}s; open the UI with `make dev` to see the runs and lineage")
        return
    runs = plan(instance, store, built, export)
    if not runs:
        print("already built by this code from the bundled sample: nothing to do (REBUILD=1 make demo builds again)")
        latest = instance.get_latest_materialization_event(ALL_ASSETS[-1].key)
        _report(latest.asset_materialization.metadata)  # type: ignore[union-attr]
        return
    print("building what is not built yet (REBUILD=1 make demo builds everything):", flush=True)
    result = None
    for selection, first, last in runs:
        step = time.monotonic()
        _say(f"{', '.join(a.node_def.name for a in selection)} {first}..{last} …")
        result = materialize_range(selection, first, last, resources=resources, instance=instance)
        stored = ", ".join(f"{name} {n:,} rows" for name, n in rows_stored(result, selection).items())
        _say(f"  {stored or 'exported'} in {time.monotonic() - step:.0f} s")
    latest = instance.get_latest_materialization_event(ALL_ASSETS[-1].key)
    _report(latest.asset_materialization.metadata)  # type: ignore[union-attr]
    print(f"took {time.monotonic() - started:.0f}s; open the UI with `make dev` to see the runs and lineage")


def _say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    main()
