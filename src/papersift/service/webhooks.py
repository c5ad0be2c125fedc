"""A reader's webhooks: URLs their email digest is also delivered to (papersift's JSON, Slack or
Discord), through the same outbox as the mail: one delivery per hook and period, retried with backoff,
the hook switched off after ``community.webhook_failures_to_disable`` failures in a row with a mail to
its owner. A hook's URL is checked when it is added (service/outbound.py: http(s), no user-info, an address
outside any internal network unless the admin allows private ones) and again at every delivery (DNS can
change); its secret, which signs every request, is shown once, when the hook is made."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from papersift.errors import BadInput, NotFound, Unauthorized
from papersift.model import OutboxMessage, User, Webhook
from papersift.service.catalog import Card, Catalog
from papersift.service.digests import new_message_id
from papersift.service.notify import Notifier
from papersift.service.outbound import Refused, resolve

FORMATS = ("json", "slack", "discord")
MAX_HOOKS = 5  # per reader


@dataclass
class HookDelivery:
    """What the hook sender needs to post one outbox row: the hook and the papers, as anyone may see them."""

    hook: Webhook
    heading: str
    cards: list[Card]
    event: dict


class Webhooks:
    def __init__(self, catalog: Catalog, settings, clock):
        self.catalog, self.store, self.settings, self.clock = catalog, catalog.store, settings, clock
        self.notifier = Notifier(self.store, settings)

    @property
    def allow_private(self) -> bool:
        return self.settings.community.webhooks_allow_private

    def of(self, viewer: User | None) -> list[Webhook]:
        return self.store.user_webhooks(_signed_in(viewer).id)

    def add(self, viewer: User | None, url: str, fmt: str = "json") -> Webhook:
        """The new hook (with its secret: show it now, it is not shown again)."""
        user = _signed_in(viewer)
        if fmt not in FORMATS:
            raise BadInput(f"the format is one of {', '.join(FORMATS)}")
        if len(self.store.user_webhooks(user.id)) >= MAX_HOOKS:
            raise BadInput(f"you have {MAX_HOOKS} webhooks already, the most one reader may have")
        try:
            resolve(url, self.allow_private)
        except Refused as exc:
            raise BadInput(str(exc)) from None
        return self.store.create_webhook(user.id, url.strip(), fmt, "whsec_" + secrets.token_urlsafe(32))

    def remove(self, viewer: User | None, hook_id: int) -> bool:
        return self.store.delete_webhook(self._own(viewer, hook_id).id)

    def switch_on(self, viewer: User | None, hook_id: int) -> None:
        self.store.set_webhook_active(self._own(viewer, hook_id).id, True)

    def send_test(self, viewer: User | None, hook_id: int) -> int | None:
        """Queue a test delivery (the latest day's three trending papers) now; its outbox id."""
        hook = self._own(viewer, hook_id)
        if not hook.active:
            raise BadInput("this webhook is switched off: switch it on first")
        stamp = self.clock().strftime("%Y%m%dT%H%M%S")
        ids = [it.paper.id for it in self.catalog.feed_page(None, home=True, limit=3).items]
        payload = {"hook": hook.id, "test": True, "period": f"test {stamp}", "paper_ids": ids}
        return self.store.enqueue_for_user(hook.user_id, "webhook", f"{hook.id}:test:{stamp}", hook.url,
                                           new_message_id("webhook", hook.user_id, self.settings), payload)

    # ---- what the digest builder and the hook sender call
    def enqueue_digest(self, user_id: int, period_key: str, payload: dict, paper_ids: list[str]) -> int:
        """A delivery per active hook of the reader for this digest period (once: the outbox's key)."""
        made = 0
        for hook in self.store.user_webhooks(user_id):
            if hook.active and self.store.enqueue_for_user(
                    user_id, "webhook", f"{hook.id}:{period_key}", hook.url,
                    new_message_id("webhook", user_id, self.settings),
                    payload | {"hook": hook.id, "paper_ids": list(paper_ids)}) is not None:
                made += 1
        return made

    def delivery(self, message: OutboxMessage) -> HookDelivery | None:
        """The hook and papers of an outbox row; None when the hook is gone or switched off."""
        hook = self.store.get_webhook(int(message.payload.get("hook", 0)))
        if hook is None or not hook.active:
            return None
        cards = self.catalog.cards(self.store.get_papers(message.payload.get("paper_ids", [])).values(), None)
        order = {pid: i for i, pid in enumerate(message.payload.get("paper_ids", []))}
        cards.sort(key=lambda c: order.get(c.paper.id, 0))
        period = message.payload.get("period", "")
        heading = ("papersift: a test of this webhook" if message.payload.get("test")
                   else f"papersift: your papers for {period}")
        return HookDelivery(hook, heading, cards, {"type": "test" if message.payload.get("test") else "digest",
                                                   "period": period, "delivery": message.message_id})

    def record(self, hook: Webhook, error: str | None) -> None:
        """A delivery's outcome; the owner is told when the hook has just been switched off."""
        limit = self.settings.community.webhook_failures_to_disable
        if self.store.record_webhook_result(hook.id, error, limit):
            owner = self.store.get_user(hook.user_id)
            if owner is not None:
                self.notifier.notify(owner, f"webhook-off:{hook.id}:{self.clock().strftime('%Y%m%d%H%M')}",
                                     "A webhook was switched off",
                                     [f"Deliveries to {hook.url} failed {limit} times in a row, so papersift stopped "
                                      "sending to it.", f"The last error: {error}",
                                      "Switch it on again in your settings once it works."],
                                     "/settings#webhooks", "Open your settings", mandatory=True)

    def _own(self, viewer: User | None, hook_id: int) -> Webhook:
        user = _signed_in(viewer)
        hook = self.store.get_webhook(hook_id)
        if hook is None or hook.user_id != user.id:
            raise NotFound(f"no webhook {hook_id} of yours")
        return hook


def _signed_in(viewer: User | None) -> User:
    if viewer is None:
        raise Unauthorized("log in to manage webhooks")
    return viewer
