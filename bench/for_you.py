"""The recommender's speed bars on the 80K corpus: the "For you" page and 10,000 personalised digests.

    python -m bench run for_you [--subscribers 10000] [--requests 30] [--limit N] [--workdir DIR]

Works on a fresh copy of the workdir's database (``<workdir>/for-you/recs.db``, made with SQLite's
backup API at every run, so a rerun builds the digests again) and reads the workdir's indexes: the
80K workdir itself (built first when missing) is never changed.

Page: a reader with 50 signals (35 "more like this" on the papers nearest a seed paper listed in the
feed's last week, 5 upvotes, 5 saves, 5 "not for me") signs in over a real HTTP server on 127.0.0.1;
each timed request is ``GET /for-you`` right after a "more like this" click (or its undo) posted through
the page's own form, so every page retrains the reader's model on changed signals (the shared feature space of the
window is fitted once, by the untimed first request, and reported as ``cold_ms``).

Digests: N readers, each with 20 "more like this" signals around their own seed paper and a confirmed
daily subscription with "Trending" on, then one ``DigestBuilder.build`` for the feed's latest weekday,
timed twice on the same subscribers: topics only (``for_you_count=0``, a dry run) and personalised
(``for_you_count=5``, written to the outbox).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np
from rich.progress import Progress

from bench import corpus80k
from bench.common import app_server, copy_store, workdir
from papersift.server.app import create_app
from papersift.service import Mail, Papersift

NEEDS = "the 80K workdir (built first when missing)"
PASSWORD = "bench password 1234"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def copy_db(workdir: Path) -> Path:
    """A fresh copy of the workdir's database (its indexes are read in place)."""
    target = workdir / "for-you" / "recs.db"
    target.parent.mkdir(exist_ok=True)
    for leftover in target.parent.glob("recs.db*"):
        leftover.unlink()
    return copy_store(corpus80k.ensure(workdir), target, index=False)


def window(svc: Papersift) -> tuple[str, list[str], np.ndarray]:
    """The feed's latest day, and the papers listed in the 60 days before it with their unit vectors."""
    latest = svc.store.latest_feed_day()
    start = (date.fromisoformat(latest) - timedelta(days=60)).isoformat()
    ids = list(dict.fromkeys(p.id for p, _ in svc.store.feed_rows(start, latest)))
    vectors = svc.indexes.vectors
    kept = [pid for pid in ids if vectors.vector(pid) is not None]
    matrix = np.vstack([np.asarray(vectors.vector(pid), dtype=np.float32) for pid in kept])
    return latest, kept, matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def nearest(ids: list[str], matrix: np.ndarray, seed: int, n: int, skip: set[str]) -> list[str]:
    order = np.argsort(-(matrix @ matrix[seed]))
    return [ids[i] for i in order if ids[i] not in skip][:n]


def page_reader(svc: Papersift, latest: str, ids: list[str], matrix: np.ndarray, rng) -> tuple[str, list[str]]:
    email = "bench-for-you@example.org"
    user = svc.store.get_user_by_email(email) or svc.accounts.create_user(email, PASSWORD, "Bench Reader")
    svc.store.delete_user_signals(user.id, votes_and_saves=True)
    week = {p.id for p, _ in svc.store.feed_rows((date.fromisoformat(latest) - timedelta(days=6)).isoformat(), latest)}
    seed = int(rng.choice([i for i, pid in enumerate(ids) if pid in week]))
    liked = nearest(ids, matrix, seed, 45, week)
    for pid in liked[:35]:
        svc.store.add_signal(user.id, pid, "more")
    for pid in liked[35:40]:
        svc.store.set_vote(user.id, pid, True)
    for pid in liked[40:45]:
        svc.store.set_saved(user.id, pid, True)
    for pid in rng.choice(ids, 5, replace=False):
        svc.store.add_signal(user.id, str(pid), "not_for_me")
    return email, liked


