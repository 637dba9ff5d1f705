"""A per-process cache bounded by bytes: the one home of "derive once per process, keep while the inputs stay"."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class BytesLRU:
    """Values by name, each served only while its ``key`` (what it was made from) is unchanged.

    At most ``limit`` bytes (as the caller sizes each value) are held; the least recently used go first, and a
    value larger than the limit is not kept. A name whose key changed is dropped, never served.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._entries: OrderedDict[Hashable, tuple[Hashable, Any, int]] = OrderedDict()

    def get(self, name: Hashable, key: Hashable) -> Any | None:
        """The value stored under ``name`` for ``key``, or None (a stale one is dropped)."""
        found = self._entries.get(name)
        if found is None:
            return None
        if found[0] != key:
            self.held -= self._entries.pop(name)[2]
            return None
        self._entries.move_to_end(name)
        return found[1]

    def put(self, name: Hashable, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value`` under ``name`` for ``key`` (``size`` bytes), then evict down to the limit."""
        if name in self._entries:
            self.held -= self._entries.pop(name)[2]
        if size > self.limit:
            return
        self._entries[name] = (key, value, size)
        self.held += size
        while self.held > self.limit:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self.held -= dropped

    def sizes(self) -> list[int]:
        """The size of every value held."""
        return [size for _, _, size in self._entries.values()]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self.held = 0
