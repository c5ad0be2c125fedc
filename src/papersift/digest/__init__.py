"""The email interface: renders the outbox into MIME messages and delivers them over SMTP exactly once.

What goes into each digest is decided in the service (``service/subscriptions.py``: double
opt-in; ``service/digests.py``: each subscriber's papers for a period, into the outbox). ``Digests``
bundles those service parts with the renderer and the sender for the command line (``papersift
digest send``), the scheduler (``papersift run``) and, through hooks the server passes in, the
website's subscription pages. It calls the front door and the store's outbox, never SQL.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from typing import Callable

from papersift.config import Config
from papersift.digest.render import Renderer
from papersift.digest.sender import Sender, SendReport
from papersift.errors import BadToken
from papersift.service import Papersift
from papersift.service.digests import BuildReport, due_periods
from papersift.service.subscriptions import CADENCES, Choices, Outcome, Subscriptions, clean_choices
from papersift.service.tokens import Signer, signing_key

__all__ = ["Digests", "Choices", "Outcome", "CADENCES", "clean_choices", "BadToken", "BuildReport", "SendReport",
           "due_periods"]
log = logging.getLogger("papersift.digest")


class Digests:
    def __init__(self, service: Papersift, config: Config,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.service, self.store, self.config, self.clock = service, service.store, config, clock
        self.signer = Signer(signing_key(config.secret_key, self.store), clock=lambda: self.clock().timestamp())
        self.renderer = Renderer(self.store, config, self.signer)
        self.subscriptions = Subscriptions(self.store, self.signer, config, clock)
        self.builder = service.digest_builder(config)

    def sender(self) -> Sender:
        return Sender(self.store, self.config, self.renderer, self.clock)

    def today(self) -> date:
        """Today in the digest time zone (what decides which digests are due)."""
        return self.clock().astimezone(self.config.zone).date()

    def run(self, today: date | None = None, limit: int | None = None, dry_run: bool = False,
            progress: Callable[[int], None] | None = None) -> dict:
        """One run, as cron or the scheduler does it: build what is due, then send what is due."""
        if not dry_run:
            self.config.require_email()
            self.config.require_base_url()
        if limit is not None and limit < 1:
            from papersift.errors import BadInput

            raise BadInput("--limit must be at least 1")
        day = today or self.today()
        built = self.builder.build(day, dry_run=dry_run, progress=progress)
        result = {"date": day.isoformat(), "dry_run": dry_run, "build": built.as_dict()}
        if not dry_run:
            result["send"] = self.sender().send_due(limit=limit).as_dict()
        result["outbox"] = self.store.outbox_counts()
        return result

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
