"""Keeps the derived indexes caught up with the store while the server runs."""

from __future__ import annotations

import logging
import threading

from papersift.server.memory import release_free_memory
from papersift.service import Papersift

log = logging.getLogger("papersift.server")


FOLLOW_SECONDS = 1.0  # how soon a web worker sees what the machine's indexer committed


class BackgroundIndexer:
    """Catches the indexes up with the store while the server runs (new papers, embeddings).

    In a follower (a ``serve --workers`` process that is not the machine's indexer) it only follows
    the indexer's commits, every FOLLOW_SECONDS: a paper another process indexed is searchable here
    about a second later."""

    def __init__(self, service: Papersift, interval: float = 5.0):
        self.service = service
        self.interval = FOLLOW_SECONDS if service.corpus.follower else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="papersift-indexer", daemon=True)

    def start(self) -> None:
        # Open the indexes (and the model) here, before the server takes requests. Opened lazily,
        # the first request's thread and this thread each built their own Indexes at the same time:
        # two copies of every vector in RAM, and the searcher kept the copy this thread never updated.
        try:
            self.service.corpus.searcher.warm_up()  # the property opens them
        except Exception:  # serve anyway; the thread retries, and logs again if it fails again
            log.exception("opening or warming up the indexes failed")
        release_free_memory()  # what loading them left free (server/memory.py)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                indexes = self.service.indexes
                if self.service.corpus.follower:
                    indexes.refresh()
                    busy = False
                else:
                    indexes.sync_lexical()
                    busy = indexes.sync_vectors(limit=256) > 0 or indexes.pending_vectors() > 0
            except Exception:  # keep serving; the next round retries
                log.exception("background indexing failed")
                busy = False
            if not busy:
                self._stop.wait(self.interval)
