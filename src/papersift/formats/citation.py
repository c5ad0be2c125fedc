"""What every citation format needs to know about a paper: names split into family and given,
the arXiv identifiers and links, the date, and whitespace made safe for line-based formats.

Names arrive as one string per author, in the order the source printed them ("Yann LeCun",
"Chunjiang Gé"; sometimes "LeCun, Yann"). RIS, CSL-JSON and the Highwire ``citation_author`` tag
want family and given apart; without the source saying which is which, the last word is the
family name, with particles ("van", "de la") kept in front of it, as BibTeX itself reads a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from papersift.model import Paper

# lower-case words that belong to the family name that follows them ("Ludwig van Beethoven")
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "dos", "das",
              "ter", "ten", "zu", "af", "al", "bin", "ibn"}
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


@dataclass(frozen=True)
class Name:
    family: str
    given: str = ""
    suffix: str = ""

    @property
    def inverted(self) -> str:
        """'Family, Given' (the RIS and Google Scholar form); the family alone for a one-word name."""
        text = f"{self.family}, {self.given}" if self.given else self.family
        return f"{text}, {self.suffix}" if self.suffix else text


def one_line(text: str | None) -> str:
    """Every run of whitespace (newlines, tabs, U+2028) as one space: line-based formats (RIS,
    HTTP headers) end a value at a line break, and a value must never start a line of its own."""
    return " ".join((text or "").split())


def split_name(raw: str) -> Name:
    name = one_line(raw)
    suffix = ""
    if "," in name:
        parts = [p.strip() for p in name.split(",")]
        if len(parts) == 2 and parts[1].lower() in _SUFFIXES:  # "Given Family, Jr."
            name, suffix = parts[0], parts[1]
        elif len(parts) == 3 and parts[1].lower() in _SUFFIXES:  # "Family, Jr., Given"
            return Name(parts[0], parts[2], parts[1])
        else:  # "Family, Given"
            return Name(parts[0], " ".join(p for p in parts[1:] if p))
    words = name.split(" ")
    if len(words) > 2 and words[-1].lower() in _SUFFIXES:
        suffix, words = words[-1], words[:-1]
    if len(words) == 1:
        return Name(words[0], "", suffix)
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return Name(" ".join(words[start:]), " ".join(words[:start]), suffix)


def is_arxiv(paper: Paper) -> bool:
    """An arXiv paper, not a namespaced corpus document (``scifact:4983``)."""
    return ":" not in paper.id


def abs_url(paper: Paper) -> str | None:
    return f"https://arxiv.org/abs/{paper.id}" if is_arxiv(paper) else None


def pdf_url(paper: Paper) -> str | None:
    return f"https://arxiv.org/pdf/{paper.id}" if is_arxiv(paper) else None


def doi(paper: Paper) -> str | None:
    """arXiv's DataCite DOI, registered for every arXiv paper (old-style ids too: 10.48550/arXiv.hep-th/9901001)."""
    return f"10.48550/arXiv.{paper.id}" if is_arxiv(paper) else None


def date_parts(paper: Paper) -> list[int]:
    """[year, month, day] of the publication date, as far as it is known; [] without one."""
    text = (paper.published or "")[:10]
    parts = []
    for piece in text.split("-")[:3]:
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return parts
