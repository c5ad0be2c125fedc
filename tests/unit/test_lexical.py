"""The tantivy BM25 index: ranking, constraints, sorting, upserts, persistence, snippets.

Small hand-made papers pin exact behaviour; the first 3000 real arXiv papers check it holds
on real text (skipped when ../shared/data is absent).
"""

import dataclasses
import gzip
import json
import re

import pytest

from papersift.errors import BadInput
from papersift.index.lexical.bm25 import FieldWeights, LexicalIndex, SearchHits
from papersift.model import Paper
from papersift.query import Filters, ParsedQuery, parse_query, plain_query

from ..helpers import ARXIV_SAMPLE


def P(pid, title="", abstract="", **kw):
    return Paper(id=pid, title=title, abstract=abstract, **kw)


PAPERS = [
    P("2501.00001", "Graph neural networks for molecules", "We predict molecular properties.",
      authors=["Yann LeCun", "Ada Lovelace"], categories=["cs.LG", "q-bio.BM"],
      published="2025-01-10T12:00:00Z", upvotes=5, github_repo="org/gnn", organization="Meta AI"),
    P("2501.00002", "Protein folding at scale", "A graph of residues; networks of contacts are learned.",
      authors=["Grace Hopper"], categories=["q-bio.BM"], published="2025-02-20T00:00:00Z", upvotes=40),
    P("2501.00003", "Diffusion models for video generation", "Video diffusion with temporal attention.",
      authors=["Alan Turing"], categories=["cs.CV"], published="2025-03-01T23:59:59Z", upvotes=12,
      github_repo="x/vid", organization="Google DeepMind"),
    P("2501.00004", "Diffusion models for audio", "Audio generation with diffusion, no video involved.",
      authors=["Jürgen Schmidhuber"], categories=["cs.SD", "cs.LG"], published="2025-03-02T00:00:00Z",
      upvotes=0, organization="Google"),
    P("2501.00005", "Safe inputs", "Escaping <script>alert('x')</script> & $\\alpha < \\beta$ in graph text.",
      categories=["cs.CR"], published="2024-12-31T00:00:00Z"),
]


@pytest.fixture
def index():
    ix = LexicalIndex(None)
    ix.add(PAPERS)
    ix.commit()
    return ix


BY_ID = {p.id: p for p in PAPERS}


def ids(hits: SearchHits) -> list[str]:
    return [d for d, _ in hits.hits]


def search(ix, text, filters=None, **kw):
    return ix.search(parse_query(text), filters, limit=kw.pop("limit", 10), **kw)


def test_count_and_len(index):
    assert index.count() == len(index) == 5


def test_title_match_ranks_above_abstract_only_match(index):
    res = search(index, "networks")
    assert ids(res) == ["2501.00001", "2501.00002"] and res.total == 2
    assert res.hits[0][1] > res.hits[1][1] > 0


def test_field_weights_are_tunable():
    ix = LexicalIndex(None, FieldWeights(title=0.1, abstract=5.0, authors=0.0))
    ix.add(PAPERS)
    ix.commit()
    assert ids(search(ix, "networks")) == ["2501.00002", "2501.00001"]
    assert ids(search(ix, "hopper")) == []  # authors weight 0: names do not rank


def test_stemming_and_case_folding(index):
    assert ids(search(index, "NETWORK")) == ids(search(index, "networks"))
    assert "2501.00001" in ids(search(index, "molecule"))
    assert ids(search(index, "schmidhuber")) == ["2501.00004"]  # ascii-folded author


def test_free_terms_are_or(index):
    assert set(ids(search(index, "protein audio"))) == {"2501.00002", "2501.00004"}


def test_phrase_is_required(index):
    assert ids(search(index, '"video generation"')) == ["2501.00003"]
    assert ids(search(index, 'protein "diffusion models"')) == []  # each part alone does not qualify
    assert ids(search(index, 'audio video "diffusion models"')) == ["2501.00004", "2501.00003"]


def test_exclusion(index):
    assert ids(search(index, "diffusion -audio")) == ["2501.00003"]
    assert ids(search(index, 'diffusion -"temporal attention"')) == ["2501.00004"]
    assert ids(search(index, "diffusion -video")) == []  # 00004 mentions video in its abstract


def test_author_filter(index):
    assert ids(search(index, 'author:"Yann LeCun"')) == ["2501.00001"]
    assert ids(search(index, "author:lecun graph")) == ["2501.00001"]
    assert ids(search(index, 'author:"LeCun Yann"')) == []  # a phrase, in order


