"""What a SQLite error means for the caller: busy, not writable, a full disk, or not a database.

SQLite's result codes tell them apart (``sqlite_errorcode``; an extended code keeps the primary
one in its low byte). A full disk is SQLITE_FULL ("database or disk is full"), or an I/O error
on a write or fsync that ran out of room (SQLITE_IOERR_WRITE and friends carry no errno, so
the free space beside the file decides). SQLite rolls such a transaction back itself, and the
connection works again as soon as there is room.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from papersift.errors import BadInput, DiskFull, PapersiftError, Unavailable, free_mb

_UNWRITABLE_CODES = {sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN}
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
# Below this many MB free, an I/O error on a write is taken for a full disk: a write of a few
# pages (a WAL frame, a checkpoint) needs far less than this.
_NEARLY_FULL_MB = 16


def _code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def cannot_write(exc: sqlite3.Error) -> bool:
    return _code(exc) in _UNWRITABLE_CODES


def busy(exc: sqlite3.Error) -> bool:
    return _code(exc) in _BUSY_CODES


def disk_full(exc: sqlite3.Error, path: Path) -> bool:
    if _code(exc) == sqlite3.SQLITE_FULL:
        return True
    free = free_mb(path)
    return _code(exc) == sqlite3.SQLITE_IOERR and isinstance(free, int) and free < _NEARLY_FULL_MB


def when_not_busy(run, attempts: int = 100):
    """``run()``, again while SQLite answers BUSY. On a brand-new file that other processes are
    creating at the same moment, the switch to WAL and the first read (while another connection
    recovers the WAL index) can answer SQLITE_BUSY at once, without waiting on the busy timeout."""
    for attempt in range(attempts):
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if not busy(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def open_error(exc: sqlite3.DatabaseError, path: Path) -> PapersiftError:
    """A one-line error for a file SQLite cannot open or write (busy, read-only, a full disk), or one
    that is not a database."""
    if busy(exc):
        return Unavailable(f"the database {path} is busy (another process holds it): {exc}; try again")
    if disk_full(exc, path):
        return DiskFull.at(path)
    if not cannot_write(exc):
        return BadInput(f"{path} is not a papersift database: {exc}")
    if path.exists() and not os.access(path, os.W_OK):
        why = "the file is read-only"
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        why = f"its folder {path.parent} is read-only"
    else:
        why = str(exc)
    # Unavailable, not BadInput: the request was fine, the server's disk is not (a 503 there)
    return Unavailable(f"cannot write to the database {path}: {why} (papersift needs to write "
                       f"the file and, beside it, {path.name}-wal and {path.name}-shm)")
