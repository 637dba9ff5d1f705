"""The data files of an export, written part by part: ``ExportWriter``.

Rows arrive in export order (``ORDER_BY``), one chunk at a time; each chunk's rows go
to their ``<format>/<split>/<split>-<shard>`` file, opened at its first row and closed
(fsynced, its size and sha256 known) as soon as a later chunk starts a later shard. A
file's bytes are those ``encoders.WRITERS`` give the whole rows of its split and shard:
a file of one part is written by them; a file of several parts is appended part by part
(CSV / JSONL lines, Parquet row groups: ``encoders.ParquetStream``), so what is held is
at most the previous chunk's part and one Parquet row group per open file, never a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from portfolio_assets.export import encoders
from portfolio_assets.export.encoders import FORMATS, ParquetStream, csv_lines, part_texts
from portfolio_assets.export.frame import ORDER_BY, Column
from portfolio_assets.export.manifest import ExportedFile
from portfolio_assets.export.shards import shard_key
from portfolio_assets.export.sink import LocalSink, StagedFile
from portfolio_assets.export.splits import SPLITS

__all__ = ["ExportWriter"]


@dataclass
class _Part:
    """The rows of one split and shard of a chunk, with the column texts CSV and JSONL share (made once)."""

    frame: pd.DataFrame
    columns: Sequence[Column]
    _texts: list[pa.Array] | None = field(default=None, repr=False)

    def texts(self) -> list[pa.Array]:
        if self._texts is None:
            self._texts = part_texts(self.frame, self.columns)
        return self._texts


@dataclass
class _OpenFile:
    relative: str
    staged: StagedFile
    first: _Part | None = None
    """The first part, held unencoded until a second comes: a file of one part is ``WRITERS``' bytes of it."""
    parquet: ParquetStream | None = None
    rows: int = 0


def _whole(fmt: str, part: _Part) -> bytes:
    """``WRITERS[fmt]``' bytes of ``part`` (the text formats get the texts they share)."""
    if fmt == "parquet":
        return encoders.WRITERS[fmt](part.frame, part.columns)
    return encoders.WRITERS[fmt](part.frame, part.columns, part.texts())


class ExportWriter:
    """Writes the data files of ``formats`` through ``sink`` from chunks of canonical rows in export order."""

    def __init__(self, sink: LocalSink, formats: Sequence[str], shard_by: str) -> None:
        self._sink = sink
        self._formats = list(formats)
        self._shard_by = shard_by
        self._columns: list[Column] | None = None
        self._open: dict[tuple[str, str, str], _OpenFile] = {}
        self._files: dict[tuple[str, str, str], ExportedFile] = {}
        self._last_key: tuple[pd.Timestamp, str] | None = None

    def add(
        self, frame: pd.DataFrame, columns: Sequence[Column], labels: pd.Series, shards: pd.Series | None = None
    ) -> None:
        """Write ``frame``'s exported rows (``labels``: their split, or purged / embargoed; ``shards``: their
        shard, computed when not given). ``frame`` is canonical (``canonical_frame``) and every row sorts
        after the rows added before."""
        if self._columns is None:
            self._columns = list(columns)
        elif list(columns) != self._columns:
            raise ValueError(
                f"a chunk's columns {[(c.name, c.kind) for c in columns]} differ from the first chunk's "
                f"{[(c.name, c.kind) for c in self._columns]}"
            )
        if frame.empty:
            return
        first = (frame["timestamp"].iloc[0], frame["asset_symbol"].iloc[0])
        if self._last_key is not None and not first > self._last_key:
            raise ValueError(f"rows arrive out of {ORDER_BY} order: {first} after {self._last_key}")
        self._last_key = (frame["timestamp"].iloc[-1], frame["asset_symbol"].iloc[-1])
        if shards is None:
            shards = shard_key(frame["timestamp"], self._shard_by)
        earliest = min(shards)
        for key in [k for k in self._open if k[2] < earliest]:
            self._close(key)  # rows come in time order: no later chunk reaches an earlier shard
        for name in SPLITS:
            in_split = (labels == name).to_numpy()
            for shard in sorted(set(shards[in_split])):
                part = _Part(frame[in_split & (shards == shard).to_numpy()].reset_index(drop=True), self._columns)
                for fmt in self._formats:
                    self._append(fmt, name, shard, part)

    def _append(self, fmt: str, split: str, shard: str, part: _Part) -> None:
        key = (fmt, split, shard)
        file = self._open.get(key)
        if file is None:
            if key in self._files:
                raise ValueError(f"rows of {split} shard {shard} arrive after that shard's file was closed")
            relative = f"{fmt}/{split}/{split}-{shard}.{FORMATS[fmt]}"
            self._open[key] = _OpenFile(relative, self._sink.open(relative), first=part, rows=len(part.frame))
            return
        if file.first is not None:
            self._encode(fmt, file, file.first, first=True)
            file.first = None
        self._encode(fmt, file, part, first=False)
        file.rows += len(part.frame)

    def _encode(self, fmt: str, file: _OpenFile, part: _Part, *, first: bool) -> None:
        """Write ``part`` to a file of several parts: the same bytes as its parts encoded at once."""
        columns = self._columns
        assert columns is not None
        if fmt == "parquet":
            if file.parquet is None:
                file.parquet = ParquetStream(file.staged, columns)  # type: ignore[arg-type]
            file.parquet.append(part.frame)
        elif fmt == "csv" and not first:
            file.staged.write(csv_lines(part.frame, columns, part.texts()))  # the header came with the first part
        else:
            file.staged.write(_whole(fmt, part))

    def _close(self, key: tuple[str, str, str]) -> None:
        file = self._open.pop(key)
        fmt = key[0]
        if file.first is not None:
            file.staged.write(_whole(fmt, file.first))
        elif file.parquet is not None:
            file.parquet.close()
        file.staged.close()
        _, split, shard = key
        self._files[key] = ExportedFile(
            path=file.relative,
            format=fmt,
            split=split,
            shard=shard,
            rows=file.rows,
            bytes=file.staged.size,
            sha256=file.staged.sha256,
        )

    @property
    def columns(self) -> list[Column] | None:
        """The columns of the rows added (None before the first chunk)."""
        return self._columns

    def close(self) -> list[ExportedFile]:
        """Close every open file; every file written, by format, split and shard (the manifest's order)."""
        for key in list(self._open):
            self._close(key)
        order = {fmt: i for i, fmt in enumerate(FORMATS)}
        keys = sorted(self._files, key=lambda k: (order[k[0]], SPLITS.index(k[1]), k[2]))
        return [self._files[k] for k in keys]

    def abort(self) -> None:
        """Close every open file without recording it (the sink discards them)."""
        for file in self._open.values():
            file.staged.close()
        self._open.clear()
