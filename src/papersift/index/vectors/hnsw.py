"""`GraphVectorIndex`: an HNSW graph over int8 codes, float16 rows on disk for exact rescoring.

Why faiss ``IndexHNSWSQ`` (measured in docs/BENCHMARKS.md, "Choosing the ANN library"): its scalar
quantiser learns a range per dimension, so int8 codes keep the ranking (usearch's fixed-range int8
capped recall@10 at ~0.92 on these vectors, hnswlib has no int8 and would hold 1.5 GB of floats at
1M papers), and it filters during the graph walk (``IDSelectorBitmap``). At 1M x 384 the codes take
384 MB and the graph (M=16) ~130 MB.

Rows live in a :class:`~papersift.index.vectors.vector_file.VectorFile`: the graph covers the first
``graph.ntotal`` rows; newer rows (the "tail") are scanned exactly and merged, so a paper is
searchable as soon as its row is committed; start-up replays the id log and loads the last saved
graph, reading no row. Every candidate is rescored with its float16 row, so scores are exact cosines; filtered
searches over a small passing set skip the graph and scan those rows exactly.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterable

import faiss
import numpy as np

from papersift.embed.encoders import threads
from papersift.ids import paper_key
from papersift.index.vectors.vector_file import VectorFile, write_atomically

GRAPH_MIN = 20_000  # below this an exact scan (~2 ms) beats building and keeping a graph
TAIL_MAX = 2_048  # rows scanned exactly before they are added to the graph
SAVE_EVERY = 20_000  # graph rows added since the last save that trigger a save (bounds start-up catch-up)
GATHER_MAX = 2_000  # a passing set this small is rescored directly from its float rows
SUBSET_EXACT = 50_000  # up to this many: a scan of their int8 codes picks the rows to rescore
SCAN_BLOCK = 1_024  # codes widened to float32 per product: 1.5 MB, in cache (bench: 2x faster than 4,096)
EF_SEARCH = 800  # beam width before rescoring: tuned on paper titles as queries (bench/million.py --phases tune)
RESCORE_PER_K = 2  # rescore the walk's best 2k by int8 score (0: all): tune's recall@10 and @200 as with all 800
RESCORE_MIN = 64
M_LINKS = 16
EF_CONSTRUCTION = 64
EF_FILTERED = 200  # a filtered walk's beam at 100% passing, widened by 1 / selectivity
EF_MAX = 20_000  # the widest filtered walk; narrower filters go to the int8 scan first
CHUNK = 4_096  # rows added to the graph per lock hold, so searches never wait long
RESORT_AFTER = 20_000  # newer rows than the sorted key lookup that trigger a re-sort (~80 ms at 1M)


class GraphVectorIndex:
    """The :class:`~papersift.index.vectors.protocol.VectorIndex` for large corpora, persistent in ``folder``."""

    def __init__(self, dim: int, folder: Path, model: str = "", graph_min: int = GRAPH_MIN, read_only: bool = False):
        """``read_only``: never take the folder's writer lock; follow the writer with :meth:`refresh`."""
        self.dim = dim
        self.folder = Path(folder)
        self.graph_min = graph_min
        self._file = VectorFile(self.folder, dim, model, read_only=read_only)
        self._lock = threading.RLock()
        self._start_over()
        self.autosave = True  # a bulk build turns this off and saves once at the end

    def _start_over(self) -> None:
        """Every row and the saved graph as the folder's last commit has them."""
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._live = np.zeros(0, dtype=bool)
        self._keys = np.zeros(0, dtype=np.int64)  # paper_key of each row's id
        self._sorted_keys = self._sorted_rows = np.zeros(0, dtype=np.int64)
        self._sorted_upto = 0  # rows [0, this) are in the sorted lookup; later ones are matched directly
        # bumped by every write (and every start over): cached key -> row mappings are dropped
        self._version = getattr(self, "_version", -1) + 1
        self._rows_cache: dict[int, tuple[np.ndarray, int, np.ndarray]] = {}
        self._replay()
        self._graph_stamp = self._stamp()
        self._graph = self._load_graph()
        self._saved_rows = self._graph.ntotal if self._graph is not None else 0
        self._live_bits: np.ndarray | None = None

    def _stamp(self) -> tuple | None:
        try:
            stat = (self.folder / "graph.faiss").stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def refresh(self) -> bool:
        """A reader (another process writes this folder) takes in the writer's last commit: new and
        deleted rows from the log's new lines, the graph when the writer saved a newer one; rows the
        saved graph lacks are scanned exactly, and past TAIL_MAX added to this process's graph in RAM.
        True when anything changed. The writer itself has nothing to do."""
        with self._lock:
            if self._file.writable:
                return False
            changes = self._file.refresh()
            if changes is None:  # rebuilt or replaced: read it again from the start
                self._file.reopen()
                self._start_over()
                return True
            if changes:
                self._apply(changes)
            stamp = self._stamp()
            new_graph = stamp != self._graph_stamp
            if new_graph:
                self._graph_stamp = stamp
                graph = self._load_graph()
                if graph is not None and (self._graph is None or graph.ntotal >= self._graph.ntotal):
                    self._graph, self._saved_rows = graph, graph.ntotal
        if changes:
            self.catch_up_graph()
        return bool(changes) or new_graph

    def _apply(self, changes: list[tuple[bool, str]]) -> None:
        """The bookkeeping of :meth:`add` and :meth:`delete` for rows another process committed."""
        self._grow(len(self._file))
        for appended, pid in changes:
            old = self._row.pop(pid, None)
            if old is not None:
                self._live[old] = False
            if appended:
                row = len(self._ids)
                self._row[pid], self._live[row], self._keys[row] = row, True, paper_key(pid)
                self._ids.append(pid)
        self._live_bits = None
        self._version += 1

    # ---- state
    @property
    def writable(self) -> bool:
        """False when another process (or index object) holds this folder's writer lock."""
        return self._file.writable

    @property
    def seq(self) -> int:
        """The last store change these vectors include (the caller catches up from here)."""
        return self._file.seq

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, paper_id: str) -> bool:
        return paper_id in self._row

    def _replay(self) -> None:
        live = np.zeros(len(self._file), dtype=bool)
        for appended, pid in self._file.replay():
            old = self._row.pop(pid, None)
            if old is not None:
                live[old] = False
            if appended:
                self._row[pid] = len(self._ids)
                live[len(self._ids)] = True
                self._ids.append(pid)
        self._live = live
        self._keys = np.fromiter(map(paper_key, self._ids), dtype=np.int64, count=len(self._ids))

    def _load_graph(self):
        path = self.folder / "graph.faiss"
        if not path.exists():
            return None
        try:
            graph = faiss.read_index(str(path))
        except RuntimeError:
            return None  # unreadable: rebuilt from the rows on the next add
        return graph if graph.d == self.dim and graph.ntotal <= len(self._file) else None

    # ---- writes
    def add(self, ids: Iterable[str], vectors: np.ndarray, seq: int | None = None) -> None:
        """Upsert rows and commit them (durable on return); ``seq`` records the store change reached."""
        ids = list(ids)
        with self._lock:
            self._file.append(ids, vectors)
            self._file.commit(seq)
            self._grow(len(self._file))
            self._keys[len(self._ids): len(self._ids) + len(ids)] = [paper_key(pid) for pid in ids]
            for pid in ids:
                old = self._row.get(pid)
                if old is not None:
                    self._live[old] = False
                self._row[pid] = len(self._ids)
                self._live[len(self._ids)] = True
                self._ids.append(pid)
            self._live_bits = None
            self._version += 1
        self.catch_up_graph()

    def _grow(self, rows: int) -> None:
        if rows > len(self._live):
            grown = np.zeros(max(rows, 2 * len(self._live)), dtype=bool)
            grown[: len(self._live)] = self._live
            keys = np.zeros(len(grown), dtype=np.int64)
            keys[: len(self._keys)] = self._keys
            self._live, self._keys = grown, keys

    def delete(self, ids: Iterable[str], seq: int | None = None) -> None:
        with self._lock:
            gone = [pid for pid in ids if pid in self._row]
            self._file.tombstone(gone)
            self._file.commit(seq)
            for pid in gone:
                self._live[self._row.pop(pid)] = False
            self._live_bits = None
            self._version += 1

    def mark(self, seq: int) -> None:
        """Record that the store's changes up to ``seq`` are absorbed (nothing to add)."""
        with self._lock:
            self._file.commit(seq)

    # ---- the graph
    def catch_up_graph(self, force: bool = False) -> None:
        """Add tail rows to the graph in chunks (building it once the corpus is large enough), and save
        it when enough rows were added since the last save. ``force`` also saves a short tail."""
        while True:
            with self._lock:
                total = len(self._file)
                if total < self.graph_min:
                    return
                graph = self._graph if self._graph is not None else self._new_graph()
                tail = total - graph.ntotal
                if tail == 0 or (tail < TAIL_MAX and not force and self._graph is not None):
                    break
                start = graph.ntotal
                faiss.omp_set_num_threads(threads())  # a build uses every core (a search on this thread set 1)
                graph.add(self._file.between(start, start + CHUNK))
                self._graph = graph
        if force or (self.autosave and self._graph.ntotal - self._saved_rows >= SAVE_EVERY):
            self.save_graph()

    def _new_graph(self):
        # faiss's stub knows only the constructor that takes a ScalarQuantizer; faiss also takes its type
        graph = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, M_LINKS,  # type: ignore[arg-type]
                                  faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = EF_CONSTRUCTION
        # the per-dimension ranges come from a sample; a margin keeps later papers from clipping
        codes: Any = faiss.downcast_index(graph.storage)  # the codes' own class (the stub says Index)
        codes.sq.rangestat = faiss.ScalarQuantizer.RS_minmax
        codes.sq.rangestat_arg = 0.1
        sample = np.concatenate([rows for _, rows in self._file.blocks(max(1, len(self._file) // 100_000))])
        graph.train(sample)
        self._file.forget_all_rows()  # the exact scan's copy: the graph answers from here on
        return graph

    def save_graph(self) -> None:
        """Write the graph beside the rows (atomically: a crash keeps the previous one)."""
        with self._lock:
            if self._graph is None or not self._file.writable:
                return
            write_atomically(self.folder / "graph.faiss", lambda tmp: faiss.write_index(self._graph, str(tmp)))
            self._saved_rows = self._graph.ntotal

    def close(self) -> None:
        try:  # the rows are durable already: a graph that cannot be saved is caught up at the next start
            if self._graph is not None and self._graph.ntotal > self._saved_rows:
                self.save_graph()
        finally:
            self._file.close()

    # ---- reads
    def vector(self, paper_id: str) -> np.ndarray | None:
        row = self._row.get(paper_id)
        return None if row is None else self._file.take(np.array([row]))[0]

    def cosines(self, paper_ids: Iterable[str], query: np.ndarray) -> dict[str, float]:
        """The cosine of ``query`` with each indexed one of ``paper_ids`` (their rows read in file order)."""
        found = sorted((row, pid) for pid in paper_ids if (row := self._row.get(pid)) is not None)
        if not found:
            return {}
        rows = self._file.take(np.array([row for row, _ in found]))
        scores = rows @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        return {pid: float(score) for (_, pid), score in zip(found, scores, strict=True)}

    def search(self, query: np.ndarray, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (id, cosine) best first; with ``allowed``, the best among those ids."""
        query = np.asarray(query, dtype=np.float32).reshape(self.dim)
        with self._lock:
            if k <= 0 or not self._row:
                return []
            if allowed is None:
                if self._graph is None:
                    return self._exact_all(query, k)
                sel = self._selector(None) if len(self._row) < len(self._file) else None
                found = self._walk(query, max(k, EF_SEARCH), EF_SEARCH, sel)
                if RESCORE_PER_K:  # the walk's labels come best first by their int8 score
                    found = found[: max(RESCORE_PER_K * k, RESCORE_MIN)]
                return self._rescore(query, np.concatenate([found, self._tail_rows(None)]), k)
            rows = np.fromiter((r for r in map(self._row.get, allowed) if r is not None), dtype=np.int64)
            return self._rescore(query, self._candidates(query, k, rows), k)

    def search_keys(self, query: np.ndarray, k: int, keys: np.ndarray) -> list[tuple[str, float]]:
        """Like ``search`` with ``allowed``, the passing set given as paper keys (a fast field's values)."""
        query = np.asarray(query, dtype=np.float32).reshape(self.dim)
        with self._lock:
            if k <= 0 or not self._row:
                return []
            return self._rescore(query, self._candidates(query, k, self._cached_rows(keys)), k)

    def _cached_rows(self, keys: np.ndarray) -> np.ndarray:
        # the lexical index hands out the same array for the same filter (PassingSets), so its rows
        # are worth keeping until the next write: mapping 100K keys costs ~50 ms at 1M rows
        hit = self._rows_cache.get(id(keys))
        if hit is not None and hit[0] is keys and hit[1] == self._version:
            return hit[2]
        rows = self._rows_for_keys(keys)
        if len(self._rows_cache) >= 16:
            self._rows_cache.pop(next(iter(self._rows_cache)))
        self._rows_cache[id(keys)] = (keys, self._version, rows)
        return rows

    def _rows_for_keys(self, keys: np.ndarray) -> np.ndarray:
        total = len(self._file)
        if total - self._sorted_upto > RESORT_AFTER:
            live = np.flatnonzero(self._live[:total])
            order = np.argsort(self._keys[live], kind="stable")
            self._sorted_keys, self._sorted_rows, self._sorted_upto = self._keys[live][order], live[order], total
        keys = np.sort(np.asarray(keys, dtype=np.int64))  # sorted probes walk the table in order
        pos = np.minimum(np.searchsorted(self._sorted_keys, keys), max(0, len(self._sorted_keys) - 1))
        found = self._sorted_rows[pos[self._sorted_keys[pos] == keys]] if len(self._sorted_keys) else pos[:0]
        rows = found
        if total > self._sorted_upto:
            tail = self._sorted_upto + np.flatnonzero(np.isin(self._keys[self._sorted_upto: total], keys))
            rows = np.concatenate([found, tail])
        return rows[self._live[rows]]

    def _exact_all(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        total = len(self._file)
        scores = self._file.all_rows() @ query
        scores[~self._live[:total]] = -np.inf
        return self._top(scores, np.arange(total), k)

    def _candidates(self, query: np.ndarray, k: int, rows: np.ndarray) -> np.ndarray:
        """Rows to rescore for a filtered search: the passing rows themselves when few (or no graph);
        the best of their int8 codes when up to SUBSET_EXACT; else a filtered graph walk."""
        if self._graph is None or len(rows) <= GATHER_MAX:
            return rows
        wanted = max(2 * k, k + 32)
        if len(rows) <= SUBSET_EXACT:
            in_graph = rows < self._graph.ntotal
            found = self._scan_codes(query, rows[in_graph], wanted)
            return np.concatenate([found, rows[~in_graph]])  # the tail's rows are rescored as they are
        mask = np.zeros(len(self._file), dtype=bool)
        mask[rows] = True
        # the walk keeps only passing nodes, so widen the beam as the filter narrows
        ef = int(min(EF_MAX, max(k, EF_FILTERED) * len(self._row) / len(rows)))
        found = self._walk(query, wanted, ef, self._selector(mask))
        return np.concatenate([found, self._tail_rows(mask)])

    def _scan_codes(self, query: np.ndarray, rows: np.ndarray, wanted: int) -> np.ndarray:
        """The ``wanted`` of ``rows`` (graph rows) with the best int8 scores. A code ``c`` decodes to
        ``vmin + (c + 0.5) / 255 * vdiff`` per dimension, so ``c @ (query * vdiff)`` ranks them as the
        decoded dot products do. Gathering the passing codes and multiplying in blocks takes ~1 ms for
        10K rows at 1M papers; faiss's scan of all codes behind a bitmap selector took ~6 ms."""
        if len(rows) <= wanted:
            return rows
        codes: Any = faiss.downcast_index(self._graph.storage)  # the codes' own class (the stub says Index)
        if codes.sq.qtype != faiss.ScalarQuantizer.QT_8bit or codes.code_size != self.dim:
            raise ValueError("the graph's codes are not 8-bit scalar-quantised")  # the only kind _new_graph makes
        # a view of the codes faiss holds (no copy); valid while the lock keeps the graph from growing
        table = faiss.rev_swig_ptr(codes.codes.data(), codes.ntotal * codes.code_size).reshape(codes.ntotal, -1)
        trained = faiss.vector_to_array(codes.sq.trained)
        weights = (query * trained[self.dim:]).astype(np.float32)
        scores = np.empty(len(rows), dtype=np.float32)
        block = np.empty((SCAN_BLOCK, self.dim), dtype=np.float32)
        for start in range(0, len(rows), SCAN_BLOCK):
            part = rows[start: start + SCAN_BLOCK]
            np.copyto(block[: len(part)], np.take(table, part, axis=0), casting="unsafe")
            np.matmul(block[: len(part)], weights, out=scores[start: start + len(part)])
        return rows[np.argpartition(-scores, wanted - 1)[:wanted]]

    def _walk(self, query: np.ndarray, k: int, ef: int, selector) -> np.ndarray:
        # faiss parallelises a search over its queries with OpenMP: one query gains nothing from it, and
        # under concurrent requests every calling thread got its own OpenMP team, whose idle threads spin
        # on the cores the requests need (80K load test p99 ~1.45 s before, docs/BENCHMARKS.md). libgomp keeps
        # this setting per thread: a build on another thread keeps its cores.
        faiss.omp_set_num_threads(1)
        params = faiss.SearchParametersHNSW(efSearch=max(ef, k))  # type: ignore[attr-defined]  # missing from faiss's stub
        if selector is not None:
            params.sel = selector[0]
        _, labels = self._graph.search(query.reshape(1, -1), k, params=params)
        return labels[0][labels[0] >= 0]

    def _selector(self, mask: np.ndarray | None):
        """An IDSelectorBitmap over rows (live ones, and within ``mask`` when given), with the bitmap it
        points into: the caller keeps both alive while faiss reads it."""
        if mask is None:
            if self._live_bits is None:
                self._live_bits = np.packbits(self._live[: len(self._file)], bitorder="little")
            bits = self._live_bits
        else:
            bits = np.packbits(mask & self._live[: len(mask)], bitorder="little")
        return faiss.IDSelectorBitmap(len(bits) * 8, faiss.swig_ptr(bits)), bits

    def _tail_rows(self, mask: np.ndarray | None) -> np.ndarray:
        start, total = self._graph.ntotal, len(self._file)
        keep = self._live[start:total] if mask is None else self._live[start:total] & mask[start:total]
        return start + np.flatnonzero(keep)

    def _rescore(self, query: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[str, float]]:
        rows = np.unique(rows)  # sorted, so the file is read in order (the tail in one read)
        rows = rows[self._live[rows]]
        return self._top(self._file.take(rows) @ query, rows, k)

    def _top(self, scores: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[str, float]]:
        k = min(k, len(rows))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[np.isfinite(scores[top])]
        # whole-array conversions: per-element numpy indexing cost ~9 us a row at k = 3,000
        return list(zip(map(self._ids.__getitem__, rows[top].tolist()), scores[top].tolist(), strict=True))
