"""The one seam between the rest of papersift and where papers live.

SQLite (`store/sqlite.py`) is the default; a PostgreSQL backend is a second file that
implements this protocol, selected by URL in :func:`papersift.store.open_store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

import numpy as np

from ..model import FeedEntry, Paper


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


class Store(Protocol):
    url: str

    # papers
    def upsert_papers(
        self, records: Iterable[Paper], cursor: tuple[str, dict | None] | None = None
    ) -> UpsertResult:
        """Merge records in one transaction; optionally save a harvest cursor in the same one."""

    def get_paper(self, paper_id: str) -> Paper | None: ...
    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]: ...
    def count_papers(self) -> int: ...
    def iter_changes(self, after_seq: int, batch: int = 1000) -> Iterator[tuple[int, Paper]]:
        """Papers written after change number ``after_seq``, oldest change first."""
    def max_seq(self) -> int: ...

    # feed
    def feed_entries(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]: ...
    def nearest_feed_days(self, day: str) -> tuple[str | None, str | None]:
        """The closest feed days before and after ``day`` that have papers."""
    def latest_feed_day(self) -> str | None: ...

    # harvest cursors and index watermarks
    def get_cursor(self, name: str) -> dict | None: ...
    def get_watermark(self, name: str) -> int: ...
    def set_watermark(self, name: str, seq: int) -> None: ...

    # embeddings cache (expensive to compute, so kept with the papers)
    def get_embeddings(self, model: str, keys: dict[str, str]) -> dict[str, np.ndarray]:
        """Vectors for paper ids whose stored text hash equals ``keys[id]``."""
    def put_embeddings(self, model: str, rows: list[tuple[str, str, np.ndarray]]) -> None: ...

    def iter_embeddings(self, model: str) -> Iterator[tuple[str, np.ndarray]]: ...

    def close(self) -> None: ...
