"""``papersift serve --workers N``: N web processes on one port, one of them the machine's indexer.

uvicorn starts each worker by importing :func:`make_app` (an app factory: every process opens its
own service). The first worker to take the index folder's ``indexer.lock`` (an exclusive ``flock``,
held for the process's life) keeps the indexes current and runs the scheduler if there is one; the
others open the indexes read-only and follow its commits (``server/indexer.py``). When the indexer
process dies its lock goes with it, and the worker uvicorn starts in its place takes it over.

Everything else a request needs is in the database, so any worker can answer any request: sessions
and CSRF tokens, log-in throttling, votes (one row per user and paper), the outbox.

The command line passes its choices in the environment (``PAPERSIFT_DB``, ``PAPERSIFT_INDEX_DIR``
and the ``PAPERSIFT_WORKER_*`` variables below), because uvicorn gives the factory no arguments.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from fastapi import FastAPI

from papersift.config import load_config
from papersift.server.app import create_app
from papersift.server.memory import cap_malloc_arenas
from papersift.service import Papersift

NO_EMBED = "PAPERSIFT_WORKER_NO_EMBED"  # "1": lexical search only
SCHEDULED = "PAPERSIFT_WORKER_SCHEDULED"  # "1": the indexer worker also runs harvests and digests
_held = []  # the indexer lock's file, kept open (and so locked) while the process lives


def take_indexer_lock(index_dir: Path) -> bool:
    """True when this process is now the machine's indexer for ``index_dir``."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / "indexer.lock", "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    _held.append(handle)
    return True


def make_app() -> FastAPI:
    cap_malloc_arenas()  # before this process has threads: see server/memory.py
    config = load_config()
    probe = Papersift(embedder=False)  # only to learn where the indexes are (given, env or default)
    index_dir = probe.index_dir
    probe.close()
    indexer = take_indexer_lock(index_dir)
    service = Papersift(index_dir=index_dir, embedder=False if os.environ.get(NO_EMBED) == "1" else None,
                        follower=not indexer)
    scheduler = None
    if indexer and os.environ.get(SCHEDULED) == "1":
        from papersift.digest import Digests
        from papersift.server.scheduler import Scheduler

        scheduler = Scheduler(service, config, Digests(service, config))
    return create_app(service, config=config, scheduler=scheduler)
