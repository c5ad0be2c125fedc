"""Where papers live. `open_store(url_or_path)` picks the backend; `default_index_dir` says
where that backend's derived indexes go when configuration does not say."""

from __future__ import annotations

from pathlib import Path

from papersift.config import INDEX_DIR_ENV, index_dir_setting
from papersift.errors import BadInput
from papersift.model import UpsertResult
from papersift.store.protocol import CommunityStore, DigestStore, PaperStore, Store
from papersift.store.sqlite import SQLiteStore

__all__ = ["Store", "PaperStore", "CommunityStore", "DigestStore", "UpsertResult", "SQLiteStore",
           "open_store", "default_index_dir", "is_server_url"]

_POSTGRES = ("postgres://", "postgresql://")


def is_server_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL database (rather than a SQLite file)."""
    return str(target).startswith(_POSTGRES)


def _sqlite_path(target: str | Path) -> str:
    """The file a path or ``sqlite:///path`` names; BadInput for any other URL."""
    text = str(target)
    if text.startswith("sqlite:///"):
        return text[len("sqlite:///"):]
    if "://" in text:
        raise BadInput(f"unknown database URL {text.split('://')[0]!r}://...: give a file path, sqlite:///path "
                       "or postgresql://user@host:5432/database")
    return text


def open_store(target: str | Path, *, pool_size: int | None = None, pool_timeout: float | None = None) -> Store:
    """A path or ``sqlite:///path`` opens SQLite; ``postgresql://`` (or ``postgres://``) PostgreSQL, with
    ``pool_size`` connections waited for at most ``pool_timeout`` seconds (None: the settings' defaults)."""
    if is_server_url(target):
        # imported here: psycopg is needed only by those who use a server
        from papersift.store.postgres import PostgresStore

        return PostgresStore(str(target), max_size=pool_size, timeout=pool_timeout)
    return SQLiteStore(_sqlite_path(target))


def default_index_dir(target: str | Path) -> Path:
    """Where the indexes of the store at ``target`` go by default: ``<file>.index`` beside a
    SQLite file (where every install so far keeps them). A server database has no file to sit
    beside, and each machine keeps its own indexes, so there it is ``PAPERSIFT_INDEX_DIR``."""
    if is_server_url(target):
        configured = index_dir_setting()
        if configured is None:
            raise BadInput(f"set {INDEX_DIR_ENV} to a folder on this machine for the search indexes: "
                           "a PostgreSQL database has no file beside which to keep them")
        return configured
    path = Path(_sqlite_path(target))
    return path.with_name(path.name + ".index")
