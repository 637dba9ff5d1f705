"""Durable local files: the one home of atomic writes, directory fsyncs and "is that writer alive"."""

from __future__ import annotations

import os
import resource
import socket
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (renames, new files) durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and fsync it (the caller makes it visible, e.g. by a rename)."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_atomically(path: Path, data: bytes, *, tmp_prefix: str = ".") -> None:
    """Replace ``path`` with ``data`` in one rename: readers see the old bytes or the new, never a part."""
    tmp = path.with_name(f"{tmp_prefix}{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write_durably(tmp, data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _pid_namespace() -> str:
    """This process's process-id namespace (its inode under /proc), "" where there is none to read."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def writer_identity() -> dict[str, object]:
    """Who writes: this process's id, its host and its process-id namespace (an in-flight record's content)."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "pidns": _pid_namespace()}


def local_writer(record: Mapping[str, object]) -> bool:
    """Whether the writer a ``writer_identity`` record names shares this process's process ids (same host, same
    namespace), so that ``process_alive`` of its pid tells whether it runs. Two containers may share a host name
    but not their process ids; a record without a namespace (older code) is judged by its host alone."""
    if str(record.get("host")) != socket.gethostname():
        return False
    return str(record.get("pidns", _pid_namespace())) == _pid_namespace()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (one owned by another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def peak_rss() -> int:
    """This process's peak RSS in bytes: ``VmHWM`` on Linux (``ru_maxrss`` survives ``exec``, so a spawned
    child's would include its parent's memory at the fork), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
