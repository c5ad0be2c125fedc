"""What BM25 costs at a million papers, and what pruning common words would buy.

    python -m bench run bm25_scale [--workdir DIR] [--queries 150]

On the lexical index of ``bench/million_corpus.py``'s workdir, the first N of the 400 real queries:
p50 / p90 of tantivy's search for the product's query (top 200, with and without counting the
matches; top 10; and top 200 counted with every abstract word ranking, bare and, as before
2026-12-02, inside a one-clause boolean),
the terms per query after stop words, and the same union of title + abstract terms with the
terms in more than 20%, 10%, 5% of documents dropped, with the share of the top 10 left unchanged
(the quality question such pruning would raise).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from tantivy import Occur, Query

from bench import million_corpus
from bench.common import load_queries, percentile, workdir
from papersift.index.lexical.bm25 import COMMON_SHARE, LexicalIndex
from papersift.query import parse_query

NEEDS = "the million-paper workdir (built first when missing)"


def timed(searcher, queries, limit: int, count: bool) -> tuple[dict, list]:
    times, tops = [], []
    for query in queries:
        started = time.perf_counter()
        result = searcher.search(query, limit, count=count)
        times.append((time.perf_counter() - started) * 1000)
        tops.append({(a.segment_ord, a.doc) for _, a in result.hits[:10]})
    return {"p50_ms": round(statistics.median(times), 2), "p90_ms": round(percentile(times, 90), 2)}, tops


def union(index: LexicalIndex, text: str, max_df: float, searcher) -> Query:
    words = " ".join(parse_query(text).terms)
    clauses = []
    for field, weight in (("title", 1.1), ("abstract", 1.0)):
        for token in set(index._tokens(field, words, rank=True)):
            if searcher.doc_freq(field, token) <= max_df * searcher.num_docs:
                clauses.append((Occur.Should, Query.boost_query(Query.term_query(index.schema, field, token), weight)))
    return Query.boolean_query(clauses)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run bm25_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("1m"))
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args(argv)
    index = LexicalIndex(million_corpus.ensure(args.workdir) / "index" / "lexical")
    searcher = index._index.searcher()
    texts = load_queries()[: args.queries]
    product = [index._query(parse_query(t), None, prune=True) for t in texts]
    terms = [len(set(index._tokens("abstract", " ".join(parse_query(t).terms), rank=True))) for t in texts]
    out = {"docs": searcher.num_docs, "segments": searcher.num_segments, "terms_per_query": round(statistics.mean(terms), 1)}
    out["top200_count"], _ = timed(searcher, product, 200, True)
    index.common_share = None  # as before 2026-12-02: every abstract word ranks
    every = [index._query(parse_query(t), None, prune=True) for t in texts]
    out["top200_count, every abstract word"], every_tops = timed(searcher, every, 200, True)
    # and the query shape before 2026-12-02: the ranked union inside a one-clause boolean
    boxed = [Query.boolean_query([(Occur.Must, q)]) for q in every]
    out["top200_count, every abstract word, one-clause boolean"], boxed_tops = timed(searcher, boxed, 200, True)
    out["same top 10, bare vs one-clause boolean"] = sum(a == b for a, b in zip(every_tops, boxed_tops, strict=True))
    index.common_share = COMMON_SHARE
    out["top200"], _ = timed(searcher, product, 200, False)
    out["top10"], _ = timed(searcher, product, 10, False)
    _, full = timed(searcher, [union(index, t, 1.0, searcher) for t in texts], 200, False)
    for max_df in (1.0, 0.2, 0.1, 0.05):
        row, tops = timed(searcher, [union(index, t, max_df, searcher) for t in texts], 200, False)
        row["top10_unchanged"] = round(statistics.mean(len(a & b) / 10 for a, b in zip(tops, full, strict=True)), 3)
        out[f"title+abstract, df <= {max_df:.0%}"] = row
    return out
