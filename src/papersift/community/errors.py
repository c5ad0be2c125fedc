"""The website's errors, in papersift's one exception family (interfaces map http_status)."""

from ..errors import PapersiftError


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
