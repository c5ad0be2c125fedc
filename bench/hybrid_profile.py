"""Where a hybrid search's time goes at a million papers, step by step.

    python bench/hybrid_profile.py [--workdir /tmp/ps1m] [--queries 100] [--picks 100%,10%,1%]

For the first N of the 400 real queries and each filter of ``million_corpus.pick_filters``, times
every step of ``Papersift.search`` (hybrid, top 10) one after another as the searcher runs them:
the query embedding (cache cleared every call), the dense leg (``filtered_dense``), the BM25 leg
(``LexicalIndex.search`` at the fusion depth, with its count), fusion, the store fetch, the
snippets, all as before the change of 2026-12-02 (every abstract word ranks); then the whole
``Papersift.search`` call (what ``bench/million.py`` reports) four ways: the legs one after the
other (``Searcher.overlap = False``) or BM25 in a thread beside the dense leg, and every abstract
word ranking (``LexicalIndex.common_share = None``) or common ones left out (the defaults are
overlapped and pruned), in rotating order, so the four are paired under the same load.
Medians (p50) and p99 in ms, and the load average before and after. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_scale import load_queries, percentile  # noqa: E402
from million_corpus import pick_filters  # noqa: E402
from papersift.index.lexical import COMMON_SHARE  # noqa: E402
from papersift.index.query import parse_query  # noqa: E402
from papersift.search.fusion import fuse  # noqa: E402
from papersift.search.searcher import filtered_dense  # noqa: E402
from papersift.service import Papersift  # noqa: E402


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


VARIANTS = ["serial, every word", "overlapped, every word", "serial, pruned", "overlapped, pruned"]


def steps(svc: Papersift, text: str, filters, turn: int) -> dict[str, float]:
    searcher = svc.corpus.searcher
    indexes = searcher.indexes
    parsed = parse_query(text)
    depth = searcher.fusion.depth
    out = {}
    indexes.lexical.common_share = None  # the steps as before this change
    t = time.perf_counter()
    vector = searcher._embed_uncached(parsed.free_text.strip())
    out["embed"] = _ms(t)
    t = time.perf_counter()
    dense = filtered_dense(indexes, vector, depth, parsed, filters)
    out["dense"] = _ms(t)
    t = time.perf_counter()
    hits = indexes.lexical.search(parsed, filters, limit=depth)
    out["bm25"] = _ms(t)
    indexes.lexical.common_share = COMMON_SHARE
    t = time.perf_counter()
    indexes.lexical.search(parsed, filters, limit=depth)
    out["bm25, pruned"] = _ms(t)
    indexes.lexical.common_share = None
    t = time.perf_counter()
    fused = fuse(list(hits.hits), dense, searcher.fusion)[:10]
    out["fuse"] = _ms(t)
    t = time.perf_counter()
    papers = indexes.store.get_papers(d for d, _ in fused)
    out["papers"] = _ms(t)
    t = time.perf_counter()
    indexes.lexical.snippets(list(papers), parsed)
    out["snippets"] = _ms(t)
    # the whole call: legs in turn or overlapped, every abstract word or common ones left out (the
    # defaults: overlapped, COMMON_SHARE), the four in rotating order so they share the load
    for name in VARIANTS[turn % 4:] + VARIANTS[: turn % 4]:
        searcher.overlap = "overlapped" in name
        indexes.lexical.common_share = COMMON_SHARE if "pruned" in name else None
        searcher._embed_query.cache_clear()
        t = time.perf_counter()
        svc.search(text, filters, mode="hybrid", per_page=10)
        out[name] = _ms(t)
    searcher.overlap, indexes.lexical.common_share = True, COMMON_SHARE
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", default="/tmp/ps1m")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--picks", default="100%,10%,1%")
    args = parser.parse_args()
    work = Path(args.workdir)
    svc = Papersift(work / "papersift.db", work / "index")
    texts = load_queries()[: args.queries]
    svc.search(texts[0])  # warm: the model session and the first searcher
    wanted = args.picks.split(",")
    out = {"load_before": os.getloadavg()[0]}
    for pick in pick_filters(svc.corpus):
        if pick.label not in wanted:
            continue
        filters = None if pick.filters.is_empty() else pick.filters
        rows = [steps(svc, t, filters, i) for i, t in enumerate(texts)]
        row = {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]}
        row["p99"] = {k: round(percentile([r[k] for r in rows], 99), 1) for k in VARIANTS}
        row["/ serial, every word (median of per-query ratios)"] = {k: round(statistics.median(
            r[k] / r[VARIANTS[0]] for r in rows), 3) for k in VARIANTS[1:]}
        out[pick.label] = row
    out["load_after"] = os.getloadavg()[0]
    svc.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
