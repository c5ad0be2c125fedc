"""Exports in four formats, read back by the libraries people use: bibtexparser 2.x, rispy, the
official CSL-JSON schema (jsonschema), the stdlib csv reader; then the front door's selections
(hidden papers never leave) and ``papersift export`` as a real process.

The papers are chosen to break writers: LaTeX specials and TeX math, unbalanced braces, a name
with "and" in it, Unicode names, line breaks that look like RIS tags, spreadsheet formulas,
old-style arXiv ids, a corpus document without an arXiv id, and a paper with nothing but an id.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
import rispy
from pylatexenc.latex2text import LatexNodes2Text

from papersift.errors import BadInput, NotFound, Unauthorized
from papersift.formats.bibtex import bibtex_entries, tex, unique_keys
from papersift.formats.csl_json import csl_json
from papersift.formats.csv_export import COLUMNS, FORMULA_STARTS, csv_text
from papersift.formats.exports import FORMATS, check_format, render
from papersift.formats.ris import ris
from papersift.model import FeedEntry, Paper
from papersift.service import Papersift
from papersift.service.exports import ExportTarget

from ..web_support import FAST_HASHER

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "csl" / "csl-data.json").read_text())
AT = "2024-05-28T09:00:00Z"


def tricky_papers() -> list[Paper]:
    return [
        Paper(id="2405.15738", title='Schr\\"odinger meets $\\alpha$-divergence: 100% of R&D, C# and snake_case',
              authors=["Chunjiang Gé", "Ludwig van Beethoven", "Research and Development Team", "José María Ñúñez-García"],
              abstract='Line one,\nline two with "quotes", commas, and a\ttab.\r\nER  - not the end\nTY  - JOUR',
              categories=["cs.CV", "cs.LG"], published="2024-05-24T00:00:00Z", comment="10 pages,\n3 figures",
              github_repo="https://github.com/example/repo", upvotes=7),
        Paper(id="hep-th/9901001", title='=HYPERLINK("http://evil.example","click")',
              authors=["+Plus Start", "@At Sign", "Édouard Lucas, Jr."], abstract="-1 is where it starts",
              categories=["hep-th"], published="1999-01-01T00:00:00Z"),
        Paper(id="scifact:4983", title="Unbalanced { brace and a ~tilde ^caret", abstract=None),
        Paper(id="2405.15739", title='Schr\\"odinger again', authors=["Chunjiang Gé"], published="2024-05-25T00:00:00Z"),
        Paper(id="2501.00002"),  # nothing but an id
    ]


# ---- BibTeX
def test_bibtex_round_trip_with_bibtexparser():
    papers = tricky_papers()
    library = bibtexparser.parse_string(bibtex_entries(papers))
    assert not library.failed_blocks and len(library.entries) == len(papers)
    keys = [e.key for e in library.entries]
    assert keys == unique_keys(papers) and len(set(keys)) == len(keys)
    assert keys[0] == "ge2024schr" and keys[3] == "ge2024schrb"  # the same author, year and word: b
    first, old, corpus, _, bare = library.entries
    to_text = LatexNodes2Text()
    assert to_text.latex_to_text(first["title"]) == "Schrödinger meets α-divergence: 100% of R&D, C# and snake_case"
    authors = _split_bibtex_names(first["author"])
    assert authors == ["Chunjiang Gé", "Ludwig van Beethoven", "{Research and Development Team}",  # one name, not two
                       "José María Ñúñez-García"]
    assert first["eprint"] == "2405.15738" and first["archivePrefix"] == "arXiv" and first["primaryClass"] == "cs.CV"
    assert first["doi"] == "10.48550/arXiv.2405.15738" and first["year"] == "2024"
    assert "\n" not in first["abstract"] and "ER - not the end" in first["abstract"]
    assert old["eprint"] == "hep-th/9901001" and old["url"] == "https://arxiv.org/abs/hep-th/9901001"
    assert "eprint" not in corpus.fields_dict and corpus["note"] == "scifact:4983"
    assert corpus["title"] == r"{Unbalanced  brace and a \textasciitilde{}tilde \textasciicircum{}caret}"
    assert bare["title"] == "{2501.00002}" and "author" not in bare.fields_dict and "year" not in bare.fields_dict


def _split_bibtex_names(field: str) -> list[str]:
    """Split on " and " at brace depth 0, as BibTeX does."""
    names, depth, start = [], 0, 0
    for i, ch in enumerate(field):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and field.startswith(" and ", i):
            names.append(field[start:i])
            start = i + 5
    return names + [field[start:]]


@pytest.mark.parametrize("text", ["100% of R&D", "C# and F#", "snake_case_name", "costs $5", "1\\2 and back\\", "{unbalanced",
                                  "50% & 20$ # _", "tr\u00e4ilin\u00df \u4e2d\u6587"])
def test_tex_escaping_prints_the_text(text):
    """LaTeX, as pylatexenc reads it, prints what the source said (braces aside, which BibTeX needs balanced)."""
    value = tex(text)
    entry = bibtexparser.parse_string(f"@misc{{k, title = {{{value}}}}}").entries[0]
    printed = LatexNodes2Text().latex_to_text(entry["title"])
    assert printed == text.replace("{", "")


def test_page_bibtex_keeps_math_and_commands():
    assert tex(r"$O(n \log n)$ sorting with 5% \emph{less}") == r"$O(n \log n)$ sorting with 5\% \emph{less}"
    assert tex("one $ sign") == r"one \$ sign"  # an odd $: not math


def test_tex_escapes_specials_inside_math_too():
    """Inside $...$ a subscript or a command is meant, but & and # are LaTeX errors there and % starts
    a comment that swallows the rest of the line: all three are escaped in math as outside it."""
    assert tex("$a # b$") == r"$a \# b$"
    assert tex("$x_1 & y^2 % z \\alpha$ and C# & 5%") == r"$x_1 \& y^2 \% z \alpha$ and C\# \& 5\%"
    assert tex(r"$\#$ stays escaped") == r"$\#$ stays escaped"  # already escaped: not twice


# ---- RIS
def test_ris_round_trip_with_rispy():
    papers = tricky_papers()
    text = ris(papers)
    records = rispy.loads(text)
    assert len(records) == len(papers)
    assert all(line[:2].isupper() or line[:2].isdigit() or line[:2] in ("L1", "A2") or not line
               for line in text.splitlines())
    first, old, corpus, _, bare = records
    assert first["type_of_reference"] == "UNPB" and first["title"] == papers[0].title
    assert first["authors"] == ["Gé, Chunjiang", "van Beethoven, Ludwig", "Team, Research and Development",
                                "Ñúñez-García, José María"]
    assert first["abstract"] == " ".join(papers[0].abstract.split())  # one line: "ER  -" inside stays text
    assert first["doi"] == "10.48550/arXiv.2405.15738" and first["urls"] == ["https://arxiv.org/abs/2405.15738"]
    assert first["accession_number"] == "arXiv:2405.15738" and first["file_attachments1"] == "https://arxiv.org/pdf/2405.15738"
    assert first["date"] == "2024/05/24" and first["year"] == "2024" and first["keywords"] == ["cs.CV", "cs.LG"]
    assert first["notes"] == ["10 pages, 3 figures", "Code: https://github.com/example/repo"]
    assert old["authors"][2] == "Lucas, Édouard, Jr." and old["accession_number"] == "arXiv:hep-th/9901001"
    assert corpus["id"] == "scifact:4983" and "doi" not in corpus
    assert bare["title"] == "2501.00002" and "authors" not in bare and "date" not in bare


# ---- CSL-JSON
def test_csl_json_is_valid_against_the_official_schema():
    papers = tricky_papers()
    items = json.loads(csl_json(papers))
    jsonschema.validate(items, SCHEMA, cls=jsonschema.Draft7Validator)
    first, old, corpus, _, bare = items
    assert [i["id"] for i in items] == [p.id for p in papers]
    assert [i["citation-key"] for i in items] == unique_keys(papers)
    assert first["type"] == "article" and first["publisher"] == "arXiv" and first["number"] == "arXiv:2405.15738"
    assert first["author"][1] == {"family": "van Beethoven", "given": "Ludwig"}  # BibTeX's "von Last"
    assert first["author"][3] == {"family": "Ñúñez-García", "given": "José María"}
    assert first["issued"] == {"date-parts": [[2024, 5, 24]]} and first["DOI"] == "10.48550/arXiv.2405.15738"
    assert old["author"][2] == {"family": "Lucas", "given": "Édouard", "suffix": "Jr."}
    assert "DOI" not in corpus and "URL" not in corpus and "author" not in corpus and "issued" not in corpus
    assert bare == {"id": "2501.00002", "type": "article", "citation-key": "anon", "title": "2501.00002",
                    "publisher": "arXiv", "number": "arXiv:2501.00002", "DOI": "10.48550/arXiv.2501.00002",
                    "URL": "https://arxiv.org/abs/2501.00002"}


def test_the_schema_check_can_fail():
    """The schema allows no undeclared field: the check above is not vacuous."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"id": "x", "type": "article", "arxiv": "1"}], SCHEMA, cls=jsonschema.Draft7Validator)


