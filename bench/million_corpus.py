"""The 1,000,000-paper bench workdir, grown from the real 80K corpus, built without running the embedding model.

    python -m bench run million_corpus [--workdir DIR] [--limit 1000000] [--seed 10]   # default: /tmp/papersift-bench/1m

Every benchmark on the million-paper corpus calls :func:`ensure`, which runs this first when its workdir is
not built (about three hours on 2 cores; a killed build resumes from its phase).

Phases (each recorded in ``WORKDIR/results.json`` with its time; a phase already there is skipped,
so a killed build re-runs from the phase it was in):

1. ``ingest_real``: the 74,728 arXiv listings and 9,881 Daily Papers lines (80,317 papers).
2. ``synthesize``: ``limit - 80,317`` synthetic papers (recipe: ``bench/million_synth.py``) as
   ``synthetic-arxiv.jsonl.gz`` (arxiv-jsonl: every synthetic paper) and ``synthetic-hf.jsonl.gz``
   (hf-daily: those whose base is on the feed, which carries organisation, upvotes and feed day).
3. ``ingest_synthetic``: both files, through ``Papersift.ingest_file`` like any input.
4. ``lexical_index``: ``svc.index(embed=False)`` (tantivy).
5. ``vectors``: real vectors from ``../shared/data/embeddings``, synthetic ones base + noise, put in
   the store's embeddings cache under the default model's name (a later index build embeds
   nothing) and written as ``vectors.f16.npy`` + ``vectors-ids.txt`` (same order).
6. ``geometry``: nearest-neighbour cosines of 200 papers and 200 real queries, 80K vs all.
7. ``filters``: :func:`pick_filters` (what the benchmarks import): about 100%, 10%, 1%, 0.1%, 0.01%.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from rich import progress as rp
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench import million_synth as synth
from bench.common import DATA, dir_mb, load_queries, need_data, peak_rss_mb, workdir
from papersift.index.indexes import paper_text, text_hash
from papersift.query import Filters, ParsedQuery
from papersift.service import Papersift

REAL_PAPERS = 80_317
CHUNK = 20_000  # vectors per step: 30 MB of float32, and the unit of the noise's seeding
console = Console()


# ---------------------------------------------------------------- the filter picker
@dataclass
class FilterPick:
    label: str  # the selectivity aimed at: "10%"
    target: float  # the same as a fraction
    name: str  # what the filter is, for tables
    filters: Filters
    passing: int  # exact, from the lexical index
    fraction: float


def pick_filters(svc, extras: bool = False, organizations: list[str] | None = None) -> list[FilterPick]:
    """Named filters of measured selectivity close to 100%, 10%, 1%, 0.1% and 0.01% of the corpus.

    ``svc``: an open ``Papersift`` or ``Corpus``. Counts are ``LexicalIndex.count_passing`` (exact).
    10%: a date window centred on the span; 1%: cs.CL plus a date window; 0.1%: the organisation
    whose count is closest; 0.01%: cs.RO plus a date window. ``extras`` adds an organisation at
    0.01% and one day. ``organizations``: candidates (default: every name in the Daily Papers file).
    """
    lexical = svc.indexes_lexical_only().lexical
    count = lambda f: lexical.count_passing(ParsedQuery(), f)  # noqa: E731 - one line, used below
    total = count(Filters())
    orgs = organizations if organizations is not None else _organizations()
    picks = [FilterPick("100%", 1.0, "no filter", Filters(), total, 1.0),
             _window_pick("10%", 0.10, [], count, total),
             _window_pick("1%", 0.01, ["cs.CL"], count, total),
             _org_pick("0.1%", 0.001, orgs, count, total),
             _window_pick("0.01%", 0.0001, ["cs.RO"], count, total)]
    if extras:
        taken = {picks[3].filters.organization}
        picks.append(_org_pick("0.01% (org)", 0.0001, [o for o in orgs if o not in taken], count, total))
        picks.append(_window_pick("one day", 1 / synth.SPAN_DAYS, [], count, total, width=1))
    return picks


def _window(width: int) -> tuple[str, str]:
    """A window of ``width`` days centred on the middle of the synthetic span."""
    start = synth.SPAN_START + timedelta(days=synth.SPAN_DAYS // 2 - width // 2)
    return start.isoformat(), (start + timedelta(days=width - 1)).isoformat()


def _window_pick(label: str, target: float, cats: list[str], count, total: int, width: int | None = None) -> FilterPick:
    """The centred window whose passing count is closest to ``target`` (binary search on its width)."""
    want = target * total

    def make(w: int) -> Filters:
        start, end = _window(w)
        return Filters(date_from=start, date_to=end, categories=list(cats))

    if width is None:
        lo, hi = 1, 8 * synth.SPAN_DAYS
        while lo < hi:  # the smallest width that reaches the target
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if count(make(mid)) < want else (lo, mid)
        width = min((w for w in (lo - 1, lo) if w >= 1), key=lambda w: (abs(count(make(w)) - want), w))
    filters = make(width)
    n = count(filters)
    what = (" + ".join(cats) + " + " if cats else "") + f"{filters.date_from}..{filters.date_to} ({width} days)"
    return FilterPick(label, target, what, filters, n, n / total if total else 0.0)


def _org_pick(label: str, target: float, orgs: list[str], count, total: int) -> FilterPick:
    want = target * total
    counted = [(count(Filters(organization=o)), o) for o in orgs]
    n, org = min(counted, key=lambda c: (abs(c[0] - want), c[1]))
    return FilterPick(label, target, f"organisation {org!r}", Filters(organization=org), n, n / total if total else 0.0)


def _organizations() -> list[str]:
    names = set()
    with gzip.open(DATA / "hf-daily-papers-2024-2026.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            name = json.loads(line).get("organization")
            if name and name.strip():
                names.add(name.strip())
    return sorted(names)


def print_picks(picks: list[FilterPick]) -> None:
    table = Table(title="filters by selectivity")
    for col in ("target", "filter", "passing", "fraction"):
        table.add_column(col)
    for p in picks:
        table.add_row(p.label, p.name, f"{p.passing:,}", f"{p.fraction:.4%}")
    console.print(table)


def picks_json(picks: list[FilterPick]) -> list[dict]:
    return [{"label": p.label, "target": p.target, "name": p.name, "passing": p.passing,
             "fraction": round(p.fraction, 6), "filters": {k: v for k, v in vars(p.filters).items() if v}}
            for p in picks]


# ---------------------------------------------------------------- helpers
class RateColumn(rp.ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "")


def bar() -> rp.Progress:
    return rp.Progress(rp.TextColumn("{task.description}"), rp.BarColumn(), rp.MofNCompleteColumn(), RateColumn(),
                       rp.TimeElapsedColumn(), rp.TimeRemainingColumn(), console=console, refresh_per_second=2)


def ingest(svc: Papersift, kind: str, path: Path, total: int | None) -> dict:
    with bar() as progress:
        task = progress.add_task(f"ingest {path.name}", total=total)
        report = svc.ingest_file(kind, path, index=False, progress=lambda n: progress.advance(task, n))
    return {"file": path.name, **{k: v for k, v in report.as_dict().items() if k != "bad_lines"}}


# ---------------------------------------------------------------- the phases
def phase_ingest_real(svc: Papersift) -> dict:
    started = time.perf_counter()
    a = ingest(svc, "arxiv-jsonl", DATA / "arxiv-cs-2025-2026.jsonl.gz", 74_728)
    h = ingest(svc, "hf-daily", DATA / "hf-daily-papers-2024-2026.jsonl.gz", 9_881)
    records = a["read"] + h["read"]
    return {"files": [a, h], "papers": svc.store.count_papers(),
            "records_per_s": round(records / (time.perf_counter() - started), 1)}


def phase_synthesize(work: Path, real, plan: dict, ids: list[str]) -> dict:
    with bar() as progress:
        task = progress.add_task("write synthetic papers", total=len(ids))
        counts = synth.write_synthetic(real, plan, ids, work / "synthetic-arxiv.jsonl.gz",
                                       work / "synthetic-hf.jsonl.gz", lambda n: progress.advance(task, n))
    return {**counts, "arxiv_mb": dir_mb(work / "synthetic-arxiv.jsonl.gz"),
            "hf_mb": dir_mb(work / "synthetic-hf.jsonl.gz")}


def phase_ingest_synthetic(svc: Papersift, work: Path, counts: dict) -> dict:
    started = time.perf_counter()
    a = ingest(svc, "arxiv-jsonl", work / "synthetic-arxiv.jsonl.gz", counts["arxiv_lines"])
    h = ingest(svc, "hf-daily", work / "synthetic-hf.jsonl.gz", counts["hf_lines"])
    return {"files": [a, h], "papers": svc.store.count_papers(),
            "records_per_s": round((a["read"] + h["read"]) / (time.perf_counter() - started), 1)}


def phase_lexical(svc: Papersift) -> dict:
    pending = svc.indexes_lexical_only().pending_lexical()
    with bar() as progress:
        task = progress.add_task("lexical index (tantivy)", total=pending)
        done = svc.index(progress=lambda n: progress.advance(task, n), embed=False)
    return {**done, "index_mb": dir_mb(svc.index_dir / "lexical")}


def phase_vectors(svc: Papersift, work: Path, real_ids: list[str], syn_ids: list[str], base: np.ndarray,
                  seed: int) -> dict:
    from papersift.embed.load import load_embedder

    model = load_embedder(None).name  # the default embedder's cache key; loading it embeds nothing
    real_vectors = np.load(DATA / "embeddings" / "papers-80k-minilm-int8.f16.npy")
    ids = real_ids + syn_ids
    tmp = work / "vectors.f16.npy.tmp"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(len(ids), synth.DIM))
    cosines, missing = np.empty(len(syn_ids), dtype=np.float32), 0
    with bar() as progress:
        task = progress.add_task("vectors -> store cache + npy", total=len(ids))
        for start in range(0, len(ids), CHUNK):
            stop = min(start + CHUNK, len(ids))
            rows = _vector_rows(real_vectors, base, seed, start, stop, len(real_ids))
            out[start:stop] = rows
            rows = rows.astype(np.float32)  # what the store gets is exactly the npy's value
            if stop > len(real_ids):
                lo = max(start, len(real_ids))
                cosines[lo - len(real_ids):stop - len(real_ids)] = np.einsum(
                    "ij,ij->i", rows[lo - start:], real_vectors[base[lo - len(real_ids):stop - len(real_ids)]]
                    .astype(np.float32))
            missing += _cache(svc, model, ids[start:stop], rows)
            progress.advance(task, stop - start)
    del out  # flushes the memory map
    tmp.replace(work / "vectors.f16.npy")
    (work / "vectors-ids.txt").write_text("\n".join(ids) + "\n")
    return {"model": model, "rows": len(ids), "sigma": synth.SIGMA, "missing_papers": missing,
            "cos_synthetic_to_base": synth.quantiles(cosines) if len(cosines) else None,
            "cache_check": _check_cache(svc, model, ids, seed), "npy_mb": dir_mb(work / "vectors.f16.npy")}


def _vector_rows(real_vectors, base, seed: int, start: int, stop: int, n_real: int) -> np.ndarray:
    """Rows ``start:stop`` of the full order (real papers, then synthetic) as float16."""
    parts = []
    if start < n_real:
        parts.append(real_vectors[start:min(stop, n_real)])
    if stop > n_real:
        lo = max(start, n_real) - n_real
        # a chunk's noise is seeded by where it starts, so the same rows always get the same noise
        parts.append(synth.synthetic_vectors(real_vectors, base[lo:stop - n_real], seed, lo // CHUNK))
    return np.vstack(parts).astype(np.float16)


def _cache(svc: Papersift, model: str, ids: list[str], rows: np.ndarray, batch: int = 5000) -> int:
    """Put the rows in the embeddings cache keyed by the hash of the text as stored; returns missing papers."""
    papers = svc.store.get_papers(ids)
    entries = [(pid, text_hash(paper_text(papers[pid])), rows[i]) for i, pid in enumerate(ids) if pid in papers]
    for start in range(0, len(entries), batch):
        svc.store.put_embeddings(model, entries[start:start + batch])
    return len(ids) - len(entries)


def _check_cache(svc: Papersift, model: str, ids: list[str], seed: int, n: int = 20_000) -> dict:
    """What ``Indexes._embed_chunk`` will ask: is every sampled paper's vector found under its text hash?"""
    rng = np.random.default_rng(seed + 2)
    sample = [ids[i] for i in rng.choice(len(ids), min(n, len(ids)), replace=False)]
    papers = svc.store.get_papers(sample)
    keys = {pid: text_hash(paper_text(p)) for pid, p in papers.items()}
    found = svc.store.get_embeddings(model, keys)
    return {"sampled": len(sample), "found": len(found)}


