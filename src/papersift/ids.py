"""Canonical arXiv identifiers.

A paper's id is its arXiv id without version: ``2405.15738`` or ``hep-th/9901001``.
Users paste ids in every shape (``arXiv:2405.15738v2``, abs/pdf URLs, ``math.GT/0309136``),
so everything that names a paper goes through :func:`parse_arxiv_id`.
"""

from __future__ import annotations

import hashlib
import re

from papersift.errors import BadInput

# New style (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN from 2015. Ids are ASCII: without
# re.ASCII, "\d" also takes full-width and Arabic-Indic digits, which int() would then read as a real id.
_NEW = re.compile(r"^(?P<id>(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5})(?:v(?P<v>\d{1,4}))?$", re.ASCII)
# Old style: archive[.SUBJ]/YYMMNNN; the subject class is not part of the canonical id.
_OLD = re.compile(
    r"^(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{2})?/(?P<num>\d{7})(?:v(?P<v>\d{1,4}))?$", re.ASCII
)
_PREFIXES = re.compile(
    r"^(?:arxiv:|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)", re.IGNORECASE
)
MAX_ID_LENGTH = 64


def parse_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Return ``(canonical_id, version)``; raise :class:`BadInput` for anything else."""
    if not isinstance(raw, str):
        raise BadInput(f"arXiv id must be a string, got {type(raw).__name__}")
    text = raw.strip()
    if not text or len(text) > MAX_ID_LENGTH + 40:
        raise BadInput(f"not an arXiv id: {raw[:80]!r}")
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        raise BadInput(f"not an arXiv id: {raw[:80]!r}: write it with the digits 0-9")
    text = _PREFIXES.sub("", text)
    if text.lower().endswith(".pdf"):
        text = text[:-4]
    m = _NEW.match(text)
    if m:
        yy, mm = int(m["yy"]), int(m["mm"])
        digits = len(text.split(".")[1].split("v")[0])
        if not 1 <= mm <= 12 or (digits == 5) != (yy >= 15):
            raise BadInput(f"not an arXiv id: {raw[:80]!r}")
        return m["id"], int(m["v"]) if m["v"] else None
    m = _OLD.match(text)
    if m:
        mm = int(m["num"][2:4])
        if not 1 <= mm <= 12:
            raise BadInput(f"not an arXiv id: {raw[:80]!r}")
        return f"{m['archive']}/{m['num']}", int(m["v"]) if m["v"] else None
    raise BadInput(f"not an arXiv id: {raw[:80]!r}")


def canonical_id(raw: str) -> str:
    return parse_arxiv_id(raw)[0]


def is_arxiv_id(raw: str) -> bool:
    try:
        parse_arxiv_id(raw)
    except BadInput:
        return False
    return True


def paper_key(paper_id: str) -> int:
    """A 63-bit number for an id, the same in every index: the lexical index stores it as a fast field
    and the vector index maps it to rows, so a filter's passing set moves between them as an array of
    numbers instead of strings. (Two ids share a key with probability ~n^2 / 2^64: 3e-8 at 1M papers.)"""
    digest = hashlib.blake2b(paper_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


# arXiv categories: an archive (cs, math, q-bio, astro-ph) and a subject class (CL, AG, NC, optics)
_CATEGORY = re.compile(r"^[a-z]{1,12}(?:-[a-z]{2,8})?(?:\.[A-Za-z]{2,8}(?:-[A-Za-z]{2,8})?)?$", re.ASCII)


def check_category(raw: str) -> str:
    """An arXiv category name as given (``cs.CL``, ``math.AG``, ``q-bio.NC``, ``cs``), or BadInput."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not _CATEGORY.match(text):
        raise BadInput(f"{str(raw)[:40]!r} is not an arXiv category (e.g. cs.CL, math.AG, q-bio.NC, stat.ML)")
    return text
