"""One exception family. Interfaces map it: CLI -> exit 2 + one line, API -> JSON 4xx."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path


class PapersiftError(Exception):
    """Base class; `code` is the machine-readable name used in API errors."""

    code = "error"
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(PapersiftError):
    code = "bad_input"
    http_status = 400


class NotFound(PapersiftError):
    code = "not_found"
    http_status = 404


class Conflict(PapersiftError):
    code = "conflict"
    http_status = 409


class Unavailable(PapersiftError):
    """A remote source or optional component is not reachable/installed."""

    code = "unavailable"
    http_status = 503


# ---- accounts and the website
class Unauthorized(PapersiftError):
    """Not logged in, a wrong password, or a missing/unknown API token."""

    code = "unauthorized"
    http_status = 401


class Forbidden(PapersiftError):
    """Logged in but not allowed (not an admin, a disabled account, a forged CSRF token)."""

    code = "forbidden"
    http_status = 403


class TooManyAttempts(PapersiftError):
    code = "too_many_attempts"
    http_status = 429


class TooLarge(PapersiftError):
    code = "too_large"
    http_status = 413


# ---- links in emails
class BadToken(PapersiftError):
    """A link token that is forged, damaged, for another purpose, expired or already used."""

    code = "bad_token"
    http_status = 400


class ExpiredToken(BadToken):
    code = "expired_token"
    http_status = 410


class UsedToken(BadToken):
    code = "used_token"
    http_status = 410


# ---- the machine
class DiskFull(PapersiftError):
    """A write failed because the disk (or the database server's disk) is full. Nothing that was
    acknowledged is lost: the write that failed is rolled back, and writes work again once there is room."""

    code = "disk_full"
    http_status = 507
    # what a visitor reads: the operator's message names a path on the server, which is not theirs to know
    public_message = ("the server's disk is full, so this change was not saved (nothing saved before is lost); "
                      "please try again later")

    @classmethod
    def at(cls, path: str | Path, then: str = "nothing acknowledged was lost") -> DiskFull:
        """The message for a write under ``path`` that found no room: which disk, how much is free."""
        return cls(f"the disk holding {path} is full ({free_mb(path)} MB free): free some space; {then}")


# Libraries that wrap the OS error in their own (tantivy's ValueError, faiss's RuntimeError) keep
# only its text; SQLite and PostgreSQL errors are told by their codes, in store/.
_FULL_TEXTS = ("No space left on device", "Disk quota exceeded", "StorageFull")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says a write found no room (ENOSPC, or EDQUOT: over the user's quota)."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, (OSError, ValueError, RuntimeError)) and any(t in str(exc) for t in _FULL_TEXTS)


def as_disk_full(exc: BaseException, path: str | Path, then: str = "nothing acknowledged was lost") -> BaseException:
    """``DiskFull.at(path)`` when ``exc`` is a full disk, else ``exc`` itself (to raise either way)."""
    if isinstance(exc, DiskFull):
        return exc
    return DiskFull.at(path, then) if is_disk_full(exc) else exc


def free_mb(path: str | Path) -> int | str:
    """Megabytes free to papersift on the disk holding ``path`` (the nearest folder that exists)."""
    where = Path(path)
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        return shutil.disk_usage(where).free // 1_000_000
    except OSError:
        return "?"