def phase_geometry(work: Path, n_real: int, base: np.ndarray, seed: int) -> dict:
    from papersift.embed.load import load_embedder

    vectors = np.load(work / "vectors.f16.npy", mmap_mode="r")
    family = np.concatenate([np.arange(n_real), base]).astype(np.int64)
    rng = np.random.default_rng(seed + 1)
    texts = load_queries()
    chosen = rng.choice(len(texts), 200, replace=False)
    query_vectors = load_embedder(None).embed([texts[i] for i in chosen])
    real_rows = rng.choice(n_real, 200, replace=False)
    all_rows = rng.choice(len(vectors), 200, replace=False)
    result = {"queries": 200}
    with console.status("geometry: exact top-10 over the real 80K and the full set"):
        s, i = synth.drop_self(*synth.top_k(vectors[:n_real], np.asarray(vectors[real_rows], np.float32), 11),
                               real_rows, 10)
        result["papers_vs_real"] = synth.neighbour_stats(s, i, None, None)
        s, i = synth.drop_self(*synth.top_k(vectors, np.asarray(vectors[all_rows], np.float32), 11), all_rows, 10)
        result["papers_vs_all"] = synth.neighbour_stats(s, i, family, family[all_rows])
        result["papers_vs_all"]["query_papers_synthetic"] = int(np.sum(all_rows >= n_real))
        result["text_vs_real"] = synth.neighbour_stats(*synth.top_k(vectors[:n_real], query_vectors, 10), None, None)
        result["text_vs_all"] = synth.neighbour_stats(*synth.top_k(vectors, query_vectors, 10), family, None)
    for key in ("papers_vs_all", "text_vs_all"):  # ids below n_real are the real papers
        result[key]["real_share_of_top10"] = round(float(np.mean(result[key].pop("_index") < n_real)), 4)
    return result


