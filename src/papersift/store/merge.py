"""Merging one source's view of a paper into the stored record, field by field.

Precedence (documented in docs/DATA.md, tested in tests/unit/test_merge.py):

* Each field has a ranking of sources. A non-empty incoming value replaces the stored one
  when its source ranks higher, or ranks the same and was observed at the same time or later.
* Empty values (None, "", []) never overwrite anything.
* Bibliographic fields trust arXiv first: OAI-PMH (the authority), then the arXiv listing
  archive, then Hugging Face (which copies arXiv), then BEIR corpora, then manual submissions.
* Community fields (upvotes, comments, GitHub, project page, organisation, AI summary, the linked
  models, datasets and Spaces) exist only on Hugging Face: its API and its archive rank the same, so
  the newest capture wins.
* Feed days are a union, never a choice; so are the days later versions were listed (``replaced``).
* The first listing day (``listed``) trusts arXiv's own listings (its daily RSS/Atom and the listing
  archive) over the day computed from OAI-PMH's submission date, an estimate (ingest/schedule.py).

The merge is pure: ``merge(existing, incoming)`` returns the new record and whether anything
changed, so re-ingesting the same data is a no-op the store can detect.
"""

from __future__ import annotations

import copy

from papersift.model import MERGED_FIELDS, Paper

# each list ranks sources, most trusted first; a tuple is sources of equal rank
Ranking = list[str | tuple[str, ...]]
BIBLIOGRAPHIC: Ranking = ["arxiv-oai", "arxiv-jsonl", "arxiv-rss", "hf-api", "hf-jsonl", "beir", "submit"]
COMMUNITY: Ranking = [("hf-api", "hf-jsonl"), "submit"]
# `published`: OAI's `created` is the v1 submission date and HF carries the exact v1 time;
# the listing archive only knows the announcement day, a day or more later.
PUBLISHED: Ranking = [("hf-api", "hf-jsonl", "arxiv-oai"), ("arxiv-jsonl", "arxiv-rss"), "beir", "submit"]
LISTED: Ranking = [("arxiv-rss", "arxiv-jsonl"), "arxiv-oai"]

_COMMUNITY_FIELDS = {
    "organization", "organization_id", "upvotes", "num_comments",
    "github_repo", "github_stars", "project_page", "ai_summary", "hf_links",
}


def _ranks(order: Ranking) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for position, group in enumerate(order):
        for name in group if isinstance(group, tuple) else (group,):
            ranks[name] = len(order) - position
    return ranks


_BIB_RANK, _COMMUNITY_RANK, _PUBLISHED_RANK, _LISTED_RANK = map(_ranks, (BIBLIOGRAPHIC, COMMUNITY, PUBLISHED, LISTED))
SOURCES = frozenset(_BIB_RANK) | frozenset(_COMMUNITY_RANK)


def source_rank(field: str, source: str) -> int:
    if field == "published":
        table = _PUBLISHED_RANK
    elif field == "listed":
        table = _LISTED_RANK
    elif field in _COMMUNITY_FIELDS:
        table = _COMMUNITY_RANK
    else:
        table = _BIB_RANK
    return table.get(source, 0)


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def merge(existing: Paper | None, incoming: Paper) -> tuple[Paper, bool]:
    """Fold ``incoming`` (one source's record) into ``existing``; return (record, changed)."""
    if incoming.source is None or incoming.observed_at is None:
        raise ValueError("incoming records need source and observed_at")
    merged = copy.deepcopy(existing) if existing else Paper(id=incoming.id)
    changed = existing is None
    for name in MERGED_FIELDS:
        value = getattr(incoming, name)
        if _empty(value):
            continue
        held = merged.provenance.get(name)
        if held is not None:
            new_rank = source_rank(name, incoming.source)
            old_rank = source_rank(name, held["source"])
            if new_rank < old_rank or (new_rank == old_rank and incoming.observed_at < held["at"]):
                continue
        if getattr(merged, name) != value:
            setattr(merged, name, copy.deepcopy(value))
            changed = True
        stamp = {"source": incoming.source, "at": incoming.observed_at}
        if held != stamp:
            merged.provenance[name] = stamp
            changed = True
    entry = incoming.feed_entry
    if entry is not None and entry.day not in merged.feed_days:
        merged.feed_days = sorted(merged.feed_days + [entry.day])
        changed = True
    replaced = sorted(set(merged.replaced).union(incoming.replaced).difference([merged.listed]))
    if replaced != merged.replaced:
        merged.replaced = replaced
        changed = True
    return merged, changed
