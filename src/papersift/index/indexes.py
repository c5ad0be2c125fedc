"""Keeping the derived indexes in step with the store.

The store numbers every write (``seq``). Each index keeps a watermark in the store: the last
change it has absorbed. Catching up = re-indexing every paper changed after the watermark,
then moving the watermark, in that order. A crash in between only means some papers are
indexed twice (upserts are idempotent); none is ever lost. Deleting the index folder, or
``rebuild()``, starts from zero.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Callable, TypeGuard

import numpy as np

from papersift.errors import as_disk_full
from papersift.index.lexical.bm25 import LexicalIndex
from papersift.index.vectors.hnsw import GraphVectorIndex
from papersift.index.vectors.protocol import VectorIndex
from papersift.model import Paper
from papersift.store.protocol import PaperStore

log = logging.getLogger(__name__)

Progress = Callable[[int], None] | None
LEXICAL = "lexical"
LEXICAL_MARK = "lexical.seq"
EMBED_STEP = 32  # papers embedded (and cached) at a time; under a second on two busy cores


def paper_text(paper: Paper) -> str:
    """What the embedding model reads: title and abstract."""
    title = (paper.title or "").strip()
    abstract = (paper.abstract or "").strip()
    return f"{title}. {abstract}" if title and abstract else title or abstract


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _on_disk(vectors: VectorIndex | None) -> TypeGuard[GraphVectorIndex]:
    """An index with its own position in the store's changes (``seq``) keeps its vectors on disk, as
    GraphVectorIndex does; one without lives in RAM."""
    return hasattr(vectors, "seq")


class Indexes:
    """The lexical index on disk and the vector index in RAM, both derived from a store."""

    def __init__(self, store: PaperStore, index_dir: Path, embedder=None, lexical_weights=None,
                 vector_index: Callable[[int], VectorIndex] | None = None, read_only: bool = False):
        """``vector_index`` makes the vector index for a dimension. The default keeps its vectors on disk
        in ``index_dir/vectors`` (:class:`GraphVectorIndex`); an index without a ``seq`` attribute
        (e.g. :class:`~papersift.index.vectors.exact.ExactVectorIndex`) lives in RAM and is filled from the
        store's cached embeddings at start-up. ``read_only``: another process on this machine keeps
        the folder current (the indexer of ``serve --workers``); this one follows with :meth:`refresh`."""
        self.store = store
        self.read_only = read_only
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self._weights = lexical_weights
        self.lexical = self._open_lexical()
        self.vectors: VectorIndex | None = None
        if embedder is not None:
            self.vectors = self._open_vectors(vector_index)

    # ---- lexical
    def _open_lexical(self) -> LexicalIndex:
        path = self.index_dir / "lexical"
        fresh = not path.exists()
        kwargs = {"weights": self._weights} if self._weights is not None else {}
        index = LexicalIndex(path, **kwargs)
        if (fresh or index.count() == 0) and not self.read_only:
            self._set_lexical_mark(0)
        return index

    # The lexical index's own position in the store's changes lives beside it (index_dir/lexical.seq),
    # not in the store: machines sharing one database each keep their own index, so each needs its own
    # mark. An index made before the file existed starts from the store's shared mark, as it used to.
    def lexical_mark(self) -> int:
        try:
            return int(json.loads((self.index_dir / LEXICAL_MARK).read_text())["seq"])
        except (OSError, ValueError, KeyError, TypeError):
            return self.store.get_watermark(LEXICAL)

    def _set_lexical_mark(self, seq: int) -> None:
        target = self.index_dir / LEXICAL_MARK
        tmp = target.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps({"seq": seq}))
            os.replace(tmp, target)
        except OSError as exc:  # the old mark stands: these papers are indexed again next time
            raise as_disk_full(exc, self.index_dir, "the index catches up once there is room") from None
        self.store.set_watermark(LEXICAL, seq)  # still shown by status commands of older versions

    def pending_lexical(self) -> int:
        return self.store.max_seq() - self.lexical_mark()

    def sync_lexical(self, progress: Progress = None, batch: int = 2000) -> int:
        done = 0
        mark = self.lexical_mark()
        pending: list[Paper] = []
        last = mark
        for seq, paper in self.store.iter_changes(mark):
            pending.append(paper)
            last = seq
            if len(pending) >= batch:
                done += self._commit_lexical(pending, last, progress)
                pending = []
        if pending:
            done += self._commit_lexical(pending, last, progress)
        return done

    def _commit_lexical(self, papers: list[Paper], last_seq: int, progress: Progress) -> int:
        self.lexical.add(papers)
        self.lexical.commit()
        self._set_lexical_mark(last_seq)
        if progress:
            progress(len(papers))
        return len(papers)

    # ---- vectors
    @property
    def vector_mark_name(self) -> str:
        return f"vectors:{self.embedder.name}"

    def _open_vectors(self, factory: Callable[[int], VectorIndex] | None) -> VectorIndex:
        if factory is None:
            return self._open_graph()
        vectors = factory(self.embedder.dim)
        if not hasattr(vectors, "seq"):
            ids, rows = [], []
            for pid, vector in self.store.iter_embeddings(self.embedder.name):
                ids.append(pid)
                rows.append(vector)
            if ids:
                vectors.add(ids, np.vstack(rows))
        return vectors

    def _open_graph(self) -> GraphVectorIndex:
        vectors = GraphVectorIndex(self.embedder.dim, self.index_dir / "vectors", model=self.embedder.name,
                                   read_only=self.read_only)
        if vectors.writable and vectors.seq > self.store.max_seq():  # made from another database: start again
            log.warning("the vector index in %s reaches store change %d but the database has only %d: it was "
                        "made from another database; rebuilding it from this one", self.index_dir / "vectors",
                        vectors.seq, self.store.max_seq())
            vectors.close()
            shutil.rmtree(self.index_dir / "vectors")
            vectors = GraphVectorIndex(self.embedder.dim, self.index_dir / "vectors", model=self.embedder.name)
        return vectors

    def _vector_start(self) -> int:
        """The change to catch up from: the store's mark for an in-RAM index; for one on disk, the
        earlier of its own mark and the store's (a crash between the two commits re-adds a few rows)."""
        mark = self.store.get_watermark(self.vector_mark_name)
        own = getattr(self.vectors, "seq", None)
        return mark if own is None else min(mark, own)

    def pending_vectors(self) -> int:
        if self.embedder is None:
            return 0
        return self.store.max_seq() - self._vector_start()

    def papers_behind(self) -> tuple[int, int]:
        """Papers (not changes: a paper written twice counts once) that :meth:`sync_lexical` and
        :meth:`sync_vectors` would go through now: what a progress bar counts to."""
        vectors = 0 if self.embedder is None or self.read_only else self.store.count_changes(self._vector_start())
        return self.store.count_changes(self.lexical_mark()), vectors

    def sync_vectors(self, progress: Progress = None, limit: int | None = None, batch: int = 256,
                     stop: threading.Event | None = None) -> int:
        """Embed papers changed since the watermark (only those whose text changed) and index them;
        returns how many were embedded. Cached vectors are indexed in bigger batches. A follower
        (``read_only``) leaves this to the machine's indexer. ``stop``: once set, return after the
        few papers being embedded (what was embedded is cached; the watermark stays where it was)."""
        if self.embedder is None or self.read_only:
            return 0
        embedded, embed_batch = 0, batch
        chunk: list[tuple[int, Paper]] = []
        for seq, paper in self.store.iter_changes(self._vector_start()):
            chunk.append((seq, paper))
            if len(chunk) >= batch:
                done = self._embed_chunk(chunk, progress, stop)
                if done is None:
                    return embedded
                embedded += done
                chunk = []
                if limit is not None and embedded >= limit:
                    return embedded
                batch = embed_batch if done else 4096
        if chunk:
            embedded += self._embed_chunk(chunk, progress, stop) or 0
        if self.vectors is not None and hasattr(self.vectors, "catch_up_graph"):
            self.vectors.catch_up_graph()  # e.g. rows a restart left outside the saved graph
        return embedded

    def rebuild_vectors(self, progress: Progress = None) -> int:
        """Drop the on-disk vector index and rebuild it from the store's cached embeddings (papers
        without one are embedded); returns how many were embedded."""
        if self.embedder is None or not _on_disk(self.vectors):
            return 0
        self.vectors.close()
        shutil.rmtree(self.index_dir / "vectors", ignore_errors=True)
        self.store.set_watermark(self.vector_mark_name, 0)
        self.vectors = vectors = self._open_graph()
        vectors.autosave = False  # one save at the end, not one per 20K rows of a growing graph
        embedded = self.sync_vectors(progress)
        vectors.autosave = True
        vectors.catch_up_graph(force=True)
        return embedded

    def refresh(self) -> bool:
        """A follower's catch-up with the indexer's commits (lexical and vectors); True when either moved."""
        moved = self.lexical.reload()
        refresh = getattr(self.vectors, "refresh", None)
        return bool(refresh()) | moved if refresh is not None else moved

    def close(self) -> None:
        closer = getattr(self.vectors, "close", None)
        if closer is not None:
            closer()

    def _embed_chunk(self, chunk: list[tuple[int, Paper]], progress: Progress,
                     stop: threading.Event | None = None) -> int | None:
        """Embed and index one chunk; None when ``stop`` was set first (nothing indexed, the mark kept)."""
        texts = {p.id: paper_text(p) for _, p in chunk}
        keys = {pid: text_hash(t) for pid, t in texts.items()}
        known = self.store.get_embeddings(self.embedder.name, keys)
        todo = [pid for pid in texts if pid not in known and texts[pid]]
        if progress and len(texts) > len(todo):
            progress(len(texts) - len(todo))
        # in steps, each cached at once: a stop waits for one step (onnxruntime cannot be interrupted,
        # and a process that exits while a thread is inside it aborts), and loses nothing
        size = getattr(self.embedder, "step", EMBED_STEP)
        for start in range(0, len(todo), size):
            if stop is not None and stop.is_set():
                return None
            step = todo[start:start + size]
            vectors = self.embedder.embed([texts[p] for p in step], progress=progress)
            self.store.put_embeddings(self.embedder.name, [(pid, keys[pid], vectors[i]) for i, pid in enumerate(step)])
            known.update({pid: vectors[i] for i, pid in enumerate(step)})
        last = chunk[-1][0]
        if _on_disk(self.vectors):
            if known:
                self.vectors.add(list(known), np.vstack(list(known.values())), seq=last)
            else:
                self.vectors.mark(last)
        elif known and self.vectors is not None:  # set whenever there is an embedder
            self.vectors.add(list(known), np.vstack(list(known.values())))
        self.store.set_watermark(self.vector_mark_name, last)
        return len(todo)

    # ---- both
    def sync(self, progress: Progress = None) -> dict[str, int]:
        return {"lexical": self.sync_lexical(progress), "vectors": self.sync_vectors(progress)}

    def rebuild_lexical(self) -> None:
        """Drop the on-disk lexical index and rebuild it from the store."""
        shutil.rmtree(self.index_dir / "lexical", ignore_errors=True)
        self.lexical = self._open_lexical()
        self.sync_lexical()
