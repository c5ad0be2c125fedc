"""The paper record that flows from ingest to the interfaces.

Ingest produces :class:`Paper` values that carry one source's view (``source`` and
``observed_at`` set, ``provenance`` empty); the store merges them field by field
(:mod:`papersift.ingest.merge`) into the one record per paper it keeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from papersift.errors import BadInput
from papersift.ids import parse_arxiv_id

if TYPE_CHECKING:
    from papersift.code_links import CodeLink
    from papersift.venues import Venue

# Fields that the merge treats one by one; each remembers the source it came from.
MERGED_FIELDS = (
    "version", "title", "abstract", "authors", "categories", "published", "comment",
    "organization", "organization_id", "upvotes", "num_comments",
    "github_repo", "github_stars", "project_page", "ai_summary", "listed", "hf_links",
)
HF_SOURCES = ("hf-api", "hf-jsonl")
_GITHUB_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", re.ASCII)

# Non-arXiv documents (BEIR corpora) get a namespaced id: ``scifact:4983``.
_NAMESPACED = re.compile(r"^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._/-]{1,128}$")


def normalize_paper_id(raw: str) -> str:
    """Canonical id for an arXiv id in any common shape, or a namespaced corpus id."""
    try:
        return parse_arxiv_id(raw)[0]
    except BadInput:
        text = raw.strip() if isinstance(raw, str) else ""
        if _NAMESPACED.match(text) and not text.lower().startswith(("arxiv:", "http")):
            return text
        raise


@dataclass
class FeedEntry:
    """One appearance of a paper on the Daily Papers feed."""

    day: str  # YYYY-MM-DD, the feed's calendar day
    upvotes: int | None = None  # as captured that day
    num_comments: int | None = None
    rank: int | None = None  # position in the day's API order
    submitted_by: str | None = None
    captured_at: str | None = None


@dataclass
class Paper:
    id: str
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # primary first
    published: str | None = None  # ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SSZ"
    version: int | None = None
    comment: str | None = None
    organization: str | None = None  # display name
    organization_id: str | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    # the models, datasets and Spaces on Hugging Face that link the paper: "models" | "datasets" | "spaces"
    # -> {"total": HF's count, "top": the first few, each {"id": "owner/name", "likes", ...}}; None: not asked
    hf_links: dict[str, dict] | None = None
    feed_days: list[str] = field(default_factory=list)
    # arXiv's listing days (ingest/schedule.py): the first announcement, and those of later versions
    listed: str | None = None
    replaced: list[str] = field(default_factory=list)
    # field -> {"source": name, "at": ISO time}; filled by the merge
    provenance: dict[str, dict[str, str]] = field(default_factory=dict)
    # only on incoming records: who says this, and when they said it
    source: str | None = None
    observed_at: str | None = None
    feed_entry: FeedEntry | None = None

    @property
    def has_code(self) -> bool:
        """A repository: Hugging Face's for the paper, or one its abstract or comment links."""
        return bool(self.github_repo) or bool(self.code_links)

    @property
    def code_links(self) -> "list[CodeLink]":
        """The GitHub, GitLab and Hugging Face repositories the abstract and the comment link."""
        from papersift.code_links import find_code_links

        return find_code_links(self.abstract, self.comment)

    @property
    def code_url(self) -> str | None:
        """The paper's code: Hugging Face's repository for it (``owner/name`` is on GitHub), else the
        first code host its text links, else the first Hugging Face repository it links."""
        return self._code_url(self.code_links)

    def _code_url(self, links: "list[CodeLink]") -> str | None:
        repo = (self.github_repo or "").strip()
        if repo.startswith(("https://", "http://")):
            return repo
        if _GITHUB_NAME.fullmatch(repo):
            return f"https://github.com/{repo}"
        first = next((link for link in links if link.is_code), links[0] if links else None)
        return first.url if first is not None else None

    @property
    def hf_url(self) -> str | None:
        """The paper's page on Hugging Face, when a Hugging Face source gave any of its fields."""
        if ":" in self.id or not any(p.get("source") in HF_SOURCES for p in self.provenance.values()):
            return None
        return f"https://huggingface.co/papers/{self.id}"

    @property
    def venue(self) -> "Venue | None":
        """Where the paper appeared, as its arXiv comment says ("Accepted at NeurIPS 2025"), or None."""
        from papersift.venues import parse_venue

        return parse_venue(self.comment)

    @property
    def published_date(self) -> str | None:
        return self.published[:10] if self.published else None

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (no ingest-only fields)."""
        # field by field, not dataclasses.asdict: its deep copy was ~5% of a loaded server's Python time
        data = {name: getattr(self, name) for name in _PUBLIC_FIELDS}
        data["authors"], data["categories"], data["feed_days"] = [*self.authors], [*self.categories], [*self.feed_days]
        data["replaced"] = [*self.replaced]
        data["provenance"] = {key: dict(value) for key, value in self.provenance.items()}
        links = self.code_links  # read once: has_code and code_url are made of them
        data["has_code"] = bool(self.github_repo) or bool(links)
        data["code_url"] = self._code_url(links)
        data["code_links"] = [link.url for link in links]
        data["hf_url"] = self.hf_url
        data["hf_links"] = {kind: {"total": links["total"], "top": [dict(r) for r in links["top"]]}
                            for kind, links in self.hf_links.items()} if self.hf_links else self.hf_links
        venue = self.venue
        data["venue"] = venue.as_dict() if venue is not None else None
        data["url"] = f"https://arxiv.org/abs/{self.id}" if ":" not in self.id else None
        data["pdf_url"] = f"https://arxiv.org/pdf/{self.id}" if ":" not in self.id else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


_PUBLIC_FIELDS = tuple(f.name for f in fields(Paper) if f.name not in ("source", "observed_at", "feed_entry"))


# ---- the records of the community and the digests (kept by the store, shown by the interfaces)
@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class User:
    """A person with an account on the website (votes, library, submissions)."""

    id: int
    email: str
    name: str
    password_hash: str
    is_admin: bool = False
    hidden: bool = False  # hidden by an admin: cannot log in, votes no longer count
    created_at: str | None = None
    # "read" or "write" when this user came from an API token (what that token may do); None otherwise
    token_scope: str | None = None
    username: str | None = None  # the unique handle: /users/NAME, @mentions, a collection's owner
    notify_email: bool = True  # mail about replies, mentions and discussions of their papers
    show_upvotes: bool = False  # the public profile lists the papers they upvoted
    email_verified_at: str | None = None  # when they followed a link mailed to their address

    @property
    def handle(self) -> str:
        """The handle to show and link (a user made before handles existed gets one at start-up)."""
        return self.username or f"user{self.id}"


@dataclass
class Subscriber:
    """An email digest subscription (with or without an account)."""

    id: int
    email: str
    cadence: str  # "daily" (weekdays) | "weekly"
    trending: bool  # include the global trending list
    status: str  # "pending" (not confirmed) | "active" | "unsubscribed" | "disabled" (bouncing)
    topics: list[tuple[str, str]] = field(default_factory=list)  # (kind, value); kinds in TOPIC_KINDS
    user_id: int | None = None
    confirm_nonce: str | None = None  # set while a confirmation link is outstanding
    token_epoch: int = 0  # inside every manage / unsubscribe link; bumping it voids them all
    bounces: int = 0  # permanent delivery failures in a row
    created_at: str | None = None
    confirmed_at: str | None = None
    status_reason: str | None = None


TOPIC_KINDS = ("category", "organization", "author", "search")


@dataclass
class OutboxMessage:
    """One email to send: a digest for (subscriber, period) or a confirmation / manage-link mail.

    ``payload`` is what the message is rendered from (paper ids per section, or nothing for a
    confirmation); the Message-ID is fixed when the row is made, so a retry is the same message."""

    id: int
    subscriber_id: int | None  # None: a notification to a user (user_id)
    kind: str  # "digest" | "confirm" | "manage"
    period_key: str
    recipient: str
    message_id: str
    payload: dict
    status: str  # pending | sending | sent | failed | cancelled
    attempts: int = 0
    next_attempt_at: str | None = None
    claimed_by: str | None = None
    claimed_at: str | None = None
    last_error: str | None = None
    smtp_reply: str | None = None
    created_at: str | None = None
    sent_at: str | None = None
    user_id: int | None = None  # a notification's reader (then subscriber_id is None)


@dataclass
class ApiToken:
    id: int
    user_id: int
    name: str
    created_at: str
    last_used_at: str | None = None
    scope: str = "write"  # "read": reads only; "write": reads and the reader's writes (votes, saves, ...)


@dataclass
class Comment:
    """One comment on a paper, as stored (``body`` is the writer's Markdown), with its writer's names."""

    id: int
    paper_id: str
    user_id: int
    parent_id: int | None
    body: str
    created_at: str
    edited_at: str | None = None
    deleted_at: str | None = None
    hidden_at: str | None = None
    author_name: str = ""
    author_handle: str = ""
    author_hidden: bool = False


@dataclass
class Collection:
    """A user's list of papers (the library is their private one, ``is_library``)."""

    id: int
    owner_id: int
    title: str
    description: str = ""
    private: bool = False
    is_library: bool = False
    theme: str | None = None
    hidden_at: str | None = None
    created_at: str = ""
    updated_at: str = ""
    owner_handle: str = ""
    owner_name: str = ""
    owner_hidden: bool = False
    items: int = 0
    upvotes: int = 0


@dataclass
class CollectionItem:
    id: int
    collection_id: int
    paper_id: str
    note: str
    position: int
    added_at: str


@dataclass
class AuthorClaim:
    """A user's claim to be the author at ``position`` (0-based) of a paper's author list."""

    id: int
    user_id: int
    paper_id: str
    position: int
    status: str  # pending | verified | rejected
    how: str | None = None
    hidden: bool = False
    created_at: str = ""
    decided_at: str | None = None
    user_handle: str = ""
    user_name: str = ""
    user_hidden: bool = False


@dataclass
class Webhook:
    """A URL a reader's digest is also delivered to, signed with ``secret`` (shown to them once)."""

    id: int
    user_id: int
    url: str
    format: str  # json | slack | discord
    secret: str
    active: bool = True
    failures: int = 0  # deliveries that failed in a row
    last_error: str | None = None
    created_at: str = ""
