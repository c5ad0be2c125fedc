"""Hugging Face's Daily Papers wire format, built from the front door's results.

``huggingface_hub.HfApi(endpoint=...)`` (``list_daily_papers``, ``list_papers``, ``paper_info``,
``read_paper``) and the tools built on HF's API read these shapes. A feed or search item is::

    {"paper": {"id", "authors": [{"name", "hidden"}], "publishedAt", "title", "summary", "upvotes",
               "submittedOnDailyAt"?, "submittedOnDailyBy"?, "organization"?, "githubRepo"?, ...},
     "publishedAt", "title", "summary", "numComments", "submittedBy"?, "organization"?,
     "isAuthorParticipating"}

(``paper.publishedAt`` is the arXiv v1 time, the item's ``publishedAt`` the time it went on the
feed; ``/api/papers/{id}`` answers the inner ``paper`` object alone.) Timestamps are ISO 8601 in
UTC with milliseconds and a ``Z``, as the client's ``parse_datetime`` expects. papersift keeps a
feed day, not the minute a paper went on it: the item's time is the capture time when it falls on
that day, else the day's midnight, so ``submitted_at.date()`` is always the feed day.
"""

from __future__ import annotations

import re
from typing import Any

from papersift.feed.daily import FeedItem
from papersift.ingest.hf_links import LINKED_KEYS
from papersift.model import FeedEntry, Paper
from papersift.search.searcher import Hit

_SAFE_URL = re.compile(r"^https?://[^\s<>\"'()\[\]]+$", re.IGNORECASE)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|])")


def hf_time(value: str | None) -> str | None:
    """``2025-03-13T17:59:06Z`` -> ``2025-03-13T17:59:06.000Z`` (a day alone: its midnight)."""
    return _hf_stamp(value) if value else None


def _hf_stamp(value: str) -> str:
    if len(value) == 10:
        return f"{value}T00:00:00.000Z"
    base = value[:-1] if value.endswith("Z") else value.split("+")[0]
    return base + ("Z" if "." in base else ".000Z")


def _feed_time(day: str, captured_at: str | None) -> str:
    """When a paper reached the feed of ``day`` (never empty): its capture that day, else the day's midnight."""
    return _hf_stamp(captured_at if captured_at and captured_at.startswith(day) else day)


def hf_user(login: str | None) -> dict | None:
    """A submitter as HF spells one: the login is ``name`` (item) and ``user`` (the client reads this)."""
    if not login:
        return None
    return {"name": login, "user": login, "fullname": login, "avatarUrl": "", "type": "user"}


def hf_organization(paper: Paper) -> dict | None:
    if not (paper.organization or paper.organization_id):
        return None
    return {"name": paper.organization_id or paper.organization, "fullname": paper.organization or
            paper.organization_id, "avatarUrl": ""}


def hf_paper(paper: Paper, day: str | None = None, captured_at: str | None = None,
             submitted_by: str | None = None) -> dict:
    """The ``paper`` object (and the whole answer of ``/api/papers/{id}``). ``day``: the feed day it
    was listed on (the newest of its feed days when not given)."""
    day = day or (paper.feed_days[-1] if paper.feed_days else None)
    data: dict[str, Any] = {
        "id": paper.id,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": hf_time(paper.published),
        "title": paper.title or paper.id,
        "summary": paper.abstract or "",
        "upvotes": paper.upvotes or 0,
        "numComments": paper.num_comments or 0,
    }
    if day:
        data["submittedOnDailyAt"] = _feed_time(day, captured_at)
    optional = {"submittedOnDailyBy": hf_user(submitted_by), "organization": hf_organization(paper),
                "ai_summary": paper.ai_summary, "githubRepo": paper.github_repo,
                "githubStars": paper.github_stars, "projectPage": paper.project_page}
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_LINKED_NAMES = (("models", "model"), ("datasets", "dataset"), ("spaces", "Space"))


