"""``export_training_set``: split, shard, encode and write the rows, manifest and cards through a sink.

``export_stream`` does the same from time-ordered chunks of the rows plus a light frame of
every row's timestamps and symbol, holding one chunk at a time: the split boundaries, the
counts and the date ranges of the manifest come from the light frame, the files from the chunks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from portfolio_assets.export.card import CARD_NAME, dataset_card, format_card
from portfolio_assets.export.columns_doc import COLUMNS_NAME, columns_bytes
from portfolio_assets.export.encoders import FORMATS
from portfolio_assets.export.files import EncodedChunk, ExportWriter, encode_parts
from portfolio_assets.export.folds import FOLDS_NAME, FoldConfig, fold_summary, walk_forward
from portfolio_assets.export.frame import ORDER_BY, Column, canonical_frame
from portfolio_assets.export.manifest import MANIFEST_NAME, ExportedFile, build_manifest, manifest_bytes
from portfolio_assets.export.provenance import jsonable
from portfolio_assets.export.rowid import row_ids
from portfolio_assets.export.shards import SHARD_BY, shard_key
from portfolio_assets.export.sink import Sink, open_sink
from portfolio_assets.export.splits import EXCLUDED, SPLITS, SplitConfig, Splits, assign_splits, label_rows

__all__ = [
    "FOLDS_NAME",
    "LIGHT_COLUMNS",
    "ExportReport",
    "StreamPlan",
    "encode_chunk",
    "export_stream",
    "export_training_set",
    "plan_stream",
]

LIGHT_COLUMNS = ("timestamp", "target_timestamp", "asset_symbol")
"""The columns of every row ``export_stream`` needs at once: the split, the manifest's counts and ranges."""


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


def _check_options(shard_by: str, formats: Iterable[str], split: SplitConfig) -> list[str]:
    if shard_by not in SHARD_BY:
        raise ValueError(f"unknown shard_by {shard_by!r}; expected one of {SHARD_BY}")
    fmts = _check_formats(formats)
    if not isinstance(split, SplitConfig):
        raise TypeError(f"split must be a SplitConfig, got {type(split).__name__}")
    return fmts


def _synthetic(synthetic: object) -> frozenset[str]:
    if isinstance(synthetic, str) or not isinstance(synthetic, Collection):
        raise TypeError(f"synthetic must be a collection of asset symbols, got {type(synthetic).__name__}")
    bad = [s for s in synthetic if not isinstance(s, str)]
    if bad:
        raise TypeError(f"synthetic must hold asset symbols (str), got {bad[:3]!r}")
    return frozenset(synthetic)


def _check_row_ids(ids: pd.Series) -> None:
    """Refuse rows sharing a ``row_id`` (one asset twice on a UTC day, at different times)."""
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        raise ValueError(
            f"{len(repeated)} rows share a row_id (one asset twice on a UTC day), e.g. {sorted(set(repeated))[:3]}"
        )


def _fold_document(frame: pd.DataFrame, splits: Splits, folds: FoldConfig | None, embargo_days: int) -> dict | None:
    """The ``folds.json`` document of the exported rows (``folds.walk_forward``), or None when no folds are asked
    for. ``frame``: ``LIGHT_COLUMNS`` of every row, ``splits`` its labels."""
    if folds is None:
        return None
    exported = splits.labels.isin(SPLITS).to_numpy()
    light = frame.loc[exported, list(LIGHT_COLUMNS)].sort_values(ORDER_BY, kind="stable").reset_index(drop=True)
    light["row_id"] = row_ids(light["asset_symbol"], light["timestamp"])
    return jsonable(walk_forward(light, folds, embargo_days=embargo_days), "folds")


def _provenance(provenance: object) -> object:
    if not isinstance(provenance, Mapping):
        raise TypeError(f"provenance must be a mapping, got {type(provenance).__name__}")
    return jsonable(provenance)


