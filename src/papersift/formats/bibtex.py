"""BibTeX for a paper, in the shape arXiv's own "Export BibTeX citation" gives (@misc + eprint)."""

from __future__ import annotations

import re
import unicodedata

from papersift.model import Paper

_KEY_WORD = re.compile(r"[A-Za-z]{3,}")
_SKIP = {"the", "and", "for", "with", "from", "towards", "toward", "via", "are", "how", "what", "when"}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _braced(text: str) -> str:
    """A value safe inside { }: unbalanced braces would end the field early, so drop them then."""
    text = " ".join(text.split())
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "").replace("}", "")
    return text


def cite_key(paper: Paper) -> str:
    last = ""
    if paper.authors:
        last = re.sub(r"[^A-Za-z]", "", _ascii(paper.authors[0].split()[-1])).lower()
    year = (paper.published or "")[:4]
    words = [w.lower() for w in _KEY_WORD.findall(_ascii(paper.title or "")) if w.lower() not in _SKIP]
    key = f"{last or 'anon'}{year}{words[0] if words else ''}"
    return key or re.sub(r"[^A-Za-z0-9]", "", paper.id)


def bibtex(paper: Paper) -> str:
    fields = [("title", "{" + _braced(paper.title or paper.id) + "}")]  # double braces keep capitals
    if paper.authors:
        fields.append(("author", " and ".join(_braced(a) for a in paper.authors)))
    if paper.published:
        fields.append(("year", paper.published[:4]))
    if ":" not in paper.id:  # an arXiv paper, not a namespaced corpus document
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", paper.categories[0]))
        fields.append(("url", f"https://arxiv.org/abs/{paper.id}"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{cite_key(paper)},\n{body}\n}}"
