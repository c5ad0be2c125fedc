"""Short topic queries (one to three words) over the 80K corpus: the labelled set, and search measured on it.

    python -m bench run short_topics [--workdir DIR]            # bm25 / dense / hybrid on dev and test
    python -m bench run short_topics --pool OUT_DIR             # write the blind pools to grade
    python -m bench run short_topics --tune                     # choose the fusion on the dev queries
    python -m bench run short_topics --latency                  # what the exact scores cost a search
    python -m bench run short_topics --scifact                  # SciFact hybrid, this fusion against the one before

The set (``bench/short_topics/``): 64 queries (``queries.tsv``), half ambiguous single words of the Daily
Papers search pages ("kernel", "loss", "global", "mixture", "permutation"...), half specific topics of
2025-2026 papers ("speculative decoding", "gaussian splatting"...); split dev / test by a hash of the id
within each kind, before anything was tuned. Pools: the top 20 of bm25, dense and hybrid (the product's
``Searcher.rank`` on the corpus80k workdir, before the fusion changed), merged and shuffled, each paper
shown to its grader as id, title and abstract only, graded 0-3 (``GRADES`` below) into ``qrels.tsv``.

The report: nDCG@10 (unjudged papers count 0; the share of judged papers in each top 10 is given) with
bootstrap 95% intervals per split and mode, and the paired bootstrap of hybrid against each leg (and
against ``--baseline`` fusion parameters, for a change of fusion).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

from bench import corpus80k
from bench.common import paired, workdir
from papersift.evaluate.metrics import bootstrap_ci, ndcg_at_k, per_query

NEEDS = "the corpus80k workdir (built from ../shared/data on first use)"
HERE = Path(__file__).resolve().parent / "short_topics"
POOL_DEPTH = 20
MODES = ("bm25", "dense", "hybrid")
GRADES = """3: the paper is about the topic: it is its main subject (for an ambiguous word, in any established
   technical sense of that word in computer science: a kernel method, a GPU kernel and an OS kernel are
   all "kernel").
2: the topic is a substantial part of the paper (a main component, a main experiment, a named
   contribution), though not its whole subject.
