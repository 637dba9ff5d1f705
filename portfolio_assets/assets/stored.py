"""A per-asset step from stored inputs to stored outputs, on any engine (``indicators``, ``targets``, the gate).

The step reads its inputs' partitions, runs a pure per-asset function through the engine and checks the rows.
In-process (and on Spark with the rows through the driver), the inputs are read here, the outputs returned for
the IO manager to store, and the checks' ``partial`` runs on the rows of each call (all the assets
in-process). Store to store on Spark (``EngineResource.reads_store``), the executors read, compute, run the
``partial`` per asset and stage the outputs' files (``direct.py``); the step commits the writes itself, with
the blocking checks that failed, or gives them up. Either way the step merges a list of partials in asset
order, and each side group's result: one home for each check, and the same outcome from every engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, MetadataValue, Output

from portfolio_assets.assets.quality import checked_metadata, failed_blocking, per_partition
from portfolio_assets.assets.windows import in_window, input_keys
from portfolio_assets.direct import StepCall, StoredOutput, run_stored, stored_input
from portfolio_assets.engine import EngineResource, joined
from portfolio_assets.io_managers import EXCLUDED_ASSETS, PartitionStore, Staging
from portfolio_assets.partitions import granularity_of
from portfolio_assets.partsummary import attach


@dataclass(frozen=True)
class Source:
    """A stored input of a step: its rows on ``first_day..last_day`` of the partitions mapped to the run."""

    name: str
    first_day: pd.Timestamp
    last_day: pd.Timestamp
    leave_out: tuple[str, ...] = ()

    def keys(self, context: AssetExecutionContext) -> list[str]:
        """The keys of the input's partitions holding the source's days (``windows.input_keys``)."""
        return input_keys(context, self.name, first_day=self.first_day, last_day=self.last_day)


def read_source(context: AssetExecutionContext, store: PartitionStore, source: Source) -> pd.DataFrame:
    """The source's rows on its days, read from the store here (without the assets it leaves out)."""
    granularity = granularity_of(context.asset_partitions_def_for_input(source.name))
    rows = in_window(
        store.read([source.name], source.keys(context), granularity=granularity), source.first_day, source.last_day
    )
    return rows[~rows["asset_symbol"].isin(list(source.leave_out))] if source.leave_out else rows


@dataclass
class Step:
    """What a step computed: its output frames (none when the executors staged them), its checks' partials in
    asset order and its side groups' results."""

    frames: dict[str, pd.DataFrame]
    partials: list[Any]
    sides: dict[str, Any] = field(default_factory=dict)
    stagings: dict[str, Staging] = field(default_factory=dict)
    stored: StoredOutput | None = None


def run_step(
    context: AssetExecutionContext,
    engine: EngineResource,
    store: PartitionStore,
    call: StepCall,
    sources: Sequence[Source],
    *,
    shared: Mapping[str, Any] | None = None,
    order: Sequence[str] = ("asset_symbol", "timestamp"),
) -> Step:
    """``call`` on the ``sources``' rows (``shared`` given whole): store to store when the engine reads the
    store, else here (each output's rows in ``order``)."""
    keys = {s.name: s.keys(context) for s in sources}  # checks every source's days first
    granularity = {s.name: granularity_of(context.asset_partitions_def_for_input(s.name)) for s in sources}
    shared = dict(shared or {})
    if engine.reads_store(store):
        inputs = [
            stored_input(
                store,
                s.name,
                [s.name],
                keys[s.name],
                granularity=granularity[s.name],
                first_day=s.first_day,
                last_day=s.last_day,
                leave_out=s.leave_out,
            )
            for s in sources
        ]
        output = granularity_of(context.assets_def.partitions_def)
        stagings: dict[str, Staging] = {}
        try:
            for name in call.outputs:
                stagings[name] = store.begin([name], context.partition_keys, granularity=output)
            staged = run_stored(engine, call, inputs, store=store, outputs=stagings, shared=shared, order=order)
        except BaseException:
            for staging in stagings.values():
                store.abort(staging)
            raise
        return Step({}, list(staged.partials.values()), staged.sides, stagings, staged)
    frames = {s.name: read_source(context, store, s) for s in sources}
    results = engine.map_assets(call, frames, shared=shared)
    outputs = {
        n: results[0][0][n]
        if len(results) == 1 and not engine.uses_spark
        else joined([r[0][n] for r in results], order)
        for n in call.outputs
    }
    sides: dict[str, list[pd.DataFrame]] = {}
    for result in results:
        for group, piece in result[2].items():
            sides.setdefault(group, []).append(piece)
    joined_sides = {g: call.sides.join(g, pieces) for g, pieces in sides.items()} if call.sides else {}
    return Step(outputs, [r[1] for r in results], joined_sides)


@contextmanager
def given_up_on_error(store: PartitionStore, step: Step) -> Iterator[None]:
    """Give up the step's staged writes that are not committed if what follows raises, or the run stops it
    (a committed one is kept: ``PartitionStore.abort`` deletes nothing a commit may name)."""
    try:
        yield
    except BaseException:
        for staging in step.stagings.values():
            store.abort(staging)
        raise


def commit(
    context: AssetExecutionContext,
    store: PartitionStore,
    step: Step,
    output: str,
    metadata: Mapping[str, object],
    *,
    blocked_by: Sequence[str] = (),
    validated: str = "",
) -> dict[str, object]:
    """Commit ``output``'s write the executors staged (with the blocking checks that failed, so the store keeps it
    from downstream), put each partition's summary on its own materialisation, and return the metadata the IO
    manager would have added. Call it under ``given_up_on_error``."""
    staging = step.stagings[output]
    excluded = metadata.get(EXCLUDED_ASSETS)
    store.commit(
        staging,
        digests=step.stored.digests[output],  # type: ignore[union-attr]
        run_id=context.run_id,
        blocked_by=blocked_by,
        excluded=dict(getattr(excluded, "data", None) or {}),
        validated="" if blocked_by else validated,
    )
    attach(context.add_asset_metadata, AssetKey(list(staging.asset_path)), step.stored.summaries[output])  # type: ignore[union-attr]
    return {
        "run_partitions_written": len(staging.keys),
        "stored_under": store.location(staging.asset_path),
        "readable_downstream": not blocked_by,
        "staged_by": MetadataValue.text("the Spark executors (store to store)"),
    }


def finish(
    context: AssetExecutionContext,
    store: PartitionStore,
    step: Step,
    metadata: dict[str, object],
    results: list[AssetCheckResult],
) -> Iterator[Output[pd.DataFrame | None] | AssetCheckResult]:
    """The output of a one-output step and its check results; a write the executors staged is committed first.
    Call it under ``given_up_on_error``."""
    (output,) = step.stagings or step.frames
    metadata = checked_metadata(metadata, results)
    if step.stored is None:
        yield Output(step.frames[output], metadata=metadata)
    else:
        yield Output(
            None,
            metadata={
                **metadata,
                **commit(context, store, step, output, metadata, blocked_by=failed_blocking(results)),
            },
        )
    yield from per_partition(context, results)
