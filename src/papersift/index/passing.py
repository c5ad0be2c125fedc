"""Passing sets kept per filter: the keys of the papers a filter lets through, listed once.

Filters repeat across searches far more than queries do ("this week", a category, an organisation),
and listing 100K keys from tantivy costs ~70 ms at 1M papers, so the dense leg's filtered plans reuse
them. An entry lives until the index commits here (``clear``) or for ``ttl`` seconds, which bounds how
long a commit made by another process goes unseen.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Hashable

import numpy as np


class PassingSets:
    def __init__(self, size: int = 64, ttl: float = 60.0):
        self.size, self.ttl = size, ttl  # 64 x 100K keys = 51 MB at most
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[int, float, np.ndarray]] = {}
        self._generation = 0

    def get(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        now = time.monotonic()
        with self._lock:
            generation = self._generation
            hit = self._entries.get(key)
            if hit is not None and hit[0] == generation and now - hit[1] < self.ttl:
                return hit[2]
        keys = compute()
        keys.setflags(write=False)  # shared by every search that hits the entry
        with self._lock:
            if generation == self._generation:  # not cleared while listing
                if len(self._entries) >= self.size:
                    self._entries.pop(next(iter(self._entries)))  # the oldest
                self._entries[key] = (generation, now, keys)
        return keys

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
