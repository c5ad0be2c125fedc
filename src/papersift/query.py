"""The user query syntax and the structured filters, parsed by hand into plain data.

Syntax (whitespace separates parts; everything else is text; docs/QUERY.md for the reader):

* ``words``            free terms: ranked with BM25, OR semantics (a paper needs one of them)
* ``"exact phrase"``   required: every result contains the phrase (title, abstract or authors)
* ``-word -"phrase"``  excluded: no result contains them
* ``author:NAME``      ``author:"Yann LeCun"``: required, matched as a phrase in the authors
* ``title:WORD``       ``title:"a phrase"``: required in the title (stemmed like the title)
* ``cat:cs.LG``        required arXiv category (exact, case-insensitive)
* ``org:NAME``         required organisation (the name's words, as a phrase)
* ``id:2405.15738``    only these papers (repeated ``id:`` values are any-of; ``arxiv:`` = ``id:``)
* ``venue:NeurIPS-2025`` where the paper's arXiv comment says it appeared

"AND-ish": a result matches at least one free term (OR, ranked by BM25), every phrase and
field filter, and no exclusion. Adding anything but a free term only narrows the results.
(Semantic search checks only the required parts and exclusions: its candidates need not
contain the words.)
Repeated field filters all apply (``cat:cs.LG cat:cs.CV`` = papers in both), except ``id:``.
A query of only field filters lists every paper that satisfies them.

Forgiving, because people paste titles and sentences; what was read otherwise than typed comes
back in ``ParsedQuery.notes``, one line each, which every interface shows:

* Only ``word:`` where *word* is alphabetic can be a field: ``3:1``, ``10:30`` and URLs stay text,
  and a known field followed by a space (``Title: ...`` in a sentence) is text too. An unknown
  alphabetic field with a value (``SUEDE:Shared``, ``auther:hinton``) is searched as text, with a
  note naming the fields (so a typo is seen, not silently searched for).
* A pasted title: a query with quotes, no field filter and no exclusion, and at least
  ``TITLE_MIN_WORDS`` words outside its quotes (``Don't "Overthink" Passage Reranking: Is Reasoning
  Truly Necessary?``) is read as a title: its quotes are punctuation, every word a free term, an
  unpaired quote (``How "Smart'' Are ...``) included. Shorter, a quote is a required phrase.
* Past ``MAX_QUERY_TERMS`` terms the rest of the query is cut, with a note; only the raw length has a
  hard cap, ``MAX_QUERY_CHARS`` (the JSON API's documented ``maxLength``).

Still errors (one line each): a known field with an empty value (``author:""``, ``author:`` ending
the query), a bad value (``cat:cs_LG``, ``id:12345``), an excluded field, an unpaired quote in a
short query, nothing but exclusions, an empty query, control characters, text over the hard cap.
Natural-language questions (punctuation, commas, question marks) parse as free terms.
The parser makes one pass over the text (and the title check one more): linear time.

This module only parses; :mod:`papersift.index.lexical.bm25` turns the result into tantivy queries.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from papersift.errors import BadInput
from papersift.model import normalize_paper_id

MAX_QUERY_CHARS = 2000  # the hard cap on the raw text: longer is an error (the API documents it)
MAX_QUERY_TERMS = 64  # searched: distinct content words + phrases + filters (stopwords free); the rest is cut
TITLE_MIN_WORDS = 5  # words outside the quotes from which a query with quotes reads as a pasted title

FIELDS = ("author", "title", "cat", "org", "id", "venue")
FIELD_EXAMPLES = {"author": 'author:hinton, author:"Yann LeCun"', "title": 'title:transformer, title:"a phrase"',
                  "cat": "cat:cs.LG", "org": 'org:"Google DeepMind"', "id": "id:2405.15738",
                  "venue": "venue:NeurIPS-2025"}
# The syntax in a line and its limits in two, for the interfaces' help (CLI, OpenAPI, MCP)
SYNTAX = ('words (any may match), "exact phrase" (required), -word or -"phrase" (excluded), '
          + ", ".join(FIELD_EXAMPLES[f] for f in FIELDS))
LIMITS = (f"At most {MAX_QUERY_CHARS} characters; past {MAX_QUERY_TERMS} terms (words, phrases, filters) the "
          "rest is cut, with a note. An unknown word: is searched as text, with a note; so are the quotes of a "
          f"pasted title (a query with {TITLE_MIN_WORDS} or more words outside its quotes, and no filter or -word).")
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
# what makes a query with quotes a search rather than a pasted title: an exclusion or a known field
_OPERATOR = re.compile(r"(?<!\S)(?:-[^\s-]|(?:" + "|".join(_ALIASES) + r"):\S)", re.IGNORECASE)

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
    notes: list[str] = field(default_factory=list)  # what was read otherwise than typed, one line each
    cut_words: int = 0  # words past MAX_QUERY_TERMS left out of the search

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
    text = _checked(text)
    q = ParsedQuery()
    literal = '"' in text and _reads_as_title(text)
    if literal:
        q.notes.append("read as a pasted title, so its quotes were not required phrases (quotes are required "
                       f"phrases when fewer than {TITLE_MIN_WORDS} words stand outside them)")
    elif text.count('"') % 2:
        raise BadInput('unbalanced quote: close every " (e.g. "exact phrase")')
    _Scanner(text, q, literal).run()
    if not (q.terms or q.phrases or q.fields):
        if q.excluded_terms or q.excluded_phrases:
            raise BadInput("query has only exclusions (-word): add something to search for")
        raise BadInput('empty query: type some words, a "phrase" or a filter such as cat:cs.LG')
    return q


def _checked(text: str) -> str:
    """The text with curly quotes made straight, once its type, length and characters are checked."""
    if not isinstance(text, str):
        raise BadInput("query must be text")
    if len(text) > MAX_QUERY_CHARS:
        raise BadInput(f"query too long ({len(text)} characters, at most {MAX_QUERY_CHARS})")
    _check_control(text)
    text = text.translate(_QUOTES)
    if not text.strip():
        raise BadInput('empty query: type some words, a "phrase" or a filter such as cat:cs.LG')
    return text


def _reads_as_title(text: str) -> bool:
    """A pasted title (module docstring): no operator, and TITLE_MIN_WORDS words outside the quotes
    (an unpaired quote's rest counts as outside: in a title it is punctuation)."""
    if _OPERATOR.search(text):
        return False
    pieces = text.split('"')
    outside = pieces[0::2] + ([pieces[-1]] if len(pieces) % 2 == 0 else [])
    return sum(1 for piece in outside for word in piece.split() if _has_text(word)) >= TITLE_MIN_WORDS


class _Scanner:
    """One pass over the text, filling ``q``. ``literal`` (a pasted title): no operators, every word a
    term. Past MAX_QUERY_TERMS the rest is cut, with a note."""

    def __init__(self, text: str, q: ParsedQuery, literal: bool):
        self.text = text.replace('"', "") if literal else text  # a title's quotes are punctuation
        self.q, self.literal = q, literal
        self.words: set[str] = set()  # the content words counted so far
        self.used = 0
        self.unknown: dict[str, None] = {}  # unknown field names as typed, in order

    def run(self) -> None:
        text, n, i = self.text, len(self.text), 0
        while i < n:
            if text[i].isspace():
                i += 1
                continue
            start = i
            negate = (not self.literal and text[i] == "-" and (i == 0 or text[i - 1].isspace())
                      and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-")
            i, kept = self._part(i + negate, negate)
            if not kept:
                self.q.cut_words = len(text[start:].split())
                self.q.notes.append(f"the query was cut to its first {MAX_QUERY_TERMS} terms: its last "
                                    f"{self.q.cut_words} word{'s' if self.q.cut_words != 1 else ''} "
                                    "were not searched")
                break
        if self.unknown:
            names, one = ", ".join(f"{name}:" for name in self.unknown), len(self.unknown) == 1
            fields = ", ".join(f"{f}:" for f in FIELDS)
            self.q.notes.append(f"{names} {'is not a search field' if one else 'are not search fields'}, so "
                                f"{'it was' if one else 'they were'} searched as text (the fields are {fields})")

    def _part(self, i: int, negate: bool) -> tuple[int, bool]:
        """The part starting at ``i``: (where the next one starts, whether it fitted the budget)."""
        text, q = self.text, self.q
        if text[i] == '"':
            end = text.index('"', i + 1)  # balanced: counted before
            phrase = " ".join(text[i + 1:end].split())
            if _has_text(phrase) and not self._fits(1):
                return i, False
            if _has_text(phrase):
                (q.excluded_phrases if negate else q.phrases).append(phrase)
            return end + 1, True
        start = i
        while i < len(text) and not text[i].isspace() and text[i] != '"':
            i += 1
        token = text[start:i]
        m = None if self.literal else _FIELD_TOKEN.match(token)
        if m and self._is_field(m.group(1), m.group(2), i):
            return self._field(m, token, i, negate)
        if not _has_text(token):
            return i, True
        if not self._fits_words(token):
            return start, False
        (q.excluded_terms if negate else q.terms).append(token)
        return i, True

    def _field(self, m: re.Match, token: str, i: int, negate: bool) -> tuple[int, bool]:
        text, typed = self.text, m.group(1)
        name, value = _ALIASES[typed.lower()], m.group(2)
        if not value and i < len(text) and text[i] == '"':  # author:"Yann LeCun": the quoted phrase that follows
            end = text.index('"', i + 1)
            value = " ".join(text[i + 1:end].split())
            i = end + 1
        if negate:
            raise BadInput(f"cannot exclude a field filter (-{token}{'...' if not m.group(2) else ''}): "
                           "exclude words or phrases instead")
        checked = _field_value(name, value, typed.lower())
        if not self._fits(1):
            return i, False
        self.q.fields.setdefault(name, []).append(checked)
        return i, True

    def _fits(self, cost: int) -> bool:
        if self.used + cost > MAX_QUERY_TERMS:
            return False
        self.used += cost
        return True

    def _fits_words(self, token: str) -> bool:
        new = set(content_words(token)) - self.words
        if not self._fits(len(new)):
            return False
        self.words |= new
        return True

    def _is_field(self, name: str, value: str, pos: int) -> bool:
        """Whether ``name:value`` (ending at ``pos``) is a field filter; an unknown name that would be
        one is remembered for the note and read as text."""
        text, key = self.text, name.lower()
        if key in _ALIASES:
            if value or not text[pos:].strip():  # "author:" ending the query: a filter missing its value
                return True
            return text[pos] == '"'  # "Title: ..." in a sentence is text
        quoted = not value and pos < len(text) and text[pos] == '"'
        if key in _URL_SCHEMES or value.startswith("/") or not (value or quoted):
            return False
        if quoted or value[0].isalnum():
            self.unknown[name] = None
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
