"""The email digests' tables: subscribers, their topics, the outbox, sent papers, secrets. The
queries, written once for both backends (sql.py says what differs between them).

The delivery guarantees are SQL constraints and single statements inside write transactions, so
they hold across threads, processes and machines:

* ``UNIQUE (subscriber_id, kind, period_key)``: a digest is built once per period.
* ``sent_papers`` rows are written in the transaction that makes the outbox row, and its primary key
  (subscriber, paper) means a paper can be in only one digest per subscriber.
* A claim moves one row from 'pending' to 'sending' in a write transaction, its SELECT taking the
  row lock the dialect gives (``claiming``: SKIP LOCKED on PostgreSQL): two senders never take the
  same row. Moving on from 'sending' requires being the claim's owner.
* A secret is an insert that skips a taken name, then a read: two first users agree on one value.
"""

from __future__ import annotations

import json
from typing import Callable, Iterable

from papersift.errors import Conflict, NotFound
from papersift.model import OutboxMessage, Subscriber, Webhook
from papersift.store.sql import Connection, Queries

_SUB_COLUMNS = ("id, email, cadence, trending, status, user_id, confirm_nonce, token_epoch, bounces, "
                "created_at, confirmed_at, status_reason")
_OUT_COLUMNS = ("id, subscriber_id, kind, period_key, recipient, message_id, payload, status, attempts, "
                "next_attempt_at, claimed_by, claimed_at, last_error, smtp_reply, created_at, sent_at, user_id")
_TOPIC_COLUMNS = (("subscriber_id", "bigint"), ("kind", "text"), ("value", "text"))
_SENT_COLUMNS = (("subscriber_id", "bigint"), ("paper_id", "text"), ("outbox_id", "bigint"))
# Which kinds of mail a subscriber in each state may still receive.
# A row addressed to a user goes while they are not hidden: a notification ("notify") only while they
# still want mail, a mail they asked for ("account": a link to prove their address) regardless.
_DELIVERABLE = {"digest": ("active",), "confirm": ("pending",), "manage": ("active", "pending"),
                "notify": ("reader",), "account": ("reader", "opted out of mail"),
                "webhook": ("reader", "opted out of mail")}
_ADDRESSEE_STATE = ("CASE WHEN o.user_id IS NULL THEN s.status WHEN u.hidden THEN 'hidden'"
                    " WHEN NOT u.notify_email THEN 'opted out of mail' ELSE 'reader' END")


def _subscriber(row, topics: list[tuple[str, str]]) -> Subscriber:
    sid, email, cadence, trending, status, user_id, nonce, epoch, bounces, created, confirmed, reason = row
    return Subscriber(sid, email, cadence, bool(trending), status, topics, user_id, nonce, epoch, bounces,
                      created, confirmed, reason)


def _message(row) -> OutboxMessage:
    values = list(row)
    values[6] = json.loads(values[6])
    return OutboxMessage(*values)


