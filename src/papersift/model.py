"""The paper record that flows from ingest to the interfaces.

Ingest produces :class:`Paper` values that carry one source's view (``source`` and
``observed_at`` set, ``provenance`` empty); the store merges them field by field
(:mod:`papersift.ingest.merge`) into the one record per paper it keeps.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import BadInput
from .ids import parse_arxiv_id

# Fields that the merge treats one by one; each remembers the source it came from.
MERGED_FIELDS = (
    "version", "title", "abstract", "authors", "categories", "published", "comment",
    "organization", "organization_id", "upvotes", "num_comments",
    "github_repo", "github_stars", "project_page", "ai_summary",
)

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
    feed_days: list[str] = field(default_factory=list)
    # field -> {"source": name, "at": ISO time}; filled by the merge
    provenance: dict[str, dict[str, str]] = field(default_factory=dict)
    # only on incoming records: who says this, and when they said it
    source: str | None = None
    observed_at: str | None = None
    feed_entry: FeedEntry | None = None

    @property
    def has_code(self) -> bool:
        return bool(self.github_repo)

    @property
    def published_date(self) -> str | None:
        return self.published[:10] if self.published else None

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (no ingest-only fields)."""
        data = asdict(self)
        for key in ("source", "observed_at", "feed_entry"):
            data.pop(key)
        data["has_code"] = self.has_code
        data["url"] = f"https://arxiv.org/abs/{self.id}" if ":" not in self.id else None
        data["pdf_url"] = f"https://arxiv.org/pdf/{self.id}" if ":" not in self.id else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})
