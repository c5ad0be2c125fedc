"""``papersift migrate``: a SQLite store built through the product (real papers from ../shared/data,
accounts, votes, saves, signals, hidden papers, a subscriber whose digest went out through a real
SMTP server, tokens, sessions, cached embeddings) is copied by the real command into a fresh
PostgreSQL database; then the PostgreSQL store answers every read the same as the SQLite one,
a session and an API token made before the move still work through the front door, new rows
get fresh ids, a run killed mid-copy resumes with no duplicates, and bad URLs exit 2."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from papersift.digest import Digests
from papersift.errors import Unauthorized
from papersift.service import Papersift
from papersift.service.tokens import SECRET_NAME
from papersift.store import open_store

from ..digest_support import DAYS, Clock, add_subscribers, corpus, open_again, smtp_config
from ..helpers import ARXIV_SAMPLE, HF_SAMPLE
from ..pg_support import raw_rows
from ..smtp_support import SMTPServer
from ..web_support import FAST_HASHER

PASSWORD = "correct horse battery"


def migrate(source, target, *extra, timeout=300):
    # a short pool timeout: an unreachable server is reported in a second, not five
    return subprocess.run([sys.executable, "-m", "papersift.cli", "migrate", "--from", str(source), "--to", target,
                           "--json", *extra], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PAPERSIFT_DB_POOL_TIMEOUT": "1"})


def popen_migrate(source, target, *extra):
    return subprocess.Popen([sys.executable, "-m", "papersift.cli", "migrate", "--from", str(source), "--to", target,
                             "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def build_old_site(tmp) -> dict:
    """The SQLite store, made the way a running site makes it (on the committed real sample); returns what
    the test needs."""
    svc = Papersift(tmp / "old.db", embedder=False, password_hasher=FAST_HASHER)
    svc.ingest_file("hf-daily", HF_SAMPLE)
    svc.ingest_file("arxiv-jsonl", ARXIV_SAMPLE)
    svc.store.upsert_papers(corpus(), cursor=("harvest:arxiv", {"resumption": "tok-1", "from": "2025-01-01"}))
    ids = [p.id for _, p in itertools.islice(svc.store.iter_changes(0), 40)]
    ada = svc.accounts.create_user("ada@example.org", PASSWORD, "Ada")
    bob = svc.accounts.create_user("bob@example.org", PASSWORD, "Bob")
    admin = svc.accounts.create_user("root@example.org", PASSWORD, "Root", is_admin=True)
    for user, picks in ((ada, ids[:12]), (bob, ids[6:20])):
        for pid in picks:
            svc.actions.vote(user, pid)
        for pid in picks[::3]:
            svc.actions.save(user, pid)
        svc.for_you.feedback(user, picks[-1], "more")
        svc.for_you.feedback(user, picks[-2], "not_for_me")
    svc.actions.hide_paper(admin, ids[30])
    _, session_id, csrf = svc.accounts.log_in("ada@example.org", PASSWORD, client="10.0.0.1")
    _, token = svc.accounts.create_token(ada, "laptop")
    feed_secret = svc.personal.new_feed_token(bob)
    with pytest.raises(Unauthorized):
        svc.accounts.log_in("bob@example.org", "wrong password", client="10.0.0.2")  # a login failure row
    rng = np.random.default_rng(7)
    svc.store.put_embeddings("test-model", [(pid, f"h{pid}", rng.standard_normal(16).astype(np.float32))
                                            for pid in ids])
    smtp = SMTPServer().start()
    try:
        mailer = open_again(svc.db, smtp_config(smtp.port), Clock())  # the same site, with email on
        add_subscribers(mailer, ["reader@example.org", "other@example.org"], categories="cs.IR")
        report = Digests(mailer).run(today=DAYS[1])
        mailer.close()
        assert report["send"]["sent"] == 2 and len(smtp.wait_for(2)) == 2
    finally:
        smtp.stop()
    svc.close()
    return {"db": tmp / "old.db", "ids": ids, "session": (session_id, csrf), "token": token,
            "feed": feed_secret, "users": (ada.id, bob.id, admin.id)}


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server):
    tmp = tmp_path_factory.mktemp("migrate")
    old = build_old_site(tmp)
    name = pg_server.create_database()
    url = pg_server.url(name)
    done = migrate(old["db"], url)
    yield old | {"url": url, "run": done, "tmp": tmp}
    pg_server.drop_database(name)


def test_migrate_copies_every_table_and_verifies_the_counts(site):
    assert site["run"].returncode == 0, site["run"].stderr
    report = json.loads(site["run"].stdout)
    rows = {r["table"]: r for r in report["tables"]}
    assert all(r["ok"] for r in rows.values())
    expected_nonempty = {"papers", "feed_entries", "cursors", "embeddings", "users", "sessions", "api_tokens",
                         "login_failures", "votes", "collections", "collection_items", "hidden_papers", "signals",
                         "feed_tokens", "secrets",
                         "subscribers", "subscriber_topics", "outbox", "sent_papers"}
    assert {name for name, r in rows.items() if r["source"] > 0} >= expected_nonempty
    assert all(rows[name]["copied now"] == rows[name]["source"] for name in expected_nonempty)
    assert rows["papers"]["source"] > 1000  # the real sample (HF and arXiv) and the corpus
    assert "watermarks" in report["not_copied"]


def test_the_postgresql_store_answers_as_the_sqlite_one(site):
    lite, pg = open_store(site["db"]), open_store(site["url"])
    try:
        assert lite.count_papers() == pg.count_papers() and lite.max_seq() == pg.max_seq()
        assert list(lite.iter_changes(0)) == list(pg.iter_changes(0))  # change numbers and documents
        assert sorted(raw_rows(lite, "SELECT id, data FROM papers")) == sorted(raw_rows(pg, "SELECT id, data FROM papers"))
        first, last = "2000-01-01", lite.latest_feed_day()
        key = lambda row: (row[1].day, row[1].rank if row[1].rank is not None else -1, row[0].id)  # noqa: E731
        assert sorted(lite.feed_entries(first, last), key=key) == sorted(pg.feed_entries(first, last), key=key)
        for name in ("Grace Hopper", "grace hopper"):
            assert lite.papers_by_author(name, 50, 0) == pg.papers_by_author(name, 50, 0)
        assert lite.papers_by_organization("lab a", 50, 0) == pg.papers_by_organization("lab a", 50, 0)
        ids, (ada, bob, admin) = site["ids"], site["users"]
        for uid in (ada, bob, admin):
            assert lite.get_user(uid) == pg.get_user(uid)
            assert lite.user_votes(uid, ids) == pg.user_votes(uid, ids) != set() or uid == admin
            assert lite.saved_papers(uid, 50, 0) == pg.saved_papers(uid, 50, 0)  # newest first: same order
            # oldest first; the order of one second's signals of different kinds is unspecified on both
            got = pg.user_signals(uid)
            assert sorted(lite.user_signals(uid)) == sorted(got) and [s[2] for s in got] == sorted(s[2] for s in got)
            assert lite.list_api_tokens(uid) == pg.list_api_tokens(uid)
            assert lite.feed_token_created(uid) == pg.feed_token_created(uid)
        assert lite.vote_counts(ids) == pg.vote_counts(ids) and lite.hidden_paper_ids() == pg.hidden_paper_ids()
        assert lite.list_users() == pg.list_users()
        keys = {pid: f"h{pid}" for pid in ids}
        got_lite, got_pg = lite.get_embeddings("test-model", keys), pg.get_embeddings("test-model", keys)
        assert set(got_lite) == set(got_pg) == set(ids) and all(np.array_equal(got_lite[k], got_pg[k]) for k in ids)
        assert lite.count_subscribers() == pg.count_subscribers() and lite.outbox_counts() == pg.outbox_counts()
        for sub in lite.active_subscribers(["daily", "weekly"]):
            assert pg.get_subscriber(sub.id) == sub
            assert lite.sent_paper_ids(sub.id, ids + [p.id for p in corpus()]) == pg.sent_paper_ids(
                sub.id, ids + [p.id for p in corpus()]) != set()
        for mid in range(1, 6):
            assert lite.get_message(mid) == pg.get_message(mid)
        # the signing key moved (old unsubscribe links stay valid): neither side makes a new one
        kept = lite.get_secret(SECRET_NAME, lambda: pytest.fail("no key in SQLite"))
        assert pg.get_secret(SECRET_NAME, lambda: pytest.fail("no key in PostgreSQL")) == kept
        assert lite.get_cursor("harvest:arxiv") == pg.get_cursor("harvest:arxiv") == {"resumption": "tok-1",
                                                                                    "from": "2025-01-01"}
        assert pg.get_watermark("lexical") == 0  # the index marks stay behind (each machine's own)
    finally:
        lite.close()
        pg.close()


def test_sessions_and_tokens_keep_working_and_new_rows_get_new_ids(site, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERSIFT_INDEX_DIR", str(tmp_path / "index"))
    svc = Papersift(site["url"], embedder=False, password_hasher=FAST_HASHER)
    try:
        session_id, csrf = site["session"]
        user, kept_csrf = svc.accounts.session(session_id)
        assert user.email == "ada@example.org" and kept_csrf == csrf
        assert svc.accounts.user_for_token(site["token"]).email == "ada@example.org"
        assert svc.personal.feed_reader(site["feed"]).email == "bob@example.org"
        user, _, _ = svc.accounts.log_in("bob@example.org", PASSWORD, client="10.0.0.3")  # the password hash moved
        # the sequences were moved past the copied ids: new rows do not collide
        carol = svc.accounts.create_user("carol@example.org", PASSWORD, "Carol")
        assert carol.id == max(site["users"]) + 1
        token, _ = svc.accounts.create_token(carol, "new")
        assert token.id == 2
        before = svc.store.max_seq()
        paper = next(iter(corpus()))
        paper.title = "A new title after the move"
        svc.store.upsert_papers([paper])
        assert svc.store.max_seq() == before + 1
        svc.actions.vote(carol, site["ids"][0])
        assert svc.store.user_votes(carol.id, site["ids"]) == {site["ids"][0]}
        # the identity that orders votes moved past the copied rowids too: Carol's is the newest
        newest = svc.store._all("SELECT user_id FROM votes ORDER BY n DESC LIMIT 1")
        assert newest == [(carol.id,)]
    finally:
        svc.store.close()


def test_a_killed_run_resumes_without_duplicates(site, pg_server):
    name = pg_server.create_database()
    url = pg_server.url(name)
    try:
        first = popen_migrate(site["db"], url, "--batch", "25")
        deadline = time.monotonic() + 60
        copied = 0
        while time.monotonic() < deadline and first.poll() is None:
            rows = pg_server.admin("SELECT to_regclass('papers') IS NOT NULL", db=name)
            if rows[0][0]:
                copied = pg_server.admin("SELECT COUNT(*) FROM papers", db=name)[0][0]
                if copied >= 200:
                    break
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        assert first.returncode == -signal.SIGKILL
        total = open_store(site["db"]).count_papers()
        stopped_at = pg_server.admin("SELECT COUNT(*) FROM papers", db=name)[0][0]
        assert 200 <= stopped_at < total  # it really stopped mid-copy
        again = migrate(site["db"], url, "--batch", "500")
        assert again.returncode == 0, again.stderr
        rows = {r["table"]: r for r in json.loads(again.stdout)["tables"]}
        assert all(r["ok"] for r in rows.values())
        # it resumed: the papers copied before the kill were not read again, and the rest went in once
        assert rows["papers"]["copied now"] == total - stopped_at
        assert rows["papers"]["read"] <= total - stopped_at + 25
        third = migrate(site["db"], url)  # and once more: a finished migration is idempotent
        assert third.returncode == 0, third.stderr
        assert all(r["ok"] and r["copied now"] == 0 for r in json.loads(third.stdout)["tables"])
        dupes = pg_server.admin("SELECT COUNT(*) - COUNT(DISTINCT (user_id, paper_id)) FROM votes", db=name)
        assert dupes == [(0,)]
        assert pg_server.admin("SELECT COUNT(*) FROM cursors WHERE name LIKE 'migrate:%'", db=name) == [(0,)]
    finally:
        pg_server.drop_database(name)


def test_a_count_that_differs_is_an_error(site, pg_server):
    # a row the source does not have (someone wrote to the target meanwhile): exit 2, naming the table
    db = site["url"].rsplit("/", 1)[1]
    pg_server.admin("INSERT INTO cursors(name, value, updated_at) VALUES ('stray', NULL, '2030-01-01T00:00:00Z')",
                    db=db)
    try:
        done = migrate(site["db"], site["url"])
        assert done.returncode == 2 and "cursors (" in done.stderr and "Traceback" not in done.stderr
        assert not {r["table"]: r for r in json.loads(done.stdout)["tables"]}["cursors"]["ok"]
    finally:
        pg_server.admin("DELETE FROM cursors WHERE name = 'stray'", db=db)


@pytest.mark.parametrize("source, target, message", [
    ("{missing}", "{pg}", "no SQLite database"),
    ("mysql://x/y", "{pg}", "--from must be"),
    ("{db}", "sqlite:///other.db", "--to must be"),
    ("{db}", "postgresql://postgres@127.0.0.1:1/none", "PostgreSQL"),
    ("{db}", "postgresql://postgres@127.0.0.1:notaport/x", "PostgreSQL"),
    ("{notdb}", "{pg}", "not a SQLite database"),
])
def test_bad_urls_exit_2_with_one_line(site, tmp_path, source, target, message):
    (tmp_path / "notes.txt").write_text("not a database " * 100)
    values = {"missing": tmp_path / "missing.db", "db": site["db"], "pg": site["url"], "notdb": tmp_path / "notes.txt"}
    done = migrate(source.format(**values), target.format(**values), timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "Traceback" not in done.stderr


def test_every_sqlite_table_is_copied_or_said_to_stay_behind(tmp_path):
    """A later schema step that adds a table must add it to the migration too (or say why not)."""
    import sqlite3

    from papersift.store.migrate import NOT_COPIED, TABLES
    from papersift.store.postgres_schema import SCHEMA_VERSION as PG_VERSION
    from papersift.store.sqlite import SCHEMA_VERSION

    open_store(tmp_path / "fresh.db").close()
    with sqlite3.connect(tmp_path / "fresh.db") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.execute("CREATE TABLE from_the_future (x)")
    assert names == {t.name for t in TABLES} | set(NOT_COPIED) and SCHEMA_VERSION == PG_VERSION
    done = migrate(tmp_path / "fresh.db", "postgresql://postgres@127.0.0.1:1/none")
    assert done.returncode == 2 and "from_the_future" in done.stderr