class DigestTables(Queries):
    """Queries on the digest tables (mixed into each backend's store)."""

    # ---- secrets
    def get_secret(self, name: str, make: Callable[[], str]) -> str:
        value = self._value("SELECT value FROM secrets WHERE name = ?", (name,))
        if value is not None:
            return value
        with self._transaction() as conn:
            conn.execute(self.dialect.ignoring("INSERT INTO secrets(name, value, created_at) VALUES (?, ?, ?)"),
                         (name, make(), self._now()))
        return self._value("SELECT value FROM secrets WHERE name = ?", (name,))

    # ---- subscribers
    def _subscribers(self, where: str, args: tuple) -> list[Subscriber]:
        rows = self._all(f"SELECT {_SUB_COLUMNS} FROM subscribers WHERE {where} ORDER BY id", args)
        topics: dict[int, list[tuple[str, str]]] = {r[0]: [] for r in rows}
        for sid, kind, value in self._rows_among("SELECT subscriber_id, kind, value FROM subscriber_topics WHERE",
                                                 "subscriber_id", list(topics),
                                                 tail=f" ORDER BY subscriber_id, {self.dialect.insertion_order}"):
            topics[sid].append((kind, value))
        return [_subscriber(r, topics[r[0]]) for r in rows]

    def _one_subscriber(self, where: str, args: tuple) -> Subscriber | None:
        found = self._subscribers(where, args)
        return found[0] if found else None

    def create_subscriber(self, email: str, cadence: str, trending: bool, topics: list[tuple[str, str]],
                          user_id: int | None, confirm_nonce: str) -> Subscriber:
        now = self._now()
        with self._transaction() as conn:
            try:
                sid = self.dialect.new_id(
                    conn, "INSERT INTO subscribers(email, user_id, cadence, trending, confirm_nonce, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", (email, user_id, cadence, trending, confirm_nonce, now, now))
            except self.dialect.duplicate:
                raise Conflict(f"{email} already has a subscription") from None
            self._write_topics(conn, sid, topics)
        return self._stored_subscriber(sid)

    def _write_topics(self, conn: Connection, subscriber_id: int, topics: list[tuple[str, str]]) -> None:
        conn.execute("DELETE FROM subscriber_topics WHERE subscriber_id = ?", (subscriber_id,))
        self.dialect.insert_many(conn, "subscriber_topics", _TOPIC_COLUMNS,
                                 [(subscriber_id, kind, value) for kind, value in topics])

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        return self._one_subscriber("id = ?", (subscriber_id,))

    def _stored_subscriber(self, subscriber_id: int) -> Subscriber:
        found = self.get_subscriber(subscriber_id)
        if found is None:
            raise NotFound(f"no subscriber {subscriber_id}")
        return found

    def get_subscriber_by_email(self, email: str) -> Subscriber | None:
        return self._one_subscriber(self.dialect.nocase("email"), (email,))

    def subscriber_for_user(self, user_id: int) -> Subscriber | None:
        return self._one_subscriber("user_id = ?", (user_id,))

    def update_subscriber(self, subscriber_id: int, *, cadence: str | None = None, trending: bool | None = None,
                          topics: list[tuple[str, str]] | None = None, status: str | None = None,
                          confirm_nonce: str | None = None, user_id: int | None = None,
                          bump_epoch: bool = False) -> Subscriber:
        changes = [(col, val) for col, val in (("cadence", cadence), ("trending", trending), ("status", status),
                                              ("confirm_nonce", confirm_nonce), ("user_id", user_id))
                   if val is not None]
        sets = [f"{col} = ?" for col, _ in changes] + ["updated_at = ?"]  # column names are fixed above
        values = [v for _, v in changes] + [self._now()]
        if status is not None:
            sets.append("status_reason = NULL")
            if status == "pending":  # a fresh start: earlier bounces do not count against it
                sets.append("bounces = 0")
        if bump_epoch:
            sets.append("token_epoch = token_epoch + 1")
        with self._transaction() as conn:
            conn.execute(f"UPDATE subscribers SET {', '.join(sets)} WHERE id = ?", (*values, subscriber_id))
            if topics is not None:
                self._write_topics(conn, subscriber_id, topics)
        return self._stored_subscriber(subscriber_id)

    def confirm_subscriber(self, subscriber_id: int, nonce: str) -> bool:
        now = self._now()
        with self._transaction() as conn:
            return conn.execute(
                "UPDATE subscribers SET status = 'active', confirm_nonce = NULL, confirmed_at = ?, updated_at = ?,"
                " bounces = 0, status_reason = NULL WHERE id = ? AND confirm_nonce = ? AND status = 'pending'",
                (now, now, subscriber_id, nonce)).rowcount > 0

    def unsubscribe(self, subscriber_id: int, epoch: int) -> bool:
        now = self._now()
        with self._transaction() as conn:
            changed = conn.execute(
                "UPDATE subscribers SET status = 'unsubscribed', token_epoch = token_epoch + 1, confirm_nonce = NULL,"
                " updated_at = ?, status_reason = 'unsubscribed by link' WHERE id = ? AND token_epoch = ?"
                " AND status IN ('pending', 'active', 'disabled')", (now, subscriber_id, epoch)).rowcount > 0
            if changed:
                self._cancel_pending(conn, subscriber_id, "unsubscribed")
        return changed

    def active_subscribers(self, cadences: Iterable[str]) -> list[Subscriber]:
        cadences = list(cadences)
        if not cadences:
            return []
        among, args = self.dialect.among("cadence", cadences)
        return self._subscribers(f"status = 'active' AND {among}", tuple(args))

    def count_subscribers(self) -> dict[str, int]:
        return dict(self._all("SELECT status, COUNT(*) FROM subscribers GROUP BY status"))

    def sent_paper_ids(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self._rows_among("SELECT paper_id FROM sent_papers WHERE subscriber_id = ? AND", "paper_id",
                                               paper_ids, (subscriber_id,))}

    # ---- the outbox
    def outbox_subscribers(self, kind: str, period_key: str) -> set[int]:
        return {r[0] for r in self._all("SELECT subscriber_id FROM outbox WHERE kind = ? AND period_key = ?",
                                        (kind, period_key))}

    def enqueue(self, subscriber_id: int, kind: str, period_key: str, recipient: str, message_id: str,
                payload: dict, paper_ids: Iterable[str] = (), now: str | None = None) -> int | None:
        now = now or self._now()
        with self._transaction() as conn:
            # next_attempt_at '' sorts before every time: a new message is due at once, whatever the clock
            oid = self.dialect.inserted_id(conn, self.dialect.ignoring(
                "INSERT INTO outbox(subscriber_id, kind, period_key, recipient, message_id, payload, next_attempt_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, '', ?)"),
                (subscriber_id, kind, period_key, recipient, message_id, json.dumps(payload), now))
            if oid is not None:
                self.dialect.insert_many(conn, "sent_papers", _SENT_COLUMNS,
                                         [(subscriber_id, pid, oid) for pid in dict.fromkeys(paper_ids)])
            return oid

    def enqueue_for_user(self, user_id: int, kind: str, period_key: str, recipient: str, message_id: str,
                         payload: dict, now: str | None = None) -> int | None:
        """Mail to a reader (kind "notify" or "account"): one per (user, kind, ``period_key``), the key naming
        the event (a reply, a mention): None when it was made already, so a retried request mails once."""
        now = now or self._now()
        with self._transaction() as conn:
            return self.dialect.inserted_id(conn, self.dialect.ignoring(
                "INSERT INTO outbox(user_id, kind, period_key, recipient, message_id, payload, next_attempt_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, '', ?)"),
                (user_id, kind, period_key, recipient, message_id, json.dumps(payload), now))

    def cancel_comment_mail(self, comment_ids: Iterable[int] = (), writer_id: int | None = None) -> int:
        """Cancel the unsent notifications about these comments (or every comment of ``writer_id``): a
        comment a moderator hid is mailed to no one."""
        keys = [f"comment:{cid}" for cid in comment_ids]
        if writer_id is not None:
            keys += [f"comment:{r[0]}" for r in self._all("SELECT id FROM comments WHERE user_id = ?", (writer_id,))]
        cancelled = 0
        with self._transaction() as conn:
            for chunk in self.dialect.chunks(keys):
                among, args = self.dialect.among("period_key", chunk)
                cancelled += conn.execute(f"UPDATE outbox SET status = 'cancelled', last_error = 'the comment was hidden'"
                                          f" WHERE kind = 'notify' AND status = 'pending' AND {among}", args).rowcount
        return cancelled

    def last_enqueued_at(self, subscriber_id: int, kinds: Iterable[str]) -> str | None:
        among, args = self.dialect.among("kind", list(kinds))
        return self._value(f"SELECT MAX(created_at) FROM outbox WHERE subscriber_id = ? AND {among}",
                           (subscriber_id, *args))

    def claim(self, owner: str, now: str, ids: Iterable[int] | None = None,
              kinds: Iterable[str] | None = None) -> OutboxMessage | None:
        where, args = "o.status = 'pending' AND o.next_attempt_at <= ?", [now]
        if kinds is not None:
            among, kind_args = self.dialect.among("o.kind", list(kinds))
            where, args = f"{where} AND {among}", args + kind_args
        if ids is not None:
            only = list(ids)
            if not only:
                return None
            among, only_args = self.dialect.among("o.id", only)
            where, args = f"{where} AND {among}", args + only_args
        with self._transaction() as conn:
            while True:
                row = conn.execute(
                    f"SELECT o.id, o.kind, {_ADDRESSEE_STATE}, o.user_id FROM outbox o"
                    " LEFT JOIN subscribers s ON s.id = o.subscriber_id LEFT JOIN users u ON u.id = o.user_id"
                    f" WHERE {where} ORDER BY o.next_attempt_at, o.id LIMIT 1{self.dialect.claiming('o')}",
                    args).fetchone()
                if row is None:
                    return None
                oid, kind, sub_status, user_id = row
                if sub_status not in _DELIVERABLE.get(kind, ()):
                    conn.execute("UPDATE outbox SET status = 'cancelled', last_error = ? WHERE id = ?",
                                 (f"{'subscriber' if user_id is None else 'reader'} is {sub_status}", oid))
                    continue
                conn.execute("UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?,"
                             " attempts = attempts + 1 WHERE id = ?", (owner, now, oid))
                return _message(conn.execute(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE id = ?", (oid,)).fetchone())

    def abandoned_claims(self) -> list[OutboxMessage]:
        return [_message(r) for r in self._all(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE status = 'sending' ORDER BY id")]

    def release(self, message_id: int, owner: str, error: str, next_attempt_at: str) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, last_error = ?,"
                         " next_attempt_at = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                         (error[:1000], next_attempt_at, message_id, owner))

    def mark_sent(self, message_id: int, owner: str, reply: str, now: str) -> None:
        with self._transaction() as conn:
            if conn.execute("UPDATE outbox SET status = 'sent', sent_at = ?, smtp_reply = ?, last_error = NULL"
                            " WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                            (now, reply[:1000], message_id, owner)).rowcount:
                # delivered: the address works, earlier bounces are forgiven
                conn.execute("UPDATE subscribers SET bounces = 0 WHERE bounces > 0 AND id ="
                             " (SELECT subscriber_id FROM outbox WHERE id = ?)", (message_id,))

    def mark_failed(self, message_id: int, owner: str, error: str, bounce: bool, bounce_threshold: int,
                    now: str) -> bool:
        with self._transaction() as conn:
            failed = conn.execute("UPDATE outbox SET status = 'failed', last_error = ?, sent_at = NULL"
                                  " WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                                  (error[:1000], message_id, owner)).rowcount
            if not failed or not bounce:
                return False
            sid = conn.execute("SELECT subscriber_id FROM outbox WHERE id = ?", (message_id,)).fetchone()[0]
            if sid is None:  # a notification: no subscription's address to count bounces against
                return False
            conn.execute("UPDATE subscribers SET bounces = bounces + 1, updated_at = ? WHERE id = ?", (now, sid))
            disabled = conn.execute(
                "UPDATE subscribers SET status = 'disabled', status_reason = ? WHERE id = ? AND bounces >= ?"
                " AND status IN ('active', 'pending')",
                (f"{bounce_threshold} permanent delivery failures in a row; last: {error[:300]}", sid,
                 bounce_threshold)).rowcount > 0
            if disabled:
                self._cancel_pending(conn, sid, "address disabled")
            return disabled

    @staticmethod
    def _cancel_pending(conn: Connection, subscriber_id: int, why: str) -> None:
        conn.execute("UPDATE outbox SET status = 'cancelled', last_error = ? WHERE subscriber_id = ? AND status = 'pending'",
                     (why, subscriber_id))

    def get_message(self, message_id: int) -> OutboxMessage | None:
        row = self._one(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE id = ?", (message_id,))
        return _message(row) if row else None

    def outbox_counts(self) -> dict[str, int]:
        return dict(self._all("SELECT status, COUNT(*) FROM outbox GROUP BY status"))

    def waiting_messages(self, limit: int = 20) -> list[OutboxMessage]:
        rows = self._all(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE status IN ('pending', 'sending')"
                         " ORDER BY last_error IS NULL, next_attempt_at, id LIMIT ?", (limit,))
        return [_message(r) for r in rows]


_HOOK_COLUMNS = "id, user_id, url, format, secret, active, failures, last_error, created_at"


def _hook(row) -> Webhook:
    hid, uid, url, fmt, secret, active, failures, error, created = row
    return Webhook(hid, uid, url, fmt, secret, bool(active), failures, error, created)


class WebhookTables(Queries):
    """A reader's webhooks (mixed into each backend's store, with the digest tables)."""

    def create_webhook(self, user_id: int, url: str, fmt: str, secret: str) -> Webhook:
        now = self._now()
        with self._transaction() as conn:
            hid = self.dialect.new_id(conn, "INSERT INTO webhooks(user_id, url, format, secret, created_at, updated_at)"
                                      " VALUES (?, ?, ?, ?, ?, ?)", (user_id, url, fmt, secret, now, now))
        found = self.get_webhook(hid)
        assert found is not None
        return found

    def get_webhook(self, webhook_id: int) -> Webhook | None:
        row = self._one(f"SELECT {_HOOK_COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,))
        return _hook(row) if row else None

    def user_webhooks(self, user_id: int) -> list[Webhook]:
        return [_hook(r) for r in self._all(f"SELECT {_HOOK_COLUMNS} FROM webhooks WHERE user_id = ? ORDER BY id",
                                            (user_id,))]

    def delete_webhook(self, webhook_id: int) -> bool:
        with self._transaction() as conn:
            conn.execute("UPDATE outbox SET status = 'cancelled', last_error = 'the webhook was deleted'"
                         " WHERE kind = 'webhook' AND status = 'pending' AND period_key LIKE ?", (f"{webhook_id}:%",))
            return conn.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)).rowcount > 0

    def record_webhook_result(self, webhook_id: int, error: str | None, disable_after: int) -> bool:
        """A delivery's outcome: success clears the run of failures; a failure adds one, and at
        ``disable_after`` in a row switches the hook off (True then, once)."""
        with self._transaction() as conn:
            if error is None:
                conn.execute("UPDATE webhooks SET failures = 0, last_error = NULL WHERE id = ?", (webhook_id,))
                return False
            conn.execute("UPDATE webhooks SET failures = failures + 1, last_error = ?, updated_at = ? WHERE id = ?",
                         (error[:500], self._now(), webhook_id))
            return conn.execute("UPDATE webhooks SET active = ? WHERE id = ? AND active = ? AND failures >= ?",
                                (False, webhook_id, True, disable_after)).rowcount > 0

    def set_webhook_active(self, webhook_id: int, active: bool) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE webhooks SET active = ?, failures = 0 WHERE id = ?", (active, webhook_id))
