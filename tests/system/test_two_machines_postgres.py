"""Two "machines" on one PostgreSQL database: two ``papersift serve`` processes (A with one worker,
B with two), each with its own index folder (``PAPERSIFT_INDEX_DIR``), as two hosts would run them.
A paper ingested on A (the ``papersift ingest`` command, A's index folder) becomes searchable on B
within seconds; votes clicked at once through both count once per reader; a session made on A
works on B (CSRF included), and failed log-ins on both count together. Then two ``papersift
digest send`` processes share one outbox, each in its own UTS namespace (its own host name, as
two machines have), and the one the SMTP server is holding mid-message is killed with SIGKILL:
the other cannot tell a dead process on another host from a slow one, so the claim comes back
only when its lease (``digest.claim_lease_minutes``, set short here) runs out; every digest is
then delivered exactly once, counted by Message-ID. (Without ``unshare`` both senders share this
host's name, and the dead sender's claim is recovered by its pid instead.)"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from papersift.model import FeedEntry, Paper
from papersift.service import Papersift, clean_choices

from ..digest_support import DAYS, corpus, smtp_config
from ..helpers import wait_until_answers
from ..smtp_support import Hold, SMTPServer, free_port
from ..web_support import csrf_of, log_in, sign_up

CLOSE = {"Connection": "close"}  # a new connection per request: B's two workers both answer




def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _paper(n: int, word: str = "zymurgic") -> Paper:
    day = "2024-05-2" + str(n % 7)
    return Paper(id=f"2405.{20000 + n}", title=f"{word.capitalize()} flux number {n} in quantum brewing",
                 abstract=f"A study of {word} flux.", authors=["Ada Brewer"], published=f"{day}T00:00:00Z",
                 source="hf-jsonl", observed_at=f"{day}T09:00:00Z",
                 feed_entry=FeedEntry(day=day, upvotes=n, rank=n, captured_at=f"{day}T09:00:00Z"))


@pytest.fixture(scope="module")
def machines(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("machines")
    name = pg_server.create_database()
    url = pg_server.url(name)
    env = {**os.environ, "PAPERSIFT_DB": url, "PAPERSIFT_DB_POOL_SIZE": "4"}
    svc = Papersift(url, index_dir=tmp / "seed", embedder=False)
    svc.store.upsert_papers([_paper(n) for n in range(5)])
    svc.store.close()
    procs, bases = [], {}
    try:
        for machine, workers in (("a", "1"), ("b", "2")):
            port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "papersift.cli", "serve", "--workers", workers, "--no-embed", "--port", str(port)],
                env=env | {"PAPERSIFT_INDEX_DIR": str(tmp / machine)}, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True))
            bases[machine] = f"http://127.0.0.1:{port}"
        for proc, base in zip(procs, bases.values(), strict=True):
            wait_until_answers(base + "/api/health", proc)
        yield {"url": url, "db": name, "env": env, "tmp": tmp, **bases}
    finally:
        for proc in procs:
            _stop(proc)
        pg_server.drop_database(name)


def _search_total(base: str, query: str) -> int:
    response = httpx.get(f"{base}/api/v1/search", params={"q": query, "mode": "bm25"}, headers=CLOSE, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_a_paper_ingested_on_one_machine_is_searchable_on_the_other(machines, tmp_path):
    # each machine's indexer catches its own folder up after start (health answers before that)
    for base in (machines["a"], machines["b"]):
        assert _eventually(lambda: _search_total(base, "zymurgic") == 5, 60)  # noqa: B023 (called at once)
    record = {"feed_date": "2024-05-24", "captured_at": "2024-05-25T01:00:00+00:00", "arxiv_id": "2405.29999",
              "title": "Quokkaesque retrieval across machines", "abstract": "We study quokkaesque retrieval.",
              "authors": ["Ada Brewer"], "published_at": "2024-05-24T17:34:15.000Z", "upvotes": 3,
              "num_comments": 0, "api_order": 0}  # the archive's line format (../shared/data)
    (tmp_path / "one.jsonl").write_text(json.dumps(record) + "\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "papersift.cli", "ingest", "hf-daily", str(tmp_path / "one.jsonl"),
                           "--json"], env=machines["env"] | {"PAPERSIFT_INDEX_DIR": str(machines["tmp"] / "a")},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ingested = time.monotonic()
    def found_on_b() -> list[str]:
        # a new connection each time: B runs two workers, and the follower sees the indexer's commit up to
        # a second (its refresh interval) after the indexer does, so both must answer with the paper
        hits = httpx.get(f"{machines['b']}/api/v1/search", params={"q": "quokkaesque", "mode": "bm25"},
                         headers={"Connection": "close"}).json()
        return [h["id"] for h in hits["results"]]

    while found_on_b() != ["2405.29999"]:
        assert time.monotonic() - ingested < 30, "machine B never indexed the paper machine A ingested"
        time.sleep(0.1)
    print(f"ingest command {ingested - started:.1f}s, then searchable on B after {time.monotonic() - ingested:.1f}s")
    assert _eventually(lambda: all(found_on_b() == ["2405.29999"] for _ in range(6)), 10)  # every worker of B


def _token(client: httpx.Client) -> str:
    page = client.get("/settings")
    made = client.post("/settings/tokens", data={"csrf_token": csrf_of(page.text), "name": "votes"})
    return re.search(r'id="new-token" class="token" readonly value="([^"]+)"', made.text).group(1)


def test_votes_through_both_machines_count_once_per_reader_and_sessions_travel(machines):
    a, b = machines["a"], machines["b"]
    secrets = []
    for n in range(3):
        with httpx.Client(base_url=a if n % 2 else b, timeout=60) as client:
            assert sign_up(client, f"reader{n}@example.org").status_code == 303
            secrets.append(_token(client))
    pid = _paper(3).id

    def vote(job):
        base, secret = job
        with httpx.Client(base_url=base, timeout=60) as c:
            return c.post(f"/api/v1/papers/{pid}/vote", headers={"Authorization": f"Bearer {secret}"}).status_code

    jobs = [(base, secret) for secret in secrets for base in (a, b) for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(vote, jobs))
    assert set(codes) == {200}, codes
    source = _paper(3).upvotes or 0
    for base in (a, b):
        assert httpx.get(f"{base}/api/v1/papers/{pid}", headers=CLOSE).json()["upvotes"] == source + 3

    # a session made on A: B knows it, and B accepts its CSRF token on a form (save a paper)
    with httpx.Client(base_url=a, timeout=60) as on_a:
        assert log_in(on_a, "reader0@example.org").status_code == 303
        cookies = dict(on_a.cookies)
    with httpx.Client(base_url=b, timeout=60, cookies=cookies) as on_b:
        page = on_b.get("/settings", headers=CLOSE)
        assert page.status_code == 200 and "reader0@example.org" in page.text
        saved = on_b.post(f"/papers/{pid}/save", data={"csrf_token": csrf_of(page.text), "next": "/library"},
                          headers=CLOSE)
        assert saved.status_code in (200, 303), saved.text[:300]
        library = on_b.get("/library", headers=CLOSE)
        assert pid in library.text
        forged = on_b.post(f"/papers/{pid}/save", data={"csrf_token": "forged", "next": "/library"}, headers=CLOSE)
        assert forged.status_code == 403

    # log-in throttling counts the failures on every machine: 3 on A and 2 on B block the sixth try
    for base in (a, b, a, b, a):
        with httpx.Client(base_url=base, timeout=60) as c:
            assert log_in(c, "reader1@example.org", "wrong password").status_code == 401
    for base in (a, b):
        with httpx.Client(base_url=base, timeout=60) as c:
            assert log_in(c, "reader1@example.org").status_code == 429  # even with the right password


# ---- two digest senders on two "machines", one killed mid-send

SUBSCRIBERS = 8
HOLD_AT = 4
LEASE_MINUTES = 0.1  # 6 s: how long a claim by a sender on another host is trusted


def _own_host_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-u", "sh", "-c", "hostname papersift-probe"], capture_output=True, timeout=10)
    return probe.returncode == 0


def _sender(machine: str, env: dict, own_host: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "papersift.cli", "digest", "send", "--date", DAYS[1].isoformat(), "--json"]
    if own_host:  # a UTS namespace: this process's host name is `machine` (another machine to the others)
        command = ["unshare", "-u", "sh", "-c", f'hostname {machine} && exec "$@"', "sh", *command]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _outbox(pg_server, db) -> list[tuple]:
    return pg_server.admin("SELECT id, status, claimed_by, attempts, message_id, claimed_at FROM outbox"
                           " WHERE kind = 'digest'"
                           " ORDER BY id", db=db)


def _eventually(check, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_two_senders_one_killed_mid_send_deliver_each_digest_exactly_once(pg_server, pg_url, tmp_path):
    own_host = _own_host_works()
    server = SMTPServer().start()
    server.hold = Hold(number=HOLD_AT)
    try:
        config = smtp_config(server.port, claim_lease_minutes=LEASE_MINUTES)
        svc = Papersift(pg_url, index_dir=tmp_path / "idx", embedder=False, settings=config)
        svc.store.upsert_papers(corpus())
        svc.indexes_lexical_only().sync_lexical()
        emails = [f"reader{i}@example.org" for i in range(SUBSCRIBERS)]
        for address in emails:
            sub = svc.mail.subscriptions.subscribe(address, clean_choices("daily", True, "")).subscriber
            assert svc.store.confirm_subscriber(sub.id, sub.confirm_nonce)
        db = pg_url.rsplit("/", 1)[1]
        pg_server.admin("UPDATE outbox SET status = 'cancelled' WHERE kind = 'confirm'", db=db)  # not this test's mail
        built = svc.mail.build(DAYS[1])
        assert built.as_dict()["built"] == SUBSCRIBERS
        svc.store.close()
        config_file = tmp_path / "papersift.toml"
        config_file.write_text(f'base_url = "{config.base_url}"\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
                               f'starttls = false\nsender = "{config.smtp.sender}"\n'
                               f"[digest]\nclaim_lease_minutes = {LEASE_MINUTES}\n")
        env = {**os.environ, "PAPERSIFT_DB": pg_url, "PAPERSIFT_CONFIG": str(config_file),
               "PAPERSIFT_INDEX_DIR": str(tmp_path / "idx")}

        senders = {m: _sender(m, env, own_host) for m in ("machine-a", "machine-b")}
        assert server.hold.receiving.wait(60), [p.communicate(timeout=5) for p in senders.values()]
        # the other sender carries on and finishes everything else; the held one cannot
        assert _eventually(lambda: sum(p.poll() is not None for p in senders.values()) == 1)
        held, = [m for m, p in senders.items() if p.poll() is None]
        survivor, = [m for m in senders if m != held]
        out, err = senders[survivor].communicate(timeout=30)
        assert senders[survivor].returncode == 0, err
        assert json.loads(out)["send"]["recovered"] == 0  # a live claim on another host is left alone
        rows = _outbox(pg_server, db)
        sending = [r for r in rows if r[1] == "sending"]
        assert len(sending) == 1 and {r[1] for r in rows} == {"sent", "sending"}, rows
        if own_host:
            assert sending[0][2].startswith(held + "|")
        os.kill(senders[held].pid, signal.SIGKILL)
        senders[held].wait(30)
        server.hold.release.set()  # the handler finds its client gone: that message was not accepted
        assert _eventually(lambda: server.aborted == 1, 10)
        assert len(server.messages) == SUBSCRIBERS - 1

        claimed = datetime.strptime(sending[0][5], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        expires = claimed + timedelta(minutes=LEASE_MINUTES)
        # before the lease runs out, the claim of a sender on another host is not taken (checked
        # when a run fits well inside the lease: on a loaded machine the kill may come late)
        if own_host and (expires - datetime.now(timezone.utc)).total_seconds() > 3:
            early = _sender(survivor, env, own_host)
            early_out, early_err = early.communicate(timeout=60)
            assert early.returncode == 0, early_err
            report = json.loads(early_out)["send"]
            assert report["recovered"] == 0 and report["sent"] == 0, report
        time.sleep(max(0.0, (expires - datetime.now(timezone.utc)).total_seconds()) + 1.1)  # claimed_at is whole seconds
        late = _sender(survivor, env, own_host)
        late_out, late_err = late.communicate(timeout=60)
        assert late.returncode == 0, late_err
        report = json.loads(late_out)["send"]
        assert report["recovered"] == 1 and report["sent"] == 1, report

        received = server.wait_for(SUBSCRIBERS)
        by_id = collections.Counter(m.message_id for m in received)
        assert len(received) == SUBSCRIBERS and set(by_id.values()) == {1}
        assert sorted(m.rcpt_tos[0] for m in received) == sorted(emails)
        rows = _outbox(pg_server, db)
        assert {r[4] for r in rows} == set(by_id) and {r[1] for r in rows} == {"sent"}
        assert sorted(r[3] for r in rows) == [1] * (SUBSCRIBERS - 1) + [2]  # only the interrupted one twice
    finally:
        server.stop()
