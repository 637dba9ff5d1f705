"""Where an export goes: a folder named by its content, and ``LATEST.json`` naming the newest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from portfolio_assets.fsutil import write_atomically

LATEST = "LATEST.json"
"""In the export root: the folder of the newest export written whole (``export``), its range and when."""


def export_settings(export: Any) -> dict[str, object]:
    """The settings of an ``ExportResource`` that shape an export's bytes (its name's digest)."""
    return {
        "prompt_format": export.prompt_format,
        "context_window": export.context_window,
        "shard_by": export.shard_by,
        "validation_start": export.validation_start,
        "test_start": export.test_start,
        "embargo_days": export.embargo_days,
        "output_fields": export.output_fields,
        "return_decimals": export.return_decimals,
        "mask_identity": export.mask_identity,
        **{f"fold_{k}" if k != "folds" else k: v for k, v in fold_settings(export).items()},
    }


def fold_settings(export: Any) -> dict[str, object]:
    """The walk-forward fold settings of an ``ExportResource`` (``folds`` 0: none are written)."""
    return {
        "folds": export.folds,
        "scheme": export.fold_scheme,
        "test_days": export.fold_test_days,
        "train_days": export.fold_train_days,
    }


def export_name(export: Any, first: pd.Timestamp, last: pd.Timestamp) -> str:
    """``training_set_<first>_<last>_<prompt format>_<settings digest>`` for an ``ExportResource``: an export's
    folder named by its content, so one with other settings is written beside the earlier ones, never over them
    (the same range and settings replace their own folder, atomically)."""
    settings = export_settings(export)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return f"training_set_{first:%Y-%m-%d}_{last:%Y-%m-%d}_{export.prompt_format}_{digest}"


def point_latest(root: Any, name: str, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """Point ``<root>/LATEST.json`` (a directory, or an ``objectstore.S3Location``) at export ``name``, written
    whole: one rename, or one PUT."""
    record = {"export": name, "range": f"{first:%Y-%m-%d}..{last:%Y-%m-%d}"}
    data = json.dumps({**record, "written_at": pd.Timestamp.now(tz="UTC").isoformat()}, indent=1).encode()
    if getattr(root, "scheme", None) == "s3":
        root.put(LATEST, data)
    else:
        Path(root).mkdir(parents=True, exist_ok=True)
        write_atomically(Path(root) / LATEST, data)


def latest_export(root: Any) -> str | None:
    """The export ``<root>/LATEST.json`` names (a directory, or an ``objectstore.S3Location``); None: none yet."""
    try:
        data = root.get(LATEST) if getattr(root, "scheme", None) == "s3" else (Path(root) / LATEST).read_bytes()
    except FileNotFoundError:
        return None
    return json.loads(data).get("export")
