"""Time to build and send 10,000 personalised digests to a local SMTP server, on the full corpus.

    python -m bench run digest_send [--subscribers 10000] [--date 2026-05-19] [--workdir DIR]

Works on a *copy* of the 80K workdir's store (built first when missing; the original is never migrated
or written): SQLite online backup + the lexical index folder, in a temporary directory removed at the
end (``--keep`` keeps it).

Subscribers (not timed): ``--subscribers`` confirmed addresses with varied topics drawn from the
corpus itself: 70% want the trending list; each follows 0-3 arXiv categories, 0-2 organisations
and 0-2 authors seen in the month before ``--date``, and 0-2 saved searches from a list of 60 short
topical queries; 85% daily, 15% weekly (the weekly day is set to ``--date``'s weekday so both are due).

Timed: one ``Digests.run`` as ``papersift digest send`` does it: build (choose papers for every
subscriber, write the outbox and sent_papers) then send (render each message from its template,
SMTP to an aiosmtpd server in a separate process on 127.0.0.1, record it sent). Peak RSS is this
process's (the server runs elsewhere). The server's count of distinct Message-IDs must equal the
number sent.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench import corpus80k
from bench.common import copy_store, free_port, workdir
from papersift.config import DigestSettings, Settings, SMTPSettings
from papersift.digest import Digests
from papersift.service import Papersift

NEEDS = "aiosmtpd (the test extras); the 80K workdir (built first when missing)"
SEARCHES = [
    "diffusion video generation", "retrieval augmented generation", '"reinforcement learning" reasoning',
    "mixture of experts", "speculative decoding", "vision language model", "text to image", "3d gaussian splatting",
    "code generation benchmark", "long context", "state space model", "kv cache compression", "quantization llm",
    "robot manipulation", "autonomous driving", "medical imaging segmentation", "graph neural network",
    "federated learning privacy", "machine translation low resource", "speech recognition", "music generation",
    "protein structure", "time series forecasting", "recommendation system", "question answering", "agents tool use",
    "jailbreak safety", "hallucination detection", "preference optimization dpo", "reward model", "chain of thought",
    "mathematical reasoning", "image editing", "video understanding", "embodied agent", "world model",
    "multimodal benchmark", "dense retrieval", "knowledge distillation", "continual learning", "object detection",
    "semantic segmentation", "pose estimation", "neural radiance field", "point cloud", "optical flow",
    "contrastive learning", "self-supervised", "tokenizer", "in-context learning", "prompt optimization",
    "low-rank adaptation lora", "sparse attention", "efficient inference", "data curation", "synthetic data",
    "evaluation llm judge", "watermarking", "adversarial robustness", "cat:cs.RO policy",
]


def smtp_process(port: int, ready, results) -> None:
    """A counting aiosmtpd server (runs in its own process so it does not share our CPU time)."""
    from aiosmtpd.controller import Controller

    class Count:
        def __init__(self):
            self.ids, self.bytes = set(), 0
            self.messages = 0

        async def handle_DATA(self, server, session, envelope):
            self.messages += 1
            self.bytes += len(envelope.original_content or envelope.content)
            for line in (envelope.original_content or envelope.content).split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    self.ids.add(line.split(b":", 1)[1].strip())
                    break
                if not line:
                    break
            return "250 OK"

    handler = Count()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    results.get()  # wait for "stop"
    controller.stop()
    results.put({"messages": handler.messages, "distinct_message_ids": len(handler.ids), "bytes": handler.bytes})


def make_subscribers(svc, n: int, today: date, rng: random.Random) -> dict:
    store = svc.store
    month_ago = (today - timedelta(days=30)).isoformat()
    recent = store.papers_published_between(month_ago, today.isoformat())
    cats = sorted({c for p in recent for c in p.categories})
    orgs = sorted({p.organization for p in recent if p.organization})
    authors = sorted({a for p in recent for a in p.authors[:3]})
    made = {"daily": 0, "weekly": 0}
    for i in range(n):
        topics = [("category", c) for c in rng.sample(cats, k=min(len(cats), rng.choice([0, 1, 1, 2, 3])))]
        topics += [("organization", o) for o in rng.sample(orgs, k=min(len(orgs), rng.choice([0, 0, 1, 2])))]
        topics += [("author", a) for a in rng.sample(authors, k=min(len(authors), rng.choice([0, 0, 1, 2])))]
        topics += [("search", s) for s in rng.sample(SEARCHES, k=rng.choice([0, 0, 1, 2]))]
        trending = rng.random() < 0.7 or not topics
        cadence = "weekly" if rng.random() < 0.15 else "daily"
        sub = store.create_subscriber(f"reader{i}@bench.example.org", cadence, trending, topics, None, f"n{i}")
        store.confirm_subscriber(sub.id, f"n{i}")
        made[cadence] += 1
    return {"categories": len(cats), "organizations": len(orgs), "authors": len(authors), **made}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run digest_send", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--date", default="2026-05-19", help="the send day (a weekday with papers)")
    parser.add_argument("--workdir", type=Path, default=workdir("80k"), help="the 80K workdir (copied, never written)")
    parser.add_argument("--keep", action="store_true", help="keep the working copy")
    args = parser.parse_args(argv)
    source = corpus80k.ensure(args.workdir)
    work = Path(tempfile.mkdtemp(prefix="papersift-digest-bench-"))
    try:
        return run(args, source, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)


def prepare(source: Path, work: Path, subscribers: int, today: date, settings: Settings) -> tuple[Papersift, dict]:
    started = time.perf_counter()
    # opening migrates the copy
    svc = Papersift(copy_store(source, work / "papersift.db"), embedder=False, settings=settings)
    prepared = {"copy_and_migrate_s": round(time.perf_counter() - started, 1), "papers": svc.store.count_papers()}
    started = time.perf_counter()
    prepared |= make_subscribers(svc, subscribers, today, random.Random(7))
    prepared["subscribers_s"] = round(time.perf_counter() - started, 1)
    return svc, prepared


def smtp_server():
    """The counting SMTP server in its own process: (port, process, results queue)."""
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Event(), ctx.Queue()
    server = ctx.Process(target=smtp_process, args=(port, ready, results), daemon=True)
    server.start()
    if not ready.wait(30):
        raise SystemExit("the SMTP server did not start")
    return port, server, results


def run(args, source: Path, work: Path) -> dict:
    today = date.fromisoformat(args.date)
    port, server, results = smtp_server()
    settings = Settings(base_url="https://papers.example.org",
                        smtp=SMTPSettings(host="127.0.0.1", port=port, starttls=False,
                                          sender="papersift <digest@papers.example.org>"),
                        digest=DigestSettings(weekly_day=f"{today:%a}".lower()))
    svc, prepared = prepare(source, work, args.subscribers, today, settings)
    digests = Digests(svc)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    built = svc.mail.build(today)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    sent = digests.send_pending()
    send_s = time.perf_counter() - started
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put("stop")
    server.join(30)
    received = results.get(timeout=30)
    sizes = [len(json.dumps(m.payload)) for m in (svc.store.get_message(i) for i in (1, 2, 3)) if m]
    total = build_s + send_s
    if received["distinct_message_ids"] != sent.sent or received["messages"] != sent.sent:
        raise SystemExit(f"the server received {received} but the sender counted {sent.sent} sent")
    return {"date": args.date, "subscribers": args.subscribers, "prepare": prepared,
            "build": built.as_dict(), "sent": sent.sent, "retry": sent.retry, "failed": sent.failed,
            "received": received, "build_s": round(build_s, 2), "send_s": round(send_s, 2),
            "total_s": round(total, 2), "digests_per_s": round(sent.sent / total, 1) if total else None,
            "send_messages_per_s": round(sent.sent / send_s, 1) if send_s else None,
            "mean_message_kb": round(received["bytes"] / max(1, received["messages"]) / 1024, 1),
            "outbox_payload_bytes_sample": sizes,
            "rss_mb_before_build": round(rss_before), "peak_rss_mb": round(rss_peak)}
