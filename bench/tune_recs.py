"""Tune the recommender's defaults on the non-held-out cutoffs of `papersift eval-recs`.

Never run on T = 2026-03-01: that cutoff is reported once with the defaults this picks. Stage 1
picks the model (where unseen papers come from, the embedding : words balance, C); stage 2, on
that model, the unseen count, the weight of a "not for me", the recency / votes prior and the
diversity. The score is mean nDCG@10 over both cutoffs' sampled users (all window papers).

    timeout 3000 .venv/bin/python -m bench run tune_recs --users 150 --out /tmp/tune_recs.json
    timeout 2400 .venv/bin/python -m bench run tune_recs --users 150 --pools recent --emb 0.0,0.1,0.15,0.25 \
        --c 3.0,10.0 --out /tmp/tune_recs_run2.json

The first run (2026-12-01) had a wider stage 2 (unseen 300/1000 x negative weight 1/5/20; recency 0/0.25/0.5 x
votes 0/0.1/0.3 x diversity 1/0.9/0.75); its best sat on the edges, so the second run's grids (below) moved.
Results and the choices made from them: docs/benchmarks/ARCHIVE.md, "Recommendations: author-as-user".
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import asdict, replace
from datetime import date

import numpy as np

from papersift.evaluate.recs import _data_dir, build_setup, run_users
from papersift.evaluate.recs_data import sample_users
from papersift.evaluate.recs_methods import ProductMethods
from papersift.recommend import RecParams

NEEDS = "../shared/data (the arXiv listings and embeddings/)"
TUNING_CUTOFFS = ("2025-10-01", "2025-12-01")


def score(setups, grid: dict[str, tuple[str, RecParams]]) -> dict[str, float]:
    """Mean nDCG@10 per grid entry, averaged over the cutoffs (each cutoff's users macro-averaged)."""
    totals = {name: [] for name in grid}
    for setup, users in setups:
        products = {pool: ProductMethods(setup, RecParams(), pool) for pool in {p for p, _ in grid.values()}}
        methods = {name: products[pool].method(params) for name, (pool, params) in grid.items()}
        started = time.perf_counter()
        per_user = run_users(setup, users, methods)["all window papers"]
        print(f"  {len(users)} users x {len(grid)} variants: {time.perf_counter() - started:.0f} s", flush=True)
        for name, rows in per_user.items():
            totals[name].append(float(np.mean([r["ndcg@10"] for r in rows])))
    return {name: float(np.mean(v)) for name, v in totals.items()}


def stage_one(pools, embs, cs) -> dict[str, tuple[str, RecParams]]:
    grid = {}
    base = RecParams()
    for pool, emb, c in itertools.product(pools, embs, cs):
        model = replace(base.model, embedding_weight=emb, c=c)
        grid[f"pool={pool} emb={emb} C={c}"] = (pool, replace(base, model=model))
    return grid


def stage_two(pool: str, best: RecParams) -> dict[str, tuple[str, RecParams]]:
    grid = {}
    for unseen, negw in itertools.product((150, 300), (5.0, 20.0)):
        grid[f"unseen={unseen} negw={negw}"] = (pool, replace(best, model=replace(best.model, unseen=unseen,
                                                                                negative_weight=negw)))
    for rec, votes, div in itertools.product((0.0, 0.25), (0.0, 0.3, 0.6, 1.0), (1.0, 0.9)):
        prior = replace(best.prior, recency=rec, votes=votes)
        grid[f"recency={rec} votes={votes} diversity={div}"] = (pool, replace(best, prior=prior, diversity=div))
    return grid


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run tune_recs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150, help="seeded sample of users per cutoff")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None, help="also write every score here (JSON)")
    # The first grid; a second run widens it where the first run's best sat on an edge.
    parser.add_argument("--pools", default="recent,background")
    parser.add_argument("--emb", default="1.0,0.5,0.25", help="embedding block weights (words weight 1)")
    parser.add_argument("--c", default="0.3,1.0,3.0", help="logistic regression C values")
    parser.add_argument("--stage1-only", action="store_true", help="stop after the model grid")
    args = parser.parse_args(argv)
    folder = _data_dir(None)
    setups = []
    for cutoff in TUNING_CUTOFFS:
        setup, _, users = build_setup(folder, date.fromisoformat(cutoff), args.seed)
        setups.append((setup, sample_users(users, args.users, args.seed)))
        print(f"{cutoff}: {len(setup.window)} candidates, {len(users)} eligible users", flush=True)
    grid1 = stage_one(args.pools.split(","), [float(x) for x in args.emb.split(",")],
                      [float(x) for x in args.c.split(",")])
    first = score(setups, grid1)
    best1 = max(first, key=first.get)
    pool, params = grid1[best1]
    print(f"stage 1 best: {best1} ({first[best1]:.4f})", flush=True)
    result = {"cutoffs": TUNING_CUTOFFS, "users": args.users, "seed": args.seed, "stage1": first}
    if not args.stage1_only:
        grid2 = stage_two(pool, params)
        second = score(setups, grid2)
        best2 = max(second, key=second.get)
        print(f"stage 2 best: {best2} ({second[best2]:.4f})", flush=True)
        result |= {"stage2": second, "best": {"pool": pool, "params": asdict(grid2[best2][1])}}
    for name, value in sorted({**first, **result.get("stage2", {})}.items(), key=lambda kv: -kv[1])[:15]:
        print(f"{value:.4f}  {name}")
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1)
    return result
