"""When the export may trust the gate's validation of stored sft_rows instead of running its own again.

The gate (``gate_and_rows``) runs ``validate_rows(labelled, SftRowsSchema, has_volume=...)`` and writes
sft_rows only when that validation is ``ok`` (the ``schema`` check is blocking): the stored rows are a
subset of a frame in which every row was valid and no frame error was found. The export (features prompt)
runs ``validate_rows(csv_ready(rows), TrainingSetSchema, has_volume=...)`` on a group of stored files. The
second passes every row whenever the first did and the rows are the ones stored, except for what the two
schemas do not share, which is checked here (``attested``) or makes the export validate:

* Every column but the three timestamps has the same dtype, nullability and checks in both schemas, and
  both have the same row rules (by name: the same ``RULES`` code), uniqueness, strictness and coercion
  (``export_implied`` compares them; if they differ in anything else, nothing is trusted). Every check but
  uniqueness judges a row by its own values (``proven``), so a subset of valid rows is valid. The values
  read are the ones validated: the file's bytes are the ones the gate wrote (the commit record's sha256,
  checked by the reader on the bytes it parses), and the frame read has the columns and dtypes the gate
  validated (they are part of the fingerprint; Parquet gives float64, nullable Int64, strings and ns UTC
  timestamps back exactly). ``csv_ready`` keeps exactly those columns and formats only the timestamps.
* ``timestamp``, ``target_timestamp`` and ``decision_time`` are non-null ``datetime64[ns, UTC]`` to the
  gate, ISO text (``iso_utc``) to the export. ``csv_ready`` formats each with ``ISO_UTC_FORMAT``; an ns
  timestamp (years 1677..2262) always gives a valid text, but that is cheap to check, so each distinct
  instant's text is checked here, formatted as the export formats it. ``target_within_horizon`` reads the
  texts back: both ends lose their fraction of a second, and the floor keeps whole-second bounds (83 and
  90 days), so the rule holds for the texts whenever it held for the instants.
* Uniqueness of ``(timestamp, asset_symbol)``: the gate judged it on instants, per run; the export judges
  it on the ISO text, per group of files (which may come from several runs). Checked here: the group's
  timestamps are whole seconds (text and instant are then one to one) and its keys are unique.
* ``has_volume`` decides the applicability rules: the gate's map is part of the fingerprint (the whole
  map: another universe, and the stored rows are validated again).
* Code and libraries: the fingerprint holds both schemas' declarations as text, a digest of the source of
  ``schemas`` and of every package module it imports (rules, text checks, columns), and the versions of
  the package, pandera, pandas, numpy, pyarrow and Python. After a change to any of them, stored rows are
  validated again until the gate stores them anew: as slow as before, never less strict.

* ``prompt`` / ``completion`` (and their ``prompt_matches`` rule) are the export's only, and never stored:
  the export adds them to attested rows itself (``features.sft.with_pairs``: the instruction, a blank line,
  the input and a newline; the output), so they agree with the columns they are made of by construction and are
  left out of the comparison. Only stored rows whose texts are the export's own (the features prompt, the
  default output, unmasked: ``TextOptions.as_stored``) are attested.

Anything else (no fingerprint or digest, other bytes or dtypes, another map or code, another prompt format,
a failed check here) is validated as before, so the verdict, the counts and the messages are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandera
import pandera.pandas as pa
import pyarrow

import portfolio_assets
from portfolio_assets.schemas.models import TRAINING_SET_SCHEMAS, SftRowsSchema
from portfolio_assets.schemas.text import iso_problem
from portfolio_assets.timeutil import ISO_UTC_FORMAT

__all__ = ["TIMESTAMP_COLUMNS", "attested", "export_implied", "gate_fingerprint"]

TIMESTAMP_COLUMNS = ("timestamp", "target_timestamp", "decision_time")
"""The columns ``csv_ready`` writes as ISO 8601 text: datetimes to the gate, strings to the export."""
GATE_SCHEMA = SftRowsSchema
"""What the gate validates sft_rows with."""
_ISO_CHECKS = {"iso_utc", "finite"}  # the export's checks of a timestamp text ("finite" passes any non-float)
_UTC_NS = "datetime64[ns, UTC]"
PAIR_COLUMNS = ("prompt", "completion")
"""The export's columns made from the others after the attestation (``features.sft.with_pairs``)."""
PAIR_RULES = {"prompt_matches"}


def _checks_text(checks: list[object]) -> list[list[object]]:
    return [[str(c.name), json.dumps(c.statistics or {}, sort_keys=True, default=repr)] for c in checks]  # type: ignore[attr-defined]


def _column_text(column: object) -> dict[str, object]:
    """A column's declaration: dtype, nullability, options and checks (names and statistics)."""
    return {
        "dtype": str(column.dtype),  # type: ignore[attr-defined]
        **{k: bool(getattr(column, k)) for k in ("nullable", "required", "unique", "coerce", "regex")},
        "checks": _checks_text(column.checks),  # type: ignore[attr-defined]
    }


def _frame_text(schema: pa.DataFrameSchema, leave_out: set[str] | None = None) -> dict[str, object]:
    """A schema's frame-level declaration: its dataframe checks (row rules, but ``leave_out``) and options."""
    return {
        "checks": _checks_text([c for c in schema.checks if str(c.name) not in (leave_out or set())]),
        "unique": json.dumps(schema.unique),
        **{k: bool(getattr(schema, k)) for k in ("strict", "coerce", "ordered", "add_missing_columns")},
        "index": schema.index is not None,
        "dtype": str(schema.dtype),
    }


