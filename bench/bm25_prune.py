"""What leaving common words out of BM25 buys at a million papers, and what it changes.

    python -m bench run bm25_prune [--workdir DIR] [--queries 150] [--variants NAMES]
    python -m bench run bm25_prune --scifact test          # quality instead: SciFact nDCG@10

tantivy-py always collects through a ``MultiCollector`` (its ``Searcher.search`` adds ``TopDocs`` to
one, with or without ``count``), so tantivy's block-max WAND never runs and a union scores every
posting of every term. Most postings of a long query belong to a few common words (idf near 1).
For the first N of the 400 real queries this times the product's BM25 leg (``LexicalIndex.search``,
fusion depth, with its count) as before ("today": every clause ranks) and with common words left
out (``prune``: the clauses of the given fields whose document frequency is above a share of the
index, unless every clause of those fields is; "abstract df > 20%" is the product's default),
interleaved per query so they share the load; and reports the share of today's BM25 top 10 and of
today's fused hybrid top 10 (same dense leg) that each variant keeps. ``--scifact SPLIT`` instead
reports SciFact nDCG@10 (bm25 and hybrid) of each variant with a paired
bootstrap against today.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from tantivy import Occur, Query

from bench import million_corpus
from bench.common import DATA, load_queries, paired, percentile, workdir
from papersift.evaluate.beir_eval import open_corpus, run_queries
from papersift.evaluate.metrics import bootstrap_ci, ndcg_at_k, per_query
from papersift.index.lexical.bm25 import COMMON_SHARE, LexicalIndex, _dedup
from papersift.ingest import beir
from papersift.query import ParsedQuery, parse_query
from papersift.search.fusion import fuse
from papersift.search.searcher import Searcher, filtered_dense
from papersift.service import Papersift

NEEDS = "the million-paper workdir (built first when missing); with --scifact, ../shared/data/scifact"
VARIANTS = {"today": (None, ("abstract",)),
            "abstract df > 20%": (0.2, ("abstract",)), "abstract df > 10%": (0.1, ("abstract",)),
            "abstract df > 5%": (0.05, ("abstract",)), "title+abstract df > 10%": (0.1, ("title", "abstract"))}


def prune(lexical: LexicalIndex, share: float | None, fields: tuple[str, ...]) -> None:
    """Set ``lexical`` to leave out the clauses of ``fields`` above ``share`` (None: every clause ranks).
    The abstract alone is the product's own code (``LexicalIndex.common_share``); other fields are
    an override of ``_ranked`` written here."""
    lexical.__dict__.pop("_ranked", None)
    lexical.common_share = share if fields == ("abstract",) else None
    if share is None or fields == ("abstract",):
        return
    searcher = lexical._index.searcher()
    limit = share * searcher.num_docs

    def ranked(q: ParsedQuery, prune: bool = False) -> Query | None:
        text = " ".join(q.terms)
        pairs = [(f, t, w) for f, w in lexical._weighted() if w > 0 and text
                 for t in _dedup(lexical._tokens(f, text, rank=True))]
        common = {(f, t) for f, t, _ in pairs if prune and f in fields and searcher.doc_freq(f, t) > limit}
        if len(common) < sum(f in fields for f, _, _ in pairs):
            pairs = [p for p in pairs if (p[0], p[1]) not in common]
        clauses = [(Occur.Should, Query.boost_query(Query.term_query(lexical.schema, f, t), w) if w != 1
                    else Query.term_query(lexical.schema, f, t)) for f, t, w in pairs]
        return Query.boolean_query(clauses) if clauses else None

    lexical._ranked = ranked


def overlap(a: list, b: list) -> float:
    want = {d for d, _ in b[:10]}
    return len({d for d, _ in a[:10]} & want) / len(want) if want else 1.0


def one_query(svc: Papersift, text: str, turn: int) -> dict[str, dict]:
    searcher = svc.corpus.searcher
    lexical = searcher.indexes.lexical
    parsed = parse_query(text)
    depth = searcher.fusion.depth
    dense = filtered_dense(searcher.indexes, searcher._embed_uncached(parsed.free_text.strip()), depth, parsed, None)
    names = list(VARIANTS)
    names = names[turn % len(names):] + names[: turn % len(names)]  # rotate who runs first
    out = {}
    for name in names:
        prune(lexical, *VARIANTS[name])
        started = time.perf_counter()
        hits = lexical.search(parsed, None, limit=depth, prune=True)
        ms = (time.perf_counter() - started) * 1000
        out[name] = {"ms": ms, "bm25": list(hits.hits), "fused": fuse(list(hits.hits), dense, searcher.fusion)}
    prune(lexical, COMMON_SHARE, ("abstract",))  # back to the default
    return out


def scifact(folder: Path, split: str) -> dict:
    """nDCG@10 of every variant on SciFact's ``split`` queries, bm25 and hybrid, paired against today."""
    svc, namespace = open_corpus(folder)
    qrels = beir.read_qrels(folder, split)
    queries = {q: t for q, t in beir.read_beir_queries(folder).items() if q in qrels}
    searcher = Searcher(svc.indexes)
    out = {"split": split, "queries": len(queries)}
    for mode in ("bm25", "hybrid"):
        per = {}
        for name, (share, fields) in VARIANTS.items():
            prune(svc.indexes.lexical, share, fields)
            run = run_queries(searcher, queries, namespace, mode)
            per[name] = per_query(run, qrels, lambda r, j: ndcg_at_k(r, j, 10))
            mean, lo, hi = bootstrap_ci(list(per[name].values()))
            row = {"ndcg10": round(mean, 4), "ci95": [round(lo, 4), round(hi, 4)]}
            if name != "today":
                row["minus today"] = paired(per["today"], per[name])
            out[f"{mode} / {name}"] = row
        prune(svc.indexes.lexical, COMMON_SHARE, ("abstract",))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run bm25_prune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("1m"))
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--scifact", metavar="SPLIT", help="train or test: the quality of each variant instead")
    parser.add_argument("--variants", help="comma-separated names of VARIANTS to run (default: all)")
    args = parser.parse_args(argv)
    if args.variants:
        for name in set(VARIANTS) - {"today", *args.variants.split(",")}:
            del VARIANTS[name]
    if args.scifact:
        return scifact(DATA / "scifact", args.scifact)
    work = million_corpus.ensure(args.workdir)
    svc = Papersift(work / "papersift.db", work / "index")
    texts = [t for t in load_queries()[: args.queries] if parse_query(t).free_text.strip()]
    svc.search(texts[0])  # warm
    result = {"load_before": round(os.getloadavg()[0], 2), "queries": len(texts)}
    rows = [one_query(svc, t, i) for i, t in enumerate(texts)]
    for name in VARIANTS:
        result[name] = summary(rows, name)
    result["load_after"] = round(os.getloadavg()[0], 2)
    svc.close()
    return result


def summary(rows: list[dict], name: str) -> dict:
    times = [r[name]["ms"] for r in rows]
    return {"bm25 p50 ms": round(statistics.median(times), 2), "p90 ms": round(percentile(times, 90), 2),
            "ms / today (median of per-query ratios)": round(statistics.median(
                r[name]["ms"] / r["today"]["ms"] for r in rows), 3),
            "bm25 top10 kept": round(statistics.mean(overlap(r[name]["bm25"], r["today"]["bm25"]) for r in rows), 3),
            "hybrid top10 kept": round(statistics.mean(overlap(r[name]["fused"], r["today"]["fused"]) for r in rows), 3),
            "hybrid top10 kept, min": round(min(overlap(r[name]["fused"], r["today"]["fused"]) for r in rows), 2)}
