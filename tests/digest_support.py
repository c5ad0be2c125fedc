"""Shared pieces of the digest tests: a small corpus on known feed days, confirmed subscribers,
a clock the test moves, and a config pointing at a local SMTP server."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from papersift.config import DigestSettings, Settings, SMTPSettings
from papersift.model import FeedEntry, Paper
from papersift.service import Papersift, clean_choices, utc_now

DAYS = [date(2024, 5, 27) + timedelta(days=i) for i in range(5)]  # Monday .. Friday
SENDER = "papersift <digest@papers.example.org>"


def corpus(per_day: int = 6) -> list[Paper]:
    papers = []
    for d, day in enumerate(DAYS):
        for i in range(per_day):
            at = f"{day.isoformat()}T20:00:00Z"
            papers.append(Paper(
                id=f"2405.{d + 1}{i:03d}1", title=f"Paper {i} of {day:%A}", abstract=f"About graphs and day {d}.",
                authors=[f"Author {i}", "Grace Hopper"], categories=["cs.IR" if i % 2 else "cs.LG"],
                organization="Lab A" if i < 3 else "Lab B", published=f"{day.isoformat()}T10:00:00Z",
                upvotes=10 * (per_day - i), source="hf-jsonl", observed_at=at,
                feed_entry=FeedEntry(day=day.isoformat(), upvotes=10 * (per_day - i), rank=i, captured_at=at)))
    return papers


def make_service(tmp: Path, settings: Settings | None = None, clock=None, name: str = "digest.db") -> Papersift:
    """The corpus in a fresh database; ``settings`` (SMTP, digest) and ``clock`` for the digests."""
    svc = open_again(tmp / name, settings, clock)
    svc.store.upsert_papers(corpus())
    svc.indexes_lexical_only().sync_lexical()
    return svc


def open_again(db: Path | str, settings: Settings | None = None, clock=None) -> Papersift:
    """A service on an existing database with these settings and clock."""
    return Papersift(db, embedder=False, settings=settings or Settings(), clock=clock or utc_now)


def smtp_config(port: int, **digest) -> Settings:
    return Settings(base_url="https://papers.example.org",
                    smtp=SMTPSettings(host="127.0.0.1", port=port, starttls=False, sender=SENDER, timeout=10),
                    digest=DigestSettings(**({"retry_base_seconds": 60.0} | digest)))


class Clock:
    def __init__(self, start: datetime = datetime(2024, 5, 28, 7, 0, tzinfo=timezone.utc)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def add_subscribers(svc: Papersift, emails: list[str], cadence: str = "daily", trending: bool = True,
                    categories: str = "") -> list[int]:
    """Confirmed subscribers, made through the same rules as the website (then confirmed)."""
    ids = []
    for address in emails:
        outcome = svc.mail.subscriptions.subscribe(address, clean_choices(cadence, trending, categories))
        sub = outcome.subscriber
        assert svc.store.confirm_subscriber(sub.id, sub.confirm_nonce)
        if outcome.outbox_id:  # the confirmation mail is not what these tests are about
            svc.store._db.execute("UPDATE outbox SET status = 'cancelled' WHERE id = ?", (outcome.outbox_id,))
        ids.append(sub.id)
    return ids


def outbox(store, **where) -> list[tuple]:
    clause = " AND ".join(f"{k} = ?" for k in where) or "1"
    return store._db.execute(f"SELECT id, recipient, status, attempts, next_attempt_at, last_error, message_id "
                             f"FROM outbox WHERE kind = 'digest' AND {clause} ORDER BY id",
                             tuple(where.values())).fetchall()
