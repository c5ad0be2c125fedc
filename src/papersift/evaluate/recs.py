"""`papersift eval-recs`: the author-as-user evaluation of the recommender.

No public per-reader ratings exist here, so an author plays the reader: their papers before the
cutoff T are what they liked, and the papers they list in the 30 days after T are what a good
recommender should have put first among everything listed in those days. Author names are
stripped from every feature (otherwise it is name matching); the second table also drops every
window paper that shares a co-author with the profile, where only the topic can help.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import numpy as np

from papersift.errors import BadInput
from papersift.evaluate.recs_data import (
    EvalUser,
    parse_cutoff,
    read_papers,
    read_vectors,
    sample_users,
    select_users,
    window_bounds,
)
from papersift.evaluate.recs_methods import Case, Method, ProductMethods, Setup, baselines, simulated_negatives
from papersift.evaluate.recs_stats import paired_tests, summarise, user_scores
from papersift.recommend import RecParams
from papersift.recommend.features import FeatureSpace

Progress = Callable[[int], None] | None
PRODUCT = "papersift recommender"
VARIANTS = ("all window papers", "no shared co-author")
POOLS = ("recent", "background")


def _data_dir(given: str | Path | None) -> Path:
    if given is not None:
        folder = Path(given)
        if not folder.is_dir():
            raise BadInput(f"--data {folder}: not a folder")
        return folder
    from papersift.service.bootstrap import shared_data_dir

    found = shared_data_dir()
    if found is None:
        raise BadInput("no ../shared/data beside the checkout (or $PAPERSIFT_SHARED_DATA): pass --data DIR, the "
                       "folder with arxiv-cs-2025-2026.jsonl.gz and embeddings/")
    return found


def build_setup(data_dir: Path, cutoff: date, seed: int) -> tuple[Setup, list, list[EvalUser]]:
    """The feature space over every paper listed before T + 30 days, and the cutoff's users."""
    start, end = window_bounds(cutoff)
    corpus = read_papers(data_dir, end)
    if not any(day >= start for day in corpus.listed.values()):
        raise BadInput(f"no paper is listed from {start} to {end} in {data_dir}: pick a cutoff inside the listings")
    users = select_users(corpus, cutoff)
    if not users:
        raise BadInput(f"no author has >= 5 papers before {start} and one from {start} to {end}")
    space = FeatureSpace(corpus.papers, read_vectors(data_dir, [p.id for p in corpus.papers]))
    t, month_ago = float(cutoff.toordinal()), float((cutoff - timedelta(days=30)).toordinal())
    rows = np.arange(len(space))
    setup = Setup(space, window=rows[space.days >= t], background=rows[space.days < t],
                  last_month=rows[(space.days >= month_ago) & (space.days < t)],
                  names=[corpus.names[p] for p in space.ids], now_day=t + 30, seed=seed)
    return setup, corpus.papers, users


def _shared_index(setup: Setup) -> dict[str, list[int]]:
    """name -> window rows with that author, to find a profile's co-authors' papers quickly."""
    index: dict[str, list[int]] = defaultdict(list)
    for r in setup.window:
        for name in setup.names[r]:
            index[name].append(int(r))
    return index


def run_users(setup: Setup, users: list[EvalUser], methods: dict[str, Method], progress: Progress = None) -> dict:
    """{variant: {method: [per-user scores]}} for both variants of the protocol."""
    by_author = _shared_index(setup)
    per_user: dict[str, dict[str, list[dict[str, float]]]] = {v: {m: [] for m in methods} for v in VARIANTS}
    for i, user in enumerate(users):
        profile = setup.space.rows(user.profile)
        case = Case(i, user, profile, simulated_negatives(setup, user, profile))
        relevant = set(setup.space.rows(sorted(user.relevant)).tolist())
        shared = {r for name in user.coauthors for r in by_author.get(name, ())}
        kept = relevant - shared
        for name, method in methods.items():
            ranked = method(case).tolist()
            per_user[VARIANTS[0]][name].append(user_scores(ranked, relevant))
            if kept:
                per_user[VARIANTS[1]][name].append(user_scores([r for r in ranked if r not in shared], kept))
        if progress:
            progress(1)
    return per_user


def evaluate_recs(cutoff: str, data_dir: str | Path | None = None, limit: int | None = None, seed: int = 0,
                  params: RecParams = RecParams(), progress: Progress = None, on_start: Callable | None = None,
                  extra: dict[str, RecParams] | None = None, skip_baselines: bool = False,
                  pool: str = "recent") -> dict:
    """Run the protocol at ``cutoff``; ``extra`` adds named product variants (tuning scripts)."""
    when = parse_cutoff(cutoff)
    if limit is not None and limit < 1:
        raise BadInput("--limit must be at least 1 (users)")
    started = time.perf_counter()
    setup, papers, eligible = build_setup(_data_dir(data_dir), when, seed)
    users = sample_users(eligible, limit, seed)
    if pool not in POOLS:
        raise BadInput(f"unknown unseen pool {pool!r}: use one of {', '.join(POOLS)}")
    product = ProductMethods(setup, params, pool)
    methods = {} if skip_baselines else baselines(setup, papers)
    base_names = list(methods)
    methods.update(product.variants())
    methods.update({name: product.method(p) for name, p in (extra or {}).items()})
    prepared = time.perf_counter() - started
    if on_start:
        on_start(len(users))
    per_user = run_users(setup, users, methods, progress)
    timings = {name: _ms(values) for name, values in (("train_ms", product.train_seconds),
                                                       ("train_and_rank_ms", product.total_seconds))}
    return {
        "cutoff": when.isoformat(), "window": list(window_bounds(when)), "window_papers": int(len(setup.window)),
        "space_papers": len(setup.space), "eligible_users": len(eligible), "users": len(users), "seed": seed,
        "params": _params_dict(params), "unseen_pool": pool,
        "variants": {v: {"users": len(next(iter(rows.values()), [])), "methods": summarise(rows),
                         "paired": paired_tests(rows, PRODUCT, base_names) if base_names else None}
                     for v, rows in per_user.items()},
        **timings,
        "prepare_seconds": round(prepared, 1), "seconds": round(time.perf_counter() - started, 1),
    }


def _ms(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"median": float(np.median(ms)) if ms.size else None, "p99": float(np.percentile(ms, 99)) if ms.size else None}


def _params_dict(params: RecParams) -> dict:
    from dataclasses import asdict

    return asdict(params)