def schema_text(schema: type[pa.DataFrameModel]) -> str:
    """A stable text of everything ``schema`` declares (columns, checks, options)."""
    model = schema.to_schema()
    columns = {name: _column_text(col) for name, col in model.columns.items()}
    return json.dumps({"name": model.name, "frame": _frame_text(model), "columns": columns}, sort_keys=True)


@cache
def export_implied() -> bool:
    """Whether the export's features schema checks nothing the gate's does not, beyond the timestamps' ISO
    text (see the module docstring): the same columns, declarations and frame checks but for those three."""
    gate, export = GATE_SCHEMA.to_schema(), TRAINING_SET_SCHEMAS["features"].to_schema()
    columns = {name: column for name, column in export.columns.items() if name not in PAIR_COLUMNS}
    if set(gate.columns) != set(columns) or _frame_text(gate) != _frame_text(export, PAIR_RULES):
        return False
    for name, column in columns.items():
        theirs = gate.columns[name]
        if name not in TIMESTAMP_COLUMNS:
            if _column_text(column) != _column_text(theirs):
                return False
            continue
        if str(theirs.dtype) != _UTC_NS or theirs.nullable or not theirs.required:
            return False
        if str(column.dtype) != "str" or column.nullable or column.regex:
            return False
        if not {str(c.name) for c in column.checks} <= _ISO_CHECKS:
            return False
    return True


def _module_files(root: Path, name: str) -> list[Path]:
    """The source files importing ``name`` (``portfolio_assets.a.b``) runs: the packages' ``__init__`` and it."""
    parts = name.split(".")[1:]
    found = [root.joinpath(*parts[:i], "__init__.py") for i in range(len(parts) + 1)]
    if parts:
        found.append(root.joinpath(*parts).with_suffix(".py"))
    return [f for f in found if f.is_file()]


_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(portfolio_assets(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
    r"|import[ \t]+(portfolio_assets(?:\.\w+)*))",
    re.MULTILINE,
)
"""An absolute import of the package (a relative one is not used in it): ``from <module> import <names>``."""


def _imported(text: str) -> list[str]:
    """The package modules ``text`` may import (a name imported from a module may be a module too)."""
    names: list[str] = []
    for match in _IMPORT.finditer(text):
        module, imported, plain = match.groups()
        if plain:
            names.append(plain)
            continue
        names.append(module)
        names += [f"{module}.{name}" for name in re.findall(r"\w+", imported.split("#")[0])]
    return names


@cache
def source_digest() -> str:
    """sha256 of the source of ``portfolio_assets.schemas`` and of every package module it imports, transitively."""
    root = Path(portfolio_assets.__file__).resolve().parent
    todo = [*sorted((root / "schemas").glob("*.py")), *_module_files(root, "portfolio_assets")]
    seen: dict[Path, bytes] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = path.read_bytes()
        for name in _imported(seen[path].decode("utf-8")):
            todo += _module_files(root, name)
    digest = hashlib.sha256()
    for path, data in sorted(seen.items()):
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@cache
def _static_part() -> str:
    versions = {
        "portfolio_assets": portfolio_assets.__version__,
        "pandera": pandera.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "pyarrow": pyarrow.__version__,
        "python": ".".join(map(str, sys.version_info[:3])),
    }
    return json.dumps(
        {
            "gate": schema_text(GATE_SCHEMA),
            "export": schema_text(TRAINING_SET_SCHEMAS["features"]),
            "source": source_digest(),
            "versions": versions,
        },
        sort_keys=True,
    )


def gate_fingerprint(frame: pd.DataFrame, has_volume: Mapping[str, bool] | None) -> str:
    """The fingerprint of ``validate_rows(frame, SftRowsSchema, has_volume=has_volume)`` (sha256, hex): the
    schemas and code that judged it, the ``has_volume`` map and ``frame``'s columns and dtypes (not its values:
    the commit record holds each stored file's sha256)."""
    volume = None if has_volume is None else sorted([str(k), bool(v)] for k, v in has_volume.items())
    dtypes = [[str(name), str(dtype)] for name, dtype in frame.dtypes.items()]
    text = json.dumps([_static_part(), volume, dtypes])
    return hashlib.sha256(text.encode()).hexdigest()


def _iso_ok(series: pd.Series) -> bool:
    """Every value is an instant whose ISO text (as ``csv_ready`` writes it) passes ``iso_utc``."""
    if str(series.dtype) != _UTC_NS or series.hasnans:
        return False
    texts = pd.Series(pd.unique(series), dtype=series.dtype).dt.strftime(ISO_UTC_FORMAT)
    return all(iso_problem(text) is None for text in texts)


def attested(rows: pd.DataFrame, fingerprint: str, has_volume: Mapping[str, bool] | None) -> bool:
    """Whether the export's validation of stored ``rows`` (features prompt) passes every row because the gate's
    did: ``fingerprint`` (recorded with the files, whose bytes the caller checked) is the one the gate gives
    these rows now, and the checks the gate's pass does not imply pass (see the module docstring)."""
    if not export_implied() or fingerprint != gate_fingerprint(rows, has_volume):
        return False
    if not set(TIMESTAMP_COLUMNS) | {"asset_symbol"} <= set(rows.columns):
        return False
    if not all(_iso_ok(rows[column]) for column in TIMESTAMP_COLUMNS):
        return False
    stamps = rows["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    if (stamps % 1_000_000_000).any():  # a fraction of a second: two instants may write the same text
        return False
    return not rows.duplicated(subset=["timestamp", "asset_symbol"]).any()
