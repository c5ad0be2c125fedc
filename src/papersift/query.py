"""The user query syntax and the structured filters, parsed by hand into plain data.

Syntax (whitespace separates parts; everything else is text):

* ``words``            free terms: ranked with BM25, OR semantics (a paper needs one of them)
* ``"exact phrase"``   required: every result contains the phrase (title, abstract or authors)
* ``-word -"phrase"``  excluded: no result contains them
* ``author:NAME``      ``author:"Yann LeCun"``: required, matched as a phrase in the authors
* ``title:WORD``       ``title:"a phrase"``: required in the title (stemmed like the title)
* ``cat:cs.LG``        required arXiv category (exact, case-insensitive)
* ``org:NAME``         required organisation (the name's words, as a phrase)
* ``id:2405.15738``    only these papers (repeated ``id:`` values are any-of; ``arxiv:`` = ``id:``)

"AND-ish": a result matches at least one free term (OR, ranked by BM25), every phrase and
field filter, and no exclusion. Adding anything but a free term only narrows the results.
(Semantic search checks only the required parts and exclusions: its candidates need not
contain the words.)
Repeated field filters all apply (``cat:cs.LG cat:cs.CV`` = papers in both), except ``id:``.
A query of only field filters lists every paper that satisfies them.

Only ``word:`` where *word* is alphabetic is a field: ``3:1``, ``10:30`` and URLs stay text, and
a known field followed by a space (``Title: ...`` in a sentence) is text too. A known field with
an empty value (``author:""``, or ``author:`` ending the query) is an error naming the field. An unknown
alphabetic field with a value (``foo:bar``) is an error naming the fields, since silently
searching for "foo bar" would hide the typo. Natural-language questions (punctuation, commas,
question marks) parse as free terms.

This module only parses; :mod:`papersift.index.lexical.bm25` turns the result into tantivy queries.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from papersift.errors import BadInput
from papersift.model import normalize_paper_id

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 64  # distinct content words + phrases + filters; stopwords do not count

FIELDS = ("author", "title", "cat", "org", "id", "venue")
_ALIASES = {
    "author": "author", "authors": "author",
    "title": "title",
    "cat": "cat", "category": "cat", "categories": "cat",
    "org": "org", "organization": "org", "organisation": "org",
    "id": "id", "arxiv": "id",
    "venue": "venue",
}
# A venue as its page names it: "NeurIPS-2025", "NeurIPS", "EMNLP-2025-Findings" (papersift.venues)
_VENUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,79}", re.ASCII)
_URL_SCHEMES = {"http", "https", "ftp", "ftps", "file", "mailto", "doi", "urn"}
# A category as arXiv spells it: "cs.LG", "math.OC", "hep-th", "q-bio.NC", "stat.ML".
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$", re.IGNORECASE)
_FIELD_TOKEN = re.compile(r"^([A-Za-z]+):(.*)$", re.DOTALL)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)  # ASCII: "\d" alone takes "٢" too
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_EDGE_PUNCT = ",;!?()[]{}<>'"

# Words too common to rank on. Dropped from the *ranked* terms only (phrases keep them), and
# not counted towards MAX_QUERY_TERMS, so long natural-language questions stay within bounds.
STOPWORDS = frozenset("""
a an and are as at be but by for if in into is it no not of on or such that the their then
there these they this to was will with what which who whom whose how why when where i am me my
we our us you your he she his her its do does did can could would should shall may might must
has have had been being from about any all some so than too very also there's i'm it's
""".split())


@dataclass
class ParsedQuery:
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded_terms: list[str] = field(default_factory=list)
    excluded_phrases: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)  # canonical name -> values

    @property
    def free_text(self) -> str:
        """The positive text (terms, then phrases) that semantic search embeds."""
        return " ".join(self.terms + self.phrases)

    @property
    def has_required(self) -> bool:
        return bool(self.phrases or self.fields)


@dataclass
class Filters:
    """Structured filters. Dates are checked (:meth:`validate`): a malformed or impossible day is
    BadInput, and so is ``date_from`` after ``date_to`` (an empty range is a mistake worth
    saying, not an empty page). Any real day from 0001-01-01 to 9999-12-31 is accepted: days
    beyond the papers' (or the index's) range simply match nothing, or everything."""

    date_from: str | None = None  # YYYY-MM-DD, inclusive, on `published`
    date_to: str | None = None    # YYYY-MM-DD, inclusive
    categories: list[str] = field(default_factory=list)  # any-of
    organization: str | None = None
    has_code: bool | None = None

    def is_empty(self) -> bool:
        return not (self.date_from or self.date_to or self.categories or self.organization
                    or self.has_code is not None)

    def validate(self) -> "Filters":
        start = _parse_date(self.date_from, "from")
        end = _parse_date(self.date_to, "to")
        if start and end and start > end:
            raise BadInput(f"date range is empty: from {self.date_from} is after to {self.date_to}")
        for cat in self.categories or []:
            if not isinstance(cat, str) or not _CATEGORY.match(cat.strip()):
                raise BadInput(f"not an arXiv category: {str(cat)[:40]!r} (expected e.g. cs.LG)")
        if self.organization is not None:
            if not isinstance(self.organization, str) or len(self.organization) > 200:
                raise BadInput("organization must be a name of at most 200 characters")
            _check_control(self.organization, "organization")
        if self.has_code is not None and not isinstance(self.has_code, bool):
            raise BadInput("has_code must be true or false")
        return self


def _parse_date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise BadInput(f"{name} date must be YYYY-MM-DD, got {str(value)[:40]!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{name} date is not a real day: {value}") from None


def _check_control(text: str, what: str = "query") -> None:
    for ch in text:
        if ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cs"):
            raise BadInput(f"{what} contains a control character (U+{ord(ch):04X})")


def content_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` that carry meaning (letters/digits, not stopwords)."""
    words = re.findall(r"\w+", text.lower())
    return [w for w in words if w not in STOPWORDS and not (w == "_" * len(w))]


