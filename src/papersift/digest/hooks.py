"""The webhook sender: claims the outbox's "webhook" rows (service/webhooks.py queues them with each
digest, and for "send a test") and posts each to its hook, signed, in the hook's format.

Delivery is at least once and, by the outbox's key, at most one row per hook and period: a sender
killed mid-post leaves its claim, which the next run takes back once the process is gone (the same
rule as the mail's, digest/sender.py), and posts it again; the receiver sees the same ``event.delivery``
id (and signature timestamp policy) and can drop a repeat. A 2xx is delivered; a refused address, a
redirect or another 4xx fails at once; a timeout, a lost connection, a 429 or a 5xx is retried with the
digests' backoff until ``digest.max_attempts``. Each final failure counts against the hook, which is
switched off after ``community.webhook_failures_to_disable`` in a row (its owner gets a mail)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

import httpx

from papersift.formats.webhook import HookItem, render
from papersift.service import Papersift, Refused, post_signed

log = logging.getLogger(__name__)
KINDS = ("webhook",)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class HookSender:
    def __init__(self, service: Papersift, owner: str, clock: Callable[[], datetime] | None = None):
        self.service, self.owner = service, owner
        self.outbox, self.config = service.mail.outbox, service.settings
        self.clock = clock or service.mail.clock

    def send_due(self, ids=None) -> dict:
        report = {"sent": 0, "retry": 0, "failed": 0}
        while True:
            message = self.outbox.claim(self.owner, _iso(self.clock()), ids, KINDS)
            if message is None:
                return report
            outcome = self._deliver(message)
            report[outcome] += 1

    def _deliver(self, message) -> str:
        delivery = self.service.webhooks.delivery(message)
        if delivery is None:
            self.outbox.mark_failed(message.id, self.owner, "the webhook was deleted or switched off", False, 0,
                                    _iso(self.clock()))
            return "failed"
        base = self.config.base_url.rstrip("/")
        items = [HookItem(c.paper.id, c.paper.title or c.paper.id, f"{base}/papers/{c.paper.id}", c.paper.authors or [])
                 for c in delivery.cards]
        body = render(delivery.hook.format, delivery.heading, items, delivery.event)
        try:
            answer = post_signed(delivery.hook.url, body, delivery.hook.secret,
                                 allow_private=self.config.community.webhooks_allow_private)
        except Refused as exc:
            return self._fail(message, delivery.hook, str(exc))
        except httpx.HTTPError as exc:
            return self._retry(message, delivery.hook, f"{type(exc).__name__}: {exc}"[:300])
        if answer.ok:
            self.outbox.mark_sent(message.id, self.owner, f"HTTP {answer.status}", _iso(self.clock()))
            self.service.webhooks.record(delivery.hook, None)
            return "sent"
        error = f"the hook answered HTTP {answer.status}"
        if answer.status == 429 or answer.status >= 500:
            return self._retry(message, delivery.hook, error)
        return self._fail(message, delivery.hook, error)

    def _retry(self, message, hook, error: str) -> str:
        digest = self.config.digest
        if message.attempts >= digest.max_attempts:
            return self._fail(message, hook, f"gave up after {message.attempts} attempts; last error: {error}")
        delay = min(digest.retry_base_seconds * 2 ** (message.attempts - 1), digest.retry_max_seconds)
        self.outbox.release(message.id, self.owner, error, _iso(self.clock() + timedelta(seconds=delay)))
        log.info("webhook delivery %s: %s; retry in %.0f s", message.id, error, delay)
        return "retry"

    def _fail(self, message, hook, error: str) -> str:
        self.outbox.mark_failed(message.id, self.owner, error, False, 0, _iso(self.clock()))
        self.service.webhooks.record(hook, error)
        log.warning("webhook delivery %s to hook %s failed: %s", message.id, hook.id, error)
        return "failed"
