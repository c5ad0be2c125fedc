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
