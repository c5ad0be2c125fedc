"""Where papers live. `open_store(url_or_path)` picks the backend; `default_index_dir` says
where that backend's derived indexes go when configuration does not say."""

from __future__ import annotations

from pathlib import Path

from papersift.errors import BadInput
from papersift.model import UpsertResult
from papersift.store.protocol import CommunityStore, DigestStore, PaperStore, Store
from papersift.store.sqlite import SQLiteStore

__all__ = ["Store", "PaperStore", "CommunityStore", "DigestStore", "UpsertResult", "SQLiteStore",
           "open_store", "default_index_dir"]

_POSTGRES = ("postgres://", "postgresql://")


def _sqlite_path(target: str | Path) -> str:
    """The file a path or ``sqlite:///path`` names; BadInput for any other URL."""
    text = str(target)
    if text.startswith(_POSTGRES):
        raise BadInput("the PostgreSQL backend is not available in this version; use a SQLite path")
    if text.startswith("sqlite:///"):
        return text[len("sqlite:///"):]
    if "://" in text:
        raise BadInput(f"unknown database URL {text!r}: give a file path or sqlite:///path")
    return text


def open_store(target: str | Path) -> Store:
    """A path or ``sqlite:///path`` opens SQLite; ``postgresql://`` is reserved for the server backend."""
    return SQLiteStore(_sqlite_path(target))


def default_index_dir(target: str | Path) -> Path:
    """Where the indexes of the store at ``target`` go by default: ``<file>.index`` beside a
    SQLite file (where every install so far keeps them). A server database has no file to sit
    beside, so a future backend would raise here and ask for ``PAPERSIFT_INDEX_DIR``."""
    path = Path(_sqlite_path(target))
    return path.with_name(path.name + ".index")
