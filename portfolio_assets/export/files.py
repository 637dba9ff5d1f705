"""The data files of an export, written part by part: ``encode_parts`` and ``ExportWriter``.

Rows arrive in export order (``ORDER_BY``), one chunk at a time. ``encode_parts`` cuts a
chunk into its parts, one per split and shard, and encodes each for every format
(``encoders.PART_ENCODERS``: CSV and JSONL lines, the Arrow table of the Parquet rows); it is
pure, so it may run in another process, which hands the chunk over through shared memory
(``EncodedChunk`` pickled: ``shared``). ``ExportWriter`` appends each part to its
``<format>/<split>/<split>-<shard>`` file, opened at its first part (a CSV file with its header)
and closed (fsynced, its size and sha256 known) as soon as a later chunk starts a later shard.
A file's bytes are those ``encoders.WRITERS`` give the whole rows of its split and shard (Parquet
row groups are cut by ``encoders.ParquetStream``), so what is held is at most a chunk's encoded
parts and one Parquet row group per open file, never a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from portfolio_assets.export import encoders, shared
from portfolio_assets.export.encoders import FORMATS, ParquetStream, csv_header, json_keys, line_kinds, part_texts
from portfolio_assets.export.frame import ORDER_BY, Column
from portfolio_assets.export.lines import LineWriter
from portfolio_assets.export.manifest import ExportedFile
from portfolio_assets.export.shards import shard_key
from portfolio_assets.export.sink import Sink, StagedFile
from portfolio_assets.export.splits import SPLITS

__all__ = ["EncodedChunk", "EncodedPart", "ExportWriter", "encode_parts"]


@dataclass(frozen=True)
class EncodedPart:
    """The rows of one split and shard of a chunk, encoded for each format."""

    split: str
    shard: str
    rows: int
    data: dict[str, bytes | np.ndarray | pa.Table]
    """Format -> CSV lines (no header), JSONL lines (bytes, or a uint8 array), or the Arrow table of the Parquet
    rows."""


@dataclass(frozen=True)
class EncodedChunk:
    """A chunk of canonical rows, encoded: its columns, its first and last (timestamp, symbol), its parts.

    Pickled (a worker process hands it to the writing one), its lines and tables travel as shared memory
    (``shared``) where there is some: the receiver reads them in place."""

    columns: list[Column]
    rows: int
    first: tuple[pd.Timestamp, str] | None
    last: tuple[pd.Timestamp, str] | None
    parts: list[EncodedPart]
    lines: shared.Lease | None = field(default=None, repr=False, compare=False)
    """The lease every part's CSV / JSONL lines are views of."""

    def portable(self) -> tuple[object, ...]:
        """This chunk as plain bytes and Arrow tables, for another host (a Spark executor's result): no shared
        memory. ``EncodedChunk.from_portable`` rebuilds it."""
        parts = [
            (p.split, p.shard, p.rows, {f: v if isinstance(v, pa.Table) else bytes(v) for f, v in p.data.items()})
            for p in self.parts
        ]
        return self.columns, self.rows, self.first, self.last, parts

    @classmethod
    def from_portable(cls, data: tuple[object, ...]) -> EncodedChunk:
        """The chunk ``portable`` described."""
        columns, rows, first, last, parts = data
        return cls(columns, rows, first, last, [EncodedPart(*part) for part in parts])  # type: ignore[arg-type]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        refs: list[shared.SharedRef] = []
        lines = self.lines.share() if self.lines is not None else None
        if lines is not None:
            refs.append(lines)
        tables = _shared_tables([v for p in self.parts for v in p.data.values() if isinstance(v, pa.Table)], refs)
        parts = []
        for part in self.parts:
            data: dict[str, object] = {}
            for fmt, value in part.data.items():
                if isinstance(value, pa.Table):
                    data[fmt] = tables.pop(0)
                elif isinstance(value, np.ndarray) and lines is not None:
                    data[fmt] = ("lines", 0, self.lines.offset_of(value), len(value))  # type: ignore[union-attr]
                else:
                    data[fmt] = bytes(value)
            parts.append((part.split, part.shard, part.rows, data))
        return _received, (self.columns, self.rows, self.first, self.last, parts, refs)