1: the topic is touched: used or mentioned in passing, or a closely related notion under another name.
0: not about the topic (the word used in its everyday sense - "global performance" for "global", "loss of
   accuracy" for "loss" - or not at all).
A single word asks for papers in which that word names a central concept ("Block-Sparse Global Attention"
for "global"); a paper on a neighbouring idea that never uses the word ("world models" for "global") is
at most 1. Judge each paper on its title and abstract alone."""


def read_queries() -> dict[str, dict]:
    """id -> query, kind, split: within each kind, the half of the ids first by their hash is dev."""
    rows = [line.split("\t") for line in (HERE / "queries.tsv").read_text().splitlines()[1:]]
    out = {qid: {"query": text, "kind": kind} for qid, text, kind in rows}
    for kind in {q["kind"] for q in out.values()}:
        ids = sorted((qid for qid, q in out.items() if q["kind"] == kind),
                     key=lambda qid: hashlib.sha256(qid.encode()).hexdigest())
        for i, qid in enumerate(ids):
            out[qid]["split"] = "dev" if i < len(ids) // 2 else "test"
    return out


def read_qrels() -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    path = HERE / "qrels.tsv"
    for line in path.read_text().splitlines()[1:] if path.exists() else []:
        qid, pid, grade = line.split("\t")
        qrels.setdefault(qid, {})[pid] = int(grade)
    return qrels


def open_searcher(work: Path):
    from papersift.service import Papersift

    svc = Papersift(corpus80k.ensure(work))
    return svc, svc.corpus.searcher


def rankings(searcher, text: str, k: int, fusion=None) -> dict[str, list[str]]:
    from papersift.query import parse_query
    from papersift.search.searcher import Searcher

    searcher = Searcher(searcher.indexes, fusion) if fusion is not None else searcher
    parsed = parse_query(text)
    return {mode: [d for d, _ in searcher.rank(parsed, None, mode, k=k)[0]] for mode in MODES}


def write_pools(searcher, out: Path) -> dict:
    """One JSON file a query: the pooled papers, shuffled, with nothing that says which system found them."""
    out.mkdir(parents=True, exist_ok=True)
    store = searcher.indexes.store
    sizes = {}
    for qid, q in read_queries().items():
        found = rankings(searcher, q["query"], POOL_DEPTH)
        pool = sorted({d for ranking in found.values() for d in ranking})
        random.Random(qid).shuffle(pool)
        papers = store.get_papers(pool)
        items = [{"id": d, "title": papers[d].title, "abstract": (papers[d].abstract or "")[:1200]} for d in pool]
        (out / f"{qid}.json").write_text(json.dumps({"id": qid, "query": q["query"], "grades": GRADES,
                                                    "papers": items}, indent=1))
        sizes[qid] = len(items)
    return {"pools": len(sizes), "papers": sum(sizes.values()), "out": str(out)}


def tune(searcher) -> dict:
    """The fusion's lexical weight for one-word and for two- and three-word queries, with and without exact
    scores, by mean nDCG@10 on the dev queries alone (the test queries are not read)."""
    import dataclasses

    from papersift.search.searcher import DEFAULT_FUSION

    queries, qrels = read_queries(), read_qrels()
    dev = {qid: q for qid, q in queries.items() if q["split"] == "dev" and qid in qrels}
    by_length = {"1 word": {q: v for q, v in dev.items() if len(v["query"].split()) == 1},
                 "2-3 words": {q: v for q, v in dev.items() if len(v["query"].split()) > 1}}
    grid = [round(0.1 * i, 1) for i in range(2, 11)]
    table: dict = {}
    for exact in (False, True):
        for group, chosen in by_length.items():
            for w in grid:
                params = dataclasses.replace(DEFAULT_FUSION, exact=exact, short_weights=(w, w, w))
                scores = [ndcg_at_k(rankings(searcher, q["query"], 10, params)["hybrid"], qrels[qid], 10)
                          for qid, q in chosen.items()]
                table.setdefault(f"exact={exact}", {}).setdefault(group, {})[w] = round(sum(scores) / len(scores), 4)
    best = {key: {group: max(row, key=row.get) for group, row in groups.items()} for key, groups in table.items()}
    return {"dev_ndcg@10": table, "best": best}


def latency(searcher, rounds: int = 3) -> dict:
    """Hybrid ``rank`` (top 10) with the default fusion against the one before it (missing = floor), over
    the 400 real queries of ../shared/data/queries and the 64 short ones, interleaved round by round; the
    query vectors are made first, so the ranking alone is timed. Medians in ms."""
    import statistics
    import time

    from bench.common import load_queries
    from papersift.query import parse_query
    from papersift.search.searcher import BASE_FUSION, DEFAULT_FUSION, Searcher

    texts = load_queries() + [q["query"] for q in read_queries().values()]
    parsed = [parse_query(t) for t in texts]
    searchers = {"before": Searcher(searcher.indexes, BASE_FUSION), "now": Searcher(searcher.indexes, DEFAULT_FUSION)}
    for s in searchers.values():
        for q in parsed:
            s._embed_query(q.free_text.strip())
    timings: dict[str, list[float]] = {name: [] for name in searchers}
    for _ in range(rounds):
        for name, s in searchers.items():
            for q in parsed:
                started = time.perf_counter()
                s.rank(q, None, "hybrid", k=10)
                timings[name].append((time.perf_counter() - started) * 1000)
    return {"queries": len(parsed), "rounds": rounds,
            **{name: {"p50_ms": round(statistics.median(v), 2), "p90_ms": round(statistics.quantiles(v, n=10)[-1], 2)}
               for name, v in timings.items()}}


def scifact() -> dict:
    """SciFact test (300 queries) through the product's hybrid search with this fusion and the one before it,
    nDCG@10 with bootstrap intervals and the paired difference: the long-query set must not move."""
    from bench.common import DATA
    from papersift.evaluate.beir_eval import open_corpus, run_queries
    from papersift.ingest import beir
    from papersift.search.searcher import BASE_FUSION, DEFAULT_FUSION, Searcher

    folder = DATA / "scifact"
    qrels = beir.read_qrels(folder, "test")
    queries = {q: t for q, t in beir.read_beir_queries(folder).items() if q in qrels}
    svc, namespace = open_corpus(folder)
    try:
        per = {name: per_query(run_queries(Searcher(svc.indexes, params), queries, namespace, "hybrid"), qrels,
                               lambda r, j: ndcg_at_k(r, j, 10))
               for name, params in (("before", BASE_FUSION), ("now", DEFAULT_FUSION))}
    finally:
        svc.close()
    out: dict = {}
    for name, scores in per.items():
        mean, low, high = bootstrap_ci(list(scores.values()))
        out[name] = {"ndcg@10": round(mean, 4), "ci95": [round(low, 4), round(high, 4)]}
    out["now - before"] = paired(per["before"], per["now"])
    return out


def measure(searcher, fusion=None, baseline=None) -> dict:
    queries, qrels = read_queries(), read_qrels()
    report = {}
    for split in ("dev", "test"):
        chosen = {qid: q for qid, q in queries.items() if q["split"] == split and qid in qrels}
        per: dict[str, dict[str, float]] = {mode: {} for mode in (*MODES, "baseline hybrid")}
        judged: dict[str, list[float]] = {mode: [] for mode in per}
        for qid, q in chosen.items():
            found = rankings(searcher, q["query"], 10, fusion)
            if baseline is not None:
                found["baseline hybrid"] = rankings(searcher, q["query"], 10, baseline)["hybrid"]
            for mode, ranking in found.items():
                per[mode][qid] = ndcg_at_k(ranking, qrels[qid], 10)
                judged[mode].append(sum(d in qrels[qid] for d in ranking) / max(1, len(ranking)))
        report[split] = _summary(per, judged)
    return report


def _summary(per: dict[str, dict[str, float]], judged: dict[str, list[float]]) -> dict:
    out: dict = {}
    for mode, scores in per.items():
        if not scores:
            continue
        mean, low, high = bootstrap_ci(list(scores.values()))
        out[mode] = {"ndcg@10": round(mean, 4), "ci95": [round(low, 4), round(high, 4)], "queries": len(scores),
                     "judged@10": round(sum(judged[mode]) / len(judged[mode]), 3)}
    for other in ("bm25", "dense", "baseline hybrid"):
        if per[other]:
            out[f"hybrid - {other}"] = paired(per[other], per["hybrid"])
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench run short_topics", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=workdir("80k"))
    ap.add_argument("--pool", type=Path, help="write the blind pools to grade into this folder, and stop")
    ap.add_argument("--tune", action="store_true", help="choose the fusion's weights on the dev queries")
    ap.add_argument("--latency", action="store_true", help="time hybrid ranking, this fusion against the one before")
    ap.add_argument("--scifact", action="store_true", help="SciFact hybrid, this fusion against the one before")
    args = ap.parse_args(argv)
    if args.scifact:
        return scifact()
    svc, searcher = open_searcher(args.workdir)
    try:
        if args.pool:
            return write_pools(searcher, args.pool)
        if args.tune:
            return tune(searcher)
        if args.latency:
            return latency(searcher)
        from papersift.search.searcher import BASE_FUSION, DEFAULT_FUSION

        return measure(searcher, DEFAULT_FUSION, baseline=BASE_FUSION)
    finally:
        svc.close()


if __name__ == "__main__":
    print(json.dumps(main()))
