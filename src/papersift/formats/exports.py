"""Exports by format name: the one call the interfaces make (web, CLI, the JSON API).

``render(service, viewer, target, "bibtex")`` asks the front door which papers the target holds
(``service.exports.select``: hidden papers left out, the library the viewer's own) and writes
them; it returns ``(body bytes, Content-Type, file name)``. The format is checked first, so a
typo costs no search. Formats: bibtex (.bib), ris (.ris), csl-json (.json), csv (.csv).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple

from papersift.errors import BadInput
from papersift.formats import csl_json
from papersift.formats.bibtex import bibtex_entries
from papersift.formats.csv_export import csv_text
from papersift.formats.ris import ris
from papersift.model import Paper, User
from papersift.service.exports import ExportTarget


@dataclass(frozen=True)
class Format:
    write: Callable[[list[Paper]], str]
    content_type: str
    extension: str
    encoding: str = "utf-8"


FORMATS: dict[str, Format] = {
    "bibtex": Format(bibtex_entries, "application/x-bibtex; charset=utf-8", "bib"),
    "ris": Format(ris, "application/x-research-info-systems; charset=utf-8", "ris"),
    "csl-json": Format(csl_json.csl_json, f"{csl_json.MEDIA_TYPE}; charset=utf-8", "json"),
    # utf-8-sig: the byte-order mark tells Excel the file is UTF-8 (csv.reader with utf-8-sig drops it)
    "csv": Format(csv_text, "text/csv; charset=utf-8; header=present", "csv", "utf-8-sig"),
}


class Rendered(NamedTuple):
    body: bytes
    content_type: str
    filename: str


def check_format(name: str | None) -> Format:
    """The format called ``name``; BadInput listing the formats for anything else."""
    found = FORMATS.get((name or "").strip().lower())
    if found is None:
        raise BadInput(f"unknown export format {str(name)[:40]!r}: use one of {', '.join(FORMATS)}")
    return found


def render_papers(papers: Iterable[Paper], fmt: str, stem: str) -> Rendered:
    spec = check_format(fmt)
    return Rendered(spec.write(list(papers)).encode(spec.encoding), spec.content_type, f"{stem}.{spec.extension}")


def render(service, viewer: User | None, target: ExportTarget, fmt: str) -> Rendered:
    """``service``: the front door (``papersift.service.Papersift``)."""
    check_format(fmt)
    selection = service.exports.select(viewer, target)
    return render_papers(selection.papers, fmt, selection.stem)
