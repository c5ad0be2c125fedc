"""The query syntax: every operator, and every malformed input as one BadInput line."""

import json

import pytest

from papersift.errors import BadInput
from papersift.query import MAX_QUERY_CHARS, MAX_QUERY_TERMS, Filters, ParsedQuery, parse_query, plain_query

from ..helpers import QUERIES_SAMPLE, SHARED


def test_free_terms_keep_natural_punctuation_as_text():
    q = parse_query("What are graph networks? Compare GNNs, transformers: pros/cons")
    assert q.terms == ["What", "are", "graph", "networks?", "Compare", "GNNs,", "transformers:", "pros/cons"]
    assert not (q.phrases or q.fields or q.excluded_terms)


def test_phrases_exclusions_and_free_text():
    q = parse_query('diffusion "video generation" -audio -"text to speech" models')
    assert q.terms == ["diffusion", "models"]
    assert q.phrases == ["video generation"]
    assert q.excluded_terms == ["audio"]
    assert q.excluded_phrases == ["text to speech"]
    assert q.free_text == "diffusion models video generation"
    assert q.has_required


def test_curly_quotes_are_quotes_and_phrase_whitespace_is_normalised():
    assert parse_query("\u201cneural   radiance\u201d").phrases == ["neural radiance"]


def test_hyphens_inside_words_and_lone_dashes_are_text():
    q = parse_query("state-of-the-art - results -- x")
    assert q.terms == ["state-of-the-art", "results", "x"]
    assert not q.excluded_terms


@pytest.mark.parametrize("text,field,value", [
    ("author:LeCun", "author", "LeCun"),
    ('author:"Yann LeCun"', "author", "Yann LeCun"),
    ("authors:Hinton", "author", "Hinton"),
    ("cat:cs.LG", "cat", "cs.LG"),
    ("category:hep-th", "cat", "hep-th"),
    ("title:transformer", "title", "transformer"),
    ('title:"attention is all"', "title", "attention is all"),
    ("org:Google", "org", "Google"),
    ('org:"Google DeepMind"', "org", "Google DeepMind"),
    ("id:2405.15738", "id", "2405.15738"),
    ("id:arXiv:2405.15738v2", "id", "2405.15738"),
    ("arxiv:2405.15738", "id", "2405.15738"),
    ("AUTHOR:Bengio,", "author", "Bengio"),
])
def test_field_filters(text, field, value):
    q = parse_query(text)
    assert q.fields == {field: [value]}
    assert q.terms == [] and q.free_text == ""


def test_repeated_fields_and_mixed_query():
    q = parse_query('cat:cs.LG cat:cs.CV author:"Yann LeCun" self-supervised "joint embedding" -contrastive')
    assert q.fields == {"cat": ["cs.LG", "cs.CV"], "author": ["Yann LeCun"]}
    assert q.terms == ["self-supervised"] and q.phrases == ["joint embedding"]
    assert q.excluded_terms == ["contrastive"]


@pytest.mark.parametrize("text", [
    "a 3:1 ratio of data", "see https://arxiv.org/abs/2405.15738", "at 10:30 today",
    "Title: a sentence with a colon", "Question: what works?", "ftp://host/x",
])
def test_colons_that_are_not_fields_stay_text(text):
    q = parse_query(text)
    assert not q.fields and q.terms


@pytest.mark.parametrize("text,message", [
    ('"unclosed phrase', "unbalanced quote"),
    ('a "b" "c', "unbalanced quote"),
    ("-x", "only exclusions"),
    ('-x -"y z"', "only exclusions"),
    ("", "empty query"),
    ("   \t ", "empty query"),
    ('""', "empty query"),
    ("?? !!", "empty query"),
    ("x" * (MAX_QUERY_CHARS + 1), "too long"),
    ("hello\x00world", "control character"),
    ("hello\x1b[31m", "control character"),
    ("cat:cs_LG", "cat: expects"),
    ("cat:cs.LG/x", "cat: expects"),
    ("id:12345", "id: expects"),
    ("author:,", "author: needs a value"),
    ("-author:LeCun", "cannot exclude a field"),
])
def test_malformed_queries_are_one_line_bad_input(text, message):
    with pytest.raises(BadInput) as err:
        parse_query(text)
    assert message in err.value.message
    assert "\n" not in err.value.message and len(err.value.message) < 200


def test_stopwords_and_repeats_do_not_count_towards_the_term_limit():
    long_question = " ".join(["the", "of", "what", "model"] * 40)  # 160 words, 1 content word
    assert len(parse_query(long_question).terms) == 160


def test_non_string_is_bad_input():
    with pytest.raises(BadInput):
        parse_query(None)


@pytest.mark.parametrize("folder, count", [
    pytest.param(QUERIES_SAMPLE, 100, id="sample"),
    pytest.param(SHARED / "queries", 400, marks=pytest.mark.shared_data, id="shared"),
])
def test_the_real_natural_language_queries_all_parse(folder, count):
    files = sorted(folder.glob("*.json"))
    texts = [v["search_query"] for f in files for v in json.loads(f.read_text()).values()]
    assert len(texts) >= count
    for text in texts:
        q = parse_query(text)
        assert q.terms and not q.fields and not q.excluded_terms, text


def test_plain_query_is_literal_and_never_raises():
    q = plain_query('foo:bar "unclosed -x \x00 ?')
    assert q.terms == ["foo:bar", '"unclosed', "-x"]
    assert plain_query("").terms == []
    assert ParsedQuery().free_text == ""


