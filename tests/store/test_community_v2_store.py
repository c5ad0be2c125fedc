"""The research community's tables (migration 9): comments, reactions, reports, collections with the
library among them, author claims, handles and mail addressed to a reader. Every method runs on a real
SQLite file and a real PostgreSQL server (the ``store`` fixture); the migration of an existing
version-8 database runs on both too."""

from __future__ import annotations

import sqlite3

import pytest

from papersift.errors import Conflict, NotFound
from papersift.model import Paper
from papersift.store import open_store
from papersift.store.sqlite import MIGRATIONS

from ..pg_support import raw_rows


def _paper(pid: str, authors=("Ada Lovelace", "Alan Turing")) -> Paper:
    return Paper(id=pid, title=f"Paper {pid}", authors=list(authors), published="2024-05-20T00:00:00Z",
                 source="hf-jsonl", observed_at="2024-06-01T00:00:00Z")


@pytest.fixture
def filled(store):
    store.upsert_papers([_paper(f"2405.0000{i}") for i in range(1, 5)])
    ada = store.create_user("ada@example.org", "Ada", "h", username="ada")
    bob = store.create_user("bob@example.org", "Bob", "h", username="bob")
    return store, ada, bob


def test_handles_are_unique_whatever_their_case(filled):
    store, ada, bob = filled
    with pytest.raises(Conflict):
        store.create_user("eve@example.org", "Eve", "h", username="ADA")
    with pytest.raises(Conflict):
        store.update_user(bob.id, username="Ada")
    store.update_user(bob.id, username="Bobby", notify_email=False, show_upvotes=True, email_verified_at="2026-01-01")
    again = store.get_user_by_username("bobby")
    assert again.id == bob.id and not again.notify_email and again.show_upvotes and again.email_verified_at
    assert set(store.users_by_username(["ADA", "bobby", "nobody"])) == {"ADA", "bobby"}


def test_comments_edits_reactions_reports_and_counts(filled):
    store, ada, bob = filled
    first = store.add_comment("2405.00001", ada.id, "first *words*")
    reply = store.add_comment("2405.00001", bob.id, "a reply", parent_id=first.id)
    store.add_comment("2405.00002", bob.id, "elsewhere")
    assert [c.id for c in store.paper_comments("2405.00001")] == [first.id, reply.id]
    assert reply.parent_id == first.id and reply.author_handle == "bob"
    store.edit_comment(first.id, "second words")
    assert store.get_comment(first.id).body == "second words" and store.get_comment(first.id).edited_at
    assert [b for b, _ in store.comment_revisions(first.id)] == ["first *words*"]
    assert store.set_reaction(first.id, bob.id, "👍", True) and not store.set_reaction(first.id, bob.id, "👍", True)
    store.set_reaction(first.id, ada.id, "👍", True)
    assert store.reaction_counts([first.id]) == {first.id: {"👍": 2}}
    assert store.user_reactions(bob.id, [first.id, reply.id]) == {(first.id, "👍")}
    assert store.report_comment(reply.id, ada.id, "spam") and not store.report_comment(reply.id, ada.id, "again")
    [(reported, count, reasons)] = store.open_reports()
    assert reported.id == reply.id and count == 1 and reasons == ["spam"]
    assert store.comment_counts(["2405.00001", "2405.00002", "2405.00003"]) == {"2405.00001": 2, "2405.00002": 1}
    assert store.set_comment_hidden(reply.id, True, ada.id) and store.open_reports() == []
    assert store.delete_comment(first.id) and not store.delete_comment(first.id)
    assert store.comment_counts(["2405.00001"]) == {}
    store.update_user(bob.id, hidden=True)  # a hidden user's comments and reactions count nowhere
    assert store.comment_counts(["2405.00002"]) == {} and store.reaction_counts([first.id]) == {first.id: {"👍": 1}}
    assert store.count_user_comments_since(bob.id, "2000-01-01") == 2 and store.user_comments(ada.id, 5) == []


