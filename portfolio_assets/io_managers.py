"""Partitioned Parquet store: one file per asset per daily partition.

Layout: ``<data dir>/<asset key path>/<YYYY-MM-DD>.parquet``. A run may write
or read thousands of partitions (single-run backfills), so outputs are split
by the ``timestamp`` column into the run's partition keys, and inputs are the
concatenation of the partitions Dagster maps to the consumer.

Writes are all-or-nothing for a run: every partition is first written to a
hidden temporary file beside its target; only when all of them are complete are
they renamed into place (``os.replace``, atomic per file). A failure before that
removes the temporaries and leaves every previously stored partition intact.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import ConfigurableIOManager, InputContext, OutputContext

from portfolio_assets.resources import StorageResource


class PartitionStore:
    """Plain read/write of daily Parquet partitions, usable without Dagster."""

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        self.base_dir = Path(base_dir)

    def path(self, asset_path: Sequence[str], partition_key: str) -> Path:
        return self.base_dir.joinpath(*asset_path) / f"{partition_key}.parquet"

    def write(self, asset_path: Sequence[str], frame: pd.DataFrame, partition_keys: Sequence[str]) -> dict[str, int]:
        """Store ``frame`` split by the date of its ``timestamp`` column; return rows per key.

        Every key gets a file (an empty one where no row falls on it). A row
        whose date is not one of ``partition_keys`` is an error.
        """
        keys = list(partition_keys)
        if "timestamp" not in frame.columns:
            raise ValueError(f"{'/'.join(asset_path)}: output has no 'timestamp' column to partition by")
        day = _day_keys(frame["timestamp"])
        stray = sorted(set(day.unique()) - set(keys))
        if stray:
            raise ValueError(
                f"{'/'.join(asset_path)}: {len(stray)} output date(s) outside the run's partitions "
                f"{keys[0]}..{keys[-1]}, e.g. {stray[:3]}"
            )
        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        positions = pd.Series(range(len(frame))).groupby(day.to_numpy()).indices
        staged: list[tuple[Path, Path]] = []
        counts: dict[str, int] = {}
        token = uuid.uuid4().hex[:12]
        try:
            for key in keys:
                idx = positions.get(key)
                part = table.take(pa.array(idx)) if idx is not None else table.slice(0, 0)
                target = self.path(asset_path, key)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{token}.tmp")
                staged.append((tmp, target))
                pq.write_table(part, tmp)
                counts[key] = part.num_rows
        except BaseException:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise
        for tmp, target in staged:
            os.replace(tmp, target)
        return counts

    def read(self, asset_path: Sequence[str], partition_keys: Sequence[str]) -> pd.DataFrame:
        """Concatenate the stored partitions; a missing one is an error naming it."""
        paths = [self.path(asset_path, key) for key in partition_keys]
        missing = [p.stem for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(
                f"{'/'.join(asset_path)}: {len(missing)} partition(s) not materialised under {self.base_dir}, "
                f"e.g. {missing[:3]}; materialise them first"
            )
        if not paths:
            raise ValueError(f"{'/'.join(asset_path)}: no partitions requested")
        tables = [pq.read_table(p) for p in paths]
        return pa.concat_tables(tables, promote_options="permissive").to_pandas().reset_index(drop=True)


def _day_keys(timestamps: pd.Series) -> pd.Series:
    ts = pd.to_datetime(timestamps, utc=True)
    return ts.dt.strftime("%Y-%m-%d")


class PartitionedParquetIOManager(ConfigurableIOManager):
    """Stores each daily partition of an asset as one Parquet file under the storage's data directory."""

    storage: StorageResource

    @property
    def store(self) -> PartitionStore:
        return PartitionStore(self.storage.store_root())

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj)!r}")
        if not context.has_asset_partitions:
            raise ValueError(f"{context.asset_key.to_user_string()}: this IO manager only stores partitioned assets")
        keys = list(context.asset_partition_keys)
        counts = self.store.write(context.asset_key.path, obj, keys)
        context.add_output_metadata(
            {
                "partitions_written": len(counts),
                "stored_under": str(self.store.path(context.asset_key.path, keys[0]).parent),
            }
        )

    def load_input(self, context: InputContext) -> pd.DataFrame:
        if not context.has_asset_partitions:
            raise ValueError(f"{context.asset_key.to_user_string()}: only partitioned inputs can be loaded")
        return self.store.read(context.asset_key.path, list(context.asset_partition_keys))
