"""The rows the harness evaluates: an export read back, with row ids, real / synthetic flags and folds.

``row_id`` and ``is_synthetic`` come from the export's columns when it has them. Older exports lack them:
the row id is then computed as the exporter does (``export.rowid.row_ids``; an identical local rule when that
module is absent), and ``is_synthetic`` from the manifest's ``provenance.sources``: the kind of each asset's
price series (``<source>/<series key of its params>`` in the packaged universe). An asset whose price source
the manifest does not list gets ``<NA>`` (counted, and left out of the real / synthetic slices).

Evaluation sets: with ``folds.json`` beside the manifest, one per walk-forward fold (its train and test row
ids; a row in two folds' test blocks is an error); without it, one set named ``test``: the export's train split
to fit on, its test split to score. ``split="auto"`` uses the folds only when ``folds.json`` exists and, given
predictions, every prediction line names its ``fold``: the folds' test blocks cover most of the export's train
split, so predictions of a model trained on the single split are scored on the test split instead (noted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from portfolio_assets.export import read_export
from portfolio_assets.export.folds import FOLDS_NAME, read_folds
from portfolio_assets.export.manifest import MANIFEST_NAME
from portfolio_assets.export.rowid import row_ids
from portfolio_assets.spans import HORIZON_DAYS

__all__ = ["EvalData", "EvalSet", "ExportDirError", "load_export"]

REQUIRED = ("timestamp", "asset_symbol", "asset_class", "price_close", "target_timestamp", "target_return_90d")


class ExportDirError(ValueError):
    """An export directory the harness cannot evaluate: names the directory or file and the cause."""


@dataclass(frozen=True)
class EvalSet:
    """One fold: its name (``"0"``, ``"1"``, ... or ``"test"``) and the row ids it trains on and scores."""

    name: str
    train_ids: frozenset[str]
    test_ids: tuple[str, ...]


@dataclass
class EvalData:
    """An export's rows (indexed by ``row_id``), its manifest, its evaluation sets and the horizon."""

    export_dir: Path
    rows: pd.DataFrame
    manifest: dict
    sets: list[EvalSet]
    mode: str
    horizon_days: int = HORIZON_DAYS
    notes: list[str] = field(default_factory=list)


def _price_source_kinds(manifest: dict) -> dict[str, str]:
    """Asset symbol -> kind of its price series, from the manifest's provenance and the packaged universe.

    A source entry ``<source>/<series key>`` is the asset's price series when its source is the asset's and its
    parameters are a subset of the asset's request parameters (the sample omits e.g. ``outputsize``); the entry
    matching the most parameters wins."""
    from portfolio_assets.landing import parse_series_key
    from portfolio_assets.universe import load_universe

    sources = (manifest.get("provenance") or {}).get("sources")
    if not isinstance(sources, dict):
        return {}
    entries = []
    for key, record in sources.items():
        source, _, series = str(key).partition("/")
        if isinstance(record, dict) and record.get("kind") in ("real", "synthetic"):
            entries.append((source, parse_series_key(series), record["kind"]))
    out: dict[str, str] = {}
    for spec in load_universe().assets:
        params = {k: str(v) for k, v in spec.params.items()}
        matches = [
            (len(p), kind)
            for source, p, kind in entries
            if source == spec.source and p and all(params.get(k) == v for k, v in p.items())
        ]
        if matches:
            out[spec.symbol] = max(matches)[1]
    return out


