"""The website's tables in the store, the migration that adds them, the accounts service and
BibTeX. Tests taking ``store`` run on a real SQLite file and on a real PostgreSQL server
(tests/pg_support.py); the migration and query-plan tests are SQLite-only (test_postgres_store.py
has PostgreSQL's)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

from papersift.errors import BadInput, Conflict, TooManyAttempts, Unauthorized
from papersift.formats.bibtex import bibtex, cite_key
from papersift.model import Paper
from papersift.service.accounts import Accounts
from papersift.store import open_store
from papersift.store.sqlite import MIGRATIONS, SCHEMA_VERSION

from ..pg_support import integrity_errors, raw_rows

FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def paper(pid, authors, org=None, published="2024-05-20T00:00:00Z", source="hf-jsonl", at="2024-06-01T00:00:00Z"):
    return Paper(id=pid, title=f"Paper {pid}", authors=authors, organization=org, published=published,
                 source=source, observed_at=at)


def test_migration_from_v1_fills_authors(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    data = json.dumps({"id": "2405.00001", "title": "Old", "authors": ["Ada Lovelace", "Alan Turing"]})
    db.execute("INSERT INTO papers(id, seq, data, title, published, organization, created_at, updated_at)"
               " VALUES ('2405.00001', 1, ?, 'Old', '2024-05-01T00:00:00Z', 'Lab', 'x', 'x')", (data,))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = open_store(path)
    assert store.schema_version() == SCHEMA_VERSION >= 2  # later migrations (3: digests) apply too
    papers, total = store.papers_by_author("alan turing", 10, 0)
    assert total == 1 and papers[0].id == "2405.00001"
    assert store.papers_by_organization("LAB", 10, 0)[1] == 1


def test_author_rows_follow_the_merged_record(store):
    store.upsert_papers([paper("2405.00001", ["A. One", "B. Two"])])
    # arXiv OAI outranks Hugging Face for authors: the list is replaced, and so are the rows
    store.upsert_papers([paper("2405.00001", ["Ann One", "Bo Two"], source="arxiv-oai")])
    assert store.papers_by_author("A. One", 10, 0)[1] == 0
    assert store.papers_by_author("bo two", 10, 0)[1] == 1


def test_listings_are_paged_newest_first(store):
    store.upsert_papers([paper(f"2405.0000{i}", ["Ada"], "Lab", f"2024-05-0{i}T00:00:00Z") for i in range(1, 6)])
    store.upsert_papers([paper("2405.00009", ["ada"], "LAB", None)])  # no date: after the dated ones
    page, total = store.papers_by_organization("lab", 2, 2)
    assert total == 6 and [p.id for p in page] == ["2405.00003", "2405.00002"]
    assert [p.id for p in store.papers_by_author("ADA", 2, 0)[0]] == ["2405.00005", "2405.00004"]
    assert [p.id for p in store.papers_by_author("ada", 10, 4)[0]] == ["2405.00001", "2405.00009"]
    assert store.papers_by_organization("nobody", 10, 0) == ([], 0)


def test_listings_use_indexes(tmp_path):  # SQLite only: its query plans
    store = open_store(tmp_path / "p.db")
    plans = {
        "papers_organization": "SELECT data FROM papers WHERE organization = ? COLLATE NOCASE ORDER BY published DESC",
        "paper_authors_name": "SELECT paper_id FROM paper_authors WHERE name = ? COLLATE NOCASE",
    }
    for index, sql in plans.items():
        plan = " ".join(str(r) for r in store._db.execute("EXPLAIN QUERY PLAN " + sql, ("x",)))
        assert index in plan, plan


def test_votes_are_one_per_user_under_threads(store):
    store.upsert_papers([paper("2405.00001", ["Ada"])])
    users = [store.create_user(f"u{i}@example.com", f"u{i}", "hash") for i in range(8)]
    start = threading.Barrier(16)

    def click(user):
        start.wait()
        for _ in range(20):
            store.set_vote(user.id, "2405.00001", True)

    threads = [threading.Thread(target=click, args=(u,)) for u in users + users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.vote_counts(["2405.00001"]) == {"2405.00001": 8}
    assert store.set_vote(users[0].id, "2405.00001", True) is False  # already there
    assert store.set_vote(users[0].id, "2405.00001", False) is True
    store.update_user(users[1].id, hidden=True)  # a hidden user's vote stops counting
    assert store.vote_counts(["2405.00001", "2405.99999"]) == {"2405.00001": 6}
    with pytest.raises(integrity_errors()):  # a vote needs a real paper
        store.set_vote(users[2].id, "2405.99999", True)


def test_accounts_hash_sessions_and_throttle(store):
    accounts = Accounts(store)  # production argon2 parameters
    user = accounts.create_user(" Ada@Example.COM ", "a long password")
    assert user.email == "ada@example.com" and user.name == "ada"
    assert store.get_user(user.id).password_hash.startswith("$argon2id$v=19$m=65536")
    with pytest.raises(Conflict):
        accounts.create_user("ada@example.com", "another password")
    with pytest.raises(BadInput):
        accounts.create_user("ada2@example.com", "a long password", name="bad\x07name")
    fast = Accounts(store, FAST)
    _, session_id, csrf = fast.log_in("ada@example.com", "a long password", "1.2.3.4")
    assert fast.session(session_id) == (store.get_user(user.id), csrf)
    assert fast.session(session_id + "x") is None and fast.session("") is None
    future = (datetime.now(timezone.utc) + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert store.get_session(__import__("hashlib").sha256(session_id.encode()).hexdigest(), future) is None
    fast.log_out(session_id)
    assert fast.session(session_id) is None
    for _ in range(5):
        with pytest.raises(Unauthorized):
            fast.log_in("ada@example.com", "wrong", "1.2.3.4")
    with pytest.raises(TooManyAttempts):
        fast.log_in("ada@example.com", "a long password", "1.2.3.4")
    assert fast.log_in("ada@example.com", "a long password", "5.6.7.8")[0].id == user.id
    with pytest.raises(Unauthorized):  # unknown emails fail the same way
        fast.log_in("nobody@example.com", "whatever pw", "1.2.3.4")


def test_api_tokens_are_stored_hashed(store):
    accounts = Accounts(store, FAST)
    user = accounts.create_user("bot@example.com", "a long password")
    token, secret = accounts.create_token(user, "ci")
    assert secret.startswith("pst_") and accounts.user_for_token(secret).id == user.id
    assert secret not in " ".join(str(r) for r in raw_rows(store, "SELECT * FROM api_tokens"))
    accounts.revoke_token(user, token.id)
    with pytest.raises(Unauthorized):
        accounts.user_for_token(secret)


def test_signals_saves_and_the_feed_token(store):
    store.upsert_papers([paper("2405.00001", ["Ada"]), paper("2405.00002", ["Ada"])])
    user = store.create_user("r@example.com", "r", "hash")
    assert store.add_signal(user.id, "2405.00001", "more") and not store.add_signal(user.id, "2405.00001", "more")
    assert store.add_signal(user.id, "2405.00001", "not_for_me")  # both may exist: the reader decides
    with pytest.raises(BadInput, match="signal kind"):
        store.add_signal(user.id, "2405.00001", "love")
    assert store.set_saved(user.id, "2405.00002", True) and store.set_vote(user.id, "2405.00002", True)
    assert store.user_saves(user.id, ["2405.00001", "2405.00002"]) == {"2405.00002"}
    assert store.saved_papers(user.id, 10, 0)[1] == 1
    kinds = [(k, p) for k, p, _ in store.user_signals(user.id)]
    assert sorted(kinds) == [("more", "2405.00001"), ("not_for_me", "2405.00001"), ("save", "2405.00002"),
                             ("upvote", "2405.00002")]
    assert store.remove_signal(user.id, "2405.00001", "more") and not store.remove_signal(user.id, "2405.00001", "more")
    assert store.delete_user_signals(user.id) == 1 and store.user_votes(user.id, ["2405.00002"]) == {"2405.00002"}
    assert store.delete_user_signals(user.id, votes_and_saves=True) == 2 and store.user_signals(user.id) == []
    assert store.feed_token_created(user.id) is None
    store.set_feed_token(user.id, "h1")
    store.set_feed_token(user.id, "h2")  # replaces: the old link stops working
    assert store.user_for_feed_token("h1") is None and store.user_for_feed_token("h2").id == user.id
    assert store.feed_token_created(user.id)
    store.update_user(user.id, hidden=True)
    assert store.user_for_feed_token("h2") is None
    store.set_feed_token(user.id, None)
    assert store.feed_token_created(user.id) is None
    assert store.set_paper_hidden("2405.00001", True, user.id) and not store.set_paper_hidden("2405.00001", True)
    assert store.hidden_paper_ids() == {"2405.00001"} and store.set_paper_hidden("2405.00001", False)


def test_bibtex_is_well_formed():
    p = Paper(id="2405.15738", title="ConvLLaVA: Hierarchical {Backbones", authors=["Chunjiang Gé", "Bo Zheng"],
              categories=["cs.CV"], published="2024-05-24T00:00:00Z")
    text = bibtex(p)
    assert cite_key(p) == "ge2024convllava" and text.startswith("@misc{ge2024convllava,")
    assert "title = {{ConvLLaVA: Hierarchical Backbones}}" in text  # the stray brace is dropped
    assert "author = {Chunjiang Gé and Bo Zheng}" in text and "primaryClass = {cs.CV}" in text
    assert text.count("{") == text.count("}")
    assert cite_key(Paper(id="hep-th/9901001")) == "anon"


# ---- accounts and API tokens, field by field (community.py)
def test_users_round_trip_every_field_on_both_backends(store):
    import re
    from dataclasses import replace

    ada = store.create_user("Ada@Example.com", "Ada L", "hash-a")  # not an admin unless asked
    assert (ada.email, ada.name, ada.password_hash, ada.is_admin, ada.hidden) == (
        "Ada@Example.com", "Ada L", "hash-a", False, False)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ada.created_at or "")
    boss = store.create_user("boss@example.com", "Boss", "hash-b", is_admin=True)
    assert (boss.password_hash, boss.is_admin, boss.hidden) == ("hash-b", True, False)
    # what a read gives back is what the create answered, every field (email as typed, any case to find it)
    assert store.get_user(ada.id) == ada and store.get_user(boss.id) == boss
    assert store.get_user_by_email("ada@EXAMPLE.COM") == ada and store.get_user_by_email("nobody@x.org") is None
    assert store.list_users() == [ada, boss]
    # the email is taken whatever its case; the message (shown on the sign-up form) names it
    with pytest.raises(Conflict, match="^an account with the email ADA@example.com already exists$"):
        store.create_user("ADA@example.com", "Other", "hash-c")

    store.update_user(ada.id, is_admin=True, hidden=True, password_hash="hash-a2")  # several columns at once
    changed = replace(ada, is_admin=True, hidden=True, password_hash="hash-a2")
    assert store.get_user(ada.id) == changed and store.get_user_by_email("ada@example.com") == changed
    assert store.list_users(hidden=True) == [changed] and store.list_users(hidden=False) == [boss]
    store.update_user(ada.id, is_admin=False)  # one column: the others stay
    assert store.get_user(ada.id) == replace(changed, is_admin=False)
    store.update_user(ada.id)  # nothing to change
    assert store.get_user(ada.id) == replace(changed, is_admin=False)
    store.update_user(boss.id, is_admin=False)
    assert store.get_user(boss.id).is_admin is False and store.get_user(ada.id).is_admin is False


def test_api_tokens_round_trip_and_note_their_use_once_a_minute(store):
    import time
    from dataclasses import replace

    from papersift.store.sql import now

    ada = store.create_user("ada@example.com", "Ada", "hash-a")
    bob = store.create_user("bob@example.com", "Bob", "hash-b")
    laptop = store.create_api_token("h-laptop", ada.id, "laptop")  # a token may write unless made read-only
    feed = store.create_api_token("h-feed", ada.id, "feed reader", scope="read")
    assert (laptop.user_id, laptop.name, laptop.scope, laptop.last_used_at) == (ada.id, "laptop", "write", None)
    assert (feed.user_id, feed.name, feed.scope, feed.last_used_at) == (ada.id, "feed reader", "read", None)
    assert laptop.created_at and feed.created_at and laptop.id != feed.id
    assert store.list_api_tokens(ada.id) == [laptop, feed] and store.list_api_tokens(bob.id) == []

    while int(now()[17:19]) > 50:  # room in this minute for the two uses below
        time.sleep(0.5)
    assert store.user_for_api_token("h-feed") == replace(ada, token_scope="read")
    assert store.user_for_api_token("h-laptop") == replace(ada, token_scope="write")
    assert store.user_for_api_token("h-unknown") is None
    first = {t.id: t.last_used_at for t in store.list_api_tokens(ada.id)}
    assert all(at and at[:16] == now()[:16] for at in first.values()), first  # the first use is noted
    time.sleep(1.1)  # a later second of the same minute: no second note (reads stay reads)
    assert store.user_for_api_token("h-feed").id == ada.id
    assert now()[:16] == first[feed.id][:16]  # (still that minute)
    assert {t.id: t.last_used_at for t in store.list_api_tokens(ada.id)} == first

    # a token is deleted by its owner only, once
    assert store.delete_api_token(bob.id, laptop.id) is False and store.delete_api_token(ada.id, 10**9) is False
    assert [t.id for t in store.list_api_tokens(ada.id)] == [laptop.id, feed.id]
    assert store.delete_api_token(ada.id, laptop.id) is True and store.delete_api_token(ada.id, laptop.id) is False
    assert store.user_for_api_token("h-laptop") is None and store.user_for_api_token("h-feed") is not None
    # a hidden user's tokens no longer authenticate
    store.update_user(ada.id, hidden=True)
    assert store.user_for_api_token("h-feed") is None


def test_a_token_read_goes_on_when_the_disk_is_full(tmp_path):  # SQLite: a real full disk (a small tmpfs)
    import os
    from contextlib import closing

    from ..disk_support import SmallDisk, no_wal_slack

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs the tests as root)")
    disk = SmallDisk(tmp_path / "disk", size="4m")
    try:
        db = disk.path / "site.db"
        store = open_store(db)
        try:
            ada = store.create_user("ada@example.com", "Ada", "hash-a")
            store.create_api_token("h-token", ada.id, "ci")
            with closing(sqlite3.connect(db)) as conn, conn:  # the note of use is old: a use writes one
                conn.execute("UPDATE api_tokens SET last_used_at = '2000-01-01T00:00:00Z'")
            no_wal_slack(db)
            disk.fill()
            assert store.user_for_api_token("h-token").id == ada.id  # the note waits, the read does not fail
            assert [t.last_used_at for t in store.list_api_tokens(ada.id)] == ["2000-01-01T00:00:00Z"]
            disk.free()
            assert store.user_for_api_token("h-token").id == ada.id
            assert store.list_api_tokens(ada.id)[0].last_used_at != "2000-01-01T00:00:00Z"
        finally:
            store.close()
    finally:
        disk.unmount()


def test_sessions_end_per_user_and_user_lists_are_capped(store):
    ada = store.create_user("ada@example.com", "Ada", "hash-a")
    bob = store.create_user("bob@example.com", "Bob", "hash-b")
    later = "2999-01-01T00:00:00Z"
    for sid, who in (("s-ada-1", ada), ("s-ada-2", ada), ("s-bob", bob)):
        store.create_session(sid, who.id, f"csrf-{sid}", later)
    assert store.get_session("s-ada-1", "2024-01-01T00:00:00Z") == (ada, "csrf-s-ada-1")
    store.delete_user_sessions(ada.id)  # "log out everywhere": that user's sessions only
    assert store.get_session("s-ada-1", "2024-01-01T00:00:00Z") is None
    assert store.get_session("s-ada-2", "2024-01-01T00:00:00Z") is None
    assert store.get_session("s-bob", "2024-01-01T00:00:00Z") == (bob, "csrf-s-bob")

    for n in range(100):
        store.create_user(f"u{n}@example.com", f"u{n}", "hash")
    everyone = store.list_users()
    assert len(everyone) == 100 and everyone[:2] == [ada, bob]  # the first hundred, oldest first
    assert [u.email for u in store.list_users(limit=3)] == ["ada@example.com", "bob@example.com", "u0@example.com"]
    assert len(store.list_users(hidden=False, limit=1000)) == 102 and store.list_users(hidden=True) == []
