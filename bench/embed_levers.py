"""What each lever on the embedding rate is worth, measured one by one on one core, and where the time goes.

    python -m bench run embed_levers [--papers 120] [--rounds 3] [--quality]

The texts are those of ``embed_rate`` (real arXiv titles + abstracts, median 256 tokens after truncation).
Every variant runs the product's int8 graph in a session of one thread, one variant after the other
within a round (so all see the same machine), papers per second the median of the rounds:

* ``one row per run``: the product (each text one run of the graph, vectors independent of batch-mates);
* ``graph optimisation LEVEL``: onnxruntime's disable / basic / extended levels (the product: all);
* ``padded batches of B``: texts sorted by length, B per run (vectors then depend on batch-mates);
* ``128 tokens``: the texts truncated to 128 tokens instead of the model's 256.

``profile``: the share of each operator in the product's run (onnxruntime's profiler), and the rate of
its int8 matrix products (multiply-accumulates per second), which bounds the rate any schedule can reach.
``--quality`` also runs SciFact (300 test queries, dense and hybrid, through the product's search) with the
128-token embedder against the default, nDCG@10 with the paired bootstrap of the difference.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import DATA, ROOT, paired
from bench.embed_rate import texts

NEEDS = "../shared/data/arxiv-cs-2025-2026.jsonl.gz; --quality: ../shared/data/scifact"
LEVELS = ("disable", "basic", "extended")


def _session(embedder, level: str = "all", profile_to: str | None = None):
    import onnxruntime as ort

    from papersift.embed.bert_graph import SESSION_DISABLED_OPTIMIZERS

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.graph_optimization_level = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
                                     "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                     "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                                     "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    if profile_to:
        opts.enable_profiling, opts.profile_file_prefix = True, profile_to
    return ort.InferenceSession(str(embedder._model_path), opts, providers=["CPUExecutionProvider"],
                                disabled_optimizers=SESSION_DISABLED_OPTIMIZERS)


def _truncated(rows: list[list[int]], tokens: int) -> list[list[int]]:
    return [r[:tokens - 1] + [r[-1]] if len(r) > tokens else r for r in rows]


def _rate(embedder, session, rows: list[list[int]], per_run: int = 1) -> float:
    embedder._run(session, rows[:per_run])  # warm-up
    started = time.perf_counter()
    for i in range(0, len(rows), per_run):
        embedder._run(session, rows[i:i + per_run])
    return len(rows) / (time.perf_counter() - started)


def speed(embedder, rows: list[list[int]], rounds: int) -> dict:
    by_length = sorted(rows, key=len)
    sessions = {"all": _session(embedder), **{level: _session(embedder, level) for level in LEVELS}}
    variants = {"one row per run": lambda: _rate(embedder, sessions["all"], rows),
                **{f"graph optimisation {lv}": (lambda lv=lv: _rate(embedder, sessions[lv], rows)) for lv in LEVELS},
                **{f"padded batches of {b}": (lambda b=b: _rate(embedder, sessions["all"], by_length, b)) for b in (4, 16)},
                "128 tokens": lambda: _rate(embedder, sessions["all"], _truncated(rows, 128))}
    measured: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            measured[name].append(run())
    base = statistics.median(measured["one row per run"])
    return {name: {"papers_per_s": round(statistics.median(v), 1), "rounds": [round(x, 1) for x in v],
                   "ratio": round(statistics.median(v) / base, 2)} for name, v in measured.items()}


def profile(embedder, rows: list[list[int]], hidden: int = 384, intermediate: int = 1536, layers: int = 6) -> dict:
    """Operator shares of the product's run, and its int8 matrix products' rate."""
    with tempfile.TemporaryDirectory() as tmp:
        session = _session(embedder, profile_to=str(Path(tmp) / "profile"))
        for row in rows:
            embedder._run(session, [row])
        events = json.loads(Path(session.end_profiling()).read_text())
    per_op: collections.Counter = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    tokens = sum(len(r) for r in rows)
    # the weights' multiply-accumulates per token: Q, K, V and the output (4 h x h), the FFN (2 h x i)
    macs = tokens * layers * (4 * hidden * hidden + 2 * hidden * intermediate)
    qkv_share = 3 / 4 * 4 * hidden * hidden / (4 * hidden * hidden + 2 * hidden * intermediate)
    # QAttention also runs the attention itself (in float32); its Q/K/V product is timed with the
    # DynamicQuantizeMatMul rate, the rest of it counted as attention
    dq_us, qkv_macs = per_op["DynamicQuantizeMatMul"], macs * qkv_share
    gemm_rate = (macs - qkv_macs) / (dq_us * 1e-6)
    linear_s = macs / gemm_rate
    return {"ms_per_paper": round(total / len(rows) / 1000, 2),
            "share": {op: round(us / total, 3) for op, us in per_op.most_common(8)},
            "int8_gmac_per_s": round(gemm_rate / 1e9, 1),
            "linear_ms_per_paper": round(linear_s / len(rows) * 1000, 2),
            "bound_papers_per_s_per_core": round(len(rows) / linear_s, 1)}


def quality() -> dict:
    """SciFact nDCG@10 of the default embedder and of the 128-token one, each in its own process (and
    cache folder of vectors), paired."""
    scores = {}
    for tokens in (256, 128):
        out = subprocess.run([sys.executable, "-c", f"from bench.embed_levers import scifact; scifact({tokens})"],
                             cwd=ROOT, capture_output=True, text=True, check=True)
        scores[tokens] = json.loads(out.stdout.strip().splitlines()[-1])
    return {mode: {"256 tokens": _mean(scores[256][mode]), "128 tokens": _mean(scores[128][mode]),
                   "128 - 256": paired(scores[256][mode], scores[128][mode])} for mode in ("dense", "hybrid")}


def _mean(per: dict[str, float]) -> float:
    return round(statistics.fmean(per.values()), 4)


def scifact(tokens: int) -> None:
    """(In a child.) Per-query nDCG@10 of SciFact test, dense and hybrid, with the int8 embedder truncating at
    ``tokens``, printed as one JSON line."""
    import papersift.embed.load as load
    from papersift.embed.minilm import minilm
    from papersift.evaluate.beir_eval import open_corpus, run_queries
    from papersift.evaluate.metrics import ndcg_at_k, per_query
    from papersift.ingest import beir

    plain = load._make
    load._make = lambda spec, threads=None, cache=None: (  # type: ignore[assignment]
        minilm("int8", max_tokens=tokens, threads=threads, cache=cache) if spec == "minilm" else plain(spec, threads, cache))
    folder = DATA / "scifact"
    qrels = beir.read_qrels(folder, "test")
    queries = {q: t for q, t in beir.read_beir_queries(folder).items() if q in qrels}
    svc, namespace = open_corpus(folder, embedder="minilm")
    result = {mode: per_query(run_queries(svc.searcher, queries, namespace, mode), qrels,
                              lambda r, j: ndcg_at_k(r, j, 10)) for mode in ("dense", "hybrid")}
    svc.close()
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench run embed_levers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quality", action="store_true", help="also SciFact nDCG@10 at 128 tokens (minutes)")
    args = ap.parse_args(argv)
    from papersift.embed.load import load_embedder

    embedder = load_embedder("minilm", threads=1)
    rows = [e.ids for e in embedder.tokenizer.encode_batch(texts(args.papers))]
    result = {"papers": len(rows), "mean_tokens": round(statistics.fmean(len(r) for r in rows), 1),
              "one_core": speed(embedder, rows, args.rounds), "profile": profile(embedder, rows[:60])}
    if args.quality:
        result["scifact_ndcg10"] = quality()
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
