"""BibTeX for papers, in the shape arXiv's own "Export BibTeX citation" gives (@misc + eprint).

Why our own writer and not ``bibtexparser.write_string``: bibtexparser 2.x writes each field's
value verbatim (its default unparse stack only adds the enclosing braces), so what makes an entry
correct is all ours anyway: LaTeX specials, brace balance, names that contain "and", unique keys.
The library reads our output back in the tests (``tests/unit/test_exports.py``).

Values are TeX-aware, because arXiv titles and abstracts *are* TeX ("$\\alpha$-divergence",
"Schr\\"odinger"): a ``$...$`` pair stays math and a backslash command stays a command, while a
bare ``& % # _ ^ ~`` or a stray ``$`` or backslash is escaped so that LaTeX prints it (``~`` too:
in titles it means "about" far more often than a TeX non-breaking space). BibTeX counts
every brace (even ``\\{``) to find a field's end, so a value whose braces do not balance loses
them all. Unicode stays UTF-8 (biber and LaTeX since 2018 read it).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from papersift.formats.citation import abs_url, doi, is_arxiv, one_line, split_name
from papersift.model import Paper

_KEY_WORD = re.compile(r"[A-Za-z]{3,}")
_SKIP = {"the", "and", "for", "with", "from", "towards", "toward", "via", "are", "how", "what", "when"}
# a backslash that is TeX (a command, an accent, an escaped special), else a character to escape
_TEXT_TOKEN = re.compile(r"\\(?:[A-Za-z]+|['\"`^~=.&%_#${}])|\\|[&%#_^~$]|[^\\&%#_^~$]+")
_MATH_TOKEN = re.compile(r"\\.|[&%#]|[^\\&%#]+", re.DOTALL)
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
_NAMED = {"\\": r"\textbackslash{}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}
_AND = re.compile(r"\band\b", re.IGNORECASE)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _braced(text: str) -> str:
    """A value safe inside { }: unbalanced braces would end the field early, so drop them then."""
    text = one_line(text)
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "").replace("}", "")
    return text


def _escape_text(piece: str) -> str:
    out = []
    for token in _TEXT_TOKEN.findall(piece):
        if token in _NAMED:
            out.append(_NAMED[token])
        elif token in "&%#_$":
            out.append("\\" + token)
        else:
            out.append(token)
    return "".join(out)


def _escape_math(piece: str) -> str:
    # inside $...$ subscripts and commands are meant; % would still start a comment, & and # are errors
    return "".join("\\" + t if t in "&%#" else t for t in _MATH_TOKEN.findall(piece))


def tex(text: str | None) -> str:
    """A value for a braced BibTeX field (see the module docstring)."""
    text = _braced(text or "")
    pieces = _UNESCAPED_DOLLAR.split(text)
    if len(pieces) % 2 == 0:  # an odd number of $: no math here, every $ is a dollar sign
        return _escape_text(text)
    return "$".join(_escape_math(p) if i % 2 else _escape_text(p) for i, p in enumerate(pieces))


def _author(name: str) -> str:
    value = tex(name)
    return "{" + value + "}" if _AND.search(value) else value  # "R and D Team" is one name, not two


def cite_key(paper: Paper) -> str:
    if not is_arxiv(paper):  # a corpus document (scifact:4983): no authors or year, its id is the pointer back
        return re.sub(r"[^A-Za-z0-9]", "", paper.id)
    last = ""
    family = split_name(paper.authors[0]).family.split() if paper.authors and one_line(paper.authors[0]) else []
    if family:  # "van Beethoven" -> beethoven, as Google Scholar's keys have it
        last = re.sub(r"[^A-Za-z]", "", _ascii(family[-1])).lower()
    year = (paper.published or "")[:4]
    year = year if year.isdigit() else ""
    words = [w.lower() for w in _KEY_WORD.findall(_ascii(paper.title or "")) if w.lower() not in _SKIP]
    key = f"{last or 'anon'}{year}{words[0] if words else ''}"
    return key or re.sub(r"[^A-Za-z0-9]", "", paper.id)


def _fields(paper: Paper, abstract: bool) -> list[tuple[str, str]]:
    fields = [("title", "{" + tex(paper.title or paper.id) + "}")]  # double braces keep capitals
    if paper.authors:
        fields.append(("author", " and ".join(_author(a) for a in paper.authors if one_line(a))))
    year = (paper.published or "")[:4]
    if year.isdigit():
        fields.append(("year", year))
    if is_arxiv(paper):
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", tex(paper.categories[0])))
        fields += [(name, value) for name, value in (("doi", doi(paper)), ("url", abs_url(paper))) if value is not None]
    else:  # a corpus document: its id is the only pointer back
        fields.append(("note", tex(paper.id)))
    if abstract and one_line(paper.abstract):
        fields.append(("abstract", tex(paper.abstract)))
    return fields


def _entry(paper: Paper, key: str, abstract: bool) -> str:
    """@misc for a preprint; @inproceedings (booktitle) or @article (journal) when its comment names the
    venue it appeared at, so a reference manager files it where it was published."""
    fields, kind = _fields(paper, abstract), "misc"
    venue = paper.venue
    if venue is not None:
        kind, where = ("article", ("journal", tex(venue.name))) if venue.track == "journal" else \
            ("inproceedings", ("booktitle", tex(venue.label)))
        fields.insert(1 + (fields[1][0] == "author" if len(fields) > 1 else 0), where)
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}"


def bibtex(paper: Paper) -> str:
    """One entry, without the abstract (the paper page's "Cite" box)."""
    return _entry(paper, cite_key(paper), abstract=False)


def unique_keys(papers: list[Paper]) -> list[str]:
    """Cite keys, one per paper; a repeated key gets b, c, ... (then numbers), as Google Scholar does."""
    seen: set[str] = set()
    keys = []
    for paper in papers:
        base = cite_key(paper)
        key, n = base, 1
        while key in seen:
            n += 1
            key = base + (chr(ord("a") + n - 1) if n <= 26 else str(n))
        seen.add(key)
        keys.append(key)
    return keys


def bibtex_entries(papers: Iterable[Paper]) -> str:
    """A .bib file: every paper, with its abstract, keys unique within the file."""
    papers = list(papers)
    entries = [_entry(p, k, abstract=True) for p, k in zip(papers, unique_keys(papers), strict=True)]
    return "\n\n".join(entries) + ("\n" if entries else "")