def test_collections_items_positions_and_upvotes(filled):
    store, ada, bob = filled
    reading = store.create_collection(ada.id, "Reading group", "weekly", private=False)
    for pid in ("2405.00001", "2405.00002", "2405.00003"):
        store.add_collection_item(reading.id, pid, note=f"on {pid}")
    item, added = store.add_collection_item(reading.id, "2405.00001", note="ignored")
    assert not added and item.note == "on 2405.00001" and item.position == 1
    items = store.collection_items(reading.id)
    store.update_collection_item(reading.id, items[2].id, position=1, note="first now")
    assert [(i.paper_id, i.position) for i in store.collection_items(reading.id)] == [
        ("2405.00003", 1), ("2405.00001", 2), ("2405.00002", 3)]
    with pytest.raises(NotFound):
        store.update_collection_item(reading.id + 99, items[0].id, note="x")
    assert store.remove_collection_item(reading.id, items[0].id)
    assert [(i.paper_id, i.position) for i in store.collection_items(reading.id)] == [
        ("2405.00003", 1), ("2405.00002", 2)]
    assert store.set_collection_upvote(reading.id, bob.id, True) and not store.set_collection_upvote(reading.id, bob.id, True)
    assert store.get_collection(reading.id).upvotes == 1 and store.get_collection(reading.id).items == 2
    secret = store.create_collection(bob.id, "Mine", private=True)
    store.add_collection_item(secret.id, "2405.00003")
    assert [c.id for c in store.public_collections(paper_id="2405.00003")] == [reading.id]
    store.set_saved(bob.id, "2405.00004", True)  # the library: a private collection, never listed
    assert [c.is_library for c in store.user_collections(bob.id)] == [True, False]
    assert [c.id for c in store.public_collections(owner_id=bob.id)] == []
    assert store.set_collection_hidden(reading.id, True, bob.id) and store.public_collections() == []
    store.set_collection_hidden(reading.id, False)
    store.update_user(ada.id, hidden=True)
    assert store.public_collections() == []
    assert store.delete_collection(reading.id) and store.get_collection(reading.id) is None


def test_claims_one_verified_author_a_position(filled):
    store, ada, bob = filled
    claim = store.add_claim(ada.id, "2405.00001", 0, status="verified", how="email")
    with pytest.raises(Conflict):
        store.add_claim(bob.id, "2405.00001", 0)
    with pytest.raises(Conflict):
        store.add_claim(ada.id, "2405.00001", 1)
    pending = store.add_claim(bob.id, "2405.00001", 1)
    assert [c.id for c in store.pending_claims()] == [pending.id]
    assert store.decide_claim(pending.id, "verified", ada.id, "admin") and store.pending_claims() == []
    assert [(c.position, c.status, c.user_handle) for c in store.paper_claims("2405.00001")] == [
        (0, "verified", "ada"), (1, "verified", "bob")]
    assert store.set_claim_hidden(claim.id, True) and store.get_claim(claim.id).hidden
    assert store.delete_claim(pending.id) and [c.id for c in store.user_claims(bob.id)] == []


def test_mail_to_a_reader_is_made_once_and_follows_their_choice(filled):
    store, ada, bob = filled
    first = store.enqueue_for_user(ada.id, "notify", "comment:1", ada.email, "<m1@x>", {"subject": "s"})
    assert first is not None and store.enqueue_for_user(ada.id, "notify", "comment:1", ada.email, "<m2@x>", {}) is None
    asked = store.enqueue_for_user(bob.id, "account", "verify:1", bob.email, "<m3@x>", {"subject": "v"})
    store.update_user(ada.id, notify_email=False)
    store.update_user(bob.id, notify_email=False)
    claimed = store.claim("me", "9999")
    assert claimed is not None and claimed.id == asked and claimed.user_id == bob.id and claimed.subscriber_id is None
    assert store.claim("me", "9999") is None  # Ada turned notifications off: her row is cancelled
    assert store.get_message(first).status == "cancelled"


