"""Export of the training set: time-ordered splits with purge and embargo, date shards, CSV / JSONL / Parquet.

Pure (no Dagster) and deterministic: the same rows, split and provenance give
byte-identical files, manifest and dataset card.

Layout of an export directory::

    <out_dir>/manifest.json                      rows, splits, boundaries, files (sha256), schema, provenance
    <out_dir>/README.md                          Hugging Face dataset card (YAML front matter + sections)
    <out_dir>/columns.json                       every column's type, unit, definition, when known (columns_doc)
    <out_dir>/folds.json                         walk-forward folds by row_id, when asked for (export.folds)
    <out_dir>/<format>/README.md                 a card whose config loads that format (Hugging Face infers
                                                 one builder per dataset directory, so formats cannot share one)
    <out_dir>/<format>/<split>/<split>-<shard>.<ext>

``format`` is ``csv``, ``jsonl`` or ``parquet``; ``split`` is ``train``,
``validation`` or ``test``; ``shard`` is the rows' UTC year (``2010``), quarter
(``2010Q1``) or month (``2010-01``). Every format holds the same rows in the
same order (``timestamp``, ``asset_symbol``) with the same columns
(``columns.SFT_COLUMNS``, then ``row_id`` and ``is_synthetic`` (``rowid``), then any extra column, e.g.
``messages``: message lists are real lists in JSONL and Parquet, JSON text in CSV; ``messages``).

One module per concept: ``splits`` (purge and embargo), ``shards``, ``frame``
(the canonical, validated rows), ``rowid``, ``messages``, ``encoders`` (the byte formats), ``manifest``,
``card`` (with ``recipes``), ``columns_doc``, ``provenance``, ``sink`` (where the files go, atomically), ``exporter``
(``export_training_set``) and ``readback``.
"""

from portfolio_assets.export.encoders import CSV_READ_OPTIONS, FORMATS
from portfolio_assets.export.exporter import ExportReport, export_training_set
from portfolio_assets.export.manifest import ExportedFile
from portfolio_assets.export.provenance import sample_sources
from portfolio_assets.export.readback import read_export, read_export_file
from portfolio_assets.export.rowid import row_ids, synthetic_symbols
from portfolio_assets.export.shards import SHARD_BY, shard_key
from portfolio_assets.export.splits import LABELS, SPLITS, SplitConfig, Splits, assign_splits

__all__ = [
    "CSV_READ_OPTIONS",
    "FORMATS",
    "LABELS",
    "SHARD_BY",
    "SPLITS",
    "ExportReport",
    "ExportedFile",
    "SplitConfig",
    "Splits",
    "assign_splits",
    "export_training_set",
    "read_export",
    "read_export_file",
    "row_ids",
    "sample_sources",
    "shard_key",
    "synthetic_symbols",
]
