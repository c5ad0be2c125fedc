"""Email at the front door: everything the email interface (``digest/``) and the subscription pages
need, decided here.

* **Subscriptions** (``subscriptions.py``): double opt-in, managing, unsubscribing.
* **Which papers** each digest holds (``digests.py``), chosen with the catalog's rule for hidden
  papers and displayed upvotes.
* **How those papers look** when a message is rendered, maybe days later: :class:`DigestPapers`
  applies the same rule again at sending time, so a paper hidden since the digest was built stays
  out and the upvotes shown are today's.
* **Signed links** (``tokens.py``) with their lifetimes, and the **outbox** (:class:`Outbox`) the
  sender claims messages from and records them in.

``digest/`` only renders and sends; it calls this and nothing below the service.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cached_property
from typing import Callable, Iterable

from papersift.config import Settings
from papersift.model import OutboxMessage, Subscriber
from papersift.service.catalog import Card, Catalog
from papersift.service.corpus import Corpus, Progress
from papersift.service.digests import BuildReport, DigestBuilder, Recommend
from papersift.service.subscriptions import Subscriptions
from papersift.service.tokens import Signer, signing_key
from papersift.store.protocol import Store

Clock = Callable[[], datetime]
CACHED_PAPERS = 20_000  # a send run's papers kept decoded (most subscribers share the trending ones)


class DigestPapers:
    """The papers of the messages one send run renders, as a reader who is not logged in sees them:
    hidden papers left out (read once per run), displayed upvotes. Most subscribers share the
    trending papers, and decoding each paper once instead of once per message halves the rendering
    time. (The dict is replaced, never cleared: a concurrent render keeps its own reference.)"""

    def __init__(self, catalog: Catalog):
        self._catalog = catalog
        self._hidden = catalog.hidden_ids()
        self._cards: dict[str, Card] = {}

    def get(self, ids: list[str]) -> dict[str, Card]:
        cards = self._cards
        missing = [pid for pid in ids if pid not in cards]
        if missing:
            if len(cards) > CACHED_PAPERS:
                cards = self._cards = {}
            papers = self._catalog.store.get_papers(missing).values()
            cards.update((card.paper.id, card) for card in self._catalog.cards(papers, None, self._hidden))
        return {pid: cards[pid] for pid in ids if pid in cards}


class Outbox:
    """The outbox as the sender uses it: claim a due message, then record what became of it."""

    def __init__(self, store: Store):
        self._store = store

    def claim(self, owner: str, now: str, ids: Iterable[int] | None = None,
              kinds: Iterable[str] | None = None) -> OutboxMessage | None:
        return self._store.claim(owner, now, ids, kinds)

    def abandoned_claims(self) -> list[OutboxMessage]:
        return self._store.abandoned_claims()

    def release(self, message_id: int, owner: str, error: str, next_attempt_at: str) -> None:
        self._store.release(message_id, owner, error, next_attempt_at)

    def mark_sent(self, message_id: int, owner: str, reply: str, now: str) -> None:
        self._store.mark_sent(message_id, owner, reply, now)

    def mark_failed(self, message_id: int, owner: str, error: str, bounce: bool, bounce_threshold: int,
                    now: str) -> bool:
        return self._store.mark_failed(message_id, owner, error, bounce, bounce_threshold, now)

    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        return self._store.get_subscriber(subscriber_id)

    def counts(self) -> dict[str, int]:
        return self._store.outbox_counts()

    def waiting(self, limit: int = 20) -> list[OutboxMessage]:
        return self._store.waiting_messages(limit)

    def subscriber_counts(self) -> dict[str, int]:
        return self._store.count_subscribers()


class Mail:
    def __init__(self, corpus: Corpus, catalog: Catalog, settings: Settings, recommend: Recommend | None,
                 clock: Clock):
        self.settings, self.clock = settings, clock
        self._catalog, self._store = catalog, corpus.store
        self.outbox = Outbox(corpus.store)
        self._builder = DigestBuilder(corpus, catalog, settings, recommend)

    @cached_property
    def signer(self) -> Signer:
        # made on first use: without a configured key it reads (or makes) the one kept in the database,
        # which a command that never sends mail should not write
        return Signer(signing_key(self.settings.secret_key, self._store), clock=lambda: self.clock().timestamp())

    def load_signing_key(self) -> None:
        """Read the link-signing key now (made and kept in the database when none is configured)."""
        self.signer  # noqa: B018  (the property makes it)

    @cached_property
    def subscriptions(self) -> Subscriptions:
        return Subscriptions(self._store, self.signer, self.settings, self.clock)

    @property
    def email_enabled(self) -> bool:
        return self.settings.email_enabled

    def today(self) -> date:
        """Today in the digest time zone (what decides which digests are due)."""
        return self.clock().astimezone(self.settings.zone).date()

    def build(self, today: date | None = None, dry_run: bool = False, progress: Progress = None,
              only: set[int] | None = None) -> BuildReport:
        """Put every due, non-empty digest for ``today`` (default: :meth:`today`) in the outbox, each once."""
        return self._builder.build(today or self.today(), dry_run=dry_run, progress=progress, only=only)

    def attach_webhooks(self, webhooks) -> None:
        """The digest builder also queues each digest for the reader's webhooks (service/webhooks.py)."""
        self._builder.webhooks = webhooks

    def digest_papers(self) -> DigestPapers:
        """The papers a send run shows, by the catalog's rule at sending time (one per run)."""
        return DigestPapers(self._catalog)

    def link_token(self, purpose: str, subscriber: Subscriber, value: str | None = None) -> str:
        """A signed token for an email's link: ``confirm`` names the nonce ``value`` and lives
        ``digest.confirm_hours``; ``unsubscribe`` and ``manage`` name the subscriber's current epoch
        and live ``digest.link_days``."""
        digest = self.settings.digest
        lifetime = digest.confirm_hours * 3600 if purpose == "confirm" else digest.link_days * 86400
        return self.signer.sign(purpose, subscriber.id, value if value is not None else str(subscriber.token_epoch),
                                lifetime)
