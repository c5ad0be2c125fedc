"""CSV for papers: one row per paper, for spreadsheets and scripts (RFC 4180, stdlib ``csv``).

Every cell is quoted, so commas, quotes and line breaks inside a title or an abstract survive
(``csv.reader`` gives them back). Spreadsheets run a cell that starts with ``=``, ``+``, ``-``
or ``@`` (or a tab, a carriage return, a line feed, a NUL, or their full-width forms) as a
formula, and titles and author names are text anyone can submit, so such a cell gets a leading
``'`` (the OWASP CSV-injection guidance; ASVS 5.0 requirement 1.2.10). A reader that wants the
exact text strips one leading ``'`` from a cell whose second character is one of those.
Lists (authors, categories) are joined with "; ". The file is UTF-8 with a byte-order mark
(``formats.exports`` encodes it), without which Excel reads UTF-8 as the local code page.
"""

from __future__ import annotations

import csv
import io
from typing import Iterable

from papersift.formats.bibtex import unique_keys
from papersift.formats.citation import abs_url, doi, pdf_url
from papersift.model import Paper

COLUMNS = ("id", "title", "authors", "published", "categories", "abstract", "url", "pdf_url", "doi",
           "organization", "github_repo", "project_page", "upvotes", "comment", "cite_key")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")
LIST_SEPARATOR = "; "


def safe_cell(value) -> str:
    """A cell's text, with the formula guard applied."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(paper: Paper, key: str) -> dict:
    return {"id": paper.id, "title": paper.title, "authors": LIST_SEPARATOR.join(paper.authors or []),
            "published": paper.published_date, "categories": LIST_SEPARATOR.join(paper.categories or []),
            "abstract": paper.abstract, "url": abs_url(paper), "pdf_url": pdf_url(paper), "doi": doi(paper),
            "organization": paper.organization, "github_repo": paper.github_repo,
            "project_page": paper.project_page, "upvotes": paper.upvotes, "comment": paper.comment,
            "cite_key": key}


def csv_text(papers: Iterable[Paper]) -> str:
    papers = list(papers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for paper, key in zip(papers, unique_keys(papers), strict=True):
        row = csv_row(paper, key)
        writer.writerow([safe_cell(row[c]) for c in COLUMNS])
    return buffer.getvalue()
