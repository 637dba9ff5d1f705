"""Where an export's files go: the ``Sink`` interface and ``LocalSink``, an atomic directory swap.

A sink receives every file of one export (``write``), then publishes them all at
once (``commit``) or discards them (``abort``); a reader never sees a partial
export. ``LocalSink`` writes everything into a hidden sibling directory, which
then replaces ``out_dir`` in one ``renameat2(RENAME_EXCHANGE)`` (Linux; elsewhere
two renames, rolled back on failure) and the previous export is removed. A
failure before that leaves the previous export untouched.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import io
import mmap
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from portfolio_assets.fsutil import fsync_dir, write_durably

__all__ = ["LocalSink", "Sink", "StagedFile", "open_sink"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class Sink(Protocol):
    """Receives the files of one export and publishes them together (``LocalSink``; ``s3sink.S3Sink``)."""

    @property
    def out_dir(self) -> Path:
        """Where the published export is (a ``Path``, or an ``S3Location``)."""
        ...

    def write(self, relative_path: str, data: bytes) -> None:
        """Stage ``data`` as the file ``relative_path`` (POSIX, relative to the export's root)."""
        ...

    def open(self, relative_path: str) -> StagedFile:
        """A staged file to write in parts, at ``relative_path``."""
        ...

    def commit(self) -> None:
        """Publish every staged file at once, replacing the previous export."""
        ...

    def abort(self) -> None:
        """Discard every staged file; the previous export stays as it was."""
        ...


class LocalSink:
    """An export directory on the local file system, replaced atomically on ``commit``.

    Creating one checks that ``out_dir`` may be replaced (absent, empty, or holding
    ``marker``, the file every export has, so it is a previous export) and creates the
    staging directory beside it. A file written in parts (``open``) is fsynced in a background
    thread once closed, so the writer goes on meanwhile; ``commit`` waits for every fsync first.
    """

    def __init__(self, out_dir: Path | str, *, marker: str) -> None:
        self.out_dir = Path(out_dir)
        _check_target(self.out_dir, marker)
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.staging = self.out_dir.with_name(f".{self.out_dir.name}.staging-{uuid.uuid4().hex[:12]}")
        self.staging.mkdir()
        self._syncer: ThreadPoolExecutor | None = None
        self._syncing: list[Future[None]] = []

    def write(self, relative_path: str, data: bytes) -> None:
        """Write ``data`` to ``relative_path`` under the staging directory (fsynced).

        The path must stay inside the export: an absolute path, ``..`` or an empty part is refused.
        """
        _write_file(self._staged(relative_path), data)

    def open(self, relative_path: str) -> StagedFile:
        """A file at ``relative_path`` under the staging directory to write in parts (``write``'s path rules);
        closing it fsyncs it (in the background: ``commit`` waits). It counts and hashes what is written."""
        path = self._staged(relative_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return StagedFile(path, sync=self._sync_later)

    def _sync_later(self, handle: BinaryIO) -> None:
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-fsync")
        self._syncing.append(self._syncer.submit(_sync_and_close, handle))

    def _synced(self) -> None:
        """Wait for every background fsync; raise the first one's error."""
        pending, self._syncing = self._syncing, []
        errors = [future.exception() for future in pending]
        if self._syncer is not None:
            self._syncer.shutdown()
            self._syncer = None
        for error in errors:
            if error is not None:
                raise error

    def _staged(self, relative_path: str) -> Path:
        parts = PurePosixPath(relative_path).parts
        if not parts or PurePosixPath(relative_path).is_absolute() or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"export file {relative_path!r}: not a relative path inside the export directory")
        return self.staging.joinpath(*parts)

    def commit(self) -> None:
        """Swap the staging directory in at ``out_dir`` once every staged file is fsynced; the previous export
        is removed."""
        self._synced()
        _replace_dir(self.staging, self.out_dir)

    def abort(self) -> None:
        """Remove the staging directory."""
        with contextlib.suppress(OSError, ValueError):  # the files are discarded anyway
            self._synced()
        shutil.rmtree(self.staging, ignore_errors=True)


def open_sink(out_dir: Path | str, *, marker: str) -> Sink:
    """The sink of ``out_dir``: ``S3Sink`` for an ``objectstore.S3Location``, else ``LocalSink``."""
    if getattr(out_dir, "scheme", None) == "s3":
        from portfolio_assets.export.s3sink import S3Sink

        return S3Sink(out_dir, marker=marker)  # type: ignore[arg-type]
    return LocalSink(out_dir, marker=marker)


def _sync_and_close(handle: BinaryIO) -> None:
    try:
        os.fsync(handle.fileno())
    finally:
        handle.close()


_DIRECT = getattr(os, "O_DIRECT", 0)
_BLOCK = 4096  # what O_DIRECT writes align to: a multiple of every device's logical block size
_DIRECT_BUFFER = 8 << 20


class StagedFile:
    """A staged file written in parts: its size and sha256 as written; ``close`` fsyncs it (idempotent), or
    flushes it and hands it to ``sync`` (which fsyncs and closes it) when given.

    Where the file system allows it (Linux ``O_DIRECT``), the bytes go to the disk without the page cache:
    they are gathered in an aligned buffer and written a whole buffer at a time, the last block padded and
    the file then cut to its size. The kernel then neither copies them into new cache pages nor reclaims
    others for them, which cost more CPU than everything else the writer does with a byte but the hash."""

    def __init__(self, path: Path, *, sync: Callable[[BinaryIO], None] | None = None) -> None:
        self.path = path
        self._buffer: mmap.mmap | None = None
        self._filled = 0
        handle = _open_direct(path)
        if handle is not None:
            self._buffer = mmap.mmap(-1, _DIRECT_BUFFER)  # page-aligned
        self._handle: BinaryIO = handle if handle is not None else open(path, "wb")  # noqa: SIM115 - close()
        self._hash = hashlib.sha256()
        self._sync = sync
        self._closed = False
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data``."""
        if self._buffer is None:
            self._handle.write(data)
        else:
            self._gather(memoryview(data).cast("B"))
        self._hash.update(data)
        self.size += len(data)
        return len(data)

    def _gather(self, data: memoryview) -> None:
        assert self._buffer is not None
        while len(data):
            take = min(len(data), _DIRECT_BUFFER - self._filled)
            self._buffer[self._filled : self._filled + take] = data[:take]
            self._filled += take
            data = data[take:]
            if self._filled == _DIRECT_BUFFER:
                self._write_buffer(_DIRECT_BUFFER)
                self._filled = 0

    def _write_buffer(self, size: int) -> None:
        assert self._buffer is not None
        view = memoryview(self._buffer)[:size]
        try:
            while len(view):
                try:
                    view = view[self._handle.write(view) or 0 :]
                except OSError as exc:  # a file system that opens O_DIRECT but refuses its writes
                    if exc.errno != errno.EINVAL or not _direct(self._handle):
                        raise
                    fd = self._handle.fileno()
                    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_DIRECT)
        finally:
            view.release()

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        """Flush the file object (what an ``O_DIRECT`` buffer holds is written at ``close``)."""
        self._handle.flush()

    @property
    def closed(self) -> bool:
        return self._closed or self._handle.closed

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        """Flush, then fsync and close (here, or through ``sync``)."""
        if self.closed:
            return
        self._closed = True
        try:
            self._handle.flush()
            if self._buffer is not None:
                if self._filled:
                    padded = -(-self._filled // _BLOCK) * _BLOCK
                    self._buffer[self._filled : padded] = bytes(padded - self._filled)
                    self._write_buffer(padded)
                    os.ftruncate(self._handle.fileno(), self.size)
                self._buffer.close()
        except BaseException:
            self._handle.close()
            raise
        if self._sync is not None:
            self._sync(self._handle)
        else:
            _sync_and_close(self._handle)

    @property
    def sha256(self) -> str:
        """The hex sha256 of the bytes written so far."""
        return self._hash.hexdigest()


def _direct(handle: BinaryIO) -> bool:
    return bool(fcntl.fcntl(handle.fileno(), fcntl.F_GETFL) & _DIRECT)


def _open_direct(path: Path) -> BinaryIO | None:
    """``path`` created for unbuffered ``O_DIRECT`` writes; None where the platform or file system has none."""
    if not _DIRECT or not sys.platform.startswith("linux"):
        return None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | _DIRECT, 0o666)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise
    return io.FileIO(fd, "wb", closefd=True)  # type: ignore[return-value]


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_durably(path, data)


@cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported here."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"cannot swap {a} and {b}: {os.strerror(code)}")


def _replace_dir(new: Path, target: Path) -> None:
    """Put directory ``new`` at ``target`` in one rename; the previous ``target`` (if any) is removed after."""
    if not target.exists():
        os.rename(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous export
    else:
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:12]}")
        os.rename(target, old)
        try:
            os.rename(new, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)


def _check_target(out_dir: Path, marker: str) -> None:
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise ValueError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / marker).is_file():
        raise ValueError(
            f"refusing to replace {out_dir}: it is not empty and has no {marker}, so it is not a previous export"
        )
