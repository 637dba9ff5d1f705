"""Run the graph over partition ranges as single runs, from Python (demo, tests, scripts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dagster import AssetsDefinition, DagsterInstance, ExecuteInProcessResult, materialize

from portfolio_assets.definitions import ALL_ASSETS, LABELLED_ASSETS, OBSERVATION_ASSETS
from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS, RANGE_END_TAG, RANGE_START_TAG


def materialize_range(
    selection: Sequence[AssetsDefinition],
    first: str,
    last: str,
    *,
    resources: Mapping[str, object],
    instance: DagsterInstance | None = None,
    log_level: str = "INFO",
    raise_on_error: bool = True,
) -> ExecuteInProcessResult:
    """Materialise ``selection`` for partitions ``first..last`` in ONE run (a single-run backfill).

    ``log_level`` is the console's: at DEBUG Dagster prints one event per partition.
    """
    return materialize(
        ALL_ASSETS,
        selection=list(selection),
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        instance=instance,
        resources=dict(resources),
        raise_on_error=raise_on_error,
        tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
    )


def materialize_all(
    *,
    resources: Mapping[str, object],
    instance: DagsterInstance | None = None,
    observation_range: tuple[str, str] | None = None,
    labelled_range: tuple[str, str] | None = None,
    log_level: str = "INFO",
) -> list[ExecuteInProcessResult]:
    """Observation assets over their range, then labelled assets over theirs (default: everything)."""
    obs = observation_range or (
        OBSERVATION_PARTITIONS.get_first_partition_key(),
        OBSERVATION_PARTITIONS.get_last_partition_key(),
    )
    lab = labelled_range or (
        LABELLED_PARTITIONS.get_first_partition_key(),
        LABELLED_PARTITIONS.get_last_partition_key(),
    )
    return [
        materialize_range(OBSERVATION_ASSETS, *obs, resources=resources, instance=instance, log_level=log_level),
        materialize_range(LABELLED_ASSETS, *lab, resources=resources, instance=instance, log_level=log_level),
    ]
