"""Provenance: what the caller records about the rows, as plain JSON data for the manifest and card."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_assets.timeutil import iso_utc

__all__ = ["SAMPLE_MANIFEST", "SAMPLE_MARKER", "jsonable", "sample_marker", "sample_sources"]

SAMPLE_MANIFEST = Path(__file__).parent.parent / "sample_data" / "manifest.json"
SAMPLE_MARKER = "_sample.json"
"""A file at the root of the sample's landing zone naming the bundled manifest (its sha256): a copy of the zone
(another directory, S3) carries it, so an export from the copy still knows which series are synthetic."""


def jsonable(value: object, where: str = "provenance") -> object:
    """``value`` as plain JSON data (dates as ISO text, paths as text, sets sorted), or TypeError."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{where} is {number!r}, which strict JSON cannot carry")
        return number + 0.0  # -0.0 is 0.0: the manifest and card never show a negative zero
    if isinstance(value, datetime):
        stamp = pd.Timestamp(value)
        return iso_utc(stamp) if stamp.tzinfo else stamp.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            out[key] = jsonable(item, f"{where}.{key}")
        return out
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v, where) for v in value)  # type: ignore[type-var]
    if isinstance(value, list | tuple):
        return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} holds a {type(value).__name__}, which is not JSON data")


def sample_marker(manifest_path: Path | str = SAMPLE_MANIFEST) -> bytes:
    """The ``SAMPLE_MARKER`` file's bytes for the bundled manifest (``scripts/build_sample_data.py`` writes it)."""
    digest = hashlib.sha256(Path(manifest_path).read_bytes()).hexdigest()
    return (json.dumps({"sample_manifest_sha256": digest}, indent=1) + "\n").encode("utf-8")


def sample_sources(manifest_path: Path | str = SAMPLE_MANIFEST) -> dict[str, dict[str, str]]:
    """The bundled sample's series, ``"<source>/<series_key>"`` -> ``{"kind": "real"|"synthetic", "origin": ...}``,
    for ``provenance["sources"]``."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    return {
        f"{s['source']}/{s['series_key']}": {"kind": s["kind"], "origin": s.get("origin", "")}
        for s in manifest["series"]
    }
