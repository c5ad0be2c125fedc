"""The email interface: renders the outbox into MIME messages and delivers them over SMTP exactly once.

Everything else is decided at the front door (``service.mail``): subscriptions (double opt-in),
which papers each subscriber's digest holds, which of them still show and with what upvotes when
the message is rendered, signed links, and the outbox itself. ``Digests`` puts the renderer and
the sender on a service for the command line (``papersift digest send``), the scheduler
(``papersift run``) and the website's confirmation mails (the server hands the website
:meth:`Digests.send_soon`). It imports nothing below ``papersift.service``.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Callable

from papersift.digest.hooks import HookSender
from papersift.digest.render import Renderer
from papersift.digest.sender import Sender, SendReport
from papersift.errors import BadInput
from papersift.service import Papersift

__all__ = ["Digests", "SendReport"]
log = logging.getLogger("papersift.digest")


class Digests:
    def __init__(self, service: Papersift):
        """The settings (SMTP, links, schedule) and the clock are the service's."""
        self.service = service
        self.mail = service.mail
        self.config = service.settings
        self.renderer = Renderer(self.mail)
        # as the interface starts: a database that cannot keep a new key (a full disk) stops `serve`
        # and `digest send` at once with one line, rather than a reader's first subscription
        self.mail.load_signing_key()

    def sender(self) -> Sender:
        return Sender(self.mail.outbox, self.config, self.renderer, self.mail.clock)

    def run(self, today: date | None = None, limit: int | None = None, dry_run: bool = False,
            progress: Callable[[int], None] | None = None) -> dict:
        """One run, as cron or the scheduler does it: build what is due, then send what is due."""
        if not dry_run:
            self.config.require_email()
            self.config.require_base_url()
        if limit is not None and limit < 1:
            raise BadInput("--limit must be at least 1")
        day = today or self.mail.today()
        built = self.mail.build(day, dry_run=dry_run, progress=progress)
        result = {"date": day.isoformat(), "dry_run": dry_run, "build": built.as_dict()}
        if not dry_run:
            result["send"] = self.sender().send_due(limit=limit).as_dict()
            result["webhooks"] = self.send_hooks()
        result["outbox"] = self.mail.outbox.counts()
        return result

    def send_hooks(self, ids=None) -> dict:
        """Post the due webhook deliveries (after taking back the claims of senders that died)."""
        sender = self.sender()
        sender.recover()
        return HookSender(self.service, sender.owner).send_due(ids)

    def send_hook_soon(self, outbox_id: int | None) -> None:
        """Post one webhook delivery now ("send a test"); a failure is left to its retries."""
        if outbox_id is None:
            return
        try:
            self.send_hooks(ids=[outbox_id])
        except Exception:  # never surfaces to the reader: the scheduler retries it
            log.exception("webhook delivery %s: left to the scheduler", outbox_id)

    def send_pending(self, limit: int | None = None, ids=None) -> SendReport:
        return self.sender().send_due(limit=limit, ids=ids)

    def send_soon(self, outbox_id: int | None) -> None:
        """Send one message now (the website's confirmation mail); a failure leaves it to retries."""
        if outbox_id is None or not self.config.email_enabled:
            return
        try:
            self.sender().send_due(ids=[outbox_id])
        except Exception:  # never surfaces to the reader: the scheduler or cron retries it
            log.exception("sending outbox message %s failed; it stays queued", outbox_id)