def hf_paper_page(paper: Paper, entry: FeedEntry | None, claimed: dict | None = None) -> dict:
    """The whole answer of ``/api/papers/{id}``: the paper object with who submitted it (``entry``: its
    newest feed row), the readers who claimed an author position and were verified (``claimed``:
    position -> User: HF's ``user`` and ``status`` "claimed_verified") and, as HF adds them only here, the
    models, datasets and Spaces that link it."""
    data = hf_paper(paper, submitted_by=entry.submitted_by if entry else None)
    for position, user in (claimed or {}).items():
        if position < len(data["authors"]):
            data["authors"][position].update(
                user={"name": user.handle, "user": user.handle, "fullname": user.name, "avatarUrl": "",
                      "type": "user"}, status="claimed_verified")
    known = paper.hf_links
    if known is None:  # never asked: left out, as HF leaves out what it does not send
        return data
    for kind, items_key, total_key in LINKED_KEYS:
        linked = known.get(kind) or {"total": 0, "top": []}
        data[items_key] = [_linked_repo(kind, repo) for repo in linked["top"]]
        data[total_key] = linked["total"]
    return data


def _linked_repo(kind: str, repo: dict) -> dict:
    """A linked repository in HF's shape (``huggingface_hub`` reads it as a ModelInfo, DatasetInfo, SpaceInfo)."""
    return {"id": repo["id"], "author": repo["id"].split("/", 1)[0], "repoType": _REPO_TYPES[kind],
            **{key: value for key, value in repo.items() if key != "id"}}


def _item(inner: dict, listed_at: str | None, comments: int | None, submitter: str | None) -> dict:
    item = {"paper": inner, "publishedAt": listed_at or inner["publishedAt"], "title": inner["title"],
            "summary": inner["summary"], "numComments": comments or 0, "isAuthorParticipating": False}
    optional = {"submittedBy": hf_user(submitter), "organization": inner.get("organization")}
    item.update({key: value for key, value in optional.items() if value is not None})
    return item


def hf_feed_item(item: FeedItem) -> dict:
    """One element of ``/api/daily_papers``: upvotes are the feed's displayed count."""
    entry = item.entry
    paper = item.paper
    inner = hf_paper(paper, entry.day, entry.captured_at, entry.submitted_by) | {"upvotes": item.upvotes}
    comments = entry.num_comments if entry.num_comments is not None else paper.num_comments
    return _item(inner, inner["submittedOnDailyAt"], comments, entry.submitted_by)


def hf_search_item(hit: Hit) -> dict:
    """One element of ``/api/papers/search`` (same shape as a feed item)."""
    inner = hf_paper(hit.paper)
    return _item(inner, inner.get("submittedOnDailyAt"), hit.paper.num_comments, None)


def _md(text: str) -> str:
    """Text safe in Markdown: no raw HTML (a renderer would pass it through) and no forged links."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _link(label: str, url: str | None) -> str | None:
    return f"[{label}]({url})" if url and _SAFE_URL.match(url) else None


def paper_markdown(paper: Paper) -> str:
    """``/papers/{id}.md``: the paper page as Markdown (title, authors, links, the counts of linked
    repositories, abstract, AI summary)."""
    lines = [f"# {_md(paper.title or paper.id)}", ""]
    if paper.authors:
        lines += ["Authors: " + ", ".join(_md(a) for a in paper.authors), ""]
    facts = [f"Published: {paper.published[:10]}" if paper.published else None,
             f"Upvotes: {paper.upvotes or 0}",
             f"Organization: {_md(paper.organization)}" if paper.organization else None]
    if ":" not in paper.id:
        facts.append(_link(f"arXiv:{paper.id}", f"https://arxiv.org/abs/{paper.id}"))
    facts += [_link("Hugging Face", paper.hf_url), _link("Code", paper.code_url),
              _link("Project page", paper.project_page)]
    lines += [" · ".join(f for f in facts if f), ""]
    counts = [(paper.hf_links or {}).get(kind, {}).get("total", 0) for kind, _ in _LINKED_NAMES]
    if any(counts):
        lines += ["Linked on Hugging Face: " + ", ".join(
            f"{n} {name}{'s' * (n != 1)}" for n, (_, name) in zip(counts, _LINKED_NAMES, strict=True)), ""]
    if paper.abstract:
        lines += ["## Abstract", "", _md(paper.abstract), ""]
    if paper.ai_summary:
        lines += ["## AI summary", "", _md(paper.ai_summary), ""]
    return "\n".join(lines)
