"""The lexical index's schema and text analyzers (one place, so the query side and the indexed
side stem and fold the same way)."""

from __future__ import annotations

import tantivy
from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

from papersift.ids import paper_key
from papersift.index.lexical.dates import published_datetime
from papersift.model import Paper
from papersift.query import STOPWORDS

EN, NAME = "papersift_en", "papersift_name"


def analyzer(stem: bool, stop: bool) -> tantivy.TextAnalyzer:
    # remove_long mirrors tantivy's own analyzers: 40+ char "words" are base64, URLs, DNA.
    builder = (TextAnalyzerBuilder(Tokenizer.simple()).filter(Filter.remove_long(40))
               .filter(Filter.lowercase()).filter(Filter.ascii_fold()))
    if stop:
        builder = builder.filter(Filter.custom_stopword(sorted(STOPWORDS)))
    if stem:
        builder = builder.filter(Filter.stemmer("english"))
    return builder.build()


# Indexed text keeps stopwords (so phrases stay exact); ranked query terms drop them.
INDEX_ANALYZERS = {EN: analyzer(True, False), NAME: analyzer(False, False)}
RANK_ANALYZERS = {EN: analyzer(True, True), NAME: analyzer(False, True)}
FIELD_ANALYZER = {"title": EN, "abstract": EN, "authors": NAME, "org": NAME}


def schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    # The text is not stored: snippets are cut from the store's copy of it (the paper the page shows
    # anyway), so a hit's stored document is only its id (a 10x smaller doc store; docs/BENCHMARKS.md)
    sb.add_text_field("title", tokenizer_name=EN)
    sb.add_text_field("abstract", tokenizer_name=EN)
    sb.add_text_field("authors", tokenizer_name=NAME)
    sb.add_text_field("categories", tokenizer_name="raw")  # lower-cased, exact
    sb.add_text_field("org", tokenizer_name=NAME)  # words: org:google matches "Google DeepMind"
    sb.add_text_field("org_raw", tokenizer_name="raw")  # lower-cased whole name
    sb.add_text_field("venue", tokenizer_name="raw")  # Venue.terms: "neurips-2025", "neurips"
    sb.add_date_field("published", indexed=True, fast=True)
    sb.add_boolean_field("has_code", indexed=True, fast=True)
    sb.add_unsigned_field("upvotes", fast=True)
    sb.add_integer_field("key", indexed=True, fast=True)  # papersift.ids.paper_key: lists a passing set cheaply
    return sb.build()


def document(p: Paper) -> tantivy.Document:
    """A paper as the lexical index keeps it."""
    doc = tantivy.Document()
    doc.add_text("id", p.id)
    doc.add_integer("key", paper_key(p.id))
    if p.title:
        doc.add_text("title", p.title)
    if p.abstract:
        doc.add_text("abstract", p.abstract)
    for author in p.authors or []:
        doc.add_text("authors", author)
    for cat in p.categories or []:
        doc.add_text("categories", cat.strip().lower())
    if p.organization and p.organization.strip():
        doc.add_text("org", p.organization)
        doc.add_text("org_raw", p.organization.strip().lower())
    venue = p.venue
    for term in venue.terms if venue is not None else ():
        doc.add_text("venue", term)
    published = published_datetime(p.published)
    if published is not None:
        doc.add_date("published", published)
    doc.add_boolean("has_code", p.has_code)
    doc.add_unsigned("upvotes", max(0, int(p.upvotes or 0)))
    return doc
