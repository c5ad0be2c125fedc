"""What only the PostgreSQL store has to prove, on a real server (tests/pg_support.py): it
implements the whole protocol, its migrations survive two processes starting at once and an
interruption, several workers (separate pools, as separate processes or machines would have)
vote, claim and write papers at once correctly, and failures (pool exhausted, server down,
connection killed mid-call) are clear 503 errors that heal when the server is back, and the
command line works on a postgresql:// URL with two index folders over one database. The rest
of the store contract runs on both backends in test_store.py, test_community_store.py and
test_digest_store.py; test_postgres_parity.py compares the two backends' answers."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import subprocess
import sys
import threading
import time

import httpx
import psycopg
import pytest

from papersift.errors import BadInput, Unavailable
from papersift.model import Paper
from papersift.server.app import create_app
from papersift.service import Papersift
from papersift.store import default_index_dir, open_store, postgres_schema as schema
from papersift.store.postgres import PostgresStore, pool_settings
from papersift.store.protocol import Store
from papersift.store.sqlite import SCHEMA_VERSION as SQLITE_VERSION

from ..helpers import HF_SAMPLE, head_jsonl, running_server
from ..unit.test_lower_layers import incompatibility, members


def paper(pid: str, authors=("Ada",), org="Lab", at="2024-06-01T00:00:00Z") -> Paper:
    return Paper(id=pid, title=f"Paper {pid}", authors=list(authors), organization=org,
                 published="2024-05-20T00:00:00Z", source="hf-jsonl", observed_at=at)


def test_postgres_store_implements_every_protocol_method(pg_url):
    store = open_store(pg_url)
    problems = []
    for name in sorted(members(Store)):
        if not hasattr(store, name):
            problems.append(f"{name}: missing")
            continue
        declared = inspect.getattr_static(Store, name, None)
        if callable(declared):
            why = incompatibility(inspect.signature(declared),
                                  inspect.signature(inspect.getattr_static(PostgresStore, name)))
            if why:
                problems.append(f"{name}: {why}")
    assert problems == []
    assert isinstance(store, Store) and isinstance(store, PostgresStore) and store.url == pg_url
    store.close()


def test_schema_versions_move_together_and_are_recorded(pg_server, pg_url):
    store = open_store(pg_url.replace("postgresql://", "postgres://"))  # both spellings
    assert store.schema_version() == schema.SCHEMA_VERSION == SQLITE_VERSION
    store.close()
    rows = pg_server.admin("SELECT version FROM schema_version ORDER BY version", db=pg_url.rsplit("/", 1)[1])
    assert [r[0] for r in rows] == list(range(1, schema.SCHEMA_VERSION + 1))
    # embeddings are bytea and no extension is needed (pgvector is not in Debian's archive)
    kinds = pg_server.admin("SELECT data_type FROM information_schema.columns WHERE table_name = 'embeddings'"
                            " AND column_name = 'vector'", db=pg_url.rsplit("/", 1)[1])
    assert kinds == [("bytea",)]
    assert pg_server.admin("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'",
                           db=pg_url.rsplit("/", 1)[1]) == []


def test_processes_starting_at_once_migrate_once(pg_server, pg_url):
    code = ("import sys; from papersift.store import open_store; s = open_store(sys.argv[1]);"
            " print(s.schema_version()); s.close()")
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    assert {out.strip() for out, _ in outputs} == {str(schema.SCHEMA_VERSION)}
    db = pg_url.rsplit("/", 1)[1]
    assert pg_server.admin("SELECT COUNT(*) FROM schema_version", db=db) == [(schema.SCHEMA_VERSION,)]


def test_threads_starting_at_once_migrate_once(pg_url):
    start, opened, errors = threading.Barrier(6), [], []

    def open_one():
        start.wait()
        try:
            opened.append(open_store(pg_url))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and {s.schema_version() for s in opened} == {schema.SCHEMA_VERSION}
    for s in opened:
        s.close()


def test_an_interrupted_migration_changes_nothing(pg_server, pg_url, monkeypatch):
    db = pg_url.rsplit("/", 1)[1]
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + ["CREATE TABLE half_done (x integer); SELECT 1/0"])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    with pytest.raises(psycopg.errors.DivisionByZero):
        open_store(pg_url)  # a fresh database: every step runs in the one transaction that fails
    assert pg_server.admin("SELECT to_regclass('papers'), to_regclass('half_done')", db=db) == [(None, None)]
    monkeypatch.undo()
    store = open_store(pg_url)
    assert store.schema_version() == schema.SCHEMA_VERSION
    store.close()


def test_a_newer_schema_is_refused_and_v1_data_is_migrated(pg_server, pg_url):
    db = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a database made by a papersift at version 1
        for statement in schema.MIGRATIONS[0].split(";"):
            conn.execute(statement)
        conn.execute(schema._VERSION_TABLE)
        conn.execute("INSERT INTO schema_version VALUES (1, 'x')")
        conn.execute("INSERT INTO papers(id, seq, data, title, published, organization, created_at, updated_at)"
                     " VALUES ('2405.00001', 1, %s, 'Old', '2024-05-01T00:00:00Z', 'Lab', 'x', 'x')",
                     ('{"id": "2405.00001", "title": "Old", "authors": ["Ada Lovelace", "", "Alan Turing", 7]}',))
    store = open_store(pg_url)
    assert store.schema_version() == schema.SCHEMA_VERSION
    assert store.papers_by_author("alan turing", 10, 0)[1] == 1 and store.papers_by_organization("LAB", 10, 0)[1] == 1
    assert pg_server.admin("SELECT author_keys FROM papers", db=db) == [
        (["ada lovelace", "alan turing"],)]  # ASCII-folded; empty names and numbers left out
    store.close()
    pg_server.admin(f"INSERT INTO schema_version VALUES ({schema.SCHEMA_VERSION + 5}, 'x')", db=db)
    where = pg_url.split("@", 1)[1]  # the message names the server and database, never the credentials
    with pytest.raises(BadInput, match=rf"^the database {re.escape(where)} has schema version .*upgrade papersift$"):
        open_store(pg_url)


def test_indexes_answer_the_listings_and_logins(pg_url):
    store = open_store(pg_url)
    store.upsert_papers([paper("2405.00001")])
    plans = {
        "papers_organization": "SELECT data FROM papers WHERE lower(organization) = lower(%s)",
        "papers_authors": "SELECT id FROM papers WHERE author_keys @> ARRAY[%s]::text[]",
        "users_email": "SELECT id FROM users WHERE lower(email) = lower(%s)",
    }
    with store._conn() as conn:
        conn.execute("SET enable_seqscan = off")  # a tiny table would be scanned; ask whether an index can answer
        for index, sql in plans.items():
            plan = " ".join(r[0] for r in conn.execute("EXPLAIN " + sql, ("x",)))
            assert index in plan, plan
        conn.execute("RESET enable_seqscan")
    store.close()


def test_the_data_stamp_moves_with_every_commit_from_anywhere(pg_url):
    first, second = open_store(pg_url), open_store(pg_url)  # two processes' worth of pools
    first.upsert_papers([paper("2405.00001")])
    stamp = first.data_stamp()
    assert first.get_paper("2405.00001") is not None and first.data_stamp() == stamp  # reads move nothing
    user = second.create_user("stamp@example.com", "stamp", "h")
    after_user = first.data_stamp()
    second.set_vote(user.id, "2405.00001", True)
    assert stamp != after_user != first.data_stamp()  # each of the other pool's commits is seen here
    first.close()
    second.close()


def test_votes_from_many_workers_count_once(pg_url):
    workers = [open_store(pg_url) for _ in range(3)]  # three pools: three processes' worth of connections
    workers[0].upsert_papers([paper("2405.00001")])
    users = [workers[0].create_user(f"u{i}@example.com", f"u{i}", "h") for i in range(10)]
    start, changed = threading.Barrier(30), []

    def click(store, user):
        start.wait()
        for _ in range(10):
            if store.set_vote(user.id, "2405.00001", True):
                changed.append(user.id)

    threads = [threading.Thread(target=click, args=(w, u)) for w in workers for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(changed) == sorted(u.id for u in users)  # each user's vote changed something exactly once
    assert workers[1].vote_counts(["2405.00001"]) == {"2405.00001": 10}
    for w in workers:
        w.close()


def test_two_senders_never_claim_the_same_message(pg_url):
    machines = [open_store(pg_url), open_store(pg_url)]
    store = machines[0]
    subs = []
    for i in range(5):
        sub = store.create_subscriber(f"r{i}@example.org", "daily", True, [], None, "n")
        store.confirm_subscriber(sub.id, "n")
        subs.append(sub)
    queued = {store.enqueue(s.id, "digest", f"p{n}", s.email, f"<{s.id}.{n}@x>", {}) for s in subs for n in range(40)}
    claims: list[int] = []
    start = threading.Barrier(8)

    def sender(machine, name):
        start.wait()
        while (message := machine.claim(name, "9999")) is not None:
            claims.append(message.id)
            machine.mark_sent(message.id, name, "250 ok", "9999")

    threads = [threading.Thread(target=sender, args=(machines[n % 2], f"m{n % 2}-t{n}")) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claims) == len(queued) == 200 and set(claims) == queued
    assert store.outbox_counts() == {"sent": 200}
    for m in machines:
        m.close()


def test_an_indexer_catching_up_never_misses_a_change(pg_url):
    """Two writers (separate pools) ingest at once while a reader follows the change counter the
    way the indexes do: every paper written must be seen, though numbers commit concurrently."""
    writers, reader = [open_store(pg_url), open_store(pg_url)], open_store(pg_url)
    done, seen = threading.Event(), set()

    def write(store, base):
        for n in range(40):
            store.upsert_papers([paper(f"2405.{base + 2 * n:05d}"), paper(f"2405.{base + 2 * n + 1:05d}")])

    def follow():
        watermark = 0
        while True:
            finished = done.is_set()
            for seq, p in reader.iter_changes(watermark, batch=7):
                assert seq > watermark
                watermark = seq
                seen.add(p.id)
            if finished:
                return

    threads = [threading.Thread(target=write, args=(writers[0], 0)), threading.Thread(target=write, args=(writers[1], 100))]
    follower = threading.Thread(target=follow)
    follower.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    follower.join()
    assert len(seen) == 160 and reader.count_papers() == 160 and reader.max_seq() == 160
    for s in writers + [reader]:
        s.close()


def test_two_harvesters_merging_the_same_papers_lose_nothing(pg_url):
    """Two sources' views of the same papers written at once through two pools: each paper ends
    with both (arXiv's title and categories, Hugging Face's upvotes), as if written one after the other."""
    machines = [open_store(pg_url), open_store(pg_url)]
    rounds = [[f"2405.{r:02d}{n:03d}" for n in range(30)] for r in range(15)]  # fresh papers each round
    start = threading.Barrier(2)

    def write(store, source):
        for ids in rounds:
            if source == "hf-jsonl":
                batch = [Paper(id=i, title="HF title", upvotes=n, source=source, observed_at="2024-06-01T00:00:00Z")
                         for n, i in enumerate(ids)]
            else:
                batch = [Paper(id=i, title="arXiv title", categories=["cs.LG"], source=source,
                               observed_at="2024-05-30T00:00:00Z") for i in ids]
            start.wait()  # both harvesters write the round's papers at the same moment
            store.upsert_papers(batch)

    threads = [threading.Thread(target=write, args=(m, s)) for m, s in zip(machines, ("hf-jsonl", "arxiv-oai"),
                                                                             strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    papers = machines[0].get_papers([i for ids in rounds for i in ids])
    assert len(papers) == 450
    assert {(p.title, tuple(p.categories), p.upvotes) for p in papers.values()} == {
        ("arXiv title", ("cs.LG",), n) for n in range(30)}
    for m in machines:
        m.close()


def test_an_exhausted_pool_answers_503_quickly(pg_url):
    store = PostgresStore(pg_url, max_size=1, timeout=0.5)
    with store._conn():  # the pool's only connection is taken (a long request)
        started = time.monotonic()
        busy = r"busy: no free connection within 0.5 s \(all 1 of this process.s connections are in use\); try again$"
        with pytest.raises(Unavailable, match=busy) as caught:
            store.count_papers()
        assert time.monotonic() - started < 3
    assert caught.value.http_status == 503 and "postgres@" not in caught.value.message
    assert store.count_papers() == 0  # free again
    store.close()


def test_the_site_answers_503_with_a_message_when_the_pool_is_exhausted(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERSIFT_DB_POOL_SIZE", "2")
    monkeypatch.setenv("PAPERSIFT_DB_POOL_TIMEOUT", "0.5")
    svc = Papersift(pg_url, index_dir=tmp_path / "index", embedder=False)
    svc.store.upsert_papers([paper("2405.00001")])
    with running_server(create_app(svc, background=False)) as base:
        with contextlib.ExitStack() as held:  # two long requests hold the whole pool
            for _ in range(2):
                held.enter_context(svc.store._conn())
            api = httpx.get(f"{base}/api/papers/2405.00001", timeout=30)
            page = httpx.get(f"{base}/papers/2405.00001", timeout=30)
        error = api.json()["error"]  # the HF-compatible routes answer {"error": message}, the others {code, message}
        assert api.status_code == 503 and "busy: no free connection" in (error if isinstance(error, str)
                                                                           else error["message"])
        assert page.status_code == 503 and "busy: no free connection" in page.text
        assert httpx.get(f"{base}/api/papers/2405.00001", timeout=30).status_code == 200
    svc.close()
    with pytest.raises(BadInput, match="PAPERSIFT_DB_POOL_SIZE"):
        pool_settings({"PAPERSIFT_DB_POOL_SIZE": "many"})
    assert pool_settings({}) == (10, 5.0) and pool_settings({"PAPERSIFT_DB_POOL_TIMEOUT": "2.5"}) == (10, 2.5)


def test_a_server_restart_is_a_clear_error_then_heals(pg_server, pg_url):
    store = PostgresStore(pg_url, timeout=1.0)
    store.upsert_papers([paper("2405.00001")])
    pg_server.stop()
    try:
        for _ in range(3):  # a few calls during the outage: each a clear error within about the timeout
            started = time.monotonic()
            with pytest.raises(Unavailable, match="cannot connect to the PostgreSQL database 127.0.0.1") as caught:
                store.get_paper("2405.00001")
            assert time.monotonic() - started < 5 and caught.value.http_status == 503
        time.sleep(3)  # long enough for the pool's own reconnection pauses to have grown past a call's wait
    finally:
        pg_server.start()
    assert store.get_paper("2405.00001").title == "Paper 2405.00001"  # the first call after it is back works
    assert store.upsert_papers([paper("2405.00002")]).inserted == 1
    store.close()


def test_an_ingest_cut_by_a_restart_resumes_from_its_cursor(pg_server, pg_url):
    """The server goes down inside a batch's transaction: that batch and its cursor are both lost
    (one transaction), so resuming from the saved cursor loads everything exactly once."""
    store = PostgresStore(pg_url, timeout=1.0)
    batches = [[paper(f"2405.{b:02d}{n:03d}") for n in range(40)] for b in range(8)]

    def harvest(cut_at=None):
        for b in range((store.get_cursor("harvest") or {"next": 0})["next"], len(batches)):
            def records(b=b):
                for n, record in enumerate(batches[b]):
                    if b == cut_at and n == 20:
                        pg_server.stop()  # mid-batch, the transaction already open (fast: sessions cut)
                    yield record
            store.upsert_papers(records(), cursor=("harvest", {"next": b + 1}))

    try:
        with pytest.raises(Unavailable):
            harvest(cut_at=5)
    finally:
        pg_server.start()
    assert store.get_cursor("harvest") == {"next": 5} and store.count_papers() == 200
    harvest()
    assert store.get_cursor("harvest") == {"next": 8} and store.count_papers() == 320
    changes = list(store.iter_changes(0))
    assert len(changes) == 320 == len({p.id for _, p in changes}) == len({s for s, _ in changes})
    store.close()


def test_a_connection_killed_mid_call_is_a_clear_error(pg_server, pg_url):
    store = PostgresStore(pg_url, timeout=2.0)
    store.upsert_papers([paper("2405.00001")])
    user = store.create_user("a@example.com", "a", "h")
    db = pg_url.rsplit("/", 1)[1]
    outcome: list = []
    with psycopg.connect(pg_url) as blocker:  # holds a lock the vote below must wait for
        blocker.execute("LOCK TABLE votes IN ACCESS EXCLUSIVE MODE")
        voter = threading.Thread(target=lambda: outcome.append(_attempt(store.set_vote, user.id, "2405.00001", True)))
        voter.start()
        for _ in range(100):
            waiting = pg_server.admin(f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}'"
                                      " AND wait_event_type = 'Lock'")
            if waiting:
                break
            time.sleep(0.05)
        assert waiting, "the vote never waited for the lock"
        pg_server.admin(f"SELECT pg_terminate_backend({waiting[0][0]})")
        voter.join(timeout=30)
        blocker.rollback()
    assert isinstance(outcome[0], Unavailable) and "failed during the call" in outcome[0].message
    assert store.set_vote(user.id, "2405.00001", True) is True  # a fresh connection: works, and nothing half-done
    assert store.vote_counts(["2405.00001"]) == {"2405.00001": 1}
    store.close()


def _attempt(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the test looks at which error it was
        return exc


def test_unreachable_and_malformed_urls(pg_server):
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot connect"):
        PostgresStore(f"postgresql://postgres:secret@127.0.0.1:{_closed_port()}/x", timeout=1.0)
    assert time.monotonic() - started < 15  # the store's timeout, not the pool's default 30 s
    with pytest.raises(Unavailable, match='database "no_such_db" does not exist') as caught:
        PostgresStore(pg_server.url("no_such_db"), timeout=1.0)
    assert "secret" not in caught.value.message
    with pytest.raises(BadInput, match=r'^not a valid PostgreSQL URL \(127\.0\.0\.1:5432/x\): invalid URI query '
                                       r'parameter: "nonsense_option"$'):
        open_store("postgresql://127.0.0.1:5432/x?nonsense_option=1")


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


def test_index_dir_of_a_server_database_comes_from_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERSIFT_INDEX_DIR", raising=False)
    with pytest.raises(BadInput, match="PAPERSIFT_INDEX_DIR"):
        default_index_dir("postgresql://db.example.org/papers")
    monkeypatch.setenv("PAPERSIFT_INDEX_DIR", str(tmp_path / "idx"))
    assert default_index_dir("postgres://db.example.org/papers") == tmp_path / "idx"


@pytest.mark.slow
def test_the_command_line_on_a_postgresql_url(pg_url, tmp_path):
    """`papersift --db postgresql://...` as a user runs it: a real process each time; two index
    folders (two machines) over one database both find what one of them ingested."""
    sample = head_jsonl(HF_SAMPLE, tmp_path / "hf.jsonl", 300)

    def cli(*args, index="a", env=None):
        env = {**os.environ, "PAPERSIFT_INDEX_DIR": str(tmp_path / index), **(env or {})}
        return subprocess.run([sys.executable, "-m", "papersift.cli", "--db", pg_url, *args], capture_output=True,
                              text=True, env=env, timeout=300)

    done = cli("init")
    assert done.returncode == 0 and f"schema v{schema.SCHEMA_VERSION}" in done.stdout, done.stderr
    done = cli("ingest", "hf-daily", str(sample), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inserted"] == 300
    for machine in ("a", "b"):  # b never saw the ingest: it catches up from the database's change counter
        assert cli("index", "--no-embed", index=machine).returncode == 0
        found = cli("search", "diffusion", "--mode", "bm25", "--json", index=machine)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["results"], found.stdout
    unset = cli("search", "diffusion", env={"PAPERSIFT_INDEX_DIR": ""})
    assert unset.returncode == 2 and "PAPERSIFT_INDEX_DIR" in unset.stderr and "Traceback" not in unset.stderr
    nowhere = subprocess.run([sys.executable, "-m", "papersift.cli", "--db",
                              f"postgresql://u:secret@127.0.0.1:{_closed_port()}/x", "init"],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PAPERSIFT_INDEX_DIR": str(tmp_path / "a"),
                                  "PAPERSIFT_DB_POOL_TIMEOUT": "1"})
    assert nowhere.returncode == 2 and len(nowhere.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert "cannot connect to the PostgreSQL database 127.0.0.1" in nowhere.stderr and "secret" not in nowhere.stderr


def test_vectors_live_in_the_database_and_a_second_machine_reuses_them(pg_url, tmp_path):
    """Machine a embeds (the real default model); machine b, with an empty index folder, fills
    its vector index from the embeddings stored in the database and embeds nothing."""
    from papersift.ingest.hf import parse_hf_jsonl
    from papersift.service import Corpus

    sample = head_jsonl(HF_SAMPLE, tmp_path / "hf.jsonl", 24)
    a = Corpus(pg_url, index_dir=tmp_path / "a")
    a.store.upsert_papers([parse_hf_jsonl(json.loads(line)) for line in sample.read_text().splitlines()])
    assert a.index()["vectors"] == 24
    b = Corpus(pg_url, index_dir=tmp_path / "b")
    assert b.index()["vectors"] == 0 and len(b.indexes.vectors) == 24
    query = "video generation with diffusion models"
    top = lambda corpus: [h.paper.id for h in corpus.search(query, mode="dense", per_page=5).hits]  # noqa: E731
    assert top(a) == top(b) and len(top(a)) == 5
    a.close()
    b.close()


def test_why_the_server_cannot_be_reached_is_asked_at_most_once_a_second(pg_url):
    store = PostgresStore(pg_url, max_size=1, timeout=1.0)
    connections, good = store._connections, store._connections.url
    connections.url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/x"
    first = connections._unreachable()
    assert first is not None and first.message.startswith("cannot connect to the PostgreSQL database")
    connections.url = good  # the server is back: within the second the diagnosis stands, one probe a second
    again = connections._unreachable()
    assert again is not None and again.message == first.message
    time.sleep(1.1)
    assert connections._unreachable() is None  # a second later it is asked again, and answers
    store.close()



def test_a_pool_stuck_after_an_outage_is_replaced_once_the_server_answers(pg_url):
    # A pool whose connections all failed pauses before it tries again; when a direct probe finds the
    # server up, the next call replaces the pool instead of waiting out that pause
    from psycopg_pool import ConnectionPool

    store = PostgresStore(pg_url, max_size=1, timeout=0.5)  # its one connection is not in use: no "busy"
    connections = store._connections
    dead = ConnectionPool(f"postgresql://postgres@127.0.0.1:{_closed_port()}/x", min_size=0, max_size=1, timeout=0.5,
                          open=True)
    connections.pool, connections._diagnosed = dead, (time.monotonic() - 5, Unavailable("an old diagnosis"))
    assert store.count_papers() == 0  # served by a new pool
    assert connections.pool is not dead and connections._diagnosed is None
    for _ in range(50):  # the stale pool is closed in the background, off the caller's time
        if dead.closed:
            break
        time.sleep(0.1)
    assert dead.closed
    store.close()


def test_a_connection_the_server_closed_is_never_lent(pg_url):
    # the server ends this process's idle connection (a terminated backend, a restart): the pool's check
    # sees the socket readable (the goodbye, then end of file) and replaces it before the next call
    store = PostgresStore(pg_url, min_size=1, max_size=1, timeout=2.0)
    assert store.count_papers() == 0  # the one connection, lent once and returned: recent, so not re-checked
    with psycopg.connect(pg_url, autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                              " AND pid <> pg_backend_pid()").fetchall()
    assert ended and all(row[0] for row in ended)
    time.sleep(0.2)  # the server's goodbye reaches the socket
    assert store.count_papers() == 0  # not "failed during the call": the dead connection was replaced
    store.close()


def test_the_papers_documents_are_compressed_with_lz4_where_the_server_has_it(pg_url):
    # lz4 compresses the papers' JSON at half pglz's CPU (a bulk load's largest server cost): the schema asks
    # for it after its first step, and skips it on a server built without lz4
    store = PostgresStore(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        has_lz4 = conn.execute("SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression'"
                               " AND 'lz4' = ANY(enumvals)").fetchone()[0] == 1
        method = conn.execute("SELECT attcompression FROM pg_attribute WHERE attrelid = 'papers'::regclass"
                              " AND attname = 'data'").fetchone()[0]
    assert method == ("l" if has_lz4 else "")
    store.close()


def test_a_pool_lends_up_to_its_size_at_once(pg_url):
    store = PostgresStore(pg_url, min_size=1, max_size=2, timeout=0.5)
    pool = store._connections.pool
    with store._conn() as held:  # one connection held by a long request...
        # autocommit (a read is one statement, no transaction left open), named for pg_stat_activity
        assert held.autocommit and held.execute("SHOW application_name").fetchone()[0] == "papersift"
        assert store.count_papers() == 0  # ...and another call is served by the second
        assert store._connections.pool is pool  # by the same pool: it was not waited out and replaced
        with store._conn(), pytest.raises(Unavailable, match="all 2 of this process's connections are in use"):
            store.count_papers()
    store.close()


@pytest.mark.parametrize("url, shown", [
    ("postgresql://ada:secret@db.example.org:6543/papers", "db.example.org:6543/papers"),
    ("postgresql://ada:secret@db.example.org/papers", "db.example.org:5432/papers"),  # libpq's default port
    ("postgresql://ada:secret@db.example.org:port/papers", "db.example.org:?/papers"),  # not a number: said later
    ("postgresql:///papers", "localhost:5432/papers"),
    ("postgresql://ada@db.example.org:5432", "db.example.org:5432/"),  # no database named
])
def test_a_database_is_named_by_host_port_and_name_never_by_its_password(url, shown):
    from papersift.store.postgres_pool import describe

    assert describe(url) == shown
