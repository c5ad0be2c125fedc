"""What the MCP tools hand back: compact JSON for lists, one paper in full with its markdown.

A language model reads every byte of a tool result, so lists carry the fields that decide
whether a paper is worth opening (id, title, first authors, date, upvotes, an abstract excerpt,
links) and ``get_paper`` carries the rest. The markdown is written for a model or a chat
window: text from the store is escaped so that a title cannot become a heading, a link or
markup, and only http(s) links are written (a stored ``javascript:`` URL is dropped).
(``formats/hf_api.paper_markdown`` is Hugging Face's ``/papers/{id}.md``, kept to HF's shape; this
one also names the id, categories and PDF, which an agent asked to cite or read a paper needs.)
"""

from __future__ import annotations

import re
from typing import Any

from papersift.model import Paper
from papersift.service import ArxivView, FeedItem, FeedPage

LIST_AUTHORS = 8  # authors shown in a list entry (get_paper gives them all)
EXCERPT_CHARS = 400  # the abstract's opening in a list entry
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def links(paper: Paper) -> dict[str, str]:
    """The paper's web links: arXiv page and PDF for arXiv ids, code, project page (http(s) only)."""
    out: dict[str, str] = {}
    if ":" not in paper.id:  # an arXiv id, not a namespaced corpus document (scifact:123)
        out["arxiv"] = f"https://arxiv.org/abs/{paper.id}"
        out["pdf"] = f"https://arxiv.org/pdf/{paper.id}"
    code = paper.code_url  # HF's repository (owner/name is on GitHub), else one the abstract or comment links
    if code:
        out["code"] = code
    page = (paper.project_page or "").strip()
    if page.startswith(("https://", "http://")):
        out["project_page"] = page
    return out


def excerpt(text: str | None, chars: int = EXCERPT_CHARS) -> str:
    text = " ".join((text or "").split())
    if len(text) <= chars:
        return text
    return text[:chars].rsplit(" ", 1)[0] + " …"


def paper_entry(paper: Paper, upvotes: int | None = None) -> dict[str, Any]:
    """One paper in a list."""
    authors = list(paper.authors or [])
    entry: dict[str, Any] = {
        "id": paper.id, "title": paper.title or "", "authors": authors[:LIST_AUTHORS],
        "published": paper.published_date, "upvotes": paper.upvotes if upvotes is None else upvotes,
        "categories": list(paper.categories or []), "organization": paper.organization,
        "has_code": paper.has_code, "abstract_excerpt": excerpt(paper.abstract), "links": links(paper),
    }
    if len(authors) > LIST_AUTHORS:
        entry["more_authors"] = len(authors) - LIST_AUTHORS
    return entry


def paper_full(paper: Paper) -> dict[str, Any]:
    """One paper with every public field, its links and its markdown."""
    data = paper.to_dict()
    data.pop("provenance", None)  # which source gave which field: for `papersift show`, not for agents
    data["links"] = links(paper)
    data["markdown"] = markdown(paper)
    return data


def feed_item(item: FeedItem) -> dict[str, Any]:
    entry = paper_entry(item.paper, item.upvotes)
    entry.update(feed_day=item.entry.day, trending_score=round(item.trending, 6), submitted_by=item.entry.submitted_by)
    return entry


def feed_json(feed: FeedPage) -> dict[str, Any]:
    period = feed.period
    return {
        "period": {"kind": period.kind, "label": period.label, "start": period.start.isoformat(),
                   "end": period.end.isoformat(), "previous": period.previous.label if period.previous else None,
                   "next": period.next.label if period.next else None},
        "sort": feed.sort, "page": feed.page, "limit": feed.limit, "total": feed.total,
        "papers": [feed_item(item) for item in feed.items],
        # an empty period says where the nearest papers are, so an agent can step there
        "previous_day_with_papers": feed.previous_day_with_papers,
        "next_day_with_papers": feed.next_day_with_papers,
    }


def arxiv_json(view: ArxivView) -> dict[str, Any]:
    """One page of a "New on arXiv" tab: the period, the papers per tab, and each paper with the day
    and category it was listed under and its kind (new, cross, replace)."""
    page, period = view.page, view.page.period
    cards = {card.paper.id: card for card in view.cards}
    papers = [paper_entry(cards[it.paper_id].paper, cards[it.paper_id].upvotes)
              | {"listing_day": it.day, "kind": it.kind, "listed_in": it.category}
              for it in page.items if it.paper_id in cards]
    return {
        "period": {"kind": period.kind, "label": period.label, "start": period.start.isoformat(),
                   "end": period.end.isoformat()},
        "categories": page.categories, "tab": page.tab, "order": page.order, "counts": page.counts,
        "total": page.total, "page": page.page, "limit": page.limit, "pages": view.pages, "papers": papers,
        # an empty period says where the nearest listings are, so an agent can step there
        "previous_day_with_papers": page.previous_day_with_papers,
        "next_day_with_papers": page.next_day_with_papers,
    }


def md_text(text: str | None) -> str:
    """Stored text as inert markdown: one line, every markup character backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def markdown(paper: Paper) -> str:
    """Title, authors, facts, abstract and links of one paper as a markdown document."""
    lines = [f"# {md_text(paper.title or paper.id)}", ""]
    if paper.authors:
        lines += [f"**Authors:** {md_text(', '.join(paper.authors))}", ""]
    facts = [f"**id:** {md_text(paper.id)}"]
    if paper.published_date:
        facts.append(f"**published:** {paper.published_date}")
    if paper.categories:
        facts.append(f"**categories:** {md_text(', '.join(paper.categories))}")
    if paper.organization:
        facts.append(f"**organization:** {md_text(paper.organization)}")
    if paper.upvotes is not None:
        facts.append(f"**upvotes:** {paper.upvotes}")
    lines += [" · ".join(facts), "", "## Abstract", "", md_text(paper.abstract) or "No abstract.", ""]
    if paper.ai_summary:
        lines += ["## Summary (AI-generated, from Hugging Face)", "", md_text(paper.ai_summary), ""]
    found = links(paper)
    if found:
        names = {"arxiv": "arXiv", "pdf": "PDF", "code": "Code", "project_page": "Project page"}
        lines += ["## Links", ""] + [f"- [{names[k]}](<{_url(v)}>)" for k, v in found.items()] + [""]
    return "\n".join(lines)


def _url(url: str) -> str:
    """A URL inside ``<...>`` in a markdown link: spaces and angle brackets percent-encoded."""
    return url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
