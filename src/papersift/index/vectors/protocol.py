"""The `VectorIndex` protocol: what search and similar papers ask of a vector index.

The service's default is :class:`papersift.index.vectors.hnsw.GraphVectorIndex` (on disk, an HNSW graph
over int8 codes, exact float rescoring); :class:`papersift.index.vectors.exact.ExactVectorIndex` is the
reference. :class:`papersift.index.indexes.Indexes` takes either (``vector_index=``), since search and
similar only ever call the protocol's methods.
"""

from __future__ import annotations

from typing import Iterable, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VectorIndex(Protocol):
    """Paper id -> one L2-normalised float32 vector of ``dim`` numbers; safe to search from
    request threads while a background thread adds (the server embeds while it answers)."""

    dim: int

    def add(self, ids: Iterable[str], vectors: np.ndarray) -> None:
        """Upsert: an id already present gets its new vector."""
    def delete(self, ids: Iterable[str]) -> None:
        """Forget these ids; unknown ids are ignored."""
    def search(self, query: np.ndarray, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """At most ``k`` (id, cosine) best first; with ``allowed``, only ids in it."""
    def search_keys(self, query: np.ndarray, k: int, keys: np.ndarray) -> list[tuple[str, float]]:
        """``search`` among the papers whose :func:`papersift.ids.paper_key` is in ``keys``."""
    def vector(self, paper_id: str) -> np.ndarray | None:
        """The stored vector (a copy), None when the id is not indexed."""
    def cosines(self, paper_ids: Iterable[str], query: np.ndarray) -> dict[str, float]:
        """The cosine of ``query`` with each of ``paper_ids`` that is indexed (the others are left out)."""
    def __len__(self) -> int:
        """How many ids are indexed."""
