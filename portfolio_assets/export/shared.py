"""Reusable shared memory for encoded chunks: a worker process encodes into it, the writing process reads it.

Encoding a chunk writes some hundred megabytes; pickling them through a pipe to the process
that writes the files copied them three times and faulted every page in afresh in both
processes (new memory costs several times a copy here). Instead, ``lease(pool, size)`` hands
out a region of a memory file (``memfd``) this process keeps and reuses, and ``Lease.share()``
makes it picklable as a reference: the receiver maps the same memory (the file descriptor
travels through ``multiprocessing``'s resource sharer) and reads it in place.

A segment holds one lease at a time. Its first word tells whose it is: ``FREE``, ``LOCAL``
(this process's views use it) or ``SHARED`` (another process's views do). A lease is released
when the last view of it is gone (local views: ``LOCAL`` -> ``FREE``; the receiver's views:
``SHARED`` -> ``FREE``); only a ``FREE`` segment is leased again. Where ``memfd`` is missing,
segments are private memory and ``share()`` returns None (the caller pickles the bytes).
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from multiprocessing import reduction

import numpy as np
import pyarrow as pa

__all__ = ["Lease", "SharedRef", "lease", "mapped", "view"]

FREE, LOCAL, SHARED = 0, 1, 2
_HEADER = 64  # the state word, then the data (64-byte aligned, as Arrow likes its buffers)
_ROUND = 1 << 21
_FREE_KEPT = 2  # free segments a pool keeps; more are closed


class _Segment:
    """A memory file mapped in this process (or private memory): the state word, then ``capacity`` bytes."""

    serials = 0

    def __init__(self, capacity: int) -> None:
        _Segment.serials += 1
        self.serial = _Segment.serials
        self.capacity = capacity
        self.fd: int | None = None
        if hasattr(os, "memfd_create"):
            self.fd = os.memfd_create("portfolio-export", getattr(os, "MFD_CLOEXEC", 0))
            os.ftruncate(self.fd, _HEADER + capacity)
            self.map = mmap.mmap(self.fd, _HEADER + capacity)
        else:  # pragma: no cover - not Linux
            self.map = mmap.mmap(-1, _HEADER + capacity)
        self.state = np.frombuffer(self.map, dtype=np.int64, count=1)
        self.address = np.frombuffer(self.map, dtype=np.uint8).ctypes.data + _HEADER

    def close(self) -> None:
        del self.state
        self.map.close()
        if self.fd is not None:
            os.close(self.fd)


class Lease:
    """A region of ``size`` bytes of a segment, this process's; ``view()`` is it (uint8). The segment is free
    again once the lease and every view are gone (and, once shared, the receiver's views too)."""

    def __init__(self, segment: _Segment, size: int) -> None:
        self._segment = segment
        self.size = size
        segment.state[0] = LOCAL
        weakref.finalize(self, _release, segment, LOCAL)

    @property
    def __array_interface__(self) -> dict[str, object]:  # numpy keeps the lease as the array's base
        return {"data": (self._segment.address, False), "shape": (self.size,), "typestr": "|u1", "version": 3}

    def view(self) -> np.ndarray:
        """The region as a writable uint8 array (which holds the lease)."""
        return np.asarray(self)

    def offset_of(self, array: np.ndarray) -> int:
        """Where ``array`` (a view of this lease) starts in it."""
        start = array.ctypes.data - self._segment.address
        if not 0 <= start <= start + array.nbytes <= self.size:
            raise ValueError("the array is not a view of this lease")
        return start

    def share(self) -> SharedRef | None:
        """A picklable reference to the region (None: no shared memory here); the receiver's views now hold it."""
        segment = self._segment
        if segment.fd is None:  # pragma: no cover - not Linux
            return None
        if segment.state[0] != LOCAL:
            raise ValueError("a lease of shared memory is handed over once")
        segment.state[0] = SHARED
        return SharedRef(os.getpid(), segment.serial, segment.capacity, self.size, reduction.DupFd(segment.fd))


def _release(segment: _Segment, holder: int) -> None:
    if segment.map.closed:
        return
    if segment.state[0] == holder:
        segment.state[0] = FREE


class _Pool:
    def __init__(self) -> None:
        self.segments: list[_Segment] = []

    def lease(self, size: int) -> Lease:
        free = [s for s in self.segments if s.state[0] == FREE]
        fitting = [s for s in free if s.capacity >= size]
        if fitting:
            chosen = min(fitting, key=lambda s: s.capacity)
        else:
            chosen = _Segment(-(-(size + size // 4) // _ROUND) * _ROUND)
            self.segments.append(chosen)
            free = [s for s in free if s.capacity < size]
        for extra in sorted((s for s in free if s is not chosen), key=lambda s: s.capacity)[: -_FREE_KEPT or None]:
            self.segments.remove(extra)  # too many free segments: give the smallest back
            extra.close()
        return Lease(chosen, size)


_POOLS: dict[str, _Pool] = {}
_LOCK = threading.Lock()


def _forget_pools() -> None:  # pragma: no cover - a forked child must not lease its parent's segments
    _POOLS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def lease(pool: str, size: int) -> Lease:
    """``size`` bytes of a free segment of this process's ``pool`` (a new segment if none fits); pools keep
    apart what is released at different times (e.g. lines, written at once; tables, held for a row group)."""
    with _LOCK:
        return _POOLS.setdefault(pool, _Pool()).lease(size)


class SharedRef:
    """A lease as another process receives it: ``mapped`` reads it in place."""

    def __init__(self, pid: int, serial: int, capacity: int, size: int, fd: object) -> None:
        self.pid, self.serial, self.capacity, self.size, self.fd = pid, serial, capacity, size, fd


class _Mapping:
    """A segment of another process mapped here; sets its state to ``FREE`` when the last view is gone."""

    def __init__(self, ref: SharedRef) -> None:
        fd = ref.fd.detach()  # type: ignore[attr-defined]
        try:
            self.map = mmap.mmap(fd, _HEADER + ref.capacity)
        finally:
            os.close(fd)
        self.state = np.frombuffer(self.map, dtype=np.int64, count=1)
        self.address = np.frombuffer(self.map, dtype=np.uint8).ctypes.data + _HEADER


class _Received:
    """Holds a received lease: its views keep it, and it frees the segment when they are gone."""

    def __init__(self, mapping: _Mapping) -> None:
        self.mapping = mapping
        weakref.finalize(self, _release, mapping, SHARED)


def mapped(ref: SharedRef) -> pa.Buffer:
    """The bytes of a received lease, in place (the segment is the sender's again once the buffer and every
    view of it are gone)."""
    mapping = _Mapping(ref)
    return pa.foreign_buffer(mapping.address, ref.size, base=_Received(mapping))


def view(buffer: pa.Buffer) -> np.ndarray:
    """A uint8 array of ``buffer`` (holding it)."""
    return np.frombuffer(buffer, dtype=np.uint8)