def phase_filters(svc: Papersift) -> dict:
    picks = pick_filters(svc, extras=True)
    print_picks(picks)
    return {"picks": picks_json(picks)}


# ---------------------------------------------------------------- the driver
def run_phase(results: dict, path: Path, name: str, fn) -> dict:
    """Run one phase unless the workdir records it as done; record its time, the peak RSS so far and a save."""
    if name in results["phases"]:
        console.print(f"[dim]{name}: done in an earlier run ({results['phases'][name]['seconds']} s), skipped")
        return results["phases"][name]
    console.rule(name)
    started = time.perf_counter()
    out = fn()
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["peak_rss_mb"] = peak_rss_mb()
    results["phases"][name] = out
    path.write_text(json.dumps(results, indent=1) + "\n")
    console.print(f"{name}: {out['seconds']} s")
    return out


def forget_stale_lexical(results: dict, svc: Papersift) -> None:
    """A lexical index of an older schema is dropped when opened (derived data): then build it again."""
    if "lexical_index" in results["phases"] and svc.indexes_lexical_only().lexical.count() < svc.store.count_papers():
        console.print("[yellow]the lexical index is gone or partial (schema change?): building it again")
        results["phases"]["lexical_index_before"] = results["phases"].pop("lexical_index")
        results["phases"].pop("filters", None)


