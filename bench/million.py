"""Dense and hybrid search at a million papers: index build, start-up, recall under filters, latency.

    python -m bench run million [--workdir DIR] [--queries 400] [--runs 3] [--phases build,startup,measure]

The workdir is made by ``bench/million_corpus.py`` (1M papers, vectors cached in the store and in
``vectors.f16.npy``; built first when missing). Phases: ``build`` (the on-disk vector index from the store's cached vectors:
seconds, RSS), ``startup`` (a fresh process: open the service and answer one hybrid query), and
``measure``: for filters of selectivity 100%, 10%, 1%, 0.1% and 0.01% (``pick_filters``), recall@10
of the dense leg against exact filtered search (brute force over all float vectors with the
filter's passing set), recall@10 of hybrid against hybrid with that exact dense leg, and p50/p99
of ``Papersift.search`` (top 10, snippets, store fetch) with the query embedded every time.
The results also go to ``million-results.json`` in the workdir (each phase as it ends).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import million_corpus
from bench.common import dir_mb, load_queries, percentile, rss_mb, workdir
from bench.million_corpus import pick_filters
from papersift.ids import paper_key
from papersift.query import Filters, ParsedQuery, parse_query
from papersift.search.fusion import fuse
from papersift.service import Papersift

NEEDS = "the million-paper workdir (run million_corpus; built first when missing)"


def open_service(work: Path) -> Papersift:
    return Papersift(work / "papersift.db", work / "index")


def phase_build(work: Path) -> dict:
    svc = open_service(work)
    before = rss_mb()
    started = time.perf_counter()
    indexes = svc.corpus.indexes
    opened = time.perf_counter() - started
    if len(indexes.vectors) < svc.store.count_papers():
        started = time.perf_counter()
        indexes.rebuild_vectors()
        built = time.perf_counter() - started
    else:
        built = None
    result = {"open_s": round(opened, 1), "build_s": None if built is None else round(built, 1),
              "rss_before_mb": round(before), "rss_after_mb": round(rss_mb()), "vectors": len(indexes.vectors),
              "vectors_dir_mb": round(dir_mb(work / "index" / "vectors")),
              "lexical_dir_mb": round(dir_mb(work / "index" / "lexical"))}
    svc.close()
    return result


STARTUP = """
import sys, time, json
t = time.perf_counter()
from papersift.service import Papersift
svc = Papersift(sys.argv[1] + "/papersift.db", sys.argv[1] + "/index")
svc.search("retrieval augmented generation for code", mode="hybrid")
ready = time.perf_counter() - t
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
mb = lambda key: int(status[key].split()[0]) // 1024
print(json.dumps({"ready_s": round(ready, 2), "rss_mb": mb("VmRSS"), "rss_anon_mb": mb("RssAnon"),
                  "rss_file_mb": mb("RssFile")}))
"""


def phase_startup(work: Path) -> dict:
    """A fresh process, as a restarted server: import, open, load the model, answer one query."""
    out = subprocess.run([sys.executable, "-c", STARTUP, str(work)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Exact:
    """Brute force over every float vector: the ground truth for a filter's passing set."""

    def __init__(self, work: Path):
        self.matrix = np.asarray(np.load(work / "vectors.f16.npy", mmap_mode="r"), dtype=np.float32)
        self.ids = (work / "vectors-ids.txt").read_text().split()
        keys = np.fromiter(map(paper_key, self.ids), dtype=np.int64, count=len(self.ids))
        self.order = np.argsort(keys)
        self.sorted_keys = keys[self.order]

    def mask(self, keys: np.ndarray | None) -> np.ndarray | None:
        if keys is None:
            return None
        pos = np.minimum(np.searchsorted(self.sorted_keys, keys), len(self.sorted_keys) - 1)
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[self.order[pos[self.sorted_keys[pos] == keys]]] = True
        return mask

    def top(self, vector: np.ndarray, k: int, mask: np.ndarray | None) -> list[tuple[str, float]]:
        scores = self.matrix @ vector
        if mask is not None:
            scores[~mask] = -np.inf
        top = np.argpartition(-scores, k)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if np.isfinite(scores[i])]


def recall(got: list, want: list) -> float:
    want_ids = {d for d, _ in want[:10]}
    return len({d for d, _ in got[:10]} & want_ids) / len(want_ids) if want_ids else 1.0


