"""Passing sets kept per filter: the keys of the papers a filter lets through, listed once.

Filters repeat across searches far more than queries do ("this week", a category, an organisation),
and listing 100K keys from tantivy costs ~70 ms at 1M papers, so the dense leg's filtered plans reuse
them; and the dense leg asks how many pass before it picks a plan (a tantivy count: ~7 ms for a
category and a date range at 1M), so counts are kept too. An entry lives until the index commits
here (``clear``) or for ``ttl`` seconds, which bounds how long another process's commit goes unseen.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Callable, Hashable

import numpy as np

from papersift.query import Filters, ParsedQuery


def filter_key(q: ParsedQuery, filters: Filters | None) -> tuple[str, str]:
    """What decides a passing set: the query's required parts and the filters, not its free terms."""
    return repr(replace(q, terms=[])), repr(filters)


class PassingSets:
    def __init__(self, size: int = 64, ttl: float = 60.0):
        self.size, self.ttl = size, ttl  # 64 x 100K keys = 51 MB at most
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[int, float, np.ndarray]] = {}
        self._counts: dict[Hashable, tuple[int, float, int]] = {}
        self._generation = 0

    def get(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The passing keys of the filter ``key``, listed by ``compute`` when not kept."""
        def listed() -> np.ndarray:
            keys = compute()
            keys.setflags(write=False)  # shared by every search that hits the entry
            return keys
        return self._lookup(self._entries, key, listed)

    def count(self, key: Hashable, compute: Callable[[], int]) -> int:
        """How many pass the filter ``key``: the kept set's length, a kept count, or ``compute()``."""
        with self._lock:
            keys = self._fresh(self._entries, key, time.monotonic())
        return len(keys) if keys is not None else self._lookup(self._counts, key, compute)

    def _fresh(self, table: dict, key: Hashable, now: float):
        hit = table.get(key)
        if hit is not None and hit[0] == self._generation and now - hit[1] < self.ttl:
            return hit[2]
        return None

    def _lookup(self, table: dict, key: Hashable, compute: Callable):
        now = time.monotonic()
        with self._lock:
            generation = self._generation
            value = self._fresh(table, key, now)
        if value is not None:
            return value
        value = compute()
        with self._lock:
            if generation == self._generation:  # not cleared while computing
                if len(table) >= self.size:
                    table.pop(next(iter(table)))  # the oldest
                table[key] = (generation, now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._counts.clear()