def test_category_filter(index):
    assert set(ids(search(index, "cat:cs.LG"))) == {"2501.00001", "2501.00004"}
    assert ids(search(index, "cat:cs.lg cat:q-bio.BM")) == ["2501.00001"]  # repeated: all apply
    assert set(ids(search(index, "diffusion", Filters(categories=["cs.CV", "cs.SD"])))) == {
        "2501.00003", "2501.00004"}  # Filters.categories: any-of


def test_title_org_and_id_fields(index):
    assert ids(search(index, "title:graph")) == ["2501.00001"]  # not the abstract-only ones
    assert set(ids(search(index, "org:google"))) == {"2501.00003", "2501.00004"}
    assert ids(search(index, 'org:"google deepmind"')) == ["2501.00003"]
    assert set(ids(search(index, "id:2501.00002 id:2501.00005"))) == {"2501.00002", "2501.00005"}


def test_date_range_is_inclusive_on_whole_days(index):
    res = search(index, "diffusion", Filters(date_from="2025-03-01", date_to="2025-03-01"))
    assert ids(res) == ["2501.00003"]  # published 23:59:59 on the last day
    assert ids(search(index, "graph", Filters(date_to="2024-12-31"))) == ["2501.00005"]
    assert set(ids(search(index, "graph", Filters(date_from="2025-01-01")))) == {"2501.00001", "2501.00002"}


def test_has_code_and_organization_filters(index):
    assert set(ids(search(index, "diffusion graph", Filters(has_code=True)))) == {"2501.00001", "2501.00003"}
    assert "2501.00001" not in ids(search(index, "graph", Filters(has_code=False)))
    assert set(ids(search(index, "diffusion", Filters(organization="Google")))) == {"2501.00003", "2501.00004"}
    assert ids(search(index, "diffusion", Filters(organization="google deepmind"))) == ["2501.00003"]


def test_bad_filters_raise(index):
    with pytest.raises(BadInput):
        search(index, "graph", Filters(date_from="2025-02-30"))
    with pytest.raises(BadInput):
        search(index, "graph", sort="random")


def test_filters_only_query_is_match_all_plus_constraints(index):
    assert index.search(ParsedQuery(), None, limit=10).total == 5
    assert index.search(ParsedQuery(), Filters(has_code=True), limit=10).total == 2
    assert search(index, "cat:cs.CR").total == 1


def test_sort_by_date_and_upvotes(index):
    res = index.search(ParsedQuery(), None, limit=10, sort="date")
    assert ids(res) == ["2501.00004", "2501.00003", "2501.00002", "2501.00001", "2501.00005"]
    assert res.hits[0][1] > res.hits[-1][1]
    by_votes = ids(search(index, "graph diffusion", sort="upvotes"))
    assert by_votes[:3] == ["2501.00002", "2501.00003", "2501.00001"]
    assert set(by_votes[3:]) == {"2501.00005", "2501.00004"}  # 0 and unknown (0) upvotes tie


def test_pagination_with_offset(index):
    everything = ids(search(index, "graph diffusion", limit=10))
    assert len(everything) == 5
    pages = [ids(search(index, "graph diffusion", limit=2, offset=o)) for o in (0, 2, 4)]
    assert sum(pages, []) == everything
    assert search(index, "graph diffusion", limit=2, offset=4).total == 5
    dated = [ids(index.search(ParsedQuery(), None, limit=2, offset=o, sort="date")) for o in (0, 2)]
    assert sum(dated, []) == ids(index.search(ParsedQuery(), None, limit=4, sort="date"))


def test_upsert_replaces_without_duplicates(index):
    index.add([P("2501.00002", "Protein design with transformers", "Rewritten.")])
    index.add([P("2501.00006", "zyzzyva", "one"), P("2501.00006", "zyzzyva", "two quokka")])
    index.commit()
    assert index.count() == 6
    assert ids(search(index, "folding")) == []
    assert ids(search(index, "transformers")) == ["2501.00002"]
    assert ids(search(index, "zyzzyva")) == ["2501.00006"] and ids(search(index, "quokka")) == ["2501.00006"]


def test_delete(index):
    index.delete(["2501.00001", "missing"])
    index.commit()
    assert index.count() == 4 and ids(search(index, "molecules")) == []


