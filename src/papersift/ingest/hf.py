"""Hugging Face Daily Papers: the JSONL archive and the live ``/api/daily_papers`` endpoint.

The live API returns, for ``?date=YYYY-MM-DD``, a JSON list of feed items::

    {"paper": {"id", "authors": [{"_id", "name", "hidden", "user"?}], "publishedAt", "title",
               "summary", "upvotes", "discussionId", "ai_summary"?, "ai_keywords"?, "githubRepo"?,
               "githubStars"?, "projectPage"?, "submittedOnDailyAt"?, "submittedOnDailyBy"?: {...},
               "organization"?: {"name", "fullname"}},
     "publishedAt", "title", "summary", "thumbnail", "numComments", "isAuthorParticipating",
     "submittedBy": {"_id", "name", "fullname", "user"?, ...}, "organization"?: {"name", "fullname"}}

(HF's OpenAPI spec as generated into its clients; ``paper.publishedAt`` is the arXiv v1 time,
the item's ``publishedAt`` the time it went on the feed). The archive flattens the same data:
``organization`` there is the display name and ``organization_name`` the hub slug. The models,
datasets and Spaces that link a paper come only with the paper's own ``/api/papers/{id}``
(hf_links.py): :meth:`HFDailyClient.fetch_links` asks for each paper of a day.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import datetime, timezone
from typing import Any, Callable

import httpx

from papersift.errors import BadInput, Unavailable
from papersift.ingest.fields import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    clean_text,
    count,
    field,
    iso_day,
    opt_str,
    paper_id,
    require_object,
    text_list,
    title_text,
    utc_timestamp,
)
from papersift.ingest.hf_links import parse_hf_links
from papersift.ingest.http import LiveSource, RetryingClient, Stopped
from papersift.model import FeedEntry, Paper

log = logging.getLogger(__name__)

def parse_hf_jsonl(obj: Any) -> Paper:
    """One line of ``hf-daily-papers-*.jsonl``: a (feed day, paper) capture."""
    obj = require_object(obj)
    pid, version = paper_id(field(obj, "arxiv_id", required=True), "arxiv_id")
    day = iso_day(field(obj, "feed_date"), "feed_date")
    captured = utc_timestamp(field(obj, "captured_at"), "captured_at", required=True)
    upvotes = count(obj.get("upvotes"), "upvotes")
    comments = count(obj.get("num_comments"), "num_comments")
    entry = FeedEntry(day=day, upvotes=upvotes, num_comments=comments,
                      rank=count(obj.get("api_order"), "api_order"),
                      submitted_by=opt_str(obj.get("submitted_by"), "submitted_by"), captured_at=captured)
    return Paper(
        id=pid, version=version,
        title=title_text(obj.get("title"), "title"),
        abstract=clean_text(obj.get("abstract"), "abstract", MAX_TEXT_CHARS),
        authors=text_list(obj.get("authors"), "authors"),
        published=utc_timestamp(obj.get("published_at"), "published_at"),
        organization=clean_text(obj.get("organization"), "organization", MAX_NAME_CHARS),
        organization_id=opt_str(obj.get("organization_name"), "organization_name"),
        upvotes=upvotes, num_comments=comments,
        github_repo=opt_str(obj.get("github_repo"), "github_repo"),
        github_stars=count(obj.get("github_stars"), "github_stars"),
        project_page=opt_str(obj.get("project_page"), "project_page"),
        ai_summary=clean_text(obj.get("ai_summary"), "ai_summary", MAX_TEXT_CHARS),
        feed_days=[day], source="hf-jsonl", observed_at=captured, feed_entry=entry,
    )


def _user_name(value: Any, name: str) -> str | None:
    """HF user objects carry the login as ``name`` (newer) or ``user`` (older payloads)."""
    if value is None:
        return None
    value = require_object(value, name)
    return opt_str(value.get("name") or value.get("user"), f"{name}.name")


def _authors(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadInput(f"paper.authors must be a list, got {type(value).__name__}")
    names = []
    for i, author in enumerate(value):
        # Keep "hidden" authors: the flag hides an HF profile link, the person is still an author.
        if isinstance(author, dict):
            author = author.get("name")
        text = clean_text(author, f"paper.authors[{i}].name", MAX_NAME_CHARS)
        if text:
            names.append(text)
    return names


def parse_hf_api_item(obj: Any, fetched_at: str | datetime, day: str | None = None,
                      rank: int | None = None) -> Paper:
    """One element of the ``/api/daily_papers`` list, fetched at ``fetched_at``.

    ``day`` is the feed day asked for (default: the day the item went on the feed) and ``rank``
    its position in the API's order; both go into the :class:`FeedEntry`.
    """
    obj = require_object(obj, "daily_papers item")
    paper = require_object(field(obj, "paper", required=True), "paper")
    pid, version = paper_id(field(paper, "id", required=True), "paper.id")
    observed = utc_timestamp(fetched_at, "fetched_at", required=True)
    if day is None:
        when = utc_timestamp(obj.get("publishedAt") or paper.get("submittedOnDailyAt"), "publishedAt",
                             required=True)
        day = when[:10]
    else:
        day = iso_day(day, "day")
    org = obj.get("organization") or paper.get("organization")
    if org is not None:
        org = require_object(org, "organization")
    upvotes = count(paper.get("upvotes"), "paper.upvotes")
    comments = count(obj.get("numComments"), "numComments")
    submitter = _user_name(obj.get("submittedBy"), "submittedBy") or _user_name(
        paper.get("submittedOnDailyBy"), "paper.submittedOnDailyBy")
    entry = FeedEntry(day=day, upvotes=upvotes, num_comments=comments, rank=count(rank, "rank"),
                      submitted_by=submitter, captured_at=observed)
    return Paper(
        id=pid, version=version,
        title=title_text(paper.get("title") or obj.get("title"), "paper.title"),
        abstract=clean_text(paper.get("summary") or obj.get("summary"), "paper.summary", MAX_TEXT_CHARS),
        authors=_authors(paper.get("authors")),
        published=utc_timestamp(paper.get("publishedAt"), "paper.publishedAt"),
        organization=(clean_text(org.get("fullname") or org.get("name"), "organization.fullname", MAX_NAME_CHARS)
                      if org else None),
        organization_id=opt_str(org.get("name"), "organization.name") if org else None,
        upvotes=upvotes, num_comments=comments,
        github_repo=opt_str(paper.get("githubRepo"), "paper.githubRepo"),
        github_stars=count(paper.get("githubStars"), "paper.githubStars"),
        project_page=opt_str(paper.get("projectPage"), "paper.projectPage"),
        ai_summary=clean_text(paper.get("ai_summary"), "paper.ai_summary", MAX_TEXT_CHARS),
        feed_days=[day], source="hf-api", observed_at=observed, feed_entry=entry,
    )


class HFDailyClient(LiveSource):
    """Fetches one feed day at a time; retries 429/5xx (honouring Retry-After, bounded)."""

    def __init__(self, base_url: str = "https://huggingface.co", http: httpx.Client | None = None,
                 timeout: float = 30.0, max_attempts: int = 4, max_wait: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, page_size: int = 100, max_pages: int = 20):
        self.base_url = base_url.rstrip("/")
        self.client = RetryingClient("Hugging Face", http=http, user_agent="papersift (+daily papers ingest)",
                                     timeout=timeout, max_attempts=max_attempts, max_wait=max_wait,
                                     backoff=1.0, sleep=sleep)
        self.page_size, self.max_pages = page_size, max_pages
        self.bad: list[tuple[str, int, str]] = []  # (day, position, message) of skipped items
        self.links_left_out = False  # HF stopped answering the papers' own requests: no more are made

    def fetch_day(self, date: str) -> list[Paper]:
        """All papers on the feed of ``date`` (YYYY-MM-DD), in the API's order."""
        day = iso_day(date, "date")
        url = f"{self.base_url}/api/daily_papers"
        fetched_at = utc_timestamp(datetime.now(timezone.utc), "fetched_at", required=True)
        papers: list[Paper] = []
        seen: set[str] = set()
        position = 0
        for page in range(self.max_pages):
            response = self.client.get(url, {"date": day, "limit": self.page_size, "p": page})
            if response.status_code >= 400:
                raise BadInput(f"Hugging Face refused daily papers for {day}: HTTP {response.status_code} "
                               f"{response.text[:200]}")
            try:
                items = response.json()
            except ValueError:
                raise Unavailable(f"Hugging Face sent non-JSON for {day}: {response.text[:100]!r}") from None
            if not isinstance(items, list):
                raise Unavailable(f"Hugging Face sent a {type(items).__name__}, not a list, for {day}")
            new = 0
            for item in items:
                try:
                    paper = parse_hf_api_item(item, fetched_at, day=day, rank=position)
                except BadInput as exc:
                    self.bad.append((day, position, exc.message))
                    log.warning("daily papers %s item %d skipped: %s", day, position, exc.message)
                    position += 1
                    continue
                position += 1
                if paper.id not in seen:
                    seen.add(paper.id)
                    papers.append(paper)
                    new += 1
            # A short page is the last; a page with nothing new means the API ignored `p`.
            if len(items) < self.page_size or new == 0:
                break
        return papers

    def fetch_links(self, papers: list[Paper]) -> list[Paper]:
        """The papers with the models, datasets and Spaces that link them (``hf_links``), one
        ``/api/papers/{id}`` request each. They are extras: a paper HF has no page for (404), or
        whose answer is unreadable, stays as it was (the latter reported in ``bad``), and once HF
        stops answering the rest are left as they are, so the day's papers are never lost for them."""
        out: list[Paper] = []
        for position, paper in enumerate(papers):
            if self.links_left_out:
                return out + papers[position:]
            day = paper.feed_entry.day if paper.feed_entry else ""
            try:
                links = self._links(paper.id)
            except Stopped:
                raise
            except Unavailable as exc:
                self.bad.append((day, position, f"linked repositories left out: {exc.message}"))
                log.warning("linked repositories left out from %s on: %s", paper.id, exc.message)
                self.links_left_out = True
                return out + papers[position:]
            except BadInput as exc:
                self.bad.append((day, position, f"{paper.id} linked repositories: {exc.message}"))
                links = None
            out.append(dataclasses.replace(paper, hf_links=links) if links is not None else paper)
        return out

    def _links(self, paper_id: str) -> dict[str, dict] | None:
        response = self.client.get(f"{self.base_url}/api/papers/{paper_id}")
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise BadInput(f"HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise BadInput(f"not JSON: {response.text[:60]!r}") from None
        return parse_hf_links(answer)
