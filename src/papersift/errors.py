"""One exception family. Interfaces map it: CLI -> exit 2 + one line, API -> JSON 4xx."""


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