def test_reopen_from_disk(tmp_path):
    path = tmp_path / "lex"
    first = LexicalIndex(path)
    first.add(PAPERS)
    first.commit()
    again = LexicalIndex(path)  # a second handle, as another process would open it
    assert again.count() == 5 and ids(search(again, '"video generation"')) == ["2501.00003"]
    again.add([P("2501.00009", "Fresh quokka")])
    again.commit()  # the writer lock is released at commit, so the first handle can write
    first.delete(["2501.00001"])
    first.commit()
    assert first.count() == again.count() == 5


def test_opening_an_index_with_another_schema_starts_over(tmp_path):
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("other", stored=True)
    tantivy.Index(sb.build(), path=str(tmp_path))
    assert LexicalIndex(tmp_path).count() == 0


def test_snippets_escape_then_mark(index):
    marks = index.snippets([BY_ID["2501.00005"], BY_ID["2501.00001"]], parse_query("graph script"))
    assert set(marks) == {"2501.00005", "2501.00001"}
    abstract = marks["2501.00005"]["abstract"]
    assert "<script>" not in abstract and "&lt;<mark>script</mark>&gt;" in abstract
    assert "&amp;" in abstract and "&lt; \\beta" in abstract and "<mark>graph</mark>" in abstract
    assert marks["2501.00005"]["title"] == "Safe inputs"  # no match: plain, escaped
    assert marks["2501.00001"]["title"] == "<mark>Graph</mark> neural networks for molecules"


def test_snippets_mark_stems_and_phrases(index):
    marks = index.snippets([BY_ID["2501.00001"]], parse_query('network "molecular properties"'))["2501.00001"]
    assert "<mark>networks</mark>" in marks["title"]
    assert "<mark>molecular</mark> <mark>properties</mark>" in marks["abstract"]


def test_filter_ids_applies_required_parts_and_filters(index):
    candidates = [p.id for p in PAPERS] + ["2599.99999"]
    assert index.filter_ids(candidates, parse_query("anything at all")) == set(candidates[:5])
    assert index.filter_ids(candidates, parse_query("x cat:cs.LG -audio")) == {"2501.00001"}
    assert index.filter_ids(candidates, parse_query('"diffusion models"'), Filters(has_code=True)) == {"2501.00003"}
    assert index.filter_ids(candidates, ParsedQuery(), Filters(date_from="2025-02-01")) == {
        "2501.00002", "2501.00003", "2501.00004"}
    assert index.filter_ids([], ParsedQuery()) == set()


# ---- 400 real papers (the committed sample: listings spread over a year)
@pytest.fixture(scope="module")
def real():
    papers = []
    with gzip.open(ARXIV_SAMPLE, "rt") as handle:
        for line in handle:
            r = json.loads(line)
            papers.append(Paper(id=r["id"], title=r["title"], abstract=r["abstract"], authors=r["authors"],
                                categories=r["categories"], published=r["first_listing_date"] + "T00:00:00Z"))
    ix = LexicalIndex(None)
    ix.add(papers)
    ix.commit()
    return ix, {p.id: p for p in papers}


def test_real_index_counts_and_ranks_titles(real):
    ix, papers = real
    assert ix.count() == len(papers) == 400
    target = next(p for p in papers.values() if len(p.title.split()) >= 5)
    res = ix.search(plain_query(target.title), None, limit=5)
    assert res.hits[0][0] == target.id


def test_real_constraints_hold_on_every_hit(real):
    ix, papers = real
    res = search(ix, 'language models "reinforcement learning" -vision cat:cs.LG', limit=50)
    assert res.total > 0
    for pid, _ in res.hits:
        p = papers[pid]
        words = re.findall(r"\w+", f"{p.title} {p.abstract}".lower())
        assert "cs.LG" in p.categories and "vision" not in words
        assert "reinforcement learning" in " ".join(words)
        assert {"language", "languages", "model", "models"} & set(words)
    author = next(iter(papers.values())).authors[0]
    by_author = ids(search(ix, f'author:"{author}"', limit=50))
    assert by_author  # at least the paper the name came from
    assert all(author in papers[d].authors for d in by_author)


