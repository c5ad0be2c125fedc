"""``papersift serve --workers N``: N web processes on one port, one of them the machine's indexer.

uvicorn starts each worker by importing :func:`make_app` (an app factory: every process opens its
own service). The first worker to take the index folder's ``indexer.lock`` (an exclusive ``flock``,
held for the process's life) keeps the indexes current and runs the scheduler if there is one; the
others open the indexes read-only and follow its commits (``server/indexer.py``). When the indexer
process dies its lock goes with it, and the worker uvicorn starts in its place takes it over.

Everything else a request needs is in the database, so any worker can answer any request: sessions
and CSRF tokens, log-in throttling, votes (one row per user and paper), the outbox.

The command line hands its settings and choices over through the environment
(``config.hand_to_workers``), because uvicorn gives the factory no arguments: every worker runs with
the settings the command resolved, options after the subcommand included.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from fastapi import FastAPI

from papersift.config import from_parent
from papersift.server.app import create_app
from papersift.server.memory import cap_malloc_arenas
from papersift.service import Papersift

_held: list[IO] = []  # the indexer lock's file, kept open (and so locked) while the process lives


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
    """``choices``: ``no_embed`` (lexical search only) and ``scheduled`` (the indexer worker also runs
    harvests and digests)."""
    cap_malloc_arenas()  # before this process has threads: see server/memory.py
    settings, choices = from_parent()
    probe = Papersift(embedder=False, settings=settings)  # only to learn where the indexes are
    index_dir = probe.index_dir
    probe.close()
    indexer = take_indexer_lock(index_dir)
    service = Papersift(index_dir=index_dir, embedder=False if choices.get("no_embed") else None,
                        settings=settings, follower=not indexer)
    scheduler = None
    if indexer and choices.get("scheduled"):
        from papersift.digest import Digests
        from papersift.server.scheduler import Scheduler

        scheduler = Scheduler(service, Digests(service))
    return create_app(service, scheduler=scheduler)