def load_plan(work: Path, n_syn: int, seed: int) -> tuple[dict, object]:
    """The plan (all random choices) from ``plan.npz``, or drawn now; the real corpus only when drawn."""
    path = work / "plan.npz"
    if path.exists():
        with np.load(path) as stored:
            return {k: stored[k] for k in stored.files}, None
    with console.status("reading the real corpus"):
        real = synth.load_real(DATA)
    plan = synth.make_plan(real, n_syn, seed)
    np.savez(work / "plan.tmp.npz", **plan)
    (work / "plan.tmp.npz").replace(path)
    return plan, real


def sizes(work: Path, svc: Papersift) -> dict:
    db = Path(svc.db)
    return {"db_mb": dir_mb(db), "db_wal_mb": dir_mb(db.with_name(db.name + "-wal")),
            "lexical_index_mb": dir_mb(svc.index_dir / "lexical"), "index_dir_mb": dir_mb(svc.index_dir),
            "synthetic_jsonl_mb": dir_mb(work / "synthetic-arxiv.jsonl.gz") + dir_mb(work / "synthetic-hf.jsonl.gz"),
            "vectors_npy_mb": dir_mb(work / "vectors.f16.npy"), "workdir_mb": dir_mb(work)}


def ensure(work: Path) -> Path:
    """The workdir, after building it here when it is not built yet (the command printed)."""
    results = work / "results.json"
    if not (results.exists() and "filters" in json.loads(results.read_text())["phases"]):
        print(f"the million-paper workdir {work} is not built: building it first (about three hours on 2 cores), as "
              f"`python -m bench run million_corpus --workdir {work}`", file=sys.stderr, flush=True)
        build(work, 1_000_000, 10)
    return work


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run million_corpus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("1m"))
    parser.add_argument("--limit", type=int, default=1_000_000, help="papers in all (at least 80,317)")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)
    if args.limit < REAL_PAPERS:
        parser.error(f"--limit must be at least the {REAL_PAPERS:,} real papers")
    return build(args.workdir, args.limit, args.seed)