def test_real_date_filter_and_sort(real):
    ix, papers = real
    # a listing day among the papers that match (the sample has one or two papers a day)
    days = sorted({papers[d].published[:10] for d in ids(ix.search(parse_query("learning"), None, limit=400))})
    day = days[len(days) // 2]
    res = ix.search(parse_query("learning"), Filters(date_from=day, date_to=day), limit=100)
    assert res.total > 0 and all(papers[d].published[:10] == day for d in ids(res))
    newest = ids(ix.search(parse_query("learning"), None, limit=20, sort="date"))
    dates = [papers[d].published for d in newest]
    assert dates == sorted(dates, reverse=True)


def test_real_natural_language_question_parses_and_finds(real):
    ix, papers = real
    q = parse_query("What are the trade-offs between single-LLM and multi-agent systems for real-world "
                    "problem-solving, particularly concerning efficiency and robustness?")
    res = ix.search(q, None, limit=10)
    assert len(res.hits) == 10 and res.total > 10
    assert ix.snippets([papers[d] for d in ids(res)], q)


@pytest.mark.parametrize("text", [
    "title:(graph OR video) AND diffusion^2 ~ * [1 TO 2] {x} \\ / : ! + && ||",
    "graph* AND NOT video", "'single quotes' `backticks` <html> &amp;", "αβγ 数据 émigré", "x" * 41 + " graph",
    "a" * 50,
])
def test_operator_characters_never_reach_tantivy_raw(index, text):
    res = search(index, text)
    assert isinstance(res, SearchHits) and res.total >= 0
    index.snippets([BY_ID[d] for d in ids(res)], parse_query(text))


def test_limit_zero_still_counts(index):
    res = search(index, "graph", limit=0)
    assert res.hits == [] and res.total == 3


def test_passing_keys_are_kept_per_filter_and_dropped_on_commit():
    from papersift.ids import paper_key
    from papersift.query import Filters, ParsedQuery

    ix = LexicalIndex(None)
    ix.add([Paper(id=f"2501.0000{i}", title=f"t{i}", categories=["cs.CL" if i % 2 else "cs.AI"]) for i in range(6)])
    ix.commit()
    cl = Filters(categories=["cs.CL"])
    first = ix.passing_keys(ParsedQuery(terms=["anything"]), cl)
    assert sorted(first.tolist()) == sorted(paper_key(f"2501.0000{i}") for i in (1, 3, 5))
    assert ix.passing_keys(ParsedQuery(terms=["other", "words"]), cl) is first  # free terms do not constrain
    assert len(ix.passing_keys(ParsedQuery(), Filters(categories=["cs.AI"]))) == 3  # another filter, another set
    ix.add([Paper(id="2501.00007", title="t7", categories=["cs.CL"])])
    ix.commit()
    assert paper_key("2501.00007") in set(ix.passing_keys(ParsedQuery(), cl).tolist())  # the commit dropped it
    ix._passing.ttl = 0.0
    again = ix.passing_keys(ParsedQuery(), cl)
    assert ix.passing_keys(ParsedQuery(), cl) is not again  # expired entries are listed again


def test_passing_counts_are_kept_per_filter_and_dropped_on_commit():
    from papersift.query import Filters, ParsedQuery

    ix = LexicalIndex(None)
    ix.add([Paper(id=f"2501.0000{i}", title=f"t{i}", categories=["cs.CL" if i % 2 else "cs.AI"]) for i in range(6)])
    ix.commit()
    cl = Filters(categories=["cs.CL"])
    assert ix.count_passing(ParsedQuery(terms=["anything"]), cl) == 3  # counted by tantivy, then kept
    assert ix.count_passing(ParsedQuery(), Filters(categories=["cs.AI"])) == 3
    ix.add([Paper(id="2501.00007", title="t7", categories=["cs.CL"])])
    ix.commit()
    assert ix.count_passing(ParsedQuery(), cl) == 4  # the commit dropped the kept count
    assert len(ix.passing_keys(ParsedQuery(), cl)) == 4
    ix.add([Paper(id="2501.00009", title="t9", categories=["cs.CL"])])
    ix._writer.commit()  # a commit the kept entries are not told of (another process's): seen after the ttl
    ix._writer.wait_merging_threads()
    ix._writer = None
    ix._index.reload()
    assert ix.count_passing(ParsedQuery(), cl) == 4
    ix._passing.ttl = 0.0
    assert ix.count_passing(ParsedQuery(), cl) == 5


def test_the_index_stores_only_ids_and_snippets_come_from_the_papers_text(index):
    searcher = index._index.searcher()
    hit = searcher.search(index._query(parse_query("graph"), None), 1).hits[0][1]
    assert set(searcher.doc(hit).to_dict()) == {"id"}  # the text lives in the store, not twice
    # an edited abstract (the store's newer copy) is what the snippet shows
    edited = dataclasses.replace(BY_ID["2501.00001"], abstract="A graph of <b>bold</b> claims.")
    marks = index.snippets([edited], parse_query("graph"))["2501.00001"]
    assert marks["abstract"] == "A <mark>graph</mark> of &lt;b&gt;bold&lt;/b&gt; claims."
