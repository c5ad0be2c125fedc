"""Where papers live. `open_store(url_or_path)` picks the backend."""

from __future__ import annotations

from pathlib import Path

from papersift.errors import BadInput
from papersift.store.protocol import Store
from papersift.model import UpsertResult
from papersift.store.sqlite import SQLiteStore

__all__ = ["Store", "UpsertResult", "SQLiteStore", "open_store"]


def open_store(target: str | Path) -> Store:
    """A path or ``sqlite:///path`` opens SQLite; ``postgresql://`` is reserved for the server backend."""
    text = str(target)
    if text.startswith(("postgres://", "postgresql://")):
        raise BadInput("the PostgreSQL backend is not available in this version; use a SQLite path")
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):]
    elif "://" in text:
        raise BadInput(f"unknown database URL {text!r}: give a file path or sqlite:///path")
    return SQLiteStore(text)