def build(work: Path, limit: int, seed: int) -> dict:
    need_data("arxiv-cs-2025-2026.jsonl.gz", "hf-daily-papers-2024-2026.jsonl.gz", "embeddings", "queries")
    work.mkdir(parents=True, exist_ok=True)
    path = work / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {"papers": limit, "seed": seed, "phases": {}}
    if (results["papers"], results["seed"]) != (limit, seed):
        raise SystemExit(f"{work} holds a build of {results['papers']:,} papers with seed {results['seed']}: "
                         "use another --workdir")
    results.update(started=time.strftime("%Y-%m-%d %H:%M:%S %Z"), load_at_start=os.getloadavg(),
                   command=f"python -m bench run million_corpus --workdir {work} --limit {limit} --seed {seed}")
    svc = Papersift(work / "papersift.db", work / "index", embedder=False)
    with gzip.open(DATA / "embeddings" / "papers-80k-ids.txt.gz", "rt") as fh:
        real_ids = [line.strip() for line in fh if line.strip()]
    syn_ids = synth.synthetic_ids(limit - len(real_ids), set(real_ids))
    plan, real = load_plan(work, len(syn_ids), seed)

    run_phase(results, path, "ingest_real", lambda: phase_ingest_real(svc))
    counts = run_phase(results, path, "synthesize", lambda: phase_synthesize(
        work, real or synth.load_real(DATA), plan, syn_ids))
    run_phase(results, path, "ingest_synthetic", lambda: phase_ingest_synthetic(svc, work, counts))
    forget_stale_lexical(results, svc)
    run_phase(results, path, "lexical_index", lambda: phase_lexical(svc))
    run_phase(results, path, "vectors", lambda: phase_vectors(svc, work, real_ids, syn_ids, plan["base"], seed))
    run_phase(results, path, "geometry", lambda: phase_geometry(work, len(real_ids), plan["base"], seed))
    if "filters" in results["phases"]:
        print_picks(pick_filters(svc, extras=True))
    run_phase(results, path, "filters", lambda: phase_filters(svc))
    results.update(sizes=sizes(work, svc), papers_in_store=svc.store.count_papers(), load_at_end=os.getloadavg(),
                   finished=time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    path.write_text(json.dumps(results, indent=1) + "\n")
    svc.close()
    return results
