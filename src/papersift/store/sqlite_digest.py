"""SQLite tables of the email digests: subscribers, their topics, the outbox, sent papers, secrets.

A mixin of :class:`~papersift.store.sqlite.SQLiteStore` (like ``sqlite_community.py``); the
schema is migration 3 in ``sqlite.py``. The delivery guarantees are SQL constraints and single
statements inside write transactions, so they hold across threads and processes:

* ``UNIQUE (subscriber_id, kind, period_key)``: a digest is built once per period.
* ``sent_papers`` rows are written in the transaction that makes the outbox row, and its
  primary key (subscriber, paper) means a paper can be in only one digest per subscriber.
* A claim is one ``UPDATE ... WHERE status = 'pending'`` in a write transaction: two senders
  never take the same row. Moving on from 'sending' requires being the claim's owner.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from typing import Callable, Iterable

from papersift.errors import Conflict
from papersift.model import OutboxMessage, Paper, Subscriber

# Migration 3 (appended to sqlite.MIGRATIONS). No semicolons inside: the migration runner splits on them.
DIGEST_SCHEMA = """
    CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        user_id INTEGER REFERENCES users(id),
        cadence TEXT NOT NULL CHECK (cadence IN ('daily', 'weekly')),
        trending INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'active', 'unsubscribed', 'disabled')),
        confirm_nonce TEXT,
        token_epoch INTEGER NOT NULL DEFAULT 0,
        bounces INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        updated_at TEXT NOT NULL,
        status_reason TEXT
    );
    CREATE INDEX subscribers_status ON subscribers(status, cadence);
    CREATE INDEX subscribers_user ON subscribers(user_id);
    CREATE TABLE subscriber_topics (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        kind TEXT NOT NULL CHECK (kind IN ('category', 'organization', 'author', 'search')),
        value TEXT NOT NULL,
        PRIMARY KEY (subscriber_id, kind, value)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        kind TEXT NOT NULL,
        period_key TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_by TEXT,
        claimed_at TEXT,
        last_error TEXT,
        smtp_reply TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (subscriber_id, kind, period_key)
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    CREATE TABLE sent_papers (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        paper_id TEXT NOT NULL,
        outbox_id INTEGER NOT NULL REFERENCES outbox(id),
        PRIMARY KEY (subscriber_id, paper_id)
    ) WITHOUT ROWID
"""

_SUB_COLUMNS = ("id, email, cadence, trending, status, user_id, confirm_nonce, token_epoch, bounces, "
                "created_at, confirmed_at, status_reason")
_OUT_COLUMNS = ("id, subscriber_id, kind, period_key, recipient, message_id, payload, status, attempts, "
                "next_attempt_at, claimed_by, claimed_at, last_error, smtp_reply, created_at, sent_at")
# Which kinds of mail a subscriber in each state may still receive.
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
    """Queries on the digest tables (mixed into SQLiteStore)."""

    _db: sqlite3.Connection  # provided by SQLiteStore

    # ---- secrets and cursors
    def get_secret(self, name: str, make: Callable[[], str]) -> str:
        row = self._db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        if row:
            return row[0]
        with self._transaction() as db:  # INSERT OR IGNORE: two first users agree on one value
            db.execute("INSERT OR IGNORE INTO secrets(name, value, created_at) VALUES (?, ?, ?)",
                       (name, make(), self._now()))
        return self._db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]

    def set_cursor(self, name: str, value: dict | None) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO cursors(name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name)"
                       " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                       (name, json.dumps(value) if value is not None else None, self._now()))

    # ---- subscribers
    def _topics_of(self, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for sid, kind, value in self._db.execute(
                    f"SELECT subscriber_id, kind, value FROM subscriber_topics WHERE subscriber_id IN ({marks})"
                    " ORDER BY subscriber_id, rowid", chunk):
                found[sid].append((kind, value))
        return found

    def _subscribers(self, where: str, args: tuple) -> list[Subscriber]:
        rows = self._db.execute(f"SELECT {_SUB_COLUMNS} FROM subscribers WHERE {where} ORDER BY id", args).fetchall()
        topics = self._topics_of([r[0] for r in rows])
        return [_subscriber(r, topics[r[0]]) for r in rows]

    def _one_subscriber(self, where: str, args: tuple) -> Subscriber | None:
        found = self._subscribers(where, args)
        return found[0] if found else None

    def create_subscriber(self, email: str, cadence: str, trending: bool, topics: list[tuple[str, str]],
                          user_id: int | None, confirm_nonce: str) -> Subscriber:
        now = self._now()
        with self._transaction() as db:
            try:
                cur = db.execute(
                    "INSERT INTO subscribers(email, user_id, cadence, trending, confirm_nonce, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", (email, user_id, cadence, int(trending), confirm_nonce, now, now))
            except sqlite3.IntegrityError:
                raise Conflict(f"{email} already has a subscription") from None
            self._write_topics(db, cur.lastrowid, topics)
        return self.get_subscriber(cur.lastrowid)

    @staticmethod
    def _write_topics(db: sqlite3.Connection, subscriber_id: int, topics: list[tuple[str, str]]) -> None:
        db.execute("DELETE FROM subscriber_topics WHERE subscriber_id = ?", (subscriber_id,))
        db.executemany("INSERT OR IGNORE INTO subscriber_topics(subscriber_id, kind, value) VALUES (?, ?, ?)",
                       [(subscriber_id, kind, value) for kind, value in topics])

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        return self._one_subscriber("id = ?", (subscriber_id,))

    def get_subscriber_by_email(self, email: str) -> Subscriber | None:
        return self._one_subscriber("email = ?", (email,))

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
        values = [int(v) if isinstance(v, bool) else v for _, v in changes] + [self._now()]
        if status is not None:
            sets.append("status_reason = NULL")
            if status == "pending":  # a fresh start: earlier bounces do not count against it
                sets.append("bounces = 0")
        if bump_epoch:
            sets.append("token_epoch = token_epoch + 1")
        with self._transaction() as db:
            db.execute(f"UPDATE subscribers SET {', '.join(sets)} WHERE id = ?", (*values, subscriber_id))
            if topics is not None:
                self._write_topics(db, subscriber_id, topics)
        return self.get_subscriber(subscriber_id)

    def confirm_subscriber(self, subscriber_id: int, nonce: str) -> bool:
        now = self._now()
        with self._transaction() as db:
            return db.execute(
                "UPDATE subscribers SET status = 'active', confirm_nonce = NULL, confirmed_at = ?, updated_at = ?,"
                " bounces = 0, status_reason = NULL WHERE id = ? AND confirm_nonce = ? AND status = 'pending'",
                (now, now, subscriber_id, nonce)).rowcount > 0

    def unsubscribe(self, subscriber_id: int, epoch: int) -> bool:
        now = self._now()
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE subscribers SET status = 'unsubscribed', token_epoch = token_epoch + 1, confirm_nonce = NULL,"
                " updated_at = ?, status_reason = 'unsubscribed by link' WHERE id = ? AND token_epoch = ?"
                " AND status IN ('pending', 'active', 'disabled')", (now, subscriber_id, epoch)).rowcount > 0
            if changed:
                db.execute("UPDATE outbox SET status = 'cancelled', last_error = 'unsubscribed'"
                           " WHERE subscriber_id = ? AND status = 'pending'", (subscriber_id,))
        return changed

    def active_subscribers(self, cadences: Iterable[str]) -> list[Subscriber]:
        cadences = list(cadences)
        if not cadences:
            return []
        marks = ",".join("?" * len(cadences))
        return self._subscribers(f"status = 'active' AND cadence IN ({marks})", tuple(cadences))

    def count_subscribers(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status").fetchall())

    def sent_paper_ids(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(paper_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._db.execute(
                f"SELECT paper_id FROM sent_papers WHERE subscriber_id = ? AND paper_id IN ({marks})",
                (subscriber_id, *chunk)))
        return found

    def papers_published_between(self, day_from: str, day_to: str) -> list[Paper]:
        until = (date.fromisoformat(day_to) + timedelta(days=1)).isoformat()
        rows = self._db.execute("SELECT data FROM papers WHERE published >= ? AND published < ? ORDER BY published",
                                (day_from, until)).fetchall()
        return [Paper.from_dict(json.loads(r[0])) for r in rows]

    # ---- the outbox
    def outbox_subscribers(self, kind: str, period_key: str) -> set[int]:
        return {r[0] for r in self._db.execute(
            "SELECT subscriber_id FROM outbox WHERE kind = ? AND period_key = ?", (kind, period_key))}

    def enqueue(self, subscriber_id: int, kind: str, period_key: str, recipient: str, message_id: str,
                payload: dict, paper_ids: Iterable[str] = (), now: str | None = None) -> int | None:
        now = now or self._now()
        with self._transaction() as db:
            # next_attempt_at '' sorts before every time: a new message is due at once, whatever the clock
            cur = db.execute(
                "INSERT OR IGNORE INTO outbox(subscriber_id, kind, period_key, recipient, message_id, payload,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, '', ?)",
                (subscriber_id, kind, period_key, recipient, message_id, json.dumps(payload), now))
            if cur.rowcount == 0:
                return None
            db.executemany("INSERT OR IGNORE INTO sent_papers(subscriber_id, paper_id, outbox_id) VALUES (?, ?, ?)",
                           [(subscriber_id, pid, cur.lastrowid) for pid in paper_ids])
            return cur.lastrowid

    def last_enqueued_at(self, subscriber_id: int, kinds: Iterable[str]) -> str | None:
        kinds = list(kinds)
        marks = ",".join("?" * len(kinds))
        return self._db.execute(f"SELECT MAX(created_at) FROM outbox WHERE subscriber_id = ? AND kind IN ({marks})",
                                (subscriber_id, *kinds)).fetchone()[0]

    def claim(self, owner: str, now: str, ids: Iterable[int] | None = None) -> OutboxMessage | None:
        only = list(ids) if ids is not None else None
        where, args = "o.status = 'pending' AND o.next_attempt_at <= ?", [now]
        if only is not None:
            if not only:
                return None
            where += f" AND o.id IN ({','.join('?' * len(only))})"
            args += only
        with self._transaction() as db:
            while True:
                row = db.execute(
                    f"SELECT o.id, o.kind, s.status FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id"
                    f" WHERE {where} ORDER BY o.next_attempt_at, o.id LIMIT 1", args).fetchone()
                if row is None:
                    return None
                oid, kind, sub_status = row
                if sub_status not in _DELIVERABLE.get(kind, ()):
                    db.execute("UPDATE outbox SET status = 'cancelled', last_error = ? WHERE id = ?",
                               (f"subscriber is {sub_status}", oid))
                    continue
                db.execute("UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?,"
                           " attempts = attempts + 1 WHERE id = ?", (owner, now, oid))
                return _message(db.execute(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE id = ?", (oid,)).fetchone())

    def abandoned_claims(self) -> list[OutboxMessage]:
        rows = self._db.execute(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE status = 'sending' ORDER BY id").fetchall()
        return [_message(r) for r in rows]

    def release(self, message_id: int, owner: str, error: str, next_attempt_at: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, last_error = ?,"
                       " next_attempt_at = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                       (error[:1000], next_attempt_at, message_id, owner))

    def mark_sent(self, message_id: int, owner: str, reply: str, now: str) -> None:
        with self._transaction() as db:
            cur = db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, smtp_reply = ?, last_error = NULL"
                             " WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                             (now, reply[:1000], message_id, owner))
            if cur.rowcount:  # delivered: the address works, earlier bounces are forgiven
                db.execute("UPDATE subscribers SET bounces = 0 WHERE bounces > 0 AND id ="
                           " (SELECT subscriber_id FROM outbox WHERE id = ?)", (message_id,))

    def mark_failed(self, message_id: int, owner: str, error: str, bounce: bool, bounce_threshold: int,
                    now: str) -> bool:
        with self._transaction() as db:
            cur = db.execute("UPDATE outbox SET status = 'failed', last_error = ?, sent_at = NULL"
                             " WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                             (error[:1000], message_id, owner))
            if not cur.rowcount or not bounce:
                return False
            sid = db.execute("SELECT subscriber_id FROM outbox WHERE id = ?", (message_id,)).fetchone()[0]
            db.execute("UPDATE subscribers SET bounces = bounces + 1, updated_at = ? WHERE id = ?", (now, sid))
            disabled = db.execute(
                "UPDATE subscribers SET status = 'disabled', status_reason = ? WHERE id = ? AND bounces >= ?"
                " AND status IN ('active', 'pending')",
                (f"{bounce_threshold} permanent delivery failures in a row; last: {error[:300]}", sid,
                 bounce_threshold)).rowcount > 0
            if disabled:
                db.execute("UPDATE outbox SET status = 'cancelled', last_error = 'address disabled'"
                           " WHERE subscriber_id = ? AND status = 'pending'", (sid,))
            return disabled

    def get_message(self, message_id: int) -> OutboxMessage | None:
        row = self._db.execute(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def outbox_counts(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())

    def waiting_messages(self, limit: int = 20) -> list[OutboxMessage]:
        rows = self._db.execute(f"SELECT {_OUT_COLUMNS} FROM outbox WHERE status IN ('pending', 'sending')"
                                " ORDER BY last_error IS NULL, next_attempt_at, id LIMIT ?", (limit,)).fetchall()
        return [_message(r) for r in rows]
