"""PostgreSQL tables of the email digests: subscribers, their topics, the outbox, sent papers, secrets.

A mixin of :class:`~papersift.store.postgres.PostgresStore`, the counterpart of
``sqlite_digest.py`` (its docstring states the outbox rules; the schema is migration 3 in
postgres_schema.py). What changes with several senders on several machines:

* A claim picks its row with ``SELECT ... FOR UPDATE OF o SKIP LOCKED``: a row another sender is
  claiming is skipped, not waited for, and once that claim commits the row is 'sending', which
  no other claim matches. Two senders never take the same message.
* A secret is ``INSERT ... ON CONFLICT DO NOTHING`` then read: two first users agree on one value.
* The unique (subscriber, kind, period) and (subscriber, paper) keys do the rest, as in SQLite.
"""

from __future__ import annotations

import json
from typing import Callable, Iterable

from psycopg import errors

from papersift.errors import Conflict
from papersift.model import OutboxMessage, Subscriber

_SUB_COLUMNS = ("id, email, cadence, trending, status, user_id, confirm_nonce, token_epoch, bounces, "
                "created_at, confirmed_at, status_reason")
_OUT_COLUMNS = ("id, subscriber_id, kind, period_key, recipient, message_id, payload, status, attempts, "
                "next_attempt_at, claimed_by, claimed_at, last_error, smtp_reply, created_at, sent_at")
# Which kinds of mail a subscriber in each state may still receive (as sqlite_digest._DELIVERABLE).
_DELIVERABLE = {"digest": ("active",), "confirm": ("pending",), "manage": ("active", "pending")}


def _subscriber(row, topics: list[tuple[str, str]]) -> Subscriber:
    sid, email, cadence, trending, status, user_id, nonce, epoch, bounces, created, confirmed, reason = row
    return Subscriber(sid, email, cadence, bool(trending), status, topics, user_id, nonce, epoch, bounces,
                      created, confirmed, reason)


def _message(row) -> OutboxMessage:
    values = list(row)
    values[6] = json.loads(values[6])
    return OutboxMessage(*values)


