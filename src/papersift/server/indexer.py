"""Keeps the derived indexes caught up with the store while the server runs."""

from __future__ import annotations

import logging
import threading

from papersift.errors import PapersiftError, is_disk_full
from papersift.server.memory import release_free_memory
from papersift.service import Papersift

log = logging.getLogger("papersift.server")


FOLLOW_SECONDS = 1.0  # how soon a web worker sees what the machine's indexer committed
# How often a full disk is tried again: each try re-reads the papers not yet indexed, so not every
# few seconds, and the store keeps them all meanwhile.
FULL_DISK_RETRY_SECONDS = 30.0
# A stop (Ctrl-C) waits for the step being embedded (index/indexes.py: EMBED_STEP papers, under a
# second; a whole batch of 256 took up to 30 s on busy cores, and exiting meanwhile aborted the process)
STOP_WAIT_SECONDS = 10.0


def _one_line(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, PapersiftError) else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0]


class BackgroundIndexer:
    """Catches the indexes up with the store while the server runs (new papers, embeddings).

    In a follower (a ``serve --workers`` process that is not the machine's indexer) it only follows
    the indexer's commits, every FOLLOW_SECONDS: a paper another process indexed is searchable here
    about a second later."""

    def __init__(self, service: Papersift, interval: float = 5.0):
        self.service = service
        self.interval = FOLLOW_SECONDS if service.follower else interval
        self.full_disk_retry = FULL_DISK_RETRY_SECONDS
        self.disk_full = False  # logged once when it starts, once when indexing goes on again
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="papersift-indexer", daemon=True)

    def start(self) -> None:
        # Open the indexes (and the model) here, before the server takes requests. Opened lazily,
        # the first request's thread and this thread each built their own Indexes at the same time:
        # two copies of every vector in RAM, and the searcher kept the copy this thread never updated.
        try:
            self.service.warm_up()
        except Exception as exc:  # serve anyway; the thread retries, and logs again if it fails again
            if not self._full_disk(exc):
                log.exception("opening or warming up the indexes failed")
        release_free_memory()  # what loading them left free (server/memory.py)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STOP_WAIT_SECONDS)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._round()
            except Exception as exc:  # keep serving; the next round retries
                if not self._full_disk(exc):
                    log.exception("background indexing failed")
                busy = False
            else:
                if self.disk_full:
                    self.disk_full = False
                    log.info("the disk has room again: indexing goes on")
            if not busy:
                self._stop.wait(self.full_disk_retry if self.disk_full else self.interval)

    def _round(self) -> bool:
        """One catch-up; True when there is more to do at once."""
        indexes = self.service.indexes
        if self.service.follower:
            indexes.refresh()
            return False
        indexes.sync_lexical()
        return indexes.sync_vectors(limit=256, stop=self._stop) > 0 or indexes.pending_vectors() > 0

    def _full_disk(self, exc: Exception) -> bool:
        """A full disk is logged as one line when it starts (no traceback: nothing is wrong with the
        code, and the store keeps every paper), then tried again every ``full_disk_retry`` seconds."""
        if not is_disk_full(exc):
            return False
        if not self.disk_full:
            self.disk_full = True
            log.warning("indexing paused: %s (trying again every %g s)", _one_line(exc), self.full_disk_retry)
        return True
