"""``export_training_set``: split, shard, encode and write the rows, manifest and cards through a sink."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from portfolio_assets.export.card import CARD_NAME, dataset_card, format_card
from portfolio_assets.export.encoders import FORMATS, WRITERS
from portfolio_assets.export.frame import canonical_frame
from portfolio_assets.export.manifest import MANIFEST_NAME, ExportedFile, build_manifest, manifest_bytes
from portfolio_assets.export.provenance import jsonable
from portfolio_assets.export.shards import SHARD_BY, shard_key
from portfolio_assets.export.sink import LocalSink
from portfolio_assets.export.splits import EXCLUDED, SPLITS, SplitConfig, assign_splits

__all__ = ["ExportReport", "export_training_set"]


@dataclass(frozen=True)
class ExportReport:
    """What ``export_training_set`` wrote."""

    out_dir: Path
    files: tuple[ExportedFile, ...]
    rows: dict[str, int]
    """Exported rows per split (train, validation, test)."""
    excluded: dict[str, int]
    """Rows not exported, in total: purged, embargoed."""
    excluded_by_boundary: dict[str, dict[str, int]]
    """Rows not exported at each boundary (``train->validation``, ``validation->test``): purged, embargoed."""
    boundaries: dict[str, date]
    manifest_path: Path
    card_path: Path


def _check_formats(formats: Iterable[str]) -> list[str]:
    given = list(formats) if not isinstance(formats, str) else [formats]
    unknown = [f for f in given if f not in FORMATS]
    if unknown or not given:
        raise ValueError(f"unknown or no formats {unknown or given}; expected some of {list(FORMATS)}")
    if len(set(given)) != len(given):
        raise ValueError(f"formats listed twice: {given}")
    return [f for f in FORMATS if f in given]


def export_training_set(
    rows: pd.DataFrame,
    out_dir: Path | str,
    *,
    split: SplitConfig,
    shard_by: str = "year",
    formats: Iterable[str] = ("csv", "jsonl", "parquet"),
    provenance: Mapping[str, object],
) -> ExportReport:
    """Split, shard and write ``rows`` (the canonical sft rows) to ``out_dir`` atomically; see the package doc.

    ``rows`` need every column of ``SFT_COLUMNS`` (timestamps datetime64 UTC); extra
    columns are kept after them. ``provenance`` (JSON data; dates and paths are
    turned into text) is copied into the manifest and the dataset card.
    """
    if shard_by not in SHARD_BY:
        raise ValueError(f"unknown shard_by {shard_by!r}; expected one of {SHARD_BY}")
    fmts = _check_formats(formats)
    if not isinstance(split, SplitConfig):
        raise TypeError(f"split must be a SplitConfig, got {type(split).__name__}")
    if not isinstance(provenance, Mapping):
        raise TypeError(f"provenance must be a mapping, got {type(provenance).__name__}")
    prov = jsonable(provenance)
    frame, columns = canonical_frame(rows)
    splits = assign_splits(frame, split)
    shards = shard_key(frame["timestamp"], shard_by)

    out_dir = Path(out_dir)
    sink = LocalSink(out_dir, marker=MANIFEST_NAME)
    try:
        files: list[ExportedFile] = []
        for fmt in fmts:
            for name in SPLITS:
                in_split = splits.labels == name
                for shard in sorted(set(shards[in_split])):
                    part = frame[in_split & (shards == shard)].reset_index(drop=True)
                    relative = f"{fmt}/{name}/{name}-{shard}.{FORMATS[fmt]}"
                    data = WRITERS[fmt](part, columns)
                    sink.write(relative, data)
                    files.append(
                        ExportedFile(
                            path=relative,
                            format=fmt,
                            split=name,
                            shard=shard,
                            rows=len(part),
                            bytes=len(data),
                            sha256=hashlib.sha256(data).hexdigest(),
                        )
                    )
        manifest = build_manifest(frame, columns, splits, split, shards, shard_by, fmts, files, prov)
        cards = {
            CARD_NAME: dataset_card(manifest),
            **{f"{fmt}/{CARD_NAME}": format_card(manifest, fmt) for fmt in fmts},
        }
        manifest["cards"] = []
        for relative, text in cards.items():
            data = text.encode("utf-8")
            sink.write(relative, data)
            manifest["cards"].append({"path": relative, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        sink.write(MANIFEST_NAME, manifest_bytes(manifest))
        sink.commit()
    except BaseException:
        sink.abort()
        raise
    counts = splits.counts()
    return ExportReport(
        out_dir=out_dir,
        files=tuple(files),
        rows={s: counts[s] for s in SPLITS},
        excluded={e: counts[e] for e in EXCLUDED},
        excluded_by_boundary=splits.excluded_by_boundary(),
        boundaries=dict(splits.boundaries),
        manifest_path=out_dir / MANIFEST_NAME,
        card_path=out_dir / CARD_NAME,
    )
