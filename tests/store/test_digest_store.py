"""The digest part of the store contract (DigestStore), on a real SQLite file and on a real
PostgreSQL server (the ``store`` fixture, tests/pg_support.py): subscribers, the outbox's state
machine and its owner rules, sent papers, secrets. The digest service's own tests
(test_digest_*.py) drive these through the front door on SQLite."""

from __future__ import annotations

import threading

import pytest

from papersift.errors import Conflict
from papersift.model import Paper


def _paper(pid: str, published: str) -> Paper:
    return Paper(id=pid, title=f"Paper {pid}", published=published, source="hf-jsonl", observed_at="2024-06-01T00:00:00Z")


def _subscriber(store, email="a@example.org", cadence="daily", topics=(), active=True):
    sub = store.create_subscriber(email, cadence, True, list(topics), None, f"nonce-{email}")
    if active:
        assert store.confirm_subscriber(sub.id, sub.confirm_nonce)
    return store.get_subscriber(sub.id)


def test_secrets_are_made_once_even_when_asked_at_once(store):
    made, start = [], threading.Barrier(8)
    answers = []

    def ask(n):
        start.wait()
        answers.append(store.get_secret("signing", lambda: made.append(n) or f"value-{n}"))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(answers)) == 1 and answers[0] in {f"value-{n}" for n in made}
    assert store.get_secret("signing", lambda: "another") == answers[0]
    assert store.get_secret("other", lambda: "x") == "x"


def test_subscribers_emails_topics_and_confirmation(store):
    user = store.create_user("reader@example.org", "reader", "hash")
    topics = [("category", "cs.LG"), ("author", "Ada"), ("category", "cs.LG"), ("organization", "Lab")]
    sub = store.create_subscriber("Reader@Example.org", "weekly", False, topics, user.id, "n1")
    assert (sub.status, sub.cadence, sub.trending, sub.user_id, sub.confirm_nonce) == ("pending", "weekly", False,
                                                                                        user.id, "n1")
    assert sub.topics == [("category", "cs.LG"), ("author", "Ada"), ("organization", "Lab")]  # given order, once
    with pytest.raises(Conflict):
        store.create_subscriber("READER@example.ORG", "daily", True, [], None, "n2")
    assert store.get_subscriber_by_email("reader@EXAMPLE.org").id == sub.id
    assert store.subscriber_for_user(user.id).id == sub.id and store.get_subscriber(sub.id + 99) is None
    assert not store.confirm_subscriber(sub.id, "wrong")
    assert store.confirm_subscriber(sub.id, "n1") and not store.confirm_subscriber(sub.id, "n1")  # one use
    sub = store.get_subscriber(sub.id)
    assert sub.status == "active" and sub.confirm_nonce is None and sub.confirmed_at
    changed = store.update_subscriber(sub.id, cadence="daily", trending=True, topics=[("search", "graphs")],
                                      bump_epoch=True)
    assert (changed.cadence, changed.trending, changed.topics, changed.token_epoch) == ("daily", True,
                                                                                       [("search", "graphs")], 1)
    assert [s.id for s in store.active_subscribers(["daily"])] == [sub.id]
    assert store.active_subscribers(["weekly"]) == [] and store.active_subscribers([]) == []
    assert store.count_subscribers() == {"active": 1}


def test_unsubscribe_needs_the_current_epoch_and_cancels_unsent_mail(store):
    sub = _subscriber(store)
    queued = store.enqueue(sub.id, "digest", "2024-05-27", sub.email, "<m1@x>", {"n": 1})
    assert not store.unsubscribe(sub.id, sub.token_epoch + 1)  # a stale or forged link
    assert store.unsubscribe(sub.id, sub.token_epoch)
    assert not store.unsubscribe(sub.id, sub.token_epoch)  # the link died with the bump
    after = store.get_subscriber(sub.id)
    assert (after.status, after.token_epoch, after.status_reason) == ("unsubscribed", 1, "unsubscribed by link")
    message = store.get_message(queued)
    assert (message.status, message.last_error) == ("cancelled", "unsubscribed")
    assert store.claim("s", "9999") is None


