"""Dense recall@10 under organisation filters, before and after the selectivity planner.

    python -m bench run filtered_recall [--queries 100]

The 9,877 Daily Papers (real organisations) are indexed in tantivy; their vectors are the
default model's, read from ../shared/data/embeddings (the 80K file holds every one of them; any
missing paper is embedded here). The 100 queries are the first of ../shared/data/queries, embedded
once. For organisations holding ~1%, ~0.5% and ~0.35% of the papers (and no filter) the dense leg
at the product's depth (200) is compared with exact filtered search (every vector, the filter
evaluated over all ids): "before" is the old rule (5x depth from everything, then the filter),
"after" is ``filtered_dense``. Latency is the dense leg alone, query embedding excluded.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from types import SimpleNamespace

import numpy as np

from bench.common import DATA, load_queries, need_data, percentile
from papersift.embed.load import load_embedder
from papersift.index.indexes import paper_text
from papersift.index.lexical.bm25 import LexicalIndex
from papersift.index.vectors.exact import ExactVectorIndex
from papersift.ingest.hf import parse_hf_jsonl
from papersift.query import Filters, ParsedQuery
from papersift.search.searcher import DEFAULT_FUSION, filtered_dense

NEEDS = "../shared/data (the Daily Papers archive, embeddings/ and queries/)"
TARGETS = (0.01, 0.005, 0.0035)


def papers() -> list:
    by_id = {}
    with gzip.open(DATA / "hf-daily-papers-2024-2026.jsonl.gz", "rt") as handle:
        for line in handle:
            paper = parse_hf_jsonl(json.loads(line))
            by_id[paper.id] = paper  # later captures win, as the store's merge would keep them
    return list(by_id.values())


def vectors_for(items: list, embedder) -> np.ndarray:
    emb = DATA / "embeddings"
    with gzip.open(emb / "papers-80k-ids.txt.gz", "rt") as handle:
        row = {line.strip(): i for i, line in enumerate(handle)}
    matrix = np.load(emb / "papers-80k-minilm-int8.f16.npy", mmap_mode="r")
    out = np.zeros((len(items), matrix.shape[1]), dtype=np.float32)
    missing = [i for i, p in enumerate(items) if p.id not in row]
    for i, p in enumerate(items):
        if p.id in row:
            out[i] = matrix[row[p.id]]
    if missing:
        out[missing] = embedder.embed([paper_text(items[i]) for i in missing])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def old_dense(idx, vector, depth, filters):
    # the rule before the planner: 5x depth from the whole corpus, then drop what fails the filter
    ranking = idx.vectors.search(vector, depth * (5 if filters is not None else 1))
    if filters is not None:
        allowed = idx.lexical.filter_ids([d for d, _ in ranking], ParsedQuery(), filters)
        ranking = [(d, s) for d, s in ranking if d in allowed]
    return ranking[:depth]


def pick_orgs(items: list, lexical: LexicalIndex) -> list[tuple[float, str, int]]:
    names = sorted({p.organization for p in items if p.organization})
    counts = {n: lexical.count_passing(ParsedQuery(), Filters(organization=n)) for n in names}
    chosen = []
    for target in TARGETS:
        want = target * len(items)
        name = min(counts, key=lambda n: (abs(counts[n] - want), n))
        chosen.append((target, name, counts[name]))
    return chosen


def run(idx, matrix, ids, queries, filters, depth) -> dict:
    allowed = None if filters is None else idx.lexical.filter_ids(ids, ParsedQuery(), filters)
    out = {}
    for name, leg in (("before", lambda v: old_dense(idx, v, depth, filters)),
                      ("after", lambda v: filtered_dense(idx, v, depth, ParsedQuery(), filters))):
        recalls, times = [], []
        for v in queries:
            scores = matrix @ v
            exact = [ids[i] for i in np.argsort(-scores, kind="stable") if allowed is None or ids[i] in allowed][:10]
            started = time.perf_counter()
            got = leg(v)
            times.append((time.perf_counter() - started) * 1000)
            recalls.append(len({d for d, _ in got[:10]} & set(exact)) / max(1, len(exact)))
        out[name] = {"recall_at_10": round(statistics.mean(recalls), 3),
                     "p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2)}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run filtered_recall", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)
    need_data("hf-daily-papers-2024-2026.jsonl.gz", "embeddings", "queries")
    embedder = load_embedder()
    items = papers()
    lexical = LexicalIndex(None)
    lexical.add(items)
    lexical.commit()
    ids = [p.id for p in items]
    matrix = vectors_for(items, embedder)
    vectors = ExactVectorIndex(matrix.shape[1])
    vectors.add(ids, matrix)
    idx = SimpleNamespace(lexical=lexical, vectors=vectors)
    queries = embedder.embed(load_queries()[: args.queries])
    depth = DEFAULT_FUSION.depth
    result = {"papers": len(items), "queries": len(queries), "depth": depth,
              "unfiltered": run(idx, matrix, ids, queries, None, depth)}
    for target, org, count in pick_orgs(items, lexical):
        row = run(idx, matrix, ids, queries, Filters(organization=org), depth)
        result[f"org_{target:.2%}"] = {"org": org, "passing": count,
                                       "selectivity": round(count / len(items), 4), **row}
    return result
