"""The resident memory of a process tree over time (Linux ``/proc``): when it peaks and who holds it.

Each process counts its proportional set size (PSS, ``/proc/<pid>/smaps_rollup``): a page shared by n
processes (a forked child's copy-on-write pages, shared libraries) counts 1/n in each, so the sum is the
memory the tree holds, not the sum of resident sets, which counts a fork's shared pages once per process.
Where ``smaps_rollup`` is unreadable, the resident set (``statm``) is the fallback."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


class TreeMemory:
    """Samples the memory (PSS) of this process and every process below it every ``interval`` seconds.

    ``peak`` is the largest sum seen, in bytes (0 where ``/proc`` is missing); ``peak_at`` the seconds from
    the start when it was seen; ``peak_processes`` each process's bytes at that moment, largest first, as
    (pid, parent pid, bytes).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self.peak_at = 0.0
        self.peak_processes: list[tuple[int, int, int]] = []
        self._started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    @staticmethod
    def _children(pid: int) -> list[int]:
        found: list[int] = []
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                found += [int(c) for c in task.read_text().split()]
            except (OSError, ValueError):
                continue
        return found

    def _resident(self, pid: int) -> int:
        """The process's PSS in bytes (its resident set where ``smaps_rollup`` is unreadable; 0 once it ended)."""
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        try:
            return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page
        except (OSError, ValueError, IndexError):
            return 0  # the process ended between the listing and the read

    def processes(self) -> list[tuple[int, int, int]]:
        """(pid, parent pid, PSS bytes) of every process of the tree now (each once), largest first."""
        found: dict[int, tuple[int, int, int]] = {}
        todo = [(os.getpid(), os.getppid())]
        while todo:
            pid, parent = todo.pop()
            if pid not in found:
                found[pid] = (pid, parent, self._resident(pid))
                todo += [(child, pid) for child in self._children(pid)]
        return sorted(found.values(), key=lambda p: -p[2])

    def sample(self) -> int:
        """The PSS bytes of this process tree now: the memory it holds."""
        return sum(rss for *_, rss in self.processes())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            processes = self.processes()
            total = sum(rss for *_, rss in processes)
            if total > self.peak:
                self.peak, self.peak_at, self.peak_processes = total, time.perf_counter() - self._started, processes

    def __enter__(self) -> TreeMemory:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
