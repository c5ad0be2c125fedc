"""Subscribing, confirming, managing and unsubscribing: the rules, whoever asks (web, settings).

* **Double opt-in.** A new address is 'pending' until its owner opens the confirmation link;
  only a confirmation email goes to a pending address, never a digest.
* **No enumeration, no hijack.** Subscribing an address that is already active changes
  nothing; its owner gets an email with a manage link instead. The page says the same
  "check your inbox" either way.
* **No mail bombing.** At most one confirmation email, and one manage-link email, per address
  per ``RESEND_AFTER``; asking again within it sends nothing (the earlier link still works).
* **Tokens** (tokens.py): a confirmation link names the outstanding nonce (cleared on use:
  one use only); manage and unsubscribe links name the subscriber's epoch, which an
  unsubscribe bumps, so every older link dies with it.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from papersift.errors import BadInput, BadToken, Conflict, UsedToken
from papersift.model import TOPIC_KINDS, Subscriber, User
from papersift.query import Filters, parse_query
from papersift.service.accounts import clean_email
from papersift.service.digests import new_message_id
from papersift.service.tokens import Signer
from papersift.store.protocol import Store

CADENCES = {"daily": "Daily, on weekdays", "weekly": "Weekly"}
MAX_PER_KIND = 20
MAX_TOPIC_CHARS = 200
RESEND_AFTER = timedelta(minutes=10)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Choices:
    """What a subscriber wants: cadence, the trending list, topics."""

    cadence: str
    trending: bool
    topics: list[tuple[str, str]]

    def text(self, kind: str) -> str:
        """The form field's text for one topic kind (categories on one line, others one per line)."""
        values = [v for k, v in self.topics if k == kind]
        return " ".join(values) if kind == "category" else "\n".join(values)


def _check_text(value: str, what: str) -> str:
    value = " ".join(value.split())
    if len(value) > MAX_TOPIC_CHARS:
        raise BadInput(f"{what} {value[:40]!r}\u2026 is too long (at most {MAX_TOPIC_CHARS} characters)")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in value):
        raise BadInput(f"{what} {value[:40]!r} contains control characters")
    return value


def clean_choices(cadence: str | None, trending: bool, categories: str = "", organizations: str = "",
                  authors: str = "", searches: str = "") -> Choices:
    """Validate a subscription form; BadInput names the field that is wrong."""
    cadence = (cadence or "").strip().lower()
    if cadence not in CADENCES:
        raise BadInput(f"unknown cadence {cadence[:20]!r}: choose daily (weekdays) or weekly")
    topics: list[tuple[str, str]] = []
    cats = [c for c in re.split(r"[\s,;]+", categories or "") if c]
    for cat in cats:
        Filters(categories=[cat]).validate()  # "not an arXiv category: ..."
    raw = {"category": cats, "organization": (organizations or "").splitlines(),
           "author": (authors or "").splitlines(), "search": (searches or "").splitlines()}
    names = {"category": "category", "organization": "organisation", "author": "author", "search": "saved search"}
    for kind in TOPIC_KINDS:
        seen: set[str] = set()
        for value in raw[kind]:
            value = _check_text(value, names[kind])
            if not value or value.casefold() in seen:
                continue
            if kind == "search":
                try:
                    parse_query(value)
                except BadInput as exc:
                    raise BadInput(f"saved search {value[:60]!r}: {exc.message}") from None
            seen.add(value.casefold())
            topics.append((kind, value))
        if len(seen) > MAX_PER_KIND:
            raise BadInput(f"at most {MAX_PER_KIND} {names[kind]} entries, got {len(seen)}")
    if not trending and not topics:
        raise BadInput("choose what to receive: the trending papers, or at least one category, "
                       "organisation, author or saved search")
    return Choices(cadence, bool(trending), topics)


def clean_address(raw: str | None) -> str:
    email = clean_email(raw)
    if not email.isascii():  # sending to them needs SMTPUTF8, which many servers lack
        raise BadInput("addresses with non-ASCII characters are not supported yet")
    return email


@dataclass
class Outcome:
    """What a subscribe request did; the page shows the same text for every case on purpose."""

    subscriber: Subscriber
    outbox_id: int | None  # an email to send now (None: nothing new to send)
    changed: bool  # settings were saved directly (a logged-in owner editing their own)