def test_enqueue_once_per_period_and_papers_once_per_subscriber(store):
    store.upsert_papers([_paper("2405.00001", "2024-05-27T10:00:00Z"), _paper("2405.00002", "2024-05-28T10:00:00Z")])
    sub = _subscriber(store)
    first = store.enqueue(sub.id, "digest", "2024-05-27", sub.email, "<m1@x>", {"papers": ["2405.00001"]},
                          ["2405.00001", "2405.00002"], now="2024-05-27T07:00:00Z")
    assert first is not None
    assert store.enqueue(sub.id, "digest", "2024-05-27", sub.email, "<m2@x>", {}, ["2405.00003"]) is None
    assert store.enqueue(sub.id, "digest", "2024-05-28", sub.email, "<m1@x>", {}) is None  # Message-ID is unique
    assert store.sent_paper_ids(sub.id, ["2405.00001", "2405.00003", "2405.00002"]) == {"2405.00001", "2405.00002"}
    assert store.sent_paper_ids(sub.id, []) == set()
    assert store.outbox_subscribers("digest", "2024-05-27") == {sub.id}
    assert store.outbox_subscribers("digest", "2024-05-28") == set()
    assert store.last_enqueued_at(sub.id, ["digest"]) == "2024-05-27T07:00:00Z"
    assert store.last_enqueued_at(sub.id, ["manage"]) is None
    message = store.get_message(first)
    assert (message.status, message.attempts, message.payload, message.next_attempt_at) == ("pending", 0,
                                                                                           {"papers": ["2405.00001"]}, "")
    assert [p.id for p in store.papers_published_between("2024-05-28", "2024-05-28")] == ["2405.00002"]
    assert [p.id for p in store.papers_published_between("2024-05-01", "2024-05-31")] == ["2405.00001", "2405.00002"]


def test_claims_follow_the_state_machine_and_its_owner(store):
    sub, gone = _subscriber(store, "a@example.org"), _subscriber(store, "b@example.org")
    late = store.enqueue(sub.id, "digest", "p2", sub.email, "<late@x>", {})
    early = store.enqueue(sub.id, "digest", "p1", sub.email, "<early@x>", {})
    stale = store.enqueue(gone.id, "digest", "p1", gone.email, "<gone@x>", {})
    store.update_subscriber(gone.id, status="disabled")
    assert store.claim("s1", "2024-01-01T00:00:00Z", ids=[]) is None
    taken = store.claim("s1", "2024-01-01T00:00:00Z", ids=[early])
    assert (taken.id, taken.status, taken.claimed_by, taken.attempts) == (early, "sending", "s1", 1)
    assert [m.id for m in store.abandoned_claims()] == [early]
    store.mark_sent(early, "s2", "250 ok", "2024-01-01T00:01:00Z")  # not the owner: nothing happens
    assert store.get_message(early).status == "sending"
    store.release(early, "s1", "421 try later", "2024-01-01T01:00:00Z")
    assert store.claim("s1", "2024-01-01T00:30:00Z", ids=[early]) is None  # not due yet
    assert store.claim("s1", "2024-01-01T00:30:00Z").id == late  # the oldest due row first (made first)
    # the disabled subscriber's row is cancelled on the way; `early` is not due yet
    assert store.claim("s1", "2024-01-01T00:30:00Z") is None
    assert store.get_message(stale).status == "cancelled"
    assert store.get_message(stale).last_error == "subscriber is disabled"
    store.mark_sent(late, "s1", "250 ok", "2024-01-01T00:31:00Z")
    sent = store.get_message(late)
    assert (sent.status, sent.smtp_reply, sent.sent_at) == ("sent", "250 ok", "2024-01-01T00:31:00Z")
    again = store.claim("s2", "2024-01-01T02:00:00Z")
    assert (again.id, again.attempts, again.last_error) == (early, 2, "421 try later")
    assert store.waiting_messages() == [again]
    assert store.outbox_counts() == {"sending": 1, "sent": 1, "cancelled": 1}


