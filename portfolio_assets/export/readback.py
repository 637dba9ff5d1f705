"""Reading an export back: any format's files as frames with the manifest's exact dtypes.

A message-list column (dtype ``object`` in the manifest: ``messages``, chat ``prompt`` / ``completion``) reads
back as lists of ``{"role", "content"}`` dicts from every format."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from portfolio_assets import strict_json
from portfolio_assets.export.encoders import CSV_READ_OPTIONS, FORMATS
from portfolio_assets.export.manifest import MANIFEST_NAME
from portfolio_assets.export.splits import SPLITS
from portfolio_assets.timeutil import ISO_UTC_FORMAT

__all__ = ["read_export", "read_export_file"]


def _message_list(value: object) -> list[dict[str, str]] | None:
    """A message-list cell as any reader gives it (JSON text from CSV, a list from JSONL, an array of dicts from
    Parquet, a dict of lists from a columnar reader) as a list of ``{"role", "content"}`` dicts."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        value = strict_json.loads(value)
    if isinstance(value, Mapping):  # {"role": [...], "content": [...]}
        return [{"role": r, "content": c} for r, c in zip(value["role"], value["content"], strict=True)]
    return [{"role": m["role"], "content": m["content"]} for m in value]  # type: ignore[union-attr]


def _with_dtypes(frame: pd.DataFrame, schema: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """``frame``'s columns (as read from any format) converted to the exported dtypes, in schema order."""
    out: dict[str, pd.Series] = {}
    for column in schema:
        name, dtype = column["name"], column["dtype"]
        series = frame[name]
        if dtype == "datetime64[ns, UTC]":
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                series = series.dt.tz_convert("UTC").dt.as_unit("ns")
            elif pd.api.types.is_datetime64_dtype(series.dtype):  # e.g. Hugging Face's JSON reader: naive UTC
                series = series.dt.tz_localize("UTC").dt.as_unit("ns")
            else:
                series = pd.to_datetime(series, format=ISO_UTC_FORMAT, utc=True).dt.as_unit("ns")
        elif dtype == "str":
            series = series.astype(object).where(series.notna(), None)
        elif dtype == "object":  # a message-list column
            series = pd.Series([_message_list(v) for v in series], index=series.index, dtype=object, name=name)
        else:
            series = series.astype(dtype)
        out[name] = series
    return pd.DataFrame(out)


def read_export_file(path: Path | str, schema: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """One exported file (by its extension) with the manifest's ``schema`` dtypes."""
    path = Path(path)
    names = [c["name"] for c in schema]
    if path.suffix == ".csv":
        text_dtypes = {c["name"]: {"str": str, "datetime64[ns, UTC]": str}.get(c["dtype"], c["dtype"]) for c in schema}
        frame = pd.read_csv(path, dtype=text_dtypes, encoding="utf-8", **CSV_READ_OPTIONS)  # type: ignore[arg-type]
    elif path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as handle:
            records = [strict_json.loads(line) for line in handle]
        frame = pd.DataFrame.from_records(records, columns=names)
    elif path.suffix == ".parquet":
        frame = pq.read_table(path).to_pandas()
    else:
        raise ValueError(f"{path}: not an exported file (.csv, .jsonl or .parquet)")
    if list(frame.columns) != names:
        raise ValueError(f"{path}: columns differ from the manifest's schema")
    return _with_dtypes(frame, schema)


def read_export(out_dir: Path | str, fmt: str) -> pd.DataFrame:
    """Every exported row of format ``fmt`` (train, validation, test in order), plus a ``split`` column."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    schema = manifest["schema"]
    files = [f for f in manifest["files"] if f["format"] == fmt]
    if not files:
        raise ValueError(f"{out_dir}: no {fmt} files in this export")
    files.sort(key=lambda f: (SPLITS.index(f["split"]), f["shard"]))
    frames = [read_export_file(out_dir / f["path"], schema).assign(split=f["split"]) for f in files]
    return pd.concat(frames, ignore_index=True)
