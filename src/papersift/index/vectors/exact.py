"""`ExactVectorIndex`, cosine search in RAM: the reference vector index.

Brute force, recall 1.0, filled from the store at start-up; benchmarks and tests compare the graph
index (:mod:`papersift.index.vectors.hnsw`) with it.
"""

from __future__ import annotations

import threading
from typing import Iterable

import numpy as np

from papersift.ids import paper_key


class ExactVectorIndex:
    """Brute-force cosine over a matrix that grows by doubling; recall 1.0."""

    def __init__(self, dim: int):
        self.dim = dim
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._size = 0  # rows in use; the matrix grows by doubling
        self._live = np.zeros(0, dtype=bool)
        self._keys = np.zeros(0, dtype=np.int64)  # paper_key of each row's id
        # the server embeds new papers in a background thread while requests search
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, paper_id: str) -> bool:
        return paper_id in self._row

    def add(self, ids: Iterable[str], vectors: np.ndarray) -> None:
        """Upsert rows; ``vectors`` must be L2-normalised float32 ``[n, dim]``."""
        with self._lock:
            self._add(list(ids), vectors)

    def _add(self, ids: list[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        fresh = [i for i, pid in enumerate(ids) if pid not in self._row]
        self._reserve(self._size + len(fresh))
        for i, pid in enumerate(ids):
            row = self._row.get(pid)
            if row is None:
                row = self._size
                self._size += 1
                self._row[pid] = row
                self._ids.append(pid)
                self._keys[row] = paper_key(pid)  # hashed once, not on every filtered search
            self._matrix[row] = vectors[i]
            self._live[row] = True

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._matrix):
            return
        capacity = max(rows, 2 * len(self._matrix), 1024)
        grown = np.zeros((capacity, self.dim), dtype=np.float32)
        grown[: self._size] = self._matrix[: self._size]
        live = np.zeros(capacity, dtype=bool)
        live[: self._size] = self._live[: self._size]
        keys = np.zeros(capacity, dtype=np.int64)
        keys[: self._size] = self._keys[: self._size]
        self._matrix, self._live, self._keys = grown, live, keys

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock:
            self._delete(ids)

    def _delete(self, ids: Iterable[str]) -> None:
        for pid in ids:
            row = self._row.pop(pid, None)
            if row is not None:
                self._live[row] = False
                self._matrix[row] = 0.0

    def vector(self, paper_id: str) -> np.ndarray | None:
        row = self._row.get(paper_id)
        return None if row is None else self._matrix[row].copy()

    def cosines(self, paper_ids: Iterable[str], query: np.ndarray) -> dict[str, float]:
        with self._lock:
            found = [(pid, row) for pid in paper_ids if (row := self._row.get(pid)) is not None]
            scores = self._matrix[[row for _, row in found]] @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        return {pid: float(score) for (pid, _), score in zip(found, scores, strict=True)}

    def search(self, query: np.ndarray, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (id, cosine) for a normalised query vector, only among ``allowed`` if given."""
        with self._lock:
            return self._search(query, k, allowed)

    def search_keys(self, query: np.ndarray, k: int, keys: np.ndarray) -> list[tuple[str, float]]:
        with self._lock:
            rows = np.flatnonzero(np.isin(self._keys[: self._size], np.asarray(keys, dtype=np.int64)))
            return self._search(query, k, {self._ids[r] for r in rows.tolist() if self._live[r]})

    def _search(self, query: np.ndarray, k: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        if self._size == 0 or k <= 0:
            return []
        # one product over the whole matrix (a view, no copy), then mask: faster than gathering rows
        scores = self._matrix[: self._size] @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        if allowed is None:
            scores[~self._live[: self._size]] = -np.inf
        else:
            keep = np.zeros(self._size, dtype=bool)
            keep[[r for r in map(self._row.get, allowed) if r is not None]] = True  # deleted ids have no row
            scores[~keep] = -np.inf
        k = min(k, self._size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[r], float(scores[r])) for r in top if np.isfinite(scores[r])]
