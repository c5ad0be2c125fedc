"""RIS for papers, written by ``rispy`` (the library the importer reads RIS with).

RIS is one ``TAG  - value`` per line and has no escaping, so every value is put on one line
first (a newline in an abstract would otherwise start a line that is read as a tag, or end the
record at an ``ER  -``). A paper is ``TY  - UNPB`` (the RIS type for unpublished work, the nearest
to a preprint) with arXiv as publisher and database, the id as accession number (``AN``), DOI,
links and the PDF (``L1``); an author is "Family, Given", as RIS readers split it.
"""

from __future__ import annotations

from typing import Iterable

import rispy

from papersift.formats.citation import abs_url, date_parts, doi, is_arxiv, one_line, pdf_url, split_name
from papersift.model import Paper


class _Writer(rispy.RisWriter):
    def set_header(self, count: int) -> str:
        return ""  # rispy numbers each record ("1."); other readers take that line for garbage


def ris_record(paper: Paper) -> dict:
    """The record as rispy's field names have it (``rispy.TAG_KEY_MAPPING``)."""
    record: dict = {"type_of_reference": "UNPB", "title": one_line(paper.title) or paper.id}
    authors = [split_name(a).inverted for a in paper.authors or [] if one_line(a)]
    if authors:
        record["authors"] = authors
    parts = date_parts(paper)
    if parts:
        record["year"] = str(parts[0])
        record["date"] = "/".join(f"{p:02d}" for p in parts)  # DA: YYYY/MM/DD
    if one_line(paper.abstract):
        record["abstract"] = one_line(paper.abstract)
    if paper.categories:
        record["keywords"] = [one_line(c) for c in paper.categories if one_line(c)]
    if is_arxiv(paper):
        record.update(publisher="arXiv", name_of_database="arXiv", accession_number=f"arXiv:{paper.id}",
                      doi=doi(paper), urls=[abs_url(paper)], file_attachments1=pdf_url(paper))
    else:
        record["id"] = paper.id
    notes = [one_line(paper.comment)] if one_line(paper.comment) else []
    code = paper.code_url  # Hugging Face's repository, else one the abstract or comment links
    if code and code.startswith(("https://", "http://")):
        notes.append(f"Code: {one_line(code)}")
    if notes:
        record["notes"] = notes
    venue = paper.venue
    if venue is not None:  # a paper the comment says appeared somewhere: a conference paper or an article
        record["type_of_reference"] = "JOUR" if venue.track == "journal" else "CPAPER"
        record["secondary_title"] = venue.name if venue.track == "journal" else venue.label
    return record


def ris(papers: Iterable[Paper]) -> str:
    return rispy.dumps([ris_record(p) for p in papers], implementation=_Writer)