def _has_text(word: str) -> bool:
    return any(ch.isalnum() for ch in word)


def parse_query(text: str) -> ParsedQuery:
    """Parse the user syntax (module docstring); raise :class:`BadInput` with one line."""
    if not isinstance(text, str):
        raise BadInput("query must be text")
    if len(text) > MAX_QUERY_CHARS:
        raise BadInput(f"query too long ({len(text)} characters, at most {MAX_QUERY_CHARS})")
    _check_control(text)
    text = text.translate(_QUOTES)
    if not text.strip():
        raise BadInput('empty query: type some words, a "phrase" or a filter such as cat:cs.LG')
    if text.count('"') % 2:
        raise BadInput('unbalanced quote: close every " (e.g. "exact phrase")')

    q = ParsedQuery()
    n, i = len(text), 0
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negate = text[i] == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-"
        if negate:
            i += 1
        if text[i] == '"':
            end = text.index('"', i + 1)  # balanced: counted above
            phrase = " ".join(text[i + 1:end].split())
            i = end + 1
            if _has_text(phrase):
                (q.excluded_phrases if negate else q.phrases).append(phrase)
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        token = text[start:i]
        m = _FIELD_TOKEN.match(token)
        if m and _is_field(m.group(1), m.group(2), text, i):
            name, value = _ALIASES[m.group(1).lower()], m.group(2)
            if not value and i < n and text[i] == '"':  # author:"Yann LeCun": the value is the quoted phrase that follows
                end = text.index('"', i + 1)
                value = " ".join(text[i + 1:end].split())
                i = end + 1
            if negate:
                raise BadInput(f"cannot exclude a field filter (-{token}{'...' if not m.group(2) else ''}): "
                               "exclude words or phrases instead")
            q.fields.setdefault(name, []).append(_field_value(name, value, m.group(1).lower()))
            continue
        if _has_text(token):
            (q.excluded_terms if negate else q.terms).append(token)

    if not (q.terms or q.phrases or q.fields):
        if q.excluded_terms or q.excluded_phrases:
            raise BadInput("query has only exclusions (-word): add something to search for")
        raise BadInput('empty query: type some words, a "phrase" or a filter such as cat:cs.LG')
    count = (len(set(content_words(" ".join(q.terms + q.excluded_terms))))
             + len(q.phrases) + len(q.excluded_phrases) + sum(len(v) for v in q.fields.values()))
    if count > MAX_QUERY_TERMS:
        raise BadInput(f"query has too many terms ({count}, at most {MAX_QUERY_TERMS})")
    return q


def _is_field(name: str, value: str, text: str, pos: int) -> bool:
    """Whether ``name:value`` (ending at ``pos`` in ``text``) is a field filter, not text."""
    key = name.lower()
    if key in _ALIASES:
        if value or not text[pos:].strip():  # "author:" ending the query: a filter missing its value
            return True
        return text[pos] == '"'  # "Title: ..." in a sentence is text
    quoted = not value and pos < len(text) and text[pos] == '"'
    if key in _URL_SCHEMES or value.startswith("/") or not (value or quoted):
        return False
    if quoted or value[0].isalnum():
        fields = ", ".join(f"{f}:" for f in FIELDS)
        raise BadInput(f"unknown field {name}: (fields are {fields})")
    return False


def _field_value(name: str, raw: str, typed: str) -> str:
    """The checked value of field ``name`` (spelled ``typed`` by the user, for messages)."""
    value = raw.strip().strip(_EDGE_PUNCT).strip()
    if not _has_text(value):  # author:, author:"" and cat:"" alike
        example = {"cat": "cs.LG", "id": "2405.15738", "venue": "NeurIPS-2025"}.get(name)
        hint = f"{typed}:{example}" if example else f'{typed}:word or {typed}:"two words"'
        raise BadInput(f"{typed}: needs a value right after the colon (e.g. {hint})")
    if name == "cat":
        value = value.rstrip(".")
        if not _CATEGORY.match(value):
            raise BadInput(f"cat: expects an arXiv category such as cs.LG, got {raw[:40]!r}")
        return value
    if name == "venue":
        if not _VENUE.fullmatch(value):
            raise BadInput(f"venue: expects a venue such as NeurIPS-2025 or ICLR, got {raw[:40]!r}")
        return value
    if name == "id":
        try:
            return normalize_paper_id(value)
        except BadInput:
            raise BadInput(f"id: expects an arXiv id such as 2405.15738, got {raw[:40]!r}") from None
    return value


def plain_query(text: str) -> ParsedQuery:
    """Text taken literally (BEIR and other evaluation queries): every word a free term.

    No operators, no limits; control characters become spaces. Never raises.
    """
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(text))
    return ParsedQuery(terms=[w for w in text.split() if _has_text(w)])
