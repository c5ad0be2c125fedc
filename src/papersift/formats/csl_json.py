"""CSL-JSON for papers: the input format of citeproc (Zotero, Pandoc, Mendeley's styles).

Each paper is an ``article`` (CSL's type for preprints and working papers) with arXiv as the
publisher and ``arXiv:ID`` as its number, as Zotero writes a preprint; the cite key is the
BibTeX one, so a document can move between the two without renaming its citations. Only fields
the official schema (``csl-data.json``, which allows no others) declares are written; the tests
validate against it.
"""

from __future__ import annotations

import json
from typing import Iterable

from papersift.formats.bibtex import unique_keys
from papersift.formats.citation import abs_url, date_parts, doi, is_arxiv, one_line, split_name
from papersift.model import Paper

MEDIA_TYPE = "application/vnd.citationstyles.csl+json"


def csl_name(raw: str) -> dict:
    name = split_name(raw)
    if not name.given:  # one word ("Anonymous", a consortium): printed as it is
        return {"literal": name.family}
    out = {"family": name.family, "given": name.given}
    if name.suffix:
        out["suffix"] = name.suffix
    return out


def csl_item(paper: Paper, key: str) -> dict:
    item: dict = {"id": paper.id, "type": "article", "citation-key": key,
                  "title": one_line(paper.title) or paper.id}
    authors = [csl_name(a) for a in paper.authors or [] if one_line(a)]
    if authors:
        item["author"] = authors
    parts = date_parts(paper)
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if one_line(paper.abstract):
        item["abstract"] = one_line(paper.abstract)
    if paper.categories:
        item["keyword"] = ", ".join(one_line(c) for c in paper.categories)
    if is_arxiv(paper):
        item.update(publisher="arXiv", number=f"arXiv:{paper.id}", DOI=doi(paper), URL=abs_url(paper))
    if one_line(paper.comment):
        item["note"] = one_line(paper.comment)
    venue = paper.venue
    if venue is not None:
        item["type"] = "article-journal" if venue.track == "journal" else "paper-conference"
        item["container-title"] = venue.name if venue.track == "journal" else venue.label
    return item


def csl_items(papers: Iterable[Paper]) -> list[dict]:
    papers = list(papers)
    return [csl_item(p, k) for p, k in zip(papers, unique_keys(papers), strict=True)]


def csl_json(papers: Iterable[Paper]) -> str:
    return json.dumps(csl_items(papers), ensure_ascii=False, indent=2) + "\n"