def test_bounces_disable_an_address_and_a_delivery_forgives_them(store):
    sub = _subscriber(store)
    ids = [store.enqueue(sub.id, "digest", f"p{i}", sub.email, f"<m{i}@x>", {}) for i in range(4)]
    assert store.claim("s", "9999").id == ids[0]
    assert store.mark_failed(ids[0], "s", "550 no such user", True, 2, "t1") is False
    assert store.get_subscriber(sub.id).bounces == 1
    assert store.claim("s", "9999").id == ids[1]
    store.mark_sent(ids[1], "s", "250 ok", "t2")
    assert store.get_subscriber(sub.id).bounces == 0
    for n in (2, 3):
        assert store.claim("s", "9999").id == ids[n]
        disabled = store.mark_failed(ids[n], "s", "550 no such user", True, 1 if n == 3 else 5, "t3")
        assert disabled is (n == 3)
    after = store.get_subscriber(sub.id)
    assert after.status == "disabled" and after.status_reason.startswith("1 permanent delivery failures")
    assert store.mark_failed(ids[0], "s", "again", True, 1, "t4") is False  # already failed: not the owner's any more
    assert store.get_message(ids[3]).last_error == "550 no such user"


def test_concurrent_claimers_take_each_message_once(store):
    subs = [_subscriber(store, f"r{i}@example.org") for i in range(4)]
    queued = {store.enqueue(s.id, "digest", f"p{n}", s.email, f"<{s.id}-{n}@x>", {}) for s in subs for n in range(10)}
    claimed: list[tuple[str, int]] = []
    start = threading.Barrier(6)

    def sender(name):
        start.wait()
        while (message := store.claim(name, "9999")) is not None:
            claimed.append((name, message.id))
            store.mark_sent(message.id, name, "250 ok", "9999")

    threads = [threading.Thread(target=sender, args=(f"s{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for _, i in claimed]
    assert sorted(ids) == sorted(queued) and len(set(ids)) == len(ids)
    assert store.outbox_counts() == {"sent": len(queued)}


def test_a_stored_secret_is_read_not_made_again(store):
    assert store.get_secret("signing", lambda: "first") == "first"

    def make():
        raise AssertionError("the secret exists: nothing should be made")

    assert store.get_secret("signing", make) == "first"


def test_update_subscriber_changes_what_it_is_given_and_nothing_else(store):
    owner = store.create_user("owner@example.org", "owner", "hash")
    sub = _subscriber(store)
    assert sub.created_at and sub.created_at <= sub.confirmed_at and sub.token_epoch == 0
    first, second = (store.enqueue(sub.id, "digest", f"p{i}", sub.email, f"<u{i}@x>", {}) for i in range(2))
    assert store.claim("s", "9999", ids=[first]).id == first
    assert store.mark_failed(first, "s", "550 no such user", True, 1, "t1") is True
    # disabling the address cancels its other unsent mail, saying why
    assert (store.get_message(second).status, store.get_message(second).last_error) == ("cancelled", "address disabled")
    disabled = store.get_subscriber(sub.id)
    assert (disabled.status, disabled.bounces) == ("disabled", 1) and disabled.status_reason
    # no status given: the status, its reason, the bounces and the links' epoch stay as they were
    kept = store.update_subscriber(sub.id, cadence="weekly", trending=False)
    assert (kept.cadence, kept.trending, kept.status, kept.status_reason, kept.bounces, kept.token_epoch) == (
        "weekly", False, "disabled", disabled.status_reason, 1, 0)
    # a fresh start ('pending'): a new nonce, an owner, no reason, earlier bounces forgiven, same links
    again = store.update_subscriber(sub.id, status="pending", confirm_nonce="n2", user_id=owner.id)
    assert (again.status, again.status_reason, again.bounces, again.confirm_nonce, again.user_id, again.token_epoch,
            again.cadence, again.trending) == ("pending", None, 0, "n2", owner.id, 0, "weekly", False)
    assert store.subscriber_for_user(owner.id).id == sub.id
    assert store.confirm_subscriber(sub.id, "n2")
    # another status keeps the bounces on record (only a fresh start forgives them)
    third = store.enqueue(sub.id, "digest", "p3", sub.email, "<u3@x>", {})
    assert store.claim("s", "9999", ids=[third]).id == third
    assert store.mark_failed(third, "s", "550 no such user", True, 5, "t2") is False
    active = store.update_subscriber(sub.id, status="active")
    assert (active.status, active.bounces, active.token_epoch) == ("active", 1, 0)
    assert store.update_subscriber(sub.id, bump_epoch=True).token_epoch == 1
    assert store.get_subscriber(sub.id).token_epoch == 1


def test_failures_without_a_bounce_leave_the_address_alone_and_long_texts_are_cut(store):
    sub = _subscriber(store)
    ids = [store.enqueue(sub.id, "digest", f"p{i}", sub.email, f"<c{i}@x>", {}) for i in range(3)]
    assert store.claim("s", "9999", ids=[ids[0]]).id == ids[0]
    store.release(ids[0], "s", "4" * 2000, "2024-01-01T00:00:00Z")
    assert store.get_message(ids[0]).last_error == "4" * 1000
    assert store.claim("s", "9999", ids=[ids[0]]).id == ids[0]
    store.mark_sent(ids[0], "s", "2" * 2000, "t1")
    sent = store.get_message(ids[0])
    assert (sent.status, sent.smtp_reply, sent.last_error) == ("sent", "2" * 1000, None)
    # a failure that is not a bounce: the message fails, the address keeps its standing
    assert store.claim("s", "9999", ids=[ids[1]]).id == ids[1]
    assert store.mark_failed(ids[1], "s", "4" * 2000, False, 1, "t2") is False
    failed = store.get_message(ids[1])
    assert (failed.status, failed.last_error) == ("failed", "4" * 1000)
    kept = store.get_subscriber(sub.id)
    assert (kept.status, kept.bounces, kept.status_reason) == ("active", 0, None)
    # a bounce at the threshold: the reason quotes the start of the error
    assert store.claim("s", "9999", ids=[ids[2]]).id == ids[2]
    assert store.mark_failed(ids[2], "s", "5" * 2000, True, 1, "t3") is True
    assert store.get_message(ids[2]).last_error == "5" * 1000
    assert store.get_subscriber(sub.id).status_reason == "1 permanent delivery failures in a row; last: " + "5" * 300
    assert store.get_message(max(ids) + 100) is None


def test_a_claim_cancels_undeliverable_rows_on_its_way_to_a_deliverable_one(store):
    reader, gone = _subscriber(store, "a@example.org"), _subscriber(store, "b@example.org")
    stale = store.enqueue(gone.id, "digest", "p1", gone.email, "<stale@x>", {})
    odd = store.enqueue(reader.id, "postcard", "p1", reader.email, "<odd@x>", {})  # a kind no state receives
    due = store.enqueue(reader.id, "digest", "p1", reader.email, "<due@x>", {})
    store.update_subscriber(gone.id, status="disabled")
    taken = store.claim("s", "9999")
    assert (taken.id, taken.status, taken.claimed_by) == (due, "sending", "s")
    assert (store.get_message(stale).status, store.get_message(stale).last_error) == ("cancelled", "subscriber is disabled")
    assert (store.get_message(odd).status, store.get_message(odd).last_error) == ("cancelled", "subscriber is active")
    assert store.claim("s", "9999") is None
