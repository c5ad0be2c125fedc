"""Process-wide memory settings for the server.

glibc gives each thread that contends for malloc its own arena (up to 8 per core) and rarely
hands their free pages back to the system. A server answering from ~40 worker threads (anyio's
default) plus onnxruntime's threads then grows by hundreds of MB of free-but-kept memory under
load (measured on the 80K corpus: docs/BENCHMARKS.md, "Load test"). Two arenas keep that in check
at no measurable cost in throughput; ``MALLOC_ARENA_MAX`` in the environment still wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # from glibc's malloc.h
DEFAULT_ARENAS = 2


def _glibc():
    """The C library when it is glibc (it alone has ``gnu_get_libc_version``), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - raises AttributeError on musl, macOS
    except (OSError, AttributeError):
        return None
    return libc


def cap_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Limit glibc's malloc arenas (call before the worker threads start); True when applied.
    A no-op on other C libraries and when ``MALLOC_ARENA_MAX`` is set (glibc read it at start)."""
    libc = _glibc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, int(arenas)))


def release_free_memory() -> bool:
    """Give the pages malloc holds free back to the system (``malloc_trim``). Opening the indexes
    reads every cached vector as its own SQLite blob before stacking them into one matrix: ~120 MB
    at 80K papers that glibc would otherwise keep for the life of the process."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))
