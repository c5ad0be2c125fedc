"""The Highwire Press ``citation_*`` meta tags of a paper page: what Google Scholar's indexer and
Zotero's connector ("Embedded Metadata") read to know a page is a paper and save it correctly.

Google Scholar asks for ``citation_title``, one ``citation_author`` per author and
``citation_publication_date`` (``YYYY/MM/DD``), and uses ``citation_pdf_url`` for the full text;
arXiv's own pages add ``citation_online_date``, ``citation_arxiv_id`` and ``citation_abstract``,
and Zotero reads ``citation_doi`` and ``citation_abstract_html_url`` too. Authors are written
"Family, Given" as arXiv writes them, so that a reader need not guess where the family name
starts. The template escapes every value (autoescaping).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from papersift.formats.citation import date_parts, doi, is_arxiv, one_line, pdf_url, split_name
from papersift.model import Paper
from papersift.web.session import site_base


def citation_meta(request: Request, paper: Paper) -> list[tuple[str, str]]:
    """(name, content) pairs, in the order Google Scholar's guidelines list them."""
    tags = [("citation_title", one_line(paper.title) or paper.id)]
    tags += [("citation_author", split_name(a).inverted) for a in paper.authors or [] if one_line(a)]
    parts = date_parts(paper)
    if parts:
        day = "/".join(f"{p:02d}" for p in parts)
        tags += [("citation_publication_date", day), ("citation_online_date", day)]
    if is_arxiv(paper):
        tags += [(name, value) for name, value in (("citation_arxiv_id", paper.id), ("citation_doi", doi(paper)),
                                                   ("citation_pdf_url", pdf_url(paper))) if value is not None]
    tags.append(("citation_abstract_html_url", site_base(request) + "/papers/" + quote(paper.id, safe="/:")))
    if one_line(paper.abstract):
        tags.append(("citation_abstract", one_line(paper.abstract)))
    return tags