# ---- CSV
def _unguard(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def test_csv_reads_back_every_field():
    papers = tricky_papers()
    body = render_csv(papers)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert list(rows[0].keys()) == list(COLUMNS) and len(rows) == len(papers)
    first, old, corpus, _, bare = rows
    assert first["title"] == papers[0].title and first["abstract"] == papers[0].abstract  # commas, quotes, CR LF, tab
    assert first["authors"].split("; ") == papers[0].authors and first["comment"] == "10 pages,\n3 figures"
    assert first["upvotes"] == "7" and first["doi"] == "10.48550/arXiv.2405.15738" and first["published"] == "2024-05-24"
    # formulas are guarded, and the guard is the only change
    assert old["title"] == "'" + papers[1].title and _unguard(old["title"]) == papers[1].title
    assert old["authors"].startswith("'+Plus Start") and old["abstract"] == "'-1 is where it starts"
    assert old["id"] == "hep-th/9901001" and old["url"] == "https://arxiv.org/abs/hep-th/9901001"
    assert corpus["url"] == "" and corpus["title"] == papers[2].title and bare["title"] == ""


# what a spreadsheet takes for the start of a formula (OWASP CSV injection), and the columns a
# submitted paper's own text reaches (the others are derived: url, pdf_url, doi, cite_key)
_FORMULA_CHARS = ["=", "+", "-", "@", "\t", "\r"]
_TEXT_COLUMNS = ("title", "authors", "published", "categories", "abstract", "organization", "github_repo",
                 "project_page", "comment")


@pytest.mark.parametrize("start", _FORMULA_CHARS)
def test_csv_guards_every_formula_start_in_every_cell(start):
    paper = Paper(id="scifact:1", title=f"{start}title", authors=[f"{start}Ada Lovelace", "Plain Name"],
                  published=f"{start}2024", categories=[f"{start}cs.LG"], abstract=f"{start}abstract",
                  organization=f"{start}Org", github_repo=f"{start}repo", project_page=f"{start}page",
                  comment=f"{start}comment", upvotes=-1 if start == "-" else 3)
    row = next(csv.DictReader(io.StringIO(csv_text([paper]), newline="")))
    for column in _TEXT_COLUMNS:
        assert row[column].startswith("'" + start), (column, row[column])
    assert not [c for c, cell in row.items() if cell.startswith(tuple(_FORMULA_CHARS))]  # no cell starts a formula
    assert _unguard(row["title"]) == paper.title and _unguard(row["authors"]) == f"{start}Ada Lovelace; Plain Name"
    if start == "-":
        assert row["upvotes"] == "'-1"


def render_csv(papers) -> bytes:
    return csv_text(papers).encode("utf-8-sig")


def test_csv_keeps_carriage_returns():
    paper = Paper(id="2405.00001", abstract="a\r\nb\rc\nd")
    row = next(csv.DictReader(io.StringIO(csv_text([paper]), newline="")))
    assert row["abstract"] == "a\r\nb\rc\nd"


# ---- the front door: which papers, hidden ones never
@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    svc = Papersift(tmp / "x.db", embedder=False, password_hasher=FAST_HASHER)
    day = "2024-05-27"
    papers = [Paper(id=f"2405.1000{i}", title=f"Quokka retrieval part {i}", authors=[f"Author {i}"],
                    abstract="Quokka retrieval, done carefully.", categories=["cs.IR"],
                    published=f"2024-05-2{i}T00:00:00Z", upvotes=i, source="hf-jsonl", observed_at=AT,
                    feed_entry=FeedEntry(day=day, upvotes=i, rank=i, captured_at=AT)) for i in range(1, 6)]
    svc.store.upsert_papers(papers + [dataclasses.replace(p, source="hf-jsonl", observed_at=AT)
                                      for p in tricky_papers()])
    svc.indexes_lexical_only().sync_lexical()
    admin = svc.accounts.create_user("admin@lab.org", "correct horse battery", is_admin=True)
    reader = svc.accounts.create_user("reader@lab.org", "correct horse battery")
    for pid in ("2405.10001", "2405.10002", "hep-th/9901001"):
        svc.actions.save(reader, pid, on=True)
    svc.actions.save(admin, "2405.10002", on=True)
    svc.actions.hide_paper(admin, "2405.10002")
    yield svc, admin, reader, tmp
    svc.close()


HIDDEN = "2405.10002"


def _ids(svc, viewer, target) -> list[str]:
    return [p.id for p in svc.exports.select(viewer, target).papers]


def test_hidden_papers_never_leave(hub):
    svc, admin, reader, _ = hub
    day = _ids(svc, admin, ExportTarget.period("date", "2024-05-27"))
    assert len(day) == 4 and HIDDEN not in day  # even for an admin, who sees it on the page
    for kind, label in (("week", "2024-W22"), ("month", "2024-05")):
        assert set(_ids(svc, None, ExportTarget.period(kind, label))) == set(day)
    found = _ids(svc, admin, ExportTarget.search("quokka retrieval", mode="bm25"))
    assert len(found) == 4 and HIDDEN not in found
    assert sorted(_ids(svc, reader, ExportTarget.library())) == ["2405.10001", "hep-th/9901001"]
    assert _ids(svc, admin, ExportTarget.library()) == []
    with pytest.raises(NotFound):
        svc.exports.select(admin, ExportTarget.paper(HIDDEN))
    with pytest.raises(Unauthorized):
        svc.exports.select(None, ExportTarget.library())


def test_feed_order_and_sorts_carry_over(hub):
    svc, *_ = hub
    upvotes = svc.exports.select(None, ExportTarget.period("date", "2024-05-27", "upvotes")).papers
    assert [p.upvotes for p in upvotes] == sorted((p.upvotes for p in upvotes), reverse=True)
    newest = svc.exports.select(None, ExportTarget.period("date", "2024-05-27", "published")).papers
    assert [p.published for p in newest] == sorted((p.published for p in newest), reverse=True)
    limited = svc.exports.select(None, ExportTarget.search("quokka", limit=2, mode="bm25")).papers
    assert len(limited) == 2


def test_render_names_the_file_and_checks_the_format_first(hub):
    svc, *_ = hub
    body, content_type, filename = render(svc, None, ExportTarget.paper("hep-th/9901001"), "ris")
    assert filename == "papersift-hep-th-9901001.ris" and content_type.startswith("application/x-research-info-systems")
    assert rispy.loads(body.decode())[0]["accession_number"] == "arXiv:hep-th/9901001"
    _, _, week = render(svc, None, ExportTarget.period("week", "2024-W22"), "csl-json")
    assert week == "papersift-week-2024-W22.json"
    with pytest.raises(BadInput, match="bibtex, ris, csl-json, csv"):
        render(svc, None, ExportTarget.paper("no-such-paper"), "endnote")  # the format is checked before the paper
    assert check_format(" CSV ") is FORMATS["csv"]
    for bad in (lambda: ExportTarget.search("  "), lambda: ExportTarget.search("x", limit=0),
                lambda: ExportTarget.search("x", sort="best"), lambda: ExportTarget.search("x", mode="fuzzy"),
                lambda: ExportTarget.period("year", "2024"),
                lambda: ExportTarget.period("date", "2024-05-27", "random")):
        with pytest.raises(BadInput):
            bad()
    with pytest.raises(BadInput):
        svc.exports.select(None, ExportTarget.period("date", "2024-02-30"))


def test_sitemap_lists_leave_hidden_papers_out(hub):
    svc, admin, *_ = hub
    ids = svc.exports.public_paper_ids()
    assert HIDDEN not in ids and "2405.10001" in ids and "hep-th/9901001" in ids and len(ids) == 9
    assert svc.exports.feed_days() == ["2024-05-27"]
    svc.store.upsert_papers([Paper(id="2405.10009", title="Late", source="hf-jsonl", observed_at=AT)])
    assert svc.exports.public_paper_ids()[-1] == "2405.10009"  # caught up from the change counter


# ---- the command line, as a real process
def run_cli(db, *args):
    env = {**os.environ, "PAPERSIFT_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "papersift.cli", "export", *args], capture_output=True,
                          env=env, timeout=300)


@pytest.mark.slow
def test_cli_export_writes_files_and_exits_2_on_bad_arguments(hub):
    svc, _, _, tmp = hub
    db = svc.db
    out = tmp / "day.bib"
    ok = run_cli(db, "--format", "bibtex", "--day", "2024-05-27", "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    entries = bibtexparser.parse_string(out.read_text()).entries
    assert len(entries) == 4 and HIDDEN not in {e["eprint"] for e in entries}
    assert b"4 papers" in ok.stderr
    lib = run_cli(db, "--format", "csv", "--library", "reader@lab.org")
    assert lib.returncode == 0, lib.stderr
    rows = list(csv.DictReader(io.StringIO(lib.stdout.decode("utf-8-sig"), newline="")))
    assert {r["id"] for r in rows} == {"2405.10001", "hep-th/9901001"}
    found = run_cli(db, "--format", "ris", "--query", "quokka retrieval", "--mode", "bm25", "--limit", "3")
    assert found.returncode == 0, found.stderr
    records = rispy.loads(found.stdout.decode())
    assert len(records) == 3 and f"arXiv:{HIDDEN}" not in {r["accession_number"] for r in records}
    one = run_cli(db, "-f", "csl-json", "--id", "arXiv:hep-th/9901001v2")
    assert one.returncode == 0 and json.loads(one.stdout)[0]["id"] == "hep-th/9901001"
    for args in (["--format", "endnote", "--id", "2405.10001"], ["--format", "ris"],
                 ["--format", "ris", "--day", "2024-05-27", "--week", "2024-W22"],
                 ["--format", "ris", "--id", HIDDEN], ["--format", "ris", "--library", "nobody@lab.org"],
                 ["--format", "ris", "--day", "2024-13-01"], ["--format", "ris", "--id", "2405.10001", "--limit", "3"],
                 ["--format", "ris", "--query", "quokka", "--limit", "0"], ["--id", "2405.10001"],
                 ["--format", "ris", "--id", "2405.10001", "--mode", "bm25"],
                 ["--format", "ris", "--query", "quokka", "--mode", "fuzzy"],
                 ["--format", "ris", "--day", "2024-05-27", "--sort", "relevance"],
                 ["--format", "ris", "--query", 'title:"', "--mode", "bm25"],
                 ["--format", "ris", "--id", "2405.10001", "-o", str(tmp / "missing" / "x.ris")]):
        bad = run_cli(db, *args)
        assert bad.returncode == 2, (args, bad.returncode, bad.stderr)
        assert b"Traceback" not in bad.stderr and bad.stderr.strip(), args


# ---- the parts every format shares: names, keys, TeX, and the details each reader looks for
@pytest.mark.parametrize("raw, family, given, suffix", [
    ("Yann LeCun", "LeCun", "Yann", ""), ("  Yann   LeCun ", "LeCun", "Yann", ""), ("LeCun, Yann", "LeCun", "Yann", ""),
    ("Plato", "Plato", "", ""), ("Ludwig van Beethoven", "van Beethoven", "Ludwig", ""),
    ("Jean de la Fontaine", "de la Fontaine", "Jean", ""), ("Anna Maria de Souza", "de Souza", "Anna Maria", ""),
    ("van Gogh", "Gogh", "van", ""),
    ("Martin Luther King, Jr.", "King", "Martin Luther", "Jr."), ("King, Jr., Martin Luther", "King", "Martin Luther", "Jr."),
    ("Sammy Davis Jr", "Davis", "Sammy", "Jr"), ("John Smith III", "Smith", "John", "III"), ("Prince, Jr.", "Prince", "", "Jr."),
    ("Smith Jr", "Jr", "Smith", ""), ("King, Martin, Luther", "King", "Martin Luther", ""), ("Doe, , Jane", "Doe", "Jane", ""),
])
def test_names_split_into_family_given_and_suffix(raw, family, given, suffix):
    from papersift.formats.citation import Name, split_name

    assert split_name(raw) == Name(family, given, suffix)


def test_inverted_names_and_one_word_names_in_csl():
    from papersift.formats.citation import split_name
    from papersift.formats.csl_json import csl_name

    assert split_name("Martin Luther King, Jr.").inverted == "King, Martin Luther, Jr."
    assert split_name("Plato").inverted == "Plato" and split_name("Prince, Jr.").inverted == "Prince, Jr."
    assert csl_name("Plato") == {"literal": "Plato"}
    assert csl_name("Martin Luther King, Jr.") == {"family": "King", "given": "Martin Luther", "suffix": "Jr."}


def test_cite_keys_read_the_family_name_year_and_first_real_word():
    from papersift.formats.bibtex import cite_key

    assert cite_key(Paper(id="2405.1", title="The Transformer of Things", authors=["Seán O'Brien-Smith"],
                          published="2024-05-01T00:00:00Z")) == "obriensmith2024transformer"
    assert cite_key(Paper(id="2405.1", title="Via the Way", authors=["A B"], published="unknown")) == "bway"
    assert cite_key(Paper(id="2501.00002")) == "anon"
    # a corpus document is cited by its id, never as an anonymous paper ("anonvitamin")
    assert cite_key(Paper(id="scifact:4983", title="Vitamin D")) == "scifact4983"
    twins = [Paper(id=f"2405.{n}", title="Same", authors=["Ada Lovelace"], published="2024") for n in range(28)]
    keys = unique_keys(twins)
    assert keys == ["lovelace2024same"] + [f"lovelace2024same{chr(c)}" for c in range(ord("b"), ord("z") + 1)] + [
        "lovelace2024same27", "lovelace2024same28"]


def test_tex_corner_cases():
    assert tex(None) == "" and tex("X") == "X" and tex("$X$") == "$X$"
    assert tex("$a$ x_y $c_d$") == r"$a$ x\_y $c_d$"  # text between two maths is text, the second math is math
    assert tex("a}b{c") == "abc" and tex("}{") == ""  # unbalanced: every brace goes
    assert tex("{a}{b}") == "{a}{b}"


def test_bibtex_files_and_the_cite_box():
    from papersift.formats.bibtex import bibtex

    one, two = (Paper(id=f"2405.1000{n}", title=f"Paper {n}", abstract="An abstract.") for n in (1, 2))
    text = bibtex_entries([one, two])
    assert text.endswith("}\n") and text.count("}\n\n@misc{") == 1 and not text.endswith("\n\n")
    assert bibtex_entries([]) == ""
    assert "abstract" in text and "abstract" not in bibtex(one)  # the cite box leaves the abstract out
    assert bibtex(one).startswith("@misc{anonpaper,\n  title = {{Paper 1}},")


def test_ris_names_arxiv_as_publisher_and_database_and_writes_no_counter():
    text = ris([Paper(id="2405.15738", title="A title", comment="   "), Paper(id="2405.15739", title="B",
                                                                        github_repo="http://github.com/x/y")])
    assert text.startswith("TY  - UNPB\n")  # no "1." line before a record
    first, second = rispy.loads(text)
    assert first["publisher"] == "arXiv" and first["name_of_database"] == "arXiv" and "notes" not in first
    assert second["notes"] == ["Code: http://github.com/x/y"]
    named = rispy.loads(ris([Paper(id="2405.15740", title="C", abstract="Code: https://github.com/a/b.")]))[0]
    assert named["notes"] == ["Code: https://github.com/a/b"]  # a repository only the abstract names


def test_csl_and_csv_details():
    paper = Paper(id="2405.15738", title="Gé", abstract="Line one,\nline two.", categories=["cs.CV", "cs.LG"],
                  comment="10 pages,\n3 figures", upvotes=7)
    text = csl_json([paper])
    item = json.loads(text)[0]
    assert item["abstract"] == "Line one, line two." and item["keyword"] == "cs.CV, cs.LG"
    assert item["note"] == "10 pages, 3 figures"
    assert text.startswith('[\n  {\n    "id": "2405.15738",') and '"title": "Gé"' in text and text.endswith("]\n")
    table = csv_text([paper, Paper(id="scifact:4983", title="Claim")])
    assert table.startswith('"id","title","authors",') and '"7"' in table  # every cell quoted, numbers too
    first, corpus = csv.DictReader(io.StringIO(table, newline=""))
    assert first["cite_key"] == "anon" and corpus["cite_key"] == "scifact4983"
    assert corpus["doi"] == corpus["pdf_url"] == corpus["url"] == ""  # no arXiv identifiers for a corpus document


def test_an_unknown_format_is_named_in_the_message():
    with pytest.raises(BadInput) as unknown:
        check_format("docx")
    assert unknown.value.message == f"unknown export format 'docx': use one of {', '.join(FORMATS)}"
    with pytest.raises(BadInput) as long:
        check_format("x" * 50)
    assert long.value.message.startswith(f"unknown export format {'x' * 40!r}:")