def recalls(svc: Papersift, exact: Exact, queries: list[str], filters: Filters) -> dict:
    searcher = svc.corpus.searcher
    lexical = svc.corpus.indexes.lexical
    empty = filters.is_empty()
    mask = exact.mask(None if empty else lexical.passing_keys(ParsedQuery(), filters))
    dense_r, hybrid_r = [], []
    for text in queries:
        parsed = parse_query(text)
        if not parsed.free_text.strip():
            continue
        vector = searcher._embed_query(parsed.free_text.strip())
        depth = max(10, searcher.fusion.depth)
        truth = exact.top(vector, depth, mask)
        dense, _, _ = searcher.rank(parsed, None if empty else filters, mode="dense", k=10)
        dense_r.append(recall(dense, truth))
        hybrid, _, _ = searcher.rank(parsed, None if empty else filters, mode="hybrid", k=10)
        lex = list(lexical.search(parsed, None if empty else filters, limit=depth).hits)
        hybrid_r.append(recall(hybrid, fuse(lex, truth, searcher.fusion)))
    return {"dense_recall10": round(float(np.mean(dense_r)), 4), "dense_min": round(float(np.min(dense_r)), 2),
            "hybrid_recall10": round(float(np.mean(hybrid_r)), 4), "hybrid_min": round(float(np.min(hybrid_r)), 2),
            "queries": len(dense_r)}


def latency(svc: Papersift, queries: list[str], mode: str, filters: Filters, runs: int) -> dict:
    cache = svc.corpus.searcher._embed_query
    times = []
    for _ in range(runs):
        for text in queries:
            cache.cache_clear()  # every call embeds its query, as a first search does
            started = time.perf_counter()
            svc.search(text, None if filters.is_empty() else filters, mode=mode, per_page=10)
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2), "calls": len(times)}


def phase_measure(work: Path, n_queries: int, runs: int) -> dict:
    svc = open_service(work)
    queries = load_queries()[:n_queries]
    exact = Exact(work)
    svc.search(queries[0])  # warm: the model session and the first searcher
    out = []
    for pick in pick_filters(svc.corpus):
        row = {"label": pick.label, "filter": pick.name, "passing": pick.passing}
        row.update(recalls(svc, exact, queries, pick.filters))
        for mode in ("dense", "hybrid"):
            row[mode] = latency(svc, queries, mode, pick.filters, runs)
        print(json.dumps(row), flush=True)
        out.append(row)
    return {"filters": out, "rss_after_mb": round(rss_mb())}


def phase_tune(work: Path, n_queries: int = 200) -> dict:
    """Pick the graph's beam width, and how many of its best to rescore, on other queries than the reported
    ones: the titles of real papers drawn at random (seed 1), embedded as queries; dense recall@10 and
    @200 at depth 200 against exact, unfiltered."""
    from papersift.index.vectors import hnsw

    svc = open_service(work)
    exact = Exact(work)
    rng = np.random.default_rng(1)
    real = [exact.ids[i] for i in rng.choice(80_317, n_queries, replace=False)]
    titles = [p.title for p in svc.store.get_papers(real).values() if p.title]
    searcher = svc.corpus.searcher
    vectors = [searcher._embed_query(t) for t in titles]
    truths = [exact.top(v, 200, None) for v in vectors]
    out = {}
    settings = [(ef, 0) for ef in (96, 200, 300, 400, 600, 800)] + [(800, per_k) for per_k in (1, 2, 3)]
    for ef, per_k in settings:  # per_k: rescore only the walk's best per_k x 200 (0: all it returns)
        hnsw.EF_SEARCH, hnsw.RESCORE_PER_K = ef, per_k
        got, deep, times = [], [], []
        for vector, truth in zip(vectors, truths, strict=True):
            started = time.perf_counter()
            found = svc.corpus.indexes.vectors.search(vector, 200)
            times.append((time.perf_counter() - started) * 1000)
            got.append(recall(found, truth))
            deep.append(len({d for d, _ in found} & {d for d, _ in truth}) / len(truth))
        key = f"ef{ef}" + (f"-rescore{per_k}k" if per_k else "")
        out[key] = {"recall10": round(float(np.mean(got)), 4), "min": round(float(np.min(got)), 2),
                    "recall200": round(float(np.mean(deep)), 4), "p50_ms": round(statistics.median(times), 2)}
        print(key, out[key], flush=True)
    svc.close()
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run million", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("1m"))
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phases", default="build,startup,measure", help="build, startup, measure, tune")
    args = parser.parse_args(argv)
    work = million_corpus.ensure(args.workdir)
    path = work / "million-results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["load_at_start"] = os.getloadavg()
    phases = {"build": lambda: phase_build(work), "startup": lambda: [phase_startup(work) for _ in range(3)],
              "tune": lambda: phase_tune(work), "measure": lambda: phase_measure(work, args.queries, args.runs)}
    for phase in args.phases.split(","):
        if phase not in phases:
            parser.error(f"unknown phase {phase!r}: use {', '.join(phases)}")
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results[phase] = phases[phase]()
        results.setdefault("ran", {})[phase] = started
        path.write_text(json.dumps(results, indent=1))
    return results
