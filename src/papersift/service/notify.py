"""Mail to one reader about one event (a reply, a mention, their paper discussed, a link to prove their
address), through the outbox that sends the digests: the event's key makes it once per reader, so a
retried request or a second process never mails twice, and the claim skips a reader who has since
turned mail off or been hidden.

The payload is all the sender needs (digest/ renders it): ``subject``, ``lines`` (plain text, one
paragraph each) and ``link`` (a site path such as ``/papers/2401.00001#comment-7``, made absolute
with the site's base URL when the mail is rendered) with its ``link_label``.
"""

from __future__ import annotations

from papersift.config import Settings
from papersift.model import User
from papersift.service.digests import new_message_id
from papersift.store.protocol import Store

SUBJECT_MAX = 150


class Notifier:
    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings

    def notify(self, user: User, event_key: str, subject: str, lines: list[str], link: str,
               link_label: str = "Open it on the site", *, mandatory: bool = False) -> int | None:
        """Queue the mail; None when this event's mail exists already or the reader does not want it
        (``mandatory``: mail they asked for, such as a link to prove their address, goes regardless of
        their choice of notifications; a hidden reader gets nothing)."""
        if user.hidden or not (mandatory or user.notify_email):
            return None
        payload = {"subject": " ".join(subject.split())[:SUBJECT_MAX], "lines": lines, "link": link,
                   "link_label": link_label}
        kind = "account" if mandatory else "notify"
        return self.store.enqueue_for_user(user.id, kind, event_key, user.email,
                                           new_message_id(kind, user.id, self.settings), payload)