def _finish(
    sink: Sink,
    frame: pd.DataFrame,
    columns: list[Column],
    splits: Splits,
    config: SplitConfig,
    shards: pd.Series,
    shard_by: str,
    fmts: list[str],
    files: list[ExportedFile],
    prov: object,
    synthetic: frozenset[str],
    document: dict | None,
) -> ExportReport:
    """Write the column dictionary, the folds (``document``, if asked for), the cards and the manifest (``frame``
    needs only ``LIGHT_COLUMNS``), commit, and report."""
    manifest = build_manifest(frame, columns, splits, config, shards, shard_by, fmts, files, prov, synthetic)
    recorded = manifest.get("provenance")
    data = columns_bytes(manifest["schema"], recorded if isinstance(recorded, Mapping) else None)  # type: ignore[arg-type]
    sink.write(COLUMNS_NAME, data)
    manifest["columns"] = {"path": COLUMNS_NAME, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if document is not None:
        data = manifest_bytes(document)
        sink.write(FOLDS_NAME, data)
        summary = fold_summary(document)
        manifest["folds"] = {
            "path": FOLDS_NAME,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            **(summary if isinstance(summary, Mapping) else {"folds": summary}),
        }
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
    counts = splits.counts()
    return ExportReport(
        out_dir=sink.out_dir,
        files=tuple(files),
        rows={s: counts[s] for s in SPLITS},
        excluded={e: counts[e] for e in EXCLUDED},
        excluded_by_boundary=splits.excluded_by_boundary(),
        boundaries=dict(splits.boundaries),
        manifest_path=sink.out_dir / MANIFEST_NAME,
        card_path=sink.out_dir / CARD_NAME,
    )


def export_training_set(
    rows: pd.DataFrame,
    out_dir: Path | str,
    *,
    split: SplitConfig,
    shard_by: str = "year",
    formats: Iterable[str] = ("csv", "jsonl", "parquet"),
    provenance: Mapping[str, object],
    synthetic: Collection[str],
    folds: FoldConfig | None = None,
) -> ExportReport:
    """Split, shard and write ``rows`` (the canonical sft rows) to ``out_dir`` atomically; see the package doc.

    ``rows`` need every column of ``SFT_COLUMNS`` (timestamps datetime64 UTC); extra
    columns are kept after them. ``provenance`` (JSON data; dates and paths are
    turned into text) is copied into the manifest and the dataset card.
    ``synthetic``: the asset symbols whose own price series is synthetic (``rowid.synthetic_symbols``); the
    exporter adds ``row_id`` and ``is_synthetic`` after ``SFT_COLUMNS`` (rows carrying them must agree).
    ``folds``: a walk-forward fold configuration for ``export.folds.walk_forward``; ``folds.json`` is then
    written beside the manifest (over the exported rows) and summarised in it.
    """
    fmts = _check_options(shard_by, formats, split)
    prov = _provenance(provenance)
    marked = _synthetic(synthetic)
    frame, columns = canonical_frame(rows, synthetic=marked)
    _check_row_ids(frame["row_id"])
    splits = assign_splits(frame, split)
    document = _fold_document(frame, splits, folds, split.embargo_days)  # a bad fold config fails before writing
    shards = shard_key(frame["timestamp"], shard_by)
    sink = open_sink(out_dir, marker=MANIFEST_NAME)
    writer = ExportWriter(sink, fmts, shard_by)
    try:
        writer.add(frame, columns, splits.labels, shards)
        files = writer.close()
        return _finish(sink, frame, columns, splits, split, shards, shard_by, fmts, files, prov, marked, document)
    except BaseException:
        writer.abort()
        sink.abort()
        raise


def _light_frame(light: pd.DataFrame) -> pd.DataFrame:
    """``LIGHT_COLUMNS`` of ``light`` as ``canonical_frame`` normalises them (UTC ns timestamps, str symbols)."""
    out = {}
    for name in LIGHT_COLUMNS:
        series = light[name].reset_index(drop=True)
        if name == "asset_symbol":
            series = series.astype(object).where(series.notna(), None)
        elif isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.as_unit("ns")
        out[name] = series
    return pd.DataFrame(out)


def _shards_of(timestamps: pd.Series, shard_by: str) -> pd.Series:
    """``shard_key`` of many timestamps, computed once per distinct timestamp."""
    codes, uniques = pd.factorize(timestamps, sort=False)
    keys = shard_key(pd.Series(uniques), shard_by).to_numpy()
    return pd.Series(keys[codes], index=timestamps.index, dtype=object, name="shard")


@dataclass(frozen=True)
class StreamPlan:
    """What ``encode_chunk`` needs to encode a chunk as ``export_stream`` would: the split rules (``splits``
    without its per-row labels, so it travels to a worker cheaply), the formats in file order, ``shard_by``."""

    splits: Splits
    formats: list[str]
    shard_by: str
    synthetic: frozenset[str] = frozenset()
    """The symbols whose own price series is synthetic: ``encode_chunk``'s ``synthetic``."""


def plan_stream(
    light: pd.DataFrame,
    *,
    split: SplitConfig,
    shard_by: str = "year",
    formats: Iterable[str] = ("csv", "jsonl", "parquet"),
    synthetic: Collection[str],
) -> StreamPlan:
    """The plan ``export_stream(light, ..., split=split, shard_by=shard_by, formats=formats, synthetic=synthetic)``
    encodes its chunks by; raises what it would raise for these options and rows."""
    fmts = _check_options(shard_by, formats, split)
    marked = _synthetic(synthetic)
    frame = _light_frame(light)
    _check_row_ids(row_ids(frame["asset_symbol"], frame["timestamp"]))
    splits = assign_splits(frame, split)
    empty = splits.labels.iloc[:0]
    return StreamPlan(replace(splits, labels=empty, base=empty), fmts, shard_by, marked)


def encode_chunk(
    chunk: pd.DataFrame,
    splits: Splits,
    formats: list[str],
    shard_by: str,
    *,
    synthetic: Collection[str],
    first_row: int = 0,
    json_valid: bool = False,
) -> EncodedChunk:
    """A chunk of rows made canonical (``canonical_frame``: its errors name rows from ``first_row``; ``json_valid``
    as there; ``row_id`` and ``is_synthetic`` added from ``synthetic``, e.g. ``StreamPlan.synthetic``), labelled
    with its split and encoded for ``formats`` (``encode_parts``): what ``export_stream`` writes of it. Pure:
    ``export_stream`` takes its result from another process too."""
    texts: dict[str, pa.Array] = {}
    canonical, columns = canonical_frame(
        chunk, first_row=first_row, json_valid=json_valid, texts=texts, synthetic=_synthetic(synthetic)
    )
    return encode_parts(canonical, columns, label_rows(canonical, splits), formats, shard_by, texts=texts)


def export_stream(
    light: pd.DataFrame,
    chunks: Iterable[pd.DataFrame | EncodedChunk | ValueError | TypeError],
    out_dir: Path | str,
    *,
    split: SplitConfig,
    shard_by: str = "year",
    formats: Iterable[str] = ("csv", "jsonl", "parquet"),
    provenance: Callable[[], Mapping[str, object]],
    synthetic: Collection[str],
    json_valid: bool = False,
    folds: FoldConfig | None = None,
) -> ExportReport:
    """``export_training_set`` of the rows of ``chunks`` concatenated, holding one chunk at a time.

    ``light`` holds ``LIGHT_COLUMNS`` of every row of the chunks (in any order); each chunk's
    rows sort after the previous chunk's (``ORDER_BY``), as time-ordered partitions do.
    ``provenance`` is called once every chunk is consumed. The files, manifest, card and errors
    are ``export_training_set``'s: its errors are raised after the chunks are consumed (so an
    error the chunk iterator raises at its end comes first), in its order; only a chunk error
    (``canonical_frame``) is the first chunk's that has one.

    A chunk may come encoded already (``encode_chunk`` of it with ``assign_splits(light, split)``,
    the formats in file order, ``shard_by``, and the rows before it as ``first_row``), or as the
    error ``encode_chunk`` raised for it: how ``training_set`` encodes chunks in worker processes.
    ``json_valid``: every row of the chunks passed ``validate_rows`` (``canonical_frame``'s ``json_valid``).
    ``synthetic`` and ``folds``: as for ``export_training_set`` (an encoded chunk must have been encoded with the
    same ``synthetic``).
    """
    deferred: BaseException | None = None
    fmts: list[str] = []
    splits: Splits | None = None
    document: dict | None = None
    sink: Sink | None = None
    frame = _light_frame(light)
    marked: frozenset[str] = frozenset()
    try:
        fmts = _check_options(shard_by, formats, split)
        marked = _synthetic(synthetic)
    except (ValueError, TypeError) as exc:
        deferred = exc
    writer: ExportWriter | None = None
    chunk_error: BaseException | None = None
    late: BaseException | None = None  # raised after the chunk errors: the split's, then the sink's
    if deferred is None:
        try:
            _check_row_ids(row_ids(frame["asset_symbol"], frame["timestamp"]))
            splits = assign_splits(frame, split)
            document = _fold_document(frame, splits, folds, split.embargo_days)
            sink = open_sink(out_dir, marker=MANIFEST_NAME)
            writer = ExportWriter(sink, fmts, shard_by)
        except (ValueError, TypeError) as exc:
            late = exc
    try:
        written = 0
        for chunk in chunks:
            if writer is None or chunk_error is not None:
                continue  # consume the rest: the iterator may have its own error to raise at the end
            if isinstance(chunk, (ValueError, TypeError)):
                chunk_error = chunk
                continue
            assert splits is not None
            try:
                encoded = (
                    chunk
                    if isinstance(chunk, EncodedChunk)
                    else encode_chunk(
                        chunk, splits, fmts, shard_by, synthetic=marked, first_row=written, json_valid=json_valid
                    )
                )
            except (ValueError, TypeError) as exc:
                chunk_error = exc
                continue
            writer.add_encoded(encoded)
            written += encoded.rows
        prov = provenance()
        if deferred is not None:
            raise deferred
        prov = _provenance(prov)
        if chunk_error is not None:
            raise chunk_error
        if late is not None:
            raise late
        assert writer is not None and sink is not None and splits is not None
        if written != len(frame) or writer.columns is None:
            raise ValueError(f"the chunks hold {written} rows, the light frame {len(frame)}")
        files = writer.close()
        columns = writer.columns
        shards = _shards_of(frame["timestamp"], shard_by)
        return _finish(sink, frame, columns, splits, split, shards, shard_by, fmts, files, prov, marked, document)
    except BaseException:
        if writer is not None:
            writer.abort()
        if sink is not None:
            sink.abort()
        raise
