"""arXiv: the listing archive (JSONL) and the OAI-PMH harvester.

OAI-PMH (https://www.openarchives.org/OAI/openarchivesprotocol.html) as arXiv serves it at
https://oaipmh.arxiv.org/oai (the old http://export.arxiv.org/oai2 moved there in 2025):
``verb=ListRecords&metadataPrefix=arXiv[&from&until&set]`` returns one page of records and a
``resumptionToken``; the next page is ``verb=ListRecords&resumptionToken=...`` alone; an empty
token element marks the last page. Flow control is HTTP 503 with ``Retry-After`` seconds.
Protocol errors come back as ``<error code="...">`` in an otherwise normal response.

The harvester yields one :class:`HarvestPage` per response together with the cursor that
resumes *after* it. The caller commits the page's papers and that cursor in one transaction,
so a harvest killed at any point restarts exactly at the first page it had not committed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field as dc_field
from datetime import date
from typing import Any, Callable, Iterator
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from papersift.errors import BadInput, NotFound, Unavailable
from papersift.ids import parse_arxiv_id
from papersift.ingest.fields import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    clean_text,
    field,
    iso_day,
    paper_id,
    require_object,
    text_list,
    title_text,
    utc_timestamp,
)
from papersift.ingest.http import LiveSource, RetryingClient
from papersift.ingest.schedule import listing_day_of_submission_date, listing_weekday
from papersift.model import Paper

DEFAULT_OAI_URL = "https://oaipmh.arxiv.org/oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARX = "{http://arxiv.org/OAI/arXiv/}"
_SET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$")


def parse_arxiv_jsonl(obj: Any) -> Paper:
    """One line of ``arxiv-cs-*.jsonl``: a paper as the daily listings announced it.

    The archive knows announcement days only: ``published`` is the first listing day (the
    merge ranks it below OAI/HF for that field) and ``observed_at`` the last one. The days are
    those a daily listing showed the paper on, weekends included (the feeds keep Friday's listing
    until Monday), so each folds onto its weekday listing; the first is the paper's announcement,
    any later one a replacement (a new version listed again).
    """
    obj = require_object(obj)
    pid, version = paper_id(field(obj, "id", required=True), "id")
    days = obj.get("listing_dates")
    if days is not None and not isinstance(days, list):
        raise BadInput(f"listing_dates must be a list, got {type(days).__name__}")
    days = [iso_day(d, f"listing_dates[{i}]") for i, d in enumerate(days or [])]
    first = iso_day(obj.get("first_listing_date"), "first_listing_date", required=not days)
    known = days + ([first] if first else [])
    listings = sorted({listing_weekday(date.fromisoformat(day)).isoformat() for day in known})
    listed = listing_weekday(date.fromisoformat(first)).isoformat() if first else listings[0]
    return Paper(
        id=pid, version=version,
        title=title_text(obj.get("title"), "title"),
        abstract=clean_text(obj.get("abstract"), "abstract", MAX_TEXT_CHARS),
        authors=text_list(obj.get("authors"), "authors"),
        categories=text_list(obj.get("categories"), "categories"),
        comment=clean_text(obj.get("comment"), "comment", MAX_TEXT_CHARS),
        published=utc_timestamp(first or min(known), "first_listing_date"),
        listed=listed, replaced=[day for day in listings if day > listed],
        source="arxiv-jsonl", observed_at=utc_timestamp(max(known), "listing_dates"),
    )


def _text(parent: Element, tag: str) -> str | None:
    child = parent.find(ARX + tag)
    return child.text if child is not None else None


def parse_arxiv_metadata(meta: Element, datestamp: str | None) -> Paper:
    """An ``<arXiv xmlns="http://arxiv.org/OAI/arXiv/">`` element -> Paper (source arxiv-oai)."""
    pid, version = paper_id(_text(meta, "id"), "id")
    authors = []
    for author in meta.iterfind(f"{ARX}authors/{ARX}author"):
        parts = [clean_text(_text(author, tag), f"author {tag}", MAX_NAME_CHARS)
                 for tag in ("forenames", "keyname", "suffix")]
        name = " ".join(p for p in parts if p)
        if name:
            authors.append(name)
    versions = meta.findall(ARX + "version")  # only arXivRaw lists versions; arXiv does not
    categories = (clean_text(_text(meta, "categories"), "categories") or "").split()
    created = iso_day(clean_text(_text(meta, "created"), "created"), "created", required=False)
    return Paper(
        id=pid, version=len(versions) or version,
        title=title_text(_text(meta, "title"), "title"),
        abstract=clean_text(_text(meta, "abstract"), "abstract", MAX_TEXT_CHARS),
        authors=authors, categories=categories,
        comment=clean_text(_text(meta, "comments"), "comments", MAX_TEXT_CHARS),
        published=utc_timestamp(clean_text(_text(meta, "created"), "created"), "created"),
        # an estimate from the submission date (no time): arXiv's own listings, when ingested, win
        listed=_estimated_listing(created),
        source="arxiv-oai", observed_at=utc_timestamp(datestamp, "header datestamp", required=True),
    )


def _estimated_listing(created: str | None) -> str | None:
    if created is None:
        return None
    try:
        return listing_day_of_submission_date(date.fromisoformat(created)).isoformat()
    except OverflowError:  # submitted on the calendar's last days: no listing day after them
        return None


@dataclass
class OAIPage:
    """One parsed ListRecords response."""

    papers: list[Paper] = dc_field(default_factory=list)
    bad: list[tuple[int, BadInput]] = dc_field(default_factory=list)
    token: str | None = None  # None: this was the last page
    error: tuple[str, str] | None = None  # (code, message) of an OAI-PMH <error>
    total: int | None = None  # the token's completeListSize: records in the whole list, when the server says


def parse_oai_page(body: bytes) -> OAIPage:
    """Parse a ListRecords response; raise Unavailable when it is not OAI-PMH XML at all."""
    try:
        root = fromstring(body)  # defusedxml: entity expansion and external entities refused
    except DefusedXmlException as exc:
        raise Unavailable(f"arXiv OAI-PMH sent XML with forbidden constructs ({type(exc).__name__})") from None
    except ParseError as exc:
        raise Unavailable(f"arXiv OAI-PMH sent malformed XML ({exc}); start: {body[:80]!r}") from None
    if root.tag != OAI + "OAI-PMH":
        raise Unavailable(f"not an OAI-PMH response: root element is {root.tag!r}")
    page = OAIPage()
    error = root.find(OAI + "error")
    if error is not None:
        page.error = (error.get("code") or "unknown", " ".join((error.text or "").split()))
        return page
    listing = root.find(OAI + "ListRecords")
    if listing is None:
        raise Unavailable("OAI-PMH response has neither <ListRecords> nor <error>")
    for number, record in enumerate(listing.iterfind(OAI + "record"), start=1):
        header = record.find(OAI + "header")
        ident = header.findtext(OAI + "identifier") if header is not None else None
        try:
            if header is None:
                raise BadInput("record has no <header>")
            if header.get("status") == "deleted":
                continue  # withdrawn from OAI: nothing to store
            meta = record.find(f"{OAI}metadata/{ARX}arXiv")
            if meta is None:
                raise BadInput("no <arXiv> metadata (wrong metadataPrefix?)")
            page.papers.append(parse_arxiv_metadata(meta, header.findtext(OAI + "datestamp")))
        except BadInput as exc:
            page.bad.append((number, BadInput(f"record {number} ({ident or 'no identifier'}): {exc.message}")))
    token = listing.find(OAI + "resumptionToken")
    if token is not None:  # an empty element ends an incomplete list; no element: one-page list
        page.token = (token.text or "").strip() or None
        size = (token.get("completeListSize") or "").strip()
        page.total = int(size) if size.isascii() and size.isdigit() and len(size) <= 12 else None
    return page


def parse_oai_record(body: bytes, arxiv_id: str, status: int = 200) -> Paper:
    """Parse a GetRecord response for ``arxiv_id``; raise NotFound, BadInput or Unavailable."""
    try:
        root = fromstring(body)
    except (DefusedXmlException, ParseError) as exc:
        detail = f"HTTP {status}" if status != 200 else f"malformed XML ({type(exc).__name__})"
        raise Unavailable(f"arXiv OAI-PMH GetRecord {arxiv_id}: {detail}") from None
    if root.tag != OAI + "OAI-PMH":
        raise Unavailable(f"not an OAI-PMH response: root element is {root.tag!r}")
    error = root.find(OAI + "error")
    if error is not None:
        code, message = error.get("code") or "unknown", " ".join((error.text or "").split())
        if code == "idDoesNotExist":
            raise NotFound(f"arXiv has no paper {arxiv_id}")
        raise BadInput(f"arXiv OAI-PMH error {code}: {message or 'no message'}")
    record = root.find(f"{OAI}GetRecord/{OAI}record")
    header = record.find(OAI + "header") if record is not None else None
    if record is None or header is None:
        raise Unavailable(f"arXiv OAI-PMH GetRecord {arxiv_id}: no <record> in the response")
    if header.get("status") == "deleted":
        raise NotFound(f"arXiv paper {arxiv_id} has been withdrawn from OAI-PMH")
    meta = record.find(f"{OAI}metadata/{ARX}arXiv")
    if meta is None:
        raise Unavailable(f"arXiv OAI-PMH GetRecord {arxiv_id}: no <arXiv> metadata")
    paper = parse_arxiv_metadata(meta, header.findtext(OAI + "datestamp"))
    if paper.id != arxiv_id:
        raise Unavailable(f"arXiv OAI-PMH answered GetRecord {arxiv_id} with paper {paper.id}")
    return paper


@dataclass
class HarvestPage:
    papers: list[Paper]
    bad: list[tuple[int, BadInput]]
    cursor: dict | None  # resumes after this page; None once the list is complete
    total: int | None = None  # records in the whole list (OAI-PMH completeListSize), when known


class OAIHarvester(LiveSource):
    """ListRecords over arXiv's OAI-PMH, one page per yield, resumable from a saved cursor."""

    def __init__(self, base_url: str = DEFAULT_OAI_URL, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, timeout: float = 120.0,
                 max_attempts: int = 6, max_wait: float = 600.0, polite_delay: float = 1.0):
        self.base_url = base_url
        # arXiv's flow control asks for minutes, not seconds: start backing off at 5 s
        self.client = RetryingClient("arXiv OAI-PMH", http=http, user_agent="papersift (+OAI-PMH harvest)",
                                     timeout=timeout, max_attempts=max_attempts, max_wait=max_wait,
                                     backoff=5.0, sleep=sleep)
        self.sleep = sleep
        self.polite_delay = polite_delay  # pause between pages: arXiv asks harvesters to go slowly

    def harvest(self, from_date: str | None = None, until_date: str | None = None,
                set_spec: str | None = None, cursor: dict | None = None) -> Iterator[HarvestPage]:
        """Yield pages until the list is complete; ``cursor`` continues a stopped harvest."""
        state = self._start(from_date, until_date, set_spec, cursor)
        if state is None:
            return  # the saved cursor says this harvest already finished
        first = True
        while True:
            if not first and self.polite_delay:
                self.sleep(self.polite_delay)
            first = False
            if state["resumption_token"]:
                params = {"verb": "ListRecords", "resumptionToken": state["resumption_token"]}
            else:
                params = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
                for key in ("from", "until", "set"):
                    if state[key]:
                        params[key] = state[key]
            page = self._fetch_page(params, state["pages"] + 1)
            if page.error is not None:
                code, message = page.error
                if code == "noRecordsMatch":  # an empty result, not a failure
                    yield HarvestPage([], [], None)
                    return
                hint = " (the saved cursor has expired: restart this harvest)" if code == "badResumptionToken" else ""
                raise BadInput(f"arXiv OAI-PMH error {code}: {message or 'no message'}{hint}")
            if page.token is None:
                yield HarvestPage(page.papers, page.bad, None, page.total)
                return
            state = {**state, "resumption_token": page.token, "pages": state["pages"] + 1}
            yield HarvestPage(page.papers, page.bad, dict(state), page.total)

    def _start(self, from_date, until_date, set_spec, cursor) -> dict | None:
        if cursor is None:
            start = iso_day(from_date, "from date", required=False)
            end = iso_day(until_date, "until date", required=False)
            if start and end and start > end:
                raise BadInput(f"from date {start} is after until date {end}")
            if set_spec is not None and not _SET.match(set_spec):
                raise BadInput(f"not an OAI set spec: {set_spec!r:.70} (e.g. cs, physics:hep-th)")
            return {"from": start, "until": end, "set": set_spec, "resumption_token": None, "pages": 0}
        if not isinstance(cursor, dict):
            raise BadInput(f"harvest cursor must be a dict, got {type(cursor).__name__}")
        if cursor.get("done"):
            return None
        token, pages = cursor.get("resumption_token"), cursor.get("pages", 0)
        if not isinstance(token, str) or not token.strip():
            raise BadInput("harvest cursor has no resumption_token")
        if isinstance(pages, bool) or not isinstance(pages, int) or pages < 0:
            raise BadInput(f"harvest cursor has a bad page count: {pages!r:.40}")
        for key, given in (("from", from_date), ("until", until_date), ("set", set_spec)):
            if given is not None and cursor.get(key) is not None and given != cursor.get(key):
                raise BadInput(f"harvest cursor is for {key}={cursor.get(key)!r}, not {given!r}")
        return {"from": cursor.get("from"), "until": cursor.get("until"), "set": cursor.get("set"),
                "resumption_token": token, "pages": pages}

    def _fetch_page(self, params: dict, number: int) -> OAIPage:
        return self._page_from(self._request(params, f"page {number}"), number)

    def _request(self, params: dict, what: str) -> httpx.Response:
        """GET, retrying 503/429/5xx after Retry-After and network errors (bounded)."""
        saved = "the cursor is saved, " if what.startswith("page") else ""
        return self.client.get(self.base_url, params, what=what,
                               gave_up="{source} answered HTTP {status} {attempts} times ({what}); "
                                       + saved + "retry later")

    def get_record(self, arxiv_id: str) -> Paper:
        """One paper by id (``verb=GetRecord``, metadataPrefix arXiv): what a submission fetches.

        An id arXiv does not know is NotFound (OAI-PMH ``idDoesNotExist``); a malformed id is
        BadInput before any request is made.
        """
        pid = parse_arxiv_id(arxiv_id)[0]
        response = self._request({"verb": "GetRecord", "identifier": f"oai:arXiv.org:{pid}",
                                  "metadataPrefix": "arXiv"}, f"GetRecord {pid}")
        return parse_oai_record(response.content, pid, response.status_code)

    def _page_from(self, response: httpx.Response, number: int) -> OAIPage:
        status = response.status_code
        try:
            page = parse_oai_page(response.content)
        except Unavailable as exc:
            if status != 200:
                raise Unavailable(f"arXiv OAI-PMH answered HTTP {status} (page {number}): "
                                  f"{response.text[:200]}") from None
            raise Unavailable(f"page {number}: {exc.message}") from None
        if status != 200 and page.error is None:  # some servers send OAI errors with a 4xx
            raise Unavailable(f"arXiv OAI-PMH answered HTTP {status} (page {number})")
        return page
