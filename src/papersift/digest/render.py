"""Turning an outbox row into the email that goes out: templates, links, headers.

A digest row holds paper ids per section; the paper details (title, authors, upvotes...) are
read at sending time, so the database keeps ~1 KB per digest instead of the ~40 KB message. Which
of them show and with what upvotes is the front door's rule (``Mail.digest_papers``), read then
too: a paper hidden since the digest was built stays out.
The Message-ID was fixed when the row was made: a retry after a crash is the same message.

Two Jinja2 environments: HTML with autoescaping (everything harvested is untrusted), plain
text without (escaping would put ``&amp;`` into the text part). Every link is absolute, on
the configured ``base_url``, and every link to a paper page is one the running site answers.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from papersift.config import Settings
from papersift.model import OutboxMessage, Paper, Subscriber
from papersift.service import DigestPapers, Mail, feed_path

TEMPLATES = Path(__file__).resolve().parent / "templates"
MANY_AUTHORS = 5
EXCERPT_CHARS = 300
# Lines up to 998 octets are legal (RFC 5322); a lower limit would fold the long
# List-Unsubscribe URL, which some clients then fail to read.
POLICY = email.policy.SMTP.clone(max_line_length=998)
POLICY_7BIT = POLICY.clone(cte_type="7bit")  # for a server without 8BITMIME
# Characters XML and most mail clients refuse (C0 controls except tab/newline)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_html = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_text = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=False, undefined=StrictUndefined,
                    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def clean_text(text: str | None) -> str:
    return _CONTROL.sub("", " ".join((text or "").split()))


def excerpt(text: str | None, chars: int = EXCERPT_CHARS) -> str:
    text = clean_text(text)
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[: cut if cut > chars // 2 else chars].rstrip(" ,;:.") + "\u2026"


def authors_text(authors: list[str]) -> str:
    names = [a for a in authors or [] if a]
    if len(names) > MANY_AUTHORS:
        return f"{clean_text(names[0])} et al. ({len(names)} authors)"
    return ", ".join(clean_text(a) for a in names)


def code_url(paper: Paper) -> str | None:
    """The paper's code (Hugging Face's repository, else one its abstract or comment links), only ever
    an https URL."""
    url = paper.code_url
    return url if url and url.startswith("https://") else None


def paper_path(paper_id: str) -> str:
    return "/papers/" + quote(paper_id, safe="/:")


@dataclass
class Item:
    paper: Paper
    title: str  # harvested text, whitespace and control characters cleaned
    organization: str
    upvotes: int
    url: str
    org_url: str | None
    arxiv_url: str | None
    code_url: str | None
    authors: str
    excerpt: str
    why: list[str]


class Renderer:
    def __init__(self, mail: Mail):
        self.mail = mail
        self.config: Settings = mail.settings
        self._papers: DigestPapers | None = None  # one send run's papers (Mail.digest_papers)

    def start_run(self) -> None:
        self._papers = self.mail.digest_papers()  # papers an admin hid after the digest was built stay out

    # ---- links
    @property
    def base(self) -> str:
        return self.config.require_base_url()

    def link(self, purpose: str, subscriber: Subscriber, value: str | None = None) -> str:
        """A signed link; unsubscribe/manage links carry the subscriber's current epoch."""
        token = self.mail.link_token(purpose, subscriber, value)
        path = {"confirm": "/subscribe/confirm/", "unsubscribe": "/unsubscribe/", "manage": "/subscription/"}[purpose]
        return self.base + path + token

    # ---- messages
    def render(self, message: OutboxMessage, subscriber: Subscriber, now: datetime | None = None,
               eight_bit: bool = True) -> bytes:
        """The message as bytes for SMTP DATA. ``eight_bit``: the server takes 8BITMIME, so UTF-8
        text goes as it is (otherwise quoted-printable/base64: slower, and a third larger)."""
        now = now or datetime.now(timezone.utc)
        policy = POLICY if eight_bit else POLICY_7BIT
        if message.kind == "digest":
            msg = self._digest(message, subscriber, policy)
        elif message.kind in ("confirm", "manage"):
            msg = self._confirm(message, subscriber, policy)
        else:
            raise ValueError(f"unknown message kind {message.kind!r}")
        return self._stamp(msg, message, now, policy)

    def render_notice(self, message: OutboxMessage, now: datetime | None = None, eight_bit: bool = True) -> bytes:
        """Mail addressed to one reader (service/notify.py): its lines, one link into the site, and why
        they get it; every text escaped in the HTML part (the templates autoescape)."""
        policy = POLICY if eight_bit else POLICY_7BIT
        payload = message.payload
        path = str(payload.get("link") or "/")
        subject = str(payload.get("subject") or "papersift")
        context = {"kind": message.kind, "subject": subject,
                   "lines": [str(line) for line in payload.get("lines") or []],
                   "link_url": self.base + (path if path.startswith("/") else "/"),
                   "link_label": str(payload.get("link_label") or "Open it on the site"),
                   "settings_url": self.base + "/settings", "site_host": urlsplit(self.base).netloc}
        msg = self._compose(subject, _text.get_template("notice.txt").render(**context),
                            _html.get_template("notice.html").render(**context), policy)
        return self._stamp(msg, message, now or datetime.now(timezone.utc), policy)

    def _stamp(self, msg: EmailMessage, message: OutboxMessage, now: datetime, policy) -> bytes:
        msg["From"] = self.config.smtp.sender
        msg["To"] = message.recipient
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = message.message_id
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies, please
        return msg.as_bytes(policy=policy)

    def _common(self, subscriber: Subscriber) -> dict:
        host = urlsplit(self.base).netloc
        return {"base_url": self.base, "site_host": host, "site_name": "papersift", "recipient": subscriber.email,
                "cadence_text": "daily" if subscriber.cadence == "daily" else "weekly"}

    @staticmethod
    def _compose(subject: str, text: str, html: str, policy) -> EmailMessage:
        msg = EmailMessage(policy=policy)
        msg["Subject"] = subject
        msg.set_content(text)  # text/plain first: clients show the last alternative they can
        msg.add_alternative(html, subtype="html")
        return msg

    def _confirm(self, message: OutboxMessage, subscriber: Subscriber, policy) -> EmailMessage:
        context = self._common(subscriber)
        if message.kind == "confirm":
            action = self.link("confirm", subscriber, message.payload["nonce"])
            subject = heading = "Confirm your papersift digest subscription"
            hours = self.config.digest.confirm_hours
            context["valid_for"] = f"{hours:g} hours" if hours < 72 else f"{hours / 24:g} days"
        else:
            action = self.link("manage", subscriber)
            subject = heading = "Your papersift digest subscription"
        context.update(kind=message.kind, subject=subject, heading=heading, action_url=action,
                       unsubscribe_url=self.link("unsubscribe", subscriber))
        return self._compose(subject, _text.get_template("confirm.txt").render(**context),
                             _html.get_template("confirm.html").render(**context), policy)

    def items(self, entries: list[dict]) -> list[Item]:
        papers = self._papers
        if papers is None:  # a message rendered outside a send run (a preview)
            papers = self._papers = self.mail.digest_papers()
        found = papers.get([e["id"] for e in entries])
        out = []
        for entry in entries:
            if entry["id"] not in found:  # hidden or vanished since the digest was built: leave it out
                continue
            card = found[entry["id"]]
            paper = card.paper
            out.append(Item(
                paper=paper, title=clean_text(paper.title) or paper.id, organization=clean_text(paper.organization),
                upvotes=card.upvotes,
                url=self.base + paper_path(paper.id),
                org_url=self.base + "/orgs/" + quote(paper.organization, safe="") if paper.organization else None,
                arxiv_url=f"https://arxiv.org/abs/{paper.id}" if ":" not in paper.id else None,
                code_url=code_url(paper), authors=authors_text(paper.authors), excerpt=excerpt(paper.abstract),
                why=list(entry.get("why") or [])))
        return out

    def _digest(self, message: OutboxMessage, subscriber: Subscriber, policy) -> EmailMessage:
        payload = message.payload
        sections = []
        for key, title, note, why in (
                ("trending", "Trending", "The most upvoted papers, rising fastest.", ""),
                ("topics", "For your topics", "New papers matching what you follow.", "Matches"),
                ("for_you", "For you", "Learned from your upvotes, saves and \u201cmore like this\u201d.", "Why")):
            items = self.items(payload.get(key) or [])
            if items:
                sections.append({"key": key, "title": title, "note": note, "items": items, "why_label": why})
        heading, subject = self.titles(payload, sum(len(s["items"]) for s in sections))
        unsubscribe = self.link("unsubscribe", subscriber)
        context = self._common(subscriber)
        # the feed link comes from the period key, so digests queued by older versions get it right too
        feed_url = self.base + feed_path(payload.get("cadence"), payload.get("period"))
        context.update(subject=subject, heading=heading, sections=sections, manage_url=self.link("manage", subscriber),
                       unsubscribe_url=unsubscribe, feed_url=feed_url)
        msg = self._compose(subject, _text.get_template("digest.txt").render(**context),
                            _html.get_template("digest.html").render(**context), policy)
        # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs
        # "List-Unsubscribe=One-Click" to the https URL (no login, no form, no confirmation page)
        targets = [f"<{unsubscribe}>"]
        if self.config.smtp.unsubscribe_mailto:
            targets.append(f"<mailto:{self.config.smtp.unsubscribe_mailto}?subject=unsubscribe>")
        msg["List-Unsubscribe"] = ", ".join(targets)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["List-Id"] = f"papersift digest <digest.{urlsplit(self.base).hostname or 'localhost'}>"
        return msg

    @staticmethod
    def titles(payload: dict, count: int) -> tuple[str, str]:
        key = payload.get("period", "")
        if payload.get("cadence") == "weekly":
            year, week = key.split("-W") if "-W" in key else (key, "")
            heading = f"Your weekly papers: week {int(week)}, {year}" if week.isdigit() else "Your weekly papers"
        else:
            try:
                day = date.fromisoformat(key)
                heading = f"Your daily papers: {day:%a} {day.day} {day:%b %Y}"
            except ValueError:
                heading = "Your daily papers"
        return heading, f"{heading} ({count} paper{'s' if count != 1 else ''})"