def _shared_tables(tables: list[pa.Table], refs: list[shared.SharedRef]) -> list[object]:
    """Each table as Arrow IPC in one lease of the ``tables`` pool, shared and added to ``refs`` (the tables
    themselves if there is no shared memory)."""
    if not tables:
        return []
    sizes = []
    for table in tables:
        mock = pa.MockOutputStream()
        with pa.ipc.new_stream(mock, table.schema) as writer:
            writer.write_table(table)
        sizes.append(mock.size())
    lease = shared.lease("tables", sum(sizes))
    where = pa.FixedSizeBufferWriter(pa.py_buffer(lease.view()))
    for table in tables:
        with pa.ipc.new_stream(where, table.schema) as writer:
            writer.write_table(table)
    ref = lease.share()
    if ref is None:  # pragma: no cover - no shared memory here
        return list(tables)
    refs.append(ref)
    starts = np.cumsum([0, *sizes[:-1]]).tolist()
    return [("table", len(refs) - 1, start, size) for start, size in zip(starts, sizes, strict=True)]


def _received(
    columns: list[Column],
    rows: int,
    first: tuple[pd.Timestamp, str] | None,
    last: tuple[pd.Timestamp, str] | None,
    parts: list[tuple[str, str, int, dict[str, object]]],
    refs: list[shared.SharedRef],
) -> EncodedChunk:
    """An ``EncodedChunk`` unpickled: its shared lines and tables read in place."""
    buffers = [shared.mapped(ref) for ref in refs]
    received = []
    for split, shard, count, data in parts:
        values: dict[str, bytes | np.ndarray | pa.Table] = {}
        for fmt, value in data.items():
            if isinstance(value, tuple) and value[0] == "lines":
                _, k, start, size = value
                values[fmt] = np.frombuffer(buffers[k].slice(start, size), dtype=np.uint8)
            elif isinstance(value, tuple) and value[0] == "table":
                _, k, start, size = value
                values[fmt] = pa.ipc.open_stream(buffers[k].slice(start, size)).read_all()
            else:
                values[fmt] = value  # type: ignore[assignment]
        received.append(EncodedPart(split, shard, count, values))
    return EncodedChunk(columns, rows, first, last, received)


def encode_parts(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    labels: pd.Series,
    formats: Sequence[str],
    shard_by: str,
    shards: pd.Series | None = None,
    texts: Mapping[str, pa.Array] | None = None,
) -> EncodedChunk:
    """``frame`` (canonical, in export order) cut by split (``labels``: a split, or purged / embargoed) and
    shard (computed when not given), each part encoded for ``formats``; ``texts``: text columns of ``frame``
    already as Arrow strings (``canonical_frame(texts=)``)."""
    columns = list(columns)
    if frame.empty:
        return EncodedChunk(columns, 0, None, None, [])
    if shards is None:
        shards = shard_key(frame["timestamp"], shard_by)
    cuts = []  # (split, shard, the part's row numbers)
    for name in SPLITS:
        in_split = (labels == name).to_numpy()
        for shard in sorted(set(shards[in_split])):
            cuts.append((name, shard, np.flatnonzero(in_split & (shards == shard).to_numpy())))
    text_formats = [fmt for fmt in formats if fmt in ("csv", "jsonl")]
    lines = _LinesOf(frame, columns, cuts, text_formats, texts) if text_formats else None
    parts = []
    for name, shard, rows in cuts:
        data: dict[str, object] = {}
        for fmt in formats:
            if fmt == "parquet":
                whole = len(rows) == len(frame)
                part = frame if whole else frame.take(rows).reset_index(drop=True)
                strings = {name: array if whole else array.take(rows) for name, array in (texts or {}).items()}
                data[fmt] = encoders.arrow_table(part, columns, strings=strings)
            else:
                assert lines is not None
                data[fmt] = lines.pop()
        parts.append(EncodedPart(name, shard, len(rows), data))  # type: ignore[arg-type]
    ends = [(frame["timestamp"].iloc[i], frame["asset_symbol"].iloc[i]) for i in (0, -1)]
    return EncodedChunk(columns, len(frame), ends[0], ends[1], parts, lines.lease if lines is not None else None)