class DigestTables:
    """Queries on the digest tables (mixed into PostgresStore)."""

    # ---- secrets
    def get_secret(self, name: str, make: Callable[[], str]) -> str:
        value = self._value("SELECT value FROM secrets WHERE name = %s", (name,))
        if value is not None:
            return value
        with self._transaction() as conn:
            conn.execute("INSERT INTO secrets(name, value, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                         (name, make(), self._now()))
        return self._value("SELECT value FROM secrets WHERE name = %s", (name,))

    # ---- subscribers
    def _subscribers(self, where: str, args: tuple) -> list[Subscriber]:
        rows = self._all(f"SELECT {_SUB_COLUMNS} FROM subscribers WHERE {where} ORDER BY id", args)
        topics: dict[int, list[tuple[str, str]]] = {r[0]: [] for r in rows}
        if topics:
            for sid, kind, value in self._all("SELECT subscriber_id, kind, value FROM subscriber_topics"
                                              " WHERE subscriber_id = ANY(%s) ORDER BY subscriber_id, n",
                                              (list(topics),)):
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
                sid = conn.execute(
                    "INSERT INTO subscribers(email, user_id, cadence, trending, confirm_nonce, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (email, user_id, cadence, trending, confirm_nonce, now, now)).fetchone()[0]
            except errors.UniqueViolation:
                raise Conflict(f"{email} already has a subscription") from None
            self._write_topics(conn, sid, topics)
        return self.get_subscriber(sid)

    @staticmethod
    def _write_topics(conn, subscriber_id: int, topics: list[tuple[str, str]]) -> None:
        conn.execute("DELETE FROM subscriber_topics WHERE subscriber_id = %s", (subscriber_id,))
        unique = list(dict.fromkeys(topics))  # as INSERT OR IGNORE: a repeated topic is kept once, first place
        if unique:
            conn.execute("INSERT INTO subscriber_topics(subscriber_id, kind, value)"
                         " SELECT %s, k, v FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS t(k, v, i)"
                         " ORDER BY i", (subscriber_id, [k for k, _ in unique], [v for _, v in unique]))

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        return self._one_subscriber("id = %s", (subscriber_id,))

    def get_subscriber_by_email(self, email: str) -> Subscriber | None:
        return self._one_subscriber("lower(email) = lower(%s)", (email,))

    def subscriber_for_user(self, user_id: int) -> Subscriber | None:
        return self._one_subscriber("user_id = %s", (user_id,))

    def update_subscriber(self, subscriber_id: int, *, cadence: str | None = None, trending: bool | None = None,
                          topics: list[tuple[str, str]] | None = None, status: str | None = None,
                          confirm_nonce: str | None = None, user_id: int | None = None,
                          bump_epoch: bool = False) -> Subscriber:
        changes = [(col, val) for col, val in (("cadence", cadence), ("trending", trending), ("status", status),
                                              ("confirm_nonce", confirm_nonce), ("user_id", user_id))
                   if val is not None]
        sets = [f"{col} = %s" for col, _ in changes] + ["updated_at = %s"]  # column names are fixed above
        values = [v for _, v in changes] + [self._now()]
        if status is not None:
            sets.append("status_reason = NULL")
            if status == "pending":  # a fresh start: earlier bounces do not count against it
                sets.append("bounces = 0")
        if bump_epoch:
            sets.append("token_epoch = token_epoch + 1")
        with self._transaction() as conn:
            conn.execute(f"UPDATE subscribers SET {', '.join(sets)} WHERE id = %s", (*values, subscriber_id))
            if topics is not None:
                self._write_topics(conn, subscriber_id, topics)
        return self.get_subscriber(subscriber_id)

    def confirm_subscriber(self, subscriber_id: int, nonce: str) -> bool:
        now = self._now()
        with self._transaction() as conn:
            return conn.execute(
                "UPDATE subscribers SET status = 'active', confirm_nonce = NULL, confirmed_at = %s, updated_at = %s,"
                " bounces = 0, status_reason = NULL WHERE id = %s AND confirm_nonce = %s AND status = 'pending'",
                (now, now, subscriber_id, nonce)).rowcount > 0

    def unsubscribe(self, subscriber_id: int, epoch: int) -> bool:
        now = self._now()
        with self._transaction() as conn:
            changed = conn.execute(
                "UPDATE subscribers SET status = 'unsubscribed', token_epoch = token_epoch + 1, confirm_nonce = NULL,"
                " updated_at = %s, status_reason = 'unsubscribed by link' WHERE id = %s AND token_epoch = %s"
                " AND status IN ('pending', 'active', 'disabled')", (now, subscriber_id, epoch)).rowcount > 0
            if changed:
                conn.execute("UPDATE outbox SET status = 'cancelled', last_error = 'unsubscribed'"
                             " WHERE subscriber_id = %s AND status = 'pending'", (subscriber_id,))
        return changed

    def active_subscribers(self, cadences: Iterable[str]) -> list[Subscriber]:
        cadences = list(cadences)
        if not cadences:
            return []
        return self._subscribers("status = 'active' AND cadence = ANY(%s)", (cadences,))

    def count_subscribers(self) -> dict[str, int]:
        return dict(self._all("SELECT status, COUNT(*) FROM subscribers GROUP BY status"))

    def sent_paper_ids(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return set()
        return {r[0] for r in self._all("SELECT paper_id FROM sent_papers WHERE subscriber_id = %s"
                                        " AND paper_id = ANY(%s)", (subscriber_id, ids))}

    # ---- the outbox
    def outbox_subscribers(self, kind: str, period_key: str) -> set[int]:
        return {r[0] for r in self._all("SELECT subscriber_id FROM outbox WHERE kind = %s AND period_key = %s",
                                        (kind, period_key))}

    def enqueue(self, subscriber_id: int, kind: str, period_key: str, recipient: str, message_id: str,
                payload: dict, paper_ids: Iterable[str] = (), now: str | None = None) -> int | None:
        now = now or self._now()
        with self._transaction() as conn:
            # next_attempt_at '' sorts before every time: a new message is due at once, whatever the clock
            row = conn.execute(
                "INSERT INTO outbox(subscriber_id, kind, period_key, recipient, message_id, payload,"
                " next_attempt_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, '', %s) ON CONFLICT DO NOTHING"
                " RETURNING id", (subscriber_id, kind, period_key, recipient, message_id, json.dumps(payload),
                                  now)).fetchone()
            if row is None:
                return None
            ids = list(dict.fromkeys(paper_ids))
            if ids:
                conn.execute("INSERT INTO sent_papers(subscriber_id, paper_id, outbox_id)"
                             " SELECT %s, p, %s FROM unnest(%s::text[]) AS p ON CONFLICT DO NOTHING",
                             (subscriber_id, row[0], ids))
            return row[0]

    def last_enqueued_at(self, subscriber_id: int, kinds: Iterable[str]) -> str | None:
        return self._value("SELECT MAX(created_at) FROM outbox WHERE subscriber_id = %s AND kind = ANY(%s)",
                           (subscriber_id, list(kinds)))

    def claim(self, owner: str, now: str, ids: Iterable[int] | None = None) -> OutboxMessage | None:
        only = list(ids) if ids is not None else None
        where, args = "o.status = 'pending' AND o.next_attempt_at <= %s", [now]
        if only is not None:
            if not only:
                return None
            where += " AND o.id = ANY(%s)"
            args.append(only)
        with self._transaction() as conn:
            while True:
                row = conn.execute(
                    f"SELECT o.id, o.kind, s.status FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id"
                    f" WHERE {where} ORDER BY o.next_attempt_at, o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED",
                    args).fetchone()
                if row is None:
                    return None
                oid, kind, sub_status = row
                if sub_status not in _DELIVERABLE.get(kind, ()):
                    conn.execute("UPDATE outbox SET status = 'cancelled', last_error = %s WHERE id = %s",
                                 (f"subscriber is {sub_status}", oid))
                    continue
                return _message(conn.execute(
                    "UPDATE outbox SET status = 'sending', claimed_by = %s, claimed_at = %s, attempts = attempts + 1"
                    f" WHERE id = %s RETURNING {_OUT_COLUMNS}", (owner, now, oid)).fetchone())

    def abandoned_claims(self) -> list[OutboxMessage]:
        return [_message(r) for r in self._all(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE status = 'sending' ORDER BY id")]

    def release(self, message_id: int, owner: str, error: str, next_attempt_at: str) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, last_error = %s,"
                         " next_attempt_at = %s WHERE id = %s AND status = 'sending' AND claimed_by = %s",
                         (error[:1000], next_attempt_at, message_id, owner))

    def mark_sent(self, message_id: int, owner: str, reply: str, now: str) -> None:
        with self._transaction() as conn:
            row = conn.execute("UPDATE outbox SET status = 'sent', sent_at = %s, smtp_reply = %s, last_error = NULL"
                               " WHERE id = %s AND status = 'sending' AND claimed_by = %s RETURNING subscriber_id",
                               (now, reply[:1000], message_id, owner)).fetchone()
            if row:  # delivered: the address works, earlier bounces are forgiven
                conn.execute("UPDATE subscribers SET bounces = 0 WHERE bounces > 0 AND id = %s", (row[0],))

    def mark_failed(self, message_id: int, owner: str, error: str, bounce: bool, bounce_threshold: int,
                    now: str) -> bool:
        with self._transaction() as conn:
            row = conn.execute("UPDATE outbox SET status = 'failed', last_error = %s, sent_at = NULL"
                               " WHERE id = %s AND status = 'sending' AND claimed_by = %s RETURNING subscriber_id",
                               (error[:1000], message_id, owner)).fetchone()
            if row is None or not bounce:
                return False
            sid = row[0]
            conn.execute("UPDATE subscribers SET bounces = bounces + 1, updated_at = %s WHERE id = %s", (now, sid))
            disabled = conn.execute(
                "UPDATE subscribers SET status = 'disabled', status_reason = %s WHERE id = %s AND bounces >= %s"
                " AND status IN ('active', 'pending')",
                (f"{bounce_threshold} permanent delivery failures in a row; last: {error[:300]}", sid,
                 bounce_threshold)).rowcount > 0
            if disabled:
                conn.execute("UPDATE outbox SET status = 'cancelled', last_error = 'address disabled'"
                             " WHERE subscriber_id = %s AND status = 'pending'", (sid,))
            return disabled

    def get_message(self, message_id: int) -> OutboxMessage | None:
        row = self._one(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE id = %s", (message_id,))
        return _message(row) if row else None

    def outbox_counts(self) -> dict[str, int]:
        return dict(self._all("SELECT status, COUNT(*) FROM outbox GROUP BY status"))

    def waiting_messages(self, limit: int = 20) -> list[OutboxMessage]:
        rows = self._all(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE status IN ('pending', 'sending')"
                         " ORDER BY last_error IS NULL, next_attempt_at, id LIMIT %s", (limit,))
        return [_message(r) for r in rows]
