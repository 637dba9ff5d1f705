"""A per-asset step from one stored input to its stored output, on any engine (``indicators``, ``targets``).

The step reads its input's partitions from the store, runs a pure per-asset function through the engine and
checks the rows. In-process (and on Spark with the rows through the driver), the input is read here, the
output returned for the IO manager to store, and the checks' ``partial`` runs once, on all the rows. Store to
store on Spark (``EngineResource.reads_store``), the executors read, compute, run the ``partial`` per asset and
stage the output's files (``direct.py``); the step merges the partials into the same checks and commits the
write itself, with the blocking checks that failed, or gives it up. Either way ``merge`` sees a list of
partials in asset order: one home for each check, and the same outcome from both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, MetadataValue, Output

from portfolio_assets.assets.quality import checked_metadata, failed_blocking
from portfolio_assets.assets.windows import check_input_window, in_window, input_keys
from portfolio_assets.direct import StoredOutput, run_stored, stored_input
from portfolio_assets.engine import EngineResource
from portfolio_assets.io_managers import EXCLUDED_ASSETS, PartitionStore
from portfolio_assets.partitions import granularity_of


@dataclass
class Step:
    """What a step computed: its rows (None: staged in the store by the executors) and its checks' partials."""

    frame: pd.DataFrame | None
    partials: list[Any]
    staged: StoredOutput | None = None


def run_step(
    context: AssetExecutionContext,
    engine: EngineResource,
    store: PartitionStore,
    function: Callable[..., pd.DataFrame],
    *,
    source: str,
    first_day: pd.Timestamp,
    last_day: pd.Timestamp,
    window: tuple[pd.Timestamp, pd.Timestamp],
    partial: Callable[..., Any],
    shared: Mapping[str, Any] | None = None,
    leave_out: Sequence[str] = (),
) -> Step:
    """``function(**{source: rows}, **shared)`` per asset, cut to ``window``, and ``partial(out, **same)``; the
    input is ``source``'s partitions mapped to the run, on ``first_day..last_day``, without ``leave_out``."""
    check_input_window(context, source, first_day=first_day, last_day=last_day)
    keys = input_keys(context, source)
    granularity = granularity_of(context.asset_partitions_def_for_input(source))
    shared = dict(shared or {})
    if engine.reads_store(store):
        stored = stored_input(
            store,
            source,
            [source],
            keys,
            granularity=granularity,
            first_day=first_day,
            last_day=last_day,
            leave_out=leave_out,
        )
        output = granularity_of(context.assets_def.partitions_def)
        staging = store.begin(context.asset_key.path, context.partition_keys, granularity=output)
        try:
            staged = run_stored(
                engine, function, [stored], store=store, staging=staging, window=window, shared=shared, partial=partial
            )
        except BaseException:
            store.abort(staging)
            raise
        return Step(None, list(staged.partials.values()), staged)
    rows = in_window(store.read([source], keys, granularity=granularity), first_day, last_day)
    if leave_out:
        rows = rows[~rows["asset_symbol"].isin(list(leave_out))]
    frame = in_window(engine.by_asset(function, {source: rows}, shared=shared), *window)
    return Step(frame, [partial(frame, **{source: rows}, **shared)])


def finish(
    context: AssetExecutionContext,
    store: PartitionStore,
    step: Step,
    metadata: dict[str, object],
    results: list[AssetCheckResult],
) -> Iterator[Output[pd.DataFrame | None] | AssetCheckResult]:
    """The step's output and check results; a write the executors staged is committed here first (with the
    blocking checks that failed, so the store keeps it from downstream), or given up if that fails."""
    if step.staged is None:
        yield Output(step.frame, metadata=checked_metadata(metadata, results))
        yield from results
        return
    failed = failed_blocking(results)
    excluded = metadata.get(EXCLUDED_ASSETS)
    staging = step.staged.staging
    try:
        store.commit(
            staging,
            digests=step.staged.digests,
            run_id=context.run_id,
            blocked_by=failed,
            excluded=dict(getattr(excluded, "data", None) or {}),
        )
    except BaseException:
        store.abort(staging)
        raise
    metadata = {
        **checked_metadata(metadata, results),
        "partitions_written": len(staging.keys),
        "stored_under": store.location(staging.asset_path),
        "readable_downstream": not failed,
        "staged_by": MetadataValue.text("the Spark executors (store to store)"),
    }
    yield Output(None, metadata=metadata)
    yield from results
