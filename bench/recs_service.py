"""For you measured through the product (author-as-user), against the product's hybrid search and the followed categories.

    python -m bench run recs_service --cutoff 2026-03-01 --users 500 --seed 0      # the report
    python -m bench run recs_service --tune --users 150                            # the co-author weight

The report is `papersift eval-recs --through-service` (src/papersift/evaluate/recs_service.py): a real
store per cutoff holding every arXiv paper listed before T + 30 days, one account per sampled author
(their papers before T imported as their library, their 3 main primary categories followed), and the
product's answers: For you for the month ending on T + 29, hybrid search with the profile's titles,
the followed categories newest first, and the arxiv-sanity-lite replica. The store of each cutoff is
built once into ``--workdir`` (a few minutes) and reused by later runs.

``--tune`` picks the co-author prior's weight (recommend/ordering.py, ``PriorParams.coauthors``) on the
cutoffs bench/tune_recs.py uses, 2025-10-01 and 2025-12-01 (seed 1): mean For-you nDCG@10 over both
(all window papers) for each weight. It never runs on 2026-03-01, which is reported once.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np

from bench.common import workdir
from papersift.evaluate.recs_service import FOR_YOU, ForYouSettings, evaluate_recs_service
from papersift.recommend import RecParams

NEEDS = "../shared/data (the arXiv listings and embeddings/)"
TUNING_CUTOFFS = ("2025-10-01", "2025-12-01")
HELD_OUT = "2026-03-01"


def _say(text: str) -> None:
    print(text, flush=True)


def tune(weights: list[float], users: int, seed: int, folder, asl: bool) -> dict:
    base = RecParams()
    variants = {f"coauthors={w}": ForYouSettings(replace(base, prior=replace(base.prior, coauthors=w)))
                for w in weights}
    runs = {}
    for cutoff in TUNING_CUTOFFS:
        _say(f"{cutoff}: {len(variants)} For-you variants x {users} users")
        runs[cutoff] = evaluate_recs_service(cutoff, limit=users, seed=seed, workdir=folder, variants=variants,
                                             asl=asl, say=_say)
    table = {}
    for name in variants:
        table[name] = {variant: float(np.mean([runs[c]["variants"][variant]["methods"][name]["ndcg@10"]["mean"]
                                               for c in TUNING_CUTOFFS]))
                       for variant in ("all window papers", "no shared co-author")}
    best = max(table, key=lambda n: table[n]["all window papers"])
    for name, row in sorted(table.items(), key=lambda kv: -kv[1]["all window papers"]):
        _say(f"{row['all window papers']:.4f}  {row['no shared co-author']:.4f}  {name}")
    return {"cutoffs": TUNING_CUTOFFS, "users": users, "seed": seed, "mean_ndcg@10": table, "best": best,
            "runs": runs}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run recs_service", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cutoff", default=HELD_OUT)
    parser.add_argument("--users", type=int, default=150, help="seeded sample of users (per cutoff)")
    parser.add_argument("--seed", type=int, default=None, help="default 0 for the report, 1 for --tune")
    parser.add_argument("--workdir", default=str(workdir("recs-service")), help="where each cutoff's store is kept")
    parser.add_argument("--no-asl", action="store_true", help="leave the arxiv-sanity-lite replica out")
    parser.add_argument("--tune", action="store_true", help="the co-author weight on the tuning cutoffs")
    parser.add_argument("--weights", default="0,0.5,1,2,3,5", help="--tune: the co-author weights to try")
    parser.add_argument("--out", default=None, help="also write the whole result here (JSON)")
    args = parser.parse_args(argv)
    if args.tune:
        result = tune([float(w) for w in args.weights.split(",")], args.users,
                      1 if args.seed is None else args.seed, args.workdir, not args.no_asl)
    else:
        result = evaluate_recs_service(args.cutoff, limit=args.users, seed=args.seed or 0, workdir=args.workdir,
                                       asl=not args.no_asl, say=_say)
        for variant, part in result["variants"].items():
            _say(f"{variant} ({part['users']} users)")
            for name, metrics in part["methods"].items():
                m = metrics["ndcg@10"]
                _say(f"  {name:45s} nDCG@10 {m['mean']:.4f} [{m['ci_low']:.4f}, {m['ci_high']:.4f}]  "
                     f"R@50 {metrics['recall@50']['mean']:.4f}")
            for base, test in part["paired"].items():
                d = test["ndcg@10"]
                _say(f"  {FOR_YOU} - {base}: {d['diff']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]")
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1)
    return result