class Subscriptions:
    def __init__(self, store: Store, signer: Signer, config, clock=lambda: datetime.now(timezone.utc)):
        self.store, self.signer, self.config, self.clock = store, signer, config, clock

    # ---- asking
    def subscribe(self, email: str, choices: Choices, user: User | None = None) -> Outcome:
        """From the public form (``user`` None) or the settings page (the account's address)."""
        email = clean_address(email)
        existing = self.store.get_subscriber_by_email(email)
        owned = existing is not None and user is not None and existing.user_id == user.id
        if existing is None:
            try:
                sub = self.store.create_subscriber(email, choices.cadence, choices.trending, choices.topics,
                                                   user.id if user else None, secrets.token_urlsafe(16))
            except Conflict:  # a concurrent request made it: carry on with that one
                return self.subscribe(email, choices, user)
            return Outcome(sub, self._mail(sub, "confirm", sub.confirm_nonce), False)
        if existing.status == "active":
            if owned:  # the account's own, confirmed subscription: save directly
                sub = self.store.update_subscriber(existing.id, cadence=choices.cadence, trending=choices.trending,
                                                   topics=choices.topics)
                return Outcome(sub, None, True)
            return Outcome(existing, self._mail(existing, "manage"), False)  # nothing changes
        # pending, unsubscribed or disabled: (re)start the double opt-in with these choices
        if self._recently_mailed(existing, "confirm"):
            if owned:
                sub = self.store.update_subscriber(existing.id, cadence=choices.cadence, trending=choices.trending,
                                                   topics=choices.topics, status="pending")
                return Outcome(sub, None, True)
            return Outcome(existing, None, False)
        nonce = secrets.token_urlsafe(16)
        sub = self.store.update_subscriber(existing.id, cadence=choices.cadence, trending=choices.trending,
                                           topics=choices.topics, status="pending", confirm_nonce=nonce,
                                           user_id=user.id if user and existing.user_id is None else None)
        return Outcome(sub, self._mail(sub, "confirm", nonce, check_recent=False), owned)

    def _recently_mailed(self, sub: Subscriber, kind: str) -> bool:
        last = self.store.last_enqueued_at(sub.id, (kind,))
        return last is not None and last > _iso(self.clock() - RESEND_AFTER)

    def _mail(self, sub: Subscriber, kind: str, nonce: str | None = None, check_recent: bool = True) -> int | None:
        if check_recent and self._recently_mailed(sub, kind):
            return None
        key = f"{kind}:{secrets.token_hex(8)}"
        payload = {"nonce": nonce} if kind == "confirm" else {}
        return self.store.enqueue(sub.id, kind, key, sub.email, new_message_id(kind, sub.id, self.config), payload,
                                  now=_iso(self.clock()))

    # ---- links
    def _subscriber(self, subscriber_id: int) -> Subscriber:
        sub = self.store.get_subscriber(subscriber_id)
        if sub is None:
            raise BadToken("this link is for a subscription that no longer exists")
        return sub

    def check_confirm(self, token: str) -> Subscriber:
        """The pending subscriber a confirmation link is for (before the button is pressed)."""
        claim = self.signer.verify(token, "confirm")
        sub = self._subscriber(claim.subscriber_id)
        if sub.confirm_nonce != claim.value:
            if sub.status == "active":
                raise UsedToken("this confirmation link has already been used: your subscription is active")
            raise UsedToken("this confirmation link is no longer valid: a newer one was sent, or the "
                            "subscription was cancelled. Subscribe again to get a new link")
        return sub

    def confirm(self, token: str) -> Subscriber:
        claim = self.signer.verify(token, "confirm")
        self.check_confirm(token)
        if not self.store.confirm_subscriber(claim.subscriber_id, claim.value):  # lost a race with a double click
            raise UsedToken("this confirmation link has already been used: your subscription is active")
        return self._subscriber(claim.subscriber_id)

    def check_link(self, token: str, purpose: str) -> Subscriber:
        """The subscriber of a manage or unsubscribe link that is still current."""
        claim = self.signer.verify(token, purpose)
        sub = self._subscriber(claim.subscriber_id)
        if str(sub.token_epoch) != claim.value:
            if sub.status == "unsubscribed":
                raise UsedToken(f"this link was already used: {sub.email} is unsubscribed. "
                                "Subscribe again at any time")
            raise UsedToken("this link is out of date: use the one in your latest email")
        return sub

    def check_unsubscribe(self, token: str) -> Subscriber:
        """The subscriber of an unsubscribe link. One already unsubscribed is no error: a second
        click, or a mail client repeating its one-click POST, learns the truth (they are
        unsubscribed) instead of a 410. A stale link of a subscriber who subscribed again still
        fails: it must not undo the new subscription."""
        claim = self.signer.verify(token, "unsubscribe")
        sub = self._subscriber(claim.subscriber_id)
        if sub.status == "unsubscribed":
            return sub
        return self.check_link(token, "unsubscribe")

    def unsubscribe(self, token: str) -> Subscriber:
        sub = self.check_unsubscribe(token)
        if sub.status != "unsubscribed" and not self.store.unsubscribe(sub.id, sub.token_epoch):
            current = self.store.get_subscriber(sub.id)  # a concurrent click got there first
            if current is None or current.status != "unsubscribed":
                raise UsedToken("this link is out of date: use the one in your latest email")
        return self._subscriber(sub.id)

    def update(self, token: str, choices: Choices) -> Subscriber:
        """Save new choices through a manage link (the owner proved the address by opening it)."""
        sub = self.check_link(token, "manage")
        if sub.status not in ("active", "pending"):
            raise BadInput(f"{sub.email} is {sub.status}: subscribe again to receive digests")
        return self.store.update_subscriber(sub.id, cadence=choices.cadence, trending=choices.trending,
                                            topics=choices.topics)

    def link_token(self, sub: Subscriber, purpose: str) -> str:
        lifetime = self.config.digest.link_days * 86400
        return self.signer.sign(purpose, sub.id, str(sub.token_epoch), lifetime)

    # ---- the account settings page
    def for_user(self, user: User) -> Subscriber | None:
        return self.store.subscriber_for_user(user.id)

    def unsubscribe_user(self, user: User) -> Subscriber | None:
        sub = self.for_user(user)
        if sub is not None and sub.status in ("active", "pending", "disabled"):
            self.store.unsubscribe(sub.id, sub.token_epoch)
            sub = self.store.get_subscriber(sub.id)
        return sub