def test_filters_validate():
    assert Filters().is_empty()
    flt = Filters(date_from="2025-01-01", date_to="2025-01-01", categories=["cs.LG"], organization="Meta",
                  has_code=True)
    assert flt.validate() is flt and not flt.is_empty()
    assert not Filters(has_code=False).is_empty()


@pytest.mark.parametrize("kwargs,message", [
    ({"date_from": "2025-13-01"}, "not a real day"),
    ({"date_to": "2025/01/01"}, "YYYY-MM-DD"),
    ({"date_from": "yesterday"}, "YYYY-MM-DD"),
    ({"date_from": "2025-01-02", "date_to": "2025-01-01"}, "after"),
    ({"categories": ["not a cat"]}, "category"),
    ({"organization": "x" * 201}, "organization"),
    ({"organization": "a\x00b"}, "control character"),
])
def test_bad_filters(kwargs, message):
    with pytest.raises(BadInput) as err:
        Filters(**kwargs).validate()
    assert message in err.value.message


# ---- forgiving: what was read otherwise than typed comes back as a note

@pytest.mark.parametrize("text,unknown", [
    ("SUEDE:Shared Unified Experts for Dense Retrieval", "SUEDE:"),  # a pasted title
    ("auther:hinton", "auther:"),  # a typo: searched as words, and the note shows it
    ('foo:"two words"', "foo:"),
])
def test_an_unknown_field_is_text_with_a_note_naming_the_fields(text, unknown):
    q = parse_query(text)
    assert not q.fields and q.terms[0] == text.split()[0].split('"')[0]
    (note,) = q.notes
    assert note.startswith(f"{unknown} is not a search field")
    for name in ("author:", "title:", "cat:", "org:", "id:", "venue:"):
        assert name in note


def test_several_unknown_fields_make_one_note():
    (note,) = parse_query("auther:hinton tilte:attention").notes
    assert note.startswith("auther:, tilte: are not search fields")


# Real titles from the arXiv archive (../shared/data), pasted with their quotes: straight, curly, unpaired.
PASTED_TITLES = [
    "Don't \"Overthink\" Passage Reranking: Is Reasoning Truly Necessary?",
    "\"Whose Side Are You On?\" Estimating Ideology of Political and News Content Using Large Language Models",
    "Word length predicts word order: \"Min-max\"-ing drives language evolution",
    "IQBench: How \"Smart'' Are Vision-Language Models? A Study with Human IQ Tests",
    "\"CASE: Contrastive Activation for Saliency Estimation",
    "Mechanistic Anomaly Detection for \u201cQuirky\u201d Language Models",
]


@pytest.mark.parametrize("title", PASTED_TITLES)
def test_a_pasted_title_with_quotes_is_read_as_a_title(title):
    q = parse_query(title)
    assert not (q.phrases or q.excluded_terms or q.excluded_phrases or q.fields)
    assert " ".join(q.terms).replace("'", "").lower().split() == \
        title.translate({0x22: None, 0x201c: None, 0x201d: None}).replace("'", "").lower().split()
    (note,) = q.notes
    assert note.startswith("read as a pasted title")


@pytest.mark.parametrize("text,phrases", [
    ('diffusion "video generation"', ["video generation"]),  # few words outside: a search
    ('"Whose Side Are You On?" Estimating Ideology', ["Whose Side Are You On?"]),
    # an exclusion or a field makes it a search, however long
    ('"video generation" -survey diffusion models for long coherent clips', ["video generation"]),
    ('author:"Yann LeCun" self supervised joint embedding predictive "world model"', ["world model"]),
])
def test_quotes_in_a_search_stay_required_phrases(text, phrases):
    q = parse_query(text)
    assert q.phrases == phrases and not q.notes


def test_an_unpaired_quote_in_a_short_query_is_still_an_error():
    with pytest.raises(BadInput, match="unbalanced quote"):
        parse_query('"video generation')


def test_a_dash_glued_to_a_closing_quote_is_not_an_exclusion():
    q = parse_query('"min-max"-ing')
    assert q.phrases == ["min-max"] and q.terms == ["-ing"] and not q.excluded_terms


def test_a_long_query_is_cut_to_its_first_terms_with_a_note():
    words = [f"word{i}" for i in range(MAX_QUERY_TERMS + 6)]
    q = parse_query(" ".join(words) + " cat:cs.LG")
    assert q.terms == words[:MAX_QUERY_TERMS] and not q.fields  # the filter came after the cut
    assert q.cut_words == 7
    assert q.notes == [f"the query was cut to its first {MAX_QUERY_TERMS} terms: its last 7 words were not searched"]
    # phrases and filters count as terms; repeated and stop words do not
    q = parse_query('cat:cs.LG "a b" ' + " ".join(words[:MAX_QUERY_TERMS - 2] * 2) + " the of x y")
    assert q.fields == {"cat": ["cs.LG"]} and q.phrases == ["a b"] and q.cut_words == 2
    assert q.terms[-3:] == [words[MAX_QUERY_TERMS - 3], "the", "of"]


def test_the_hard_cap_on_characters_is_the_documented_one():
    assert MAX_QUERY_CHARS == 2000
    assert parse_query("x" * MAX_QUERY_CHARS).terms == ["x" * MAX_QUERY_CHARS]
    pasted_abstract = " ".join(["representation"] * 130)  # 1,949 characters: was over the old 1,000
    assert not parse_query(pasted_abstract).notes
