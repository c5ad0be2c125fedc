"""Keeps the derived indexes caught up with the store while the server runs."""

from __future__ import annotations

import logging
import threading

from papersift.service import Papersift

log = logging.getLogger("papersift.server")


class BackgroundIndexer:
    """Catches the indexes up with the store while the server runs (new papers, embeddings)."""

    def __init__(self, service: Papersift, interval: float = 5.0):
        self.service, self.interval = service, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="papersift-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                indexes = self.service.indexes
                indexes.sync_lexical()
                busy = indexes.sync_vectors(limit=256) > 0 or indexes.pending_vectors() > 0
            except Exception:  # keep serving; the next round retries
                log.exception("background indexing failed")
                busy = False
            if not busy:
                self._stop.wait(self.interval)
