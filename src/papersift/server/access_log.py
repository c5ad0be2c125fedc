"""Keep the private feed's secret out of the logs.

The private recommendations feed (``/for-you/feed/SECRET.atom``, web/rss_atom.py) has no log-in:
the secret in its URL is the credential, and uvicorn's access log writes every request line. A
:class:`MaskPrivatePaths` filter on the loggers that write request paths (uvicorn's access log,
and the server's own error lines) rewrites that part of any path to ``***`` before a handler sees
the record: ``GET /for-you/feed/***.atom``. uvicorn logs the path as it arrived, so the prefix is
matched percent-encoded too (``/for-you/%66eed/...`` reaches the same route).

:func:`mask_private_paths` puts the filter on those loggers; the app calls it when it starts
(server/app.py's lifespan), which is after uvicorn has configured logging, in the single process of
``papersift serve`` and in each worker of ``serve --workers N`` alike.
"""

from __future__ import annotations

import logging
import re

from papersift.web.rss_atom import PRIVATE_FEED

LOGGERS = ("uvicorn.access", "papersift.server")
MASK = "***"
# each character of the prefix as itself or percent-encoded; then the secret, up to the end of
# its path segment, keeping a feed extension so the log still says which format was read
_PREFIX = "".join(f"(?:{re.escape(ch)}|%{ord(ch):02x})" for ch in PRIVATE_FEED)
_PRIVATE = re.compile(f"({_PREFIX})[^/?#\\s\"]*?((?:\\.atom|\\.rss)?)(?=[/?#\\s\"]|$)", re.IGNORECASE)


def mask(text: str) -> str:
    """``text`` with every private feed secret in it replaced by ``***``."""
    return _PRIVATE.sub(rf"\g<1>{MASK}\g<2>", text) if "/" in text or "%" in text else text


class MaskPrivatePaths(logging.Filter):
    """Rewrites the message and its string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def mask_private_paths() -> None:
    """Put the filter on :data:`LOGGERS` (once each: the app may be started again in one process)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskPrivatePaths) for f in logger.filters):
            logger.addFilter(MaskPrivatePaths())