def time_page(svc: Papersift, email: str, requests: int) -> dict:
    with app_server(create_app(svc, background=False)) as base, httpx.Client(base_url=base, timeout=120) as client:
        token = CSRF.search(client.get("/login").text).group(1)
        client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD, "next": "/"})
        started = time.perf_counter()
        page = client.get("/for-you?period=week")
        cold = (time.perf_counter() - started) * 1000
        if page.status_code != 200 or 'class="card-why"' not in page.text:
            raise SystemExit(f"GET /for-you answered {page.status_code} without recommendations: {page.text[:300]}")
        result = {"cold_ms": round(cold, 1)}
        for period in ("week", "day", "month"):
            result[period] = _timed_clicks(client, period, requests)
        return result


def _timed_clicks(client: httpx.Client, period: str, requests: int) -> dict:
    times, cards, marked = [], [], None
    page = client.get(f"/for-you?period={period}").text
    for _ in range(requests):
        # "more like this" on the top paper, then its undo: every request sees changed signals
        token = CSRF.search(page).group(1)
        target, action = (marked, "off") if marked else (
            re.findall(r'action="/papers/([^"]+)/feedback"', page)[0], "on")
        client.post(f"/papers/{target}/feedback", data={"csrf_token": token, "kind": "more", "action": action,
                                                         "next": "/for-you"})
        marked = None if marked else target
        started = time.perf_counter()
        response = client.get(f"/for-you?period={period}")
        times.append((time.perf_counter() - started) * 1000)
        page = response.text
        cards.append(page.count('class="card-why"'))
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
            "n": len(times), "cards_median": statistics.median(cards)}


def make_subscribers(svc: Papersift, ids: list[str], matrix: np.ndarray, n: int, rng) -> list[int]:
    """N readers with 20 "more like this" each and a confirmed daily subscription (made once)."""
    store, subs = svc.store, []
    with Progress() as progress:
        task = progress.add_task("readers", total=n)
        for i in range(n):
            email = f"bench-reader-{i}@example.org"
            user = store.get_user_by_email(email)
            if user is None:
                user = store.create_user(email, f"Reader {i}", "not-a-password-hash")
                for pid in nearest(ids, matrix, int(rng.integers(len(ids))), 20, set()):
                    store.add_signal(user.id, pid, "more")
            sub = store.subscriber_for_user(user.id)
            if sub is None:
                sub = store.create_subscriber(email, "daily", True, [], user.id, "nonce")
                store.confirm_subscriber(sub.id, "nonce")
            subs.append(sub.id)
            progress.advance(task)
    return subs


def time_digests(svc: Papersift, latest: str, subs: list[int]) -> dict:
    day = date.fromisoformat(latest)
    while day.weekday() >= 5:  # a daily digest goes out on weekdays
        day += timedelta(days=1)
    result = {"day": day.isoformat(), "subscribers": len(subs)}
    for name, count, dry in (("topics_only", 0, True), ("personalised", 5, False)):
        # the service's own mail, with only the "For you" count changed: the indexes and the recommender's
        # window stay the ones the page phase warmed
        settings = replace(svc.settings, base_url="https://papers.example.org",
                           digest=replace(svc.settings.digest, for_you_count=count))
        mail = Mail(svc.corpus, svc.catalog, settings, svc.for_you.digest_picks, svc.mail.clock)
        started = time.perf_counter()
        report = mail.build(day, dry_run=dry, only=set(subs))
        result[name] = {"seconds": round(time.perf_counter() - started, 1), **report.as_dict()}
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run for_you", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("80k"))
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=None, help="at most this many subscribers (a quick run)")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    db = copy_db(args.workdir)
    svc = Papersift(db, index_dir=args.workdir / "papersift.db.index")
    rng = np.random.default_rng(11)
    latest, ids, matrix = window(svc)
    email, _ = page_reader(svc, latest, ids, matrix, rng)
    out = {"papers": svc.store.count_papers(), "window_papers": len(ids), "latest_day": latest}
    out["page"] = time_page(svc, email, args.requests)
    n = min(args.subscribers, args.limit or args.subscribers)
    subs = make_subscribers(svc, ids, matrix, n, rng)
    out["digests"] = time_digests(svc, latest, subs)
    svc.close()
    return out