def _read_manifest(export_dir: Path) -> dict:
    path = export_dir / MANIFEST_NAME
    if not export_dir.is_dir():
        raise ExportDirError(f"{export_dir}: not a directory (expected an export directory with {MANIFEST_NAME})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportDirError(f"{path}: missing; {export_dir} is not an export directory") from None
    except (OSError, ValueError) as exc:
        raise ExportDirError(f"{path}: unreadable manifest ({exc})") from None


def _read_rows(export_dir: Path, manifest: dict) -> pd.DataFrame:
    formats = list(manifest.get("formats") or [])
    fmt = next((f for f in ("parquet", "jsonl", "csv") if f in formats), None)
    if fmt is None:
        raise ExportDirError(f"{export_dir / MANIFEST_NAME}: lists no csv / jsonl / parquet files")
    try:
        rows = read_export(export_dir, fmt)
    except (OSError, ValueError, KeyError) as exc:
        raise ExportDirError(f"{export_dir}: cannot read the {fmt} files ({exc})") from None
    missing = [c for c in REQUIRED if c not in rows.columns]
    if missing:
        raise ExportDirError(f"{export_dir}: the export has no column(s) {', '.join(missing)}")
    return rows


def _with_identity(rows: pd.DataFrame, manifest: dict, notes: list[str]) -> pd.DataFrame:
    rows = rows.copy()
    if "row_id" not in rows.columns:
        rows["row_id"] = row_ids(rows["asset_symbol"], rows["timestamp"])
        notes.append("row_id computed from asset_symbol and timestamp (the export has no row_id column)")
    if "is_synthetic" not in rows.columns:
        kinds = _price_source_kinds(manifest)
        rows["is_synthetic"] = pd.array(
            [None if s not in kinds else kinds[s] == "synthetic" for s in rows["asset_symbol"]], dtype="boolean"
        )
        notes.append("is_synthetic taken from the manifest's provenance.sources (the export has no such column)")
        unknown = sorted(set(rows.loc[rows["is_synthetic"].isna(), "asset_symbol"]))
        if unknown:
            notes.append(
                f"is_synthetic unknown for {', '.join(unknown)} (no price source in the manifest's provenance): "
                "left out of the real / synthetic slices"
            )
    else:
        rows["is_synthetic"] = rows["is_synthetic"].astype("boolean")
    duplicated = rows["row_id"].duplicated()
    if duplicated.any():
        raise ExportDirError(f"export rows repeat row_id {rows.loc[duplicated, 'row_id'].iloc[0]!r}")
    return rows.set_index("row_id", drop=False)


def _fold_sets(path: Path, known: pd.Index) -> list[EvalSet]:
    try:
        data = read_folds(path)  # its format, version and counts checked; errors name the file
    except (OSError, ValueError) as exc:
        raise ExportDirError(str(exc)) from None
    sets: list[EvalSet] = []
    tested_in: dict[str, str] = {}
    for i, fold in enumerate(data["folds"]):
        try:
            name = str(int(fold["fold"]))
            train, test = list(fold["train"]["row_ids"]), list(fold["test"]["row_ids"])
        except (KeyError, TypeError, ValueError):
            raise ExportDirError(f"{path}: folds[{i}] lacks fold / train.row_ids / test.row_ids") from None
        unknown = [r for r in (*train, *test) if r not in known]
        if unknown:
            raise ExportDirError(f"{path}: folds[{i}] names {len(unknown)} row id(s) not in the export: {unknown[:3]}")
        overlap = set(train) & set(test)
        if overlap:
            raise ExportDirError(f"{path}: folds[{i}] has {len(overlap)} row id(s) in both train and test")
        for rid in test:
            if rid in tested_in:
                where = "twice" if tested_in[rid] == name else f"also in fold {tested_in[rid]}'s test block"
                raise ExportDirError(f"{path}: row {rid!r} of fold {name}'s test block is listed {where}")
            tested_in[rid] = name
        sets.append(EvalSet(name, frozenset(train), tuple(test)))
    if not sets:
        raise ExportDirError(f"{path}: no folds")
    return sets


def load_export(export_dir: Path | str, split: str = "auto", predictions_have_folds: bool | None = None) -> EvalData:
    """The export's rows and evaluation sets. ``split``: ``test`` (the test split, fit on train), ``folds``
    (``folds.json``, required), ``auto`` (folds when ``folds.json`` exists and ``predictions_have_folds`` is
    not False, i.e. no predictions or every line names its fold; else test)."""
    if split not in ("auto", "test", "folds"):
        raise ValueError(f"split must be auto, test or folds, got {split!r}")
    export_dir = Path(export_dir)
    manifest = _read_manifest(export_dir)
    notes: list[str] = []
    rows = _with_identity(_read_rows(export_dir, manifest), manifest, notes)
    horizon = int((manifest.get("provenance") or {}).get("horizon_days") or HORIZON_DAYS)
    folds_path = export_dir / FOLDS_NAME
    if split == "folds" or (split == "auto" and folds_path.exists() and predictions_have_folds is not False):
        if not folds_path.exists():
            raise ExportDirError(f"{folds_path}: missing; --split folds needs an export written with folds")
        return EvalData(export_dir, rows, manifest, _fold_sets(folds_path, rows.index), "folds", horizon, notes)
    if split == "auto" and folds_path.exists():
        notes.append(
            f'the export has {FOLDS_NAME}, but not every prediction line names its "fold": evaluated on the '
            "export's test split (the folds' test blocks cover most of the train split, which a model trained on "
            'the single split has seen); give every line its "fold" to evaluate the walk-forward folds'
        )
    elif split == "auto":
        notes.append(f"no {FOLDS_NAME} in the export: evaluated on the test split only")
    train = frozenset(rows.index[rows["split"] == "train"])
    test = tuple(rows.index[rows["split"] == "test"])
    if not test:
        raise ExportDirError(f"{export_dir}: the export has no test rows")
    return EvalData(export_dir, rows, manifest, [EvalSet("test", train, test)], "test", horizon, notes)
