"""Reading a store's partition files: whole, in parts, or with their recorded digests checked."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from portfolio_assets.storecommit import COMMITS, Commit


def file_rows(path: Path) -> int:
    """The number of rows of a partition file (from its footer)."""
    return int(pq.read_metadata(path).num_rows)


def files_schema(paths: Sequence[Path]) -> pa.Schema:
    """The Arrow schema a read of all ``paths`` at once gives them (the files' schemas, promoted)."""
    return pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")


def read_files(
    paths: Sequence[Path], *, columns: Sequence[str] | None = None, schema: pa.Schema | None = None
) -> pd.DataFrame:
    """Concatenate partition files (``PartitionStore.files``), only ``columns`` if given. With ``schema`` (the
    ``files_schema`` of every file of a read done in parts), a part gets the dtypes the whole read gives."""
    cols = list(columns) if columns is not None else None
    return _frame([pq.read_table(p, columns=cols) for p in paths], cols, schema)


def recorded_digests(paths: Sequence[Path]) -> dict[Path, tuple[str, str]]:
    """Each partition file's (sha256, validation fingerprint) as its commit record holds them, for the files
    (``PartitionStore.files``) whose record has both; the others are left out."""
    records: dict[Path, Commit | None] = {}
    found: dict[Path, tuple[str, str]] = {}
    for path in paths:
        key, _, rest = path.name.partition(".")
        record = path.parent / COMMITS / f"{rest.removesuffix('.parquet')}.json"
        if record not in records:
            try:
                records[record] = Commit.from_path(record)
            except ValueError:
                records[record] = None
        commit = records[record]
        if commit is not None and commit.validated and key in commit.digests:
            found[path] = (commit.digests[key], commit.validated)
    return found


def read_attested(
    paths: Sequence[Path], *, schema: pa.Schema, recorded: Mapping[Path, tuple[str, str]]
) -> tuple[pd.DataFrame, str | None]:
    """``read_files(paths, schema=schema)``, each file's bytes read once (one file's at a time), and the
    validation fingerprint their commit records share if every file's bytes hash to its recorded sha256
    (``recorded_digests``), else None."""
    tables: list[pa.Table] = []
    vouched: set[str | None] = set()
    for path in paths:
        data = path.read_bytes()
        digest, fingerprint = recorded.get(path, ("", None))
        vouched.add(fingerprint if hashlib.sha256(data).hexdigest() == digest else None)
        tables.append(pq.read_table(pa.BufferReader(data)))
    return _frame(tables, None, schema), vouched.pop() if len(vouched) == 1 else None


def _frame(tables: list[pa.Table], columns: list[str] | None, schema: pa.Schema | None) -> pd.DataFrame:
    if schema is not None:
        fields = schema if columns is None else pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)
        tables.insert(0, fields.empty_table())
    return pa.concat_tables(tables, promote_options="permissive").to_pandas().reset_index(drop=True)