def _version_8_sqlite(path) -> None:
    db = sqlite3.connect(path)
    for step in MIGRATIONS[:8]:
        db.executescript(step)
    db.execute("PRAGMA user_version = 8")
    for pid in ("2405.00001", "2405.00002"):
        db.execute("INSERT INTO papers(id, seq, data, created_at, updated_at) VALUES (?, ?, ?, 'x', 'x')",
                   (pid, int(pid[-1]), f'{{"id": "{pid}"}}'))
    db.execute("INSERT INTO users(id, email, name, password_hash, created_at) VALUES (1, 'a@x.org', 'Ada', 'h', 'x')")
    db.executemany("INSERT INTO saves(user_id, paper_id, created_at) VALUES (1, ?, ?)",
                   [("2405.00002", "2024-01-01"), ("2405.00001", "2024-01-02")])
    db.execute("INSERT INTO subscribers(id, email, cadence, created_at, updated_at) VALUES (1, 'a@x.org', 'daily', 'x', 'x')")
    db.execute("INSERT INTO outbox(id, subscriber_id, kind, period_key, recipient, message_id, payload, next_attempt_at,"
               " created_at, status) VALUES (7, 1, 'digest', '2024-01-02', 'a@x.org', '<d@x>', '{}', '', 'x', 'sent')")
    db.execute("INSERT INTO sent_papers(subscriber_id, paper_id, outbox_id) VALUES (1, '2405.00001', 7)")
    db.commit()
    db.close()


def test_migration_9_moves_the_saves_into_the_library_and_keeps_the_outbox(tmp_path):
    _version_8_sqlite(tmp_path / "old.db")
    store = open_store(tmp_path / "old.db")
    try:
        assert store.schema_version() >= 9
        papers, total = store.saved_papers(1, 10, 0)
        assert total == 2 and [p.id for p in papers] == ["2405.00001", "2405.00002"]  # most recently saved first
        [library] = store.user_collections(1)
        assert library.is_library and library.private
        assert store.get_message(7).status == "sent" and store.sent_paper_ids(1, ["2405.00001"]) == {"2405.00001"}
        assert raw_rows(store, "PRAGMA foreign_key_check") == []
        assert store.users_without_username()[0].id == 1
    finally:
        store.close()


def test_migration_9_on_both_backends_keeps_saves_and_digests(store_url, monkeypatch):
    from papersift.store import postgres_schema, sqlite

    module = postgres_schema if store_url.startswith("postgresql") else sqlite
    monkeypatch.setattr(module, "SCHEMA_VERSION", 8)  # a database made by the papersift before the community
    old = open_store(store_url)
    old.upsert_papers([_paper("2405.00001"), _paper("2405.00002")])
    with old._transaction() as db:  # the columns of version 8: saves, an outbox owned by subscribers
        db.execute("INSERT INTO users(id, email, name, password_hash, created_at) VALUES (1, 'a@x.org', 'Ada', 'h', 'x')")
        db.execute("INSERT INTO saves(user_id, paper_id, created_at) VALUES (1, '2405.00002', '2024-01-01')")
        db.execute("INSERT INTO saves(user_id, paper_id, created_at) VALUES (1, '2405.00001', '2024-01-02')")
        db.execute("INSERT INTO subscribers(id, email, cadence, status, created_at, updated_at) VALUES (1, 'a@x.org',"
                   " 'daily', 'active', 'x', 'x')")
        db.execute("INSERT INTO outbox(id, subscriber_id, kind, period_key, recipient, message_id, payload,"
                   " next_attempt_at, created_at) VALUES (7, 1, 'digest', '2024-01-02', 'a@x.org', '<d@x>', '{}', '', 'x')")
    old.close()
    monkeypatch.undo()
    store = open_store(store_url)
    try:
        assert store.schema_version() >= 9
        papers, total = store.saved_papers(1, 10, 0)
        assert total == 2 and [p.id for p in papers] == ["2405.00001", "2405.00002"]
        assert store.set_saved(1, "2405.00002", True) is False  # already in the library
        message = store.claim("me", "9999")
        assert message is not None and message.id == 7 and message.subscriber_id == 1 and message.user_id is None
        assert store.enqueue_for_user(1, "notify", "comment:1", "a@x.org", "<n@x>", {}) is not None
    finally:
        store.close()
