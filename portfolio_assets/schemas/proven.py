"""Rows that pass every check of a schema, found column-wise: pandera then judges only the other rows.

``proven_rows(work, model)`` runs each check of ``model`` once over the whole frame, with
pandera's own check objects (so a row passes a check here exactly when it passes it in
``model.validate``), and gives the rows no check fails: dtype (a ``str`` column's values
are all ``str``), nullability, every column check, every dataframe check, and the
uniqueness of ``model.unique`` (every copy of a duplicated key stays unproven). It gives
None where the frame as a whole may be at fault (a missing, unexpected or mistyped
column, a check that raises or does not answer per row, a schema option this module
does not model): the caller then validates every row as before.

Every check of the schemas judges a row by its own values (the row rules say so, and
the text checks judge each value), so validating only the unproven rows, as a frame of
their own, gives their failure cases exactly as validating the whole frame would.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.api.checks import Check
from pandera.engines.pandas_engine import Engine, NpString

__all__ = ["proven_rows"]


def _eligible(work: pd.DataFrame, model: pa.DataFrameSchema) -> bool:
    """The frame and schema hold no frame-level failure and no option outside this module's model."""
    columns = model.columns
    if (
        not isinstance(work.index, pd.RangeIndex)
        or work.index.start != 0
        or work.index.step != 1
        or work.columns.has_duplicates
        or model.coerce
        or model.ordered
        or model.index is not None
        or model.dtype is not None
        or model.strict is not True
        or model.add_missing_columns
        or model.parsers
        or getattr(model, "drop_invalid_rows", False)
        or set(work.columns) - set(columns)
        or any(name not in work.columns and col.required for name, col in columns.items())
    ):
        return False
    for col in columns.values():
        if col.regex or col.unique or col.coerce or col.parsers or getattr(col, "drop_invalid_rows", False):
            return False
        if getattr(col, "default", None) is not None:
            return False
    return all(
        check.groupby is None and check.n_failure_cases is None and not check.raise_warning
        for check in [*model.checks, *(c for col in columns.values() for c in col.checks)]
    )


def _failing(result: object, index: pd.Index) -> np.ndarray | None:
    """Positions a check's per-row output fails, or None if it did not answer per row of ``index``."""
    output = result.check_output  # type: ignore[attr-defined]
    checked = result.checked_object  # type: ignore[attr-defined]
    if not isinstance(output, pd.Series) or not output.index.equals(checked.index):
        return None
    if not (output.dtype == bool or (output.dtype == "boolean" and not output.hasnans)):
        return None
    bad = output.index[~output.to_numpy(dtype=bool)]
    return index.get_indexer(bad)


def _run(check: Check, work: pd.DataFrame, name: str, null_free: bool) -> object:
    """pandera's ``check(work, name)``; for a column without nulls the check function on the column itself, which
    is what pandera runs then (it drops nulls first, and a null check of every value of a text column is slow)."""
    if not null_free or check.element_wise:
        return check(work, name)
    series = work[name]
    return _Result(check._check_fn(series, **check._check_kwargs), series)


class _Result(NamedTuple):
    check_output: object
    checked_object: pd.Series


def _column_ok(work: pd.DataFrame, name: str, col: object) -> np.ndarray | None:
    """Rows of ``work[name]`` that pass its dtype, nullability and checks; None if the column fails as a whole."""
    series = work[name]
    n = len(series)
    ok = np.ones(n, dtype=bool)
    null_free = False
    if isinstance(col.dtype, NpString) and series.dtype == object:  # type: ignore[attr-defined]
        # pandera: each value is a str or null; with no null the nullability holds too.
        null_free = pd.api.types.infer_dtype(series, skipna=False) == "string"
        if not null_free:
            ok &= np.fromiter((isinstance(v, str) for v in series), dtype=bool, count=n) | series.isna().to_numpy()
            if not col.nullable:  # type: ignore[attr-defined]
                ok &= series.notna().to_numpy()
    else:
        if col.dtype is not None:  # type: ignore[attr-defined]
            passed = col.dtype.check(Engine.dtype(series.dtype), series)  # type: ignore[attr-defined]
            if passed is not True:
                return None
        if not col.nullable and series.hasnans:  # type: ignore[attr-defined]
            ok &= series.notna().to_numpy()
    for check in col.checks:  # type: ignore[attr-defined]
        bad = _failing(_run(check, work, name, null_free), work.index)
        if bad is None or (bad < 0).any():
            return None
        ok[bad] = False
    return ok


def proven_rows(work: pd.DataFrame, model: pa.DataFrameSchema) -> np.ndarray | None:
    """Per row of ``work`` (indexed 0..n-1): whether it passes every check of ``model`` (see the module
    docstring); None when the frame may fail as a whole. Call it where ``model.validate`` would run (the
    same validation settings and shortcut masks)."""
    if not _eligible(work, model):
        return None
    ok = np.ones(len(work), dtype=bool)
    try:
        for name, col in model.columns.items():
            if name not in work.columns:
                continue
            column_ok = _column_ok(work, name, col)
            if column_ok is None:
                return None
            ok &= column_ok
        for check in model.checks:
            if not isinstance(check, Check):
                return None
            bad = _failing(check(work), work.index)
            if bad is None or (bad < 0).any():
                return None
            ok[bad] = False
    except Exception:  # a check that raises: pandera reports it for the frame
        return None
    if model.unique:
        keys = [model.unique] if all(isinstance(k, str) for k in model.unique) else model.unique
        for key in keys:
            subset = [k for k in key if k in work.columns]
            if subset:
                ok &= ~work.duplicated(subset=subset, keep=False).to_numpy(dtype=bool)
    return ok