class _LinesOf:
    """The CSV / JSONL lines of every cut of ``frame``, in one buffer; ``pop`` hands them out in cut order, each
    cut's formats in ``formats``' order."""

    def __init__(
        self,
        frame: pd.DataFrame,
        columns: list[Column],
        cuts: list[tuple[str, str, np.ndarray]],
        formats: list[str],
        texts: Mapping[str, pa.Array] | None,
    ) -> None:
        writer = LineWriter(part_texts(frame, columns, texts), line_kinds(columns), json_keys(columns))
        lengths = {"csv": writer.csv_lengths, "jsonl": writer.json_lengths}
        sizes = [[int(lengths[fmt][rows].sum()) for fmt in formats] for _, _, rows in cuts]
        self.lease = shared.lease("lines", sum(map(sum, sizes)))
        self._buffer = self.lease.view()
        self._pieces: list[np.ndarray] = []
        at = 0
        for (_, _, rows), part_sizes in zip(cuts, sizes, strict=True):
            starts = dict(zip(formats, np.cumsum([at, *part_sizes[:-1]]).tolist(), strict=True))
            writer.write(rows, self._buffer, starts.get("csv"), starts.get("jsonl"))
            for size in part_sizes:
                self._pieces.append(self._buffer[at : at + size])
                at += size
        self._pieces.reverse()

    def pop(self) -> np.ndarray:
        return self._pieces.pop()


@dataclass
class _OpenFile:
    relative: str
    staged: StagedFile
    parquet: ParquetStream | None = None
    rows: int = 0


class ExportWriter:
    """Writes the data files of ``formats`` through ``sink`` from chunks of canonical rows in export order."""

    def __init__(self, sink: Sink, formats: Sequence[str], shard_by: str) -> None:
        self._sink = sink
        self._formats = list(formats)
        self._shard_by = shard_by
        self._columns: list[Column] | None = None
        self._open: dict[tuple[str, str, str], _OpenFile] = {}
        self._files: dict[tuple[str, str, str], ExportedFile] = {}
        self._last_key: tuple[pd.Timestamp, str] | None = None

    @property
    def formats(self) -> list[str]:
        """The formats written, in file order."""
        return list(self._formats)

    def add(
        self, frame: pd.DataFrame, columns: Sequence[Column], labels: pd.Series, shards: pd.Series | None = None
    ) -> None:
        """Write ``frame``'s exported rows (``labels``: their split, or purged / embargoed; ``shards``: their
        shard, computed when not given). ``frame`` is canonical (``canonical_frame``) and every row sorts
        after the rows added before."""
        self.add_encoded(encode_parts(frame, columns, labels, self._formats, self._shard_by, shards))

    def add_encoded(self, chunk: EncodedChunk) -> None:
        """Write a chunk ``encode_parts`` made (with this writer's formats and shard_by)."""
        if self._columns is None:
            self._columns = list(chunk.columns)
        elif list(chunk.columns) != self._columns:
            raise ValueError(
                f"a chunk's columns {[(c.name, c.kind) for c in chunk.columns]} differ from the first chunk's "
                f"{[(c.name, c.kind) for c in self._columns]}"
            )
        if chunk.first is None or chunk.last is None:
            return
        if self._last_key is not None and not chunk.first > self._last_key:
            raise ValueError(f"rows arrive out of {ORDER_BY} order: {chunk.first} after {self._last_key}")
        self._last_key = chunk.last
        if chunk.parts:
            earliest = min(part.shard for part in chunk.parts)
            for key in [k for k in self._open if k[2] < earliest]:
                self._close(key)  # rows come in time order: no later chunk reaches an earlier shard
        for part in chunk.parts:
            for fmt in self._formats:
                self._append(fmt, part)

    def _append(self, fmt: str, part: EncodedPart) -> None:
        key = (fmt, part.split, part.shard)
        file = self._open.get(key)
        if file is None:
            if key in self._files:
                raise ValueError(f"rows of {part.split} shard {part.shard} arrive after that shard's file was closed")
            relative = f"{fmt}/{part.split}/{part.split}-{part.shard}.{FORMATS[fmt]}"
            file = self._open[key] = _OpenFile(relative, self._sink.open(relative))
            if fmt == "csv":
                file.staged.write(csv_header(self._columns or []))
            elif fmt == "parquet":
                file.parquet = ParquetStream(file.staged, self._columns or [])  # type: ignore[arg-type]
        data = part.data[fmt]
        if file.parquet is not None:
            file.parquet.append_table(data)  # type: ignore[arg-type]
        else:
            file.staged.write(data)  # type: ignore[arg-type]
        file.rows += part.rows

    def _close(self, key: tuple[str, str, str]) -> None:
        file = self._open.pop(key)
        if file.parquet is not None:
            file.parquet.close()
        file.staged.close()
        fmt, split, shard = key
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
            if file.parquet is not None:
                file.parquet.discard()
            file.staged.close()
        self._open.clear()
