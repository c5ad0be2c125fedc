"""Reading library files for the cold start: each format in its exporters' real syntax, and broken files."""

from __future__ import annotations

import json
import logging

import pytest

from papersift.errors import BadInput
from papersift.ingest.library import MAX_BYTES, MAX_ENTRIES, detect_format, read_library

# Zotero's own BibTeX export of an arXiv preprint (tabs, url + doi + note), a Better BibTeX entry
# (eprint + archivePrefix), a Google Scholar entry and a journal paper with no arXiv id.
ZOTERO_BIB = """\
@misc{vaswani_attention_2023,
\ttitle = {Attention {Is} {All} {You} {Need}},
\turl = {http://arxiv.org/abs/1706.03762},
\tdoi = {10.48550/arXiv.1706.03762},
\tabstract = {The dominant sequence transduction models are based on recurrent networks, unlike arXiv:1810.04805.},
\turldate = {2024-05-27},
\tpublisher = {arXiv},
\tauthor = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki},
\tmonth = aug,
\tyear = {2023},
\tnote = {arXiv:1706.03762 [cs]},
\tkeywords = {Computer Science - Computation and Language, Computer Science - Machine Learning},
}

@article{lecun_deep_2015,
\ttitle = {Deep learning},
\tvolume = {521},
\tissn = {1476-4687},
\turl = {https://www.nature.com/articles/nature14539},
\tdoi = {10.1038/nature14539},
\tjournal = {Nature},
\tauthor = {LeCun, Yann and Bengio, Yoshua and Hinton, Geoffrey},
\tyear = {2015},
\tpages = {436--444},
}

@misc{meng_simpo_2024,
\ttitle = {{SimPO}: {Simple} {Preference} {Optimization} with a {Reference}-{Free} {Reward}},
\tshorttitle = {{SimPO}},
\tauthor = {Meng, Yu and Xia, Mengzhou and Chen, Danqi},
\tyear = {2024},
\teprint = {2405.14734v2},
\tarchivePrefix = {arXiv},
\tprimaryClass = {cs.CL},
}
"""

SCHOLAR_BIB = """\
@article{maldacena1999large,
  title={The large N limit of superconformal field theories and supergravity},
  author={Maldacena, Juan},
  journal={arXiv preprint hep-th/9711200},
  year={1997}
}
@article{wei2022chain,
  title={Chain-of-thought prompting elicits reasoning in large language models},
  journal={arXiv preprint arXiv:2201.11903},
  year={2022}
}
@article{pubmed_eprint, title={A PubMed paper}, eprint={31452104}, eprinttype={pubmed}}
"""

# Zotero's RIS export: PREP for preprints (DO, UR, N1), JOUR for the journal paper. Records end "ER  - "
# with the trailing space of the RIS spec, written \x20 so that the file itself has none.
ZOTERO_RIS = """\
TY  - PREP
TI  - Attention Is All You Need
AU  - Vaswani, Ashish
AU  - Shazeer, Noam
AB  - The dominant sequence transduction models are based on recurrent networks.
DA  - 2023/08/01/
PY  - 2023
DO  - 10.48550/arXiv.1706.03762
DP  - arXiv.org
PB  - arXiv
UR  - http://arxiv.org/abs/1706.03762
Y2  - 2024/05/27/
N1  - arXiv:1706.03762 [cs]
KW  - Computer Science - Machine Learning
ER  -\x20

TY  - JOUR
TI  - Deep learning
AU  - LeCun, Yann
T2  - Nature
VL  - 521
SP  - 436
EP  - 444
DO  - 10.1038/nature14539
UR  - https://www.nature.com/articles/nature14539
ER  -\x20

TY  - JOUR
TI  - Chain-of-thought prompting elicits reasoning in large language models
AU  - Wei, Jason
JO  - arXiv preprint arXiv:2201.11903
PY  - 2022
ER  -\x20
"""

# Zotero's CSL-JSON export ("number" holds the arXiv id of a preprint, "publisher" is arXiv).
ZOTERO_CSL = [
    {"id": "http://zotero.org/users/1/items/AB12CD34", "type": "article", "title": "Attention Is All You Need",
     "publisher": "arXiv", "number": "arXiv:1706.03762", "source": "arXiv.org", "URL": "http://arxiv.org/abs/1706.03762",
     "DOI": "10.48550/arXiv.1706.03762", "note": "arXiv:1706.03762 [cs]",
     "author": [{"family": "Vaswani", "given": "Ashish"}], "issued": {"date-parts": [["2023", 8, 1]]}},
    {"id": "http://zotero.org/users/1/items/EF56GH78", "type": "article-journal", "title": "Deep learning",
     "container-title": "Nature", "volume": "521", "page": "436-444", "DOI": "10.1038/nature14539"},
    {"id": "simpo", "type": "article", "title": "SimPO", "container-title": "arXiv", "number": "2405.14734"},
    {"id": "old", "type": "article", "title": "Old style", "URL": "https://arxiv.org/abs/math.GT/0309136v1"},
]

PLAIN_LIST = """\
# my reading list
2405.15738
arXiv:1706.03762v5

https://arxiv.org/abs/2201.11903v6
https://arxiv.org/pdf/2405.14734v2.pdf
hep-th/9711200
https://huggingface.co/papers/2310.06825
2405.15738v2
this is not a paper
1810.04805  BERT, the one everybody cites
"""


def test_zotero_bibtex_export():
    got = read_library(ZOTERO_BIB, "My Library.bib")
    assert got.format == "bibtex"
    # the abstract mentions 1810.04805 but only citation fields count
    assert got.ids == ["1706.03762", "2405.14734"]
    assert ZOTERO_BIB.splitlines()[14].startswith("@article{lecun_deep_2015,")
    assert got.problems == [(15, "entry 'lecun_deep_2015' at line 15 has no arXiv id")]
    assert got.entries == 3


def test_google_scholar_bibtex_and_other_eprints():
    got = read_library(SCHOLAR_BIB)
    assert got.format == "bibtex"  # detected from the content
    assert got.ids == ["hep-th/9711200", "2201.11903"]
    assert got.problems == [(12, "entry 'pubmed_eprint' at line 12 has no arXiv id")]


def test_zotero_ris_export():
    got = read_library(ZOTERO_RIS, "export.ris")
    assert got.format == "ris"
    assert got.ids == ["1706.03762", "2201.11903"]
    assert got.problems == [(17, "entry 'Deep learning' at line 17 has no arXiv id")]
    assert read_library(ZOTERO_RIS.replace("ER  - ", "ER  -")).ids == got.ids  # editors strip the space; detected too


def test_zotero_csl_json_export():
    text = json.dumps(ZOTERO_CSL, indent=2)
    got = read_library(text, "export.json")
    assert got.format == "csl-json"
    assert got.ids == ["1706.03762", "2405.14734", "math/0309136"]
    line = text.splitlines().index("  {", 2) + 1  # the second item's opening brace
    assert "EF56GH78" in text.splitlines()[line]  # the line after it names the item
    assert got.problems == [(line, f"entry 'http://zotero.org/users/1/items/EF56GH78' at line {line} has no arXiv id")]


def test_plain_list():
    got = read_library(PLAIN_LIST, "ids.txt")
    assert got.format == "list"
    assert got.ids == ["2405.15738", "1706.03762", "2201.11903", "2405.14734", "hep-th/9711200", "2310.06825",
                       "1810.04805"]
    assert got.problems == [(10, "line 10: not an arXiv id or URL: 'this is not a paper'")]
    assert detect_format(PLAIN_LIST) == "list"


def test_unterminated_bibtex_keeps_the_entries_before():
    broken = ZOTERO_BIB + "\n@misc{cut_off,\n\ttitle = {Half an entry,\n\teprint = {2401.00001},\n"
    got = read_library(broken, "lib.bib")
    assert got.ids == ["1706.03762", "2405.14734"]
    line, message = got.problems[-1]
    assert broken.splitlines()[36] == "@misc{cut_off,"
    assert line == 37 and message.startswith("line 37: cannot read the entry '@misc{cut_off,'")


def test_broken_bibtex_in_the_middle_keeps_both_sides():
    text = "@misc{a, eprint={2405.15738}, archivePrefix={arXiv}}\n@misc{b, title = {no close\n\n" \
           "@misc{c, url={https://arxiv.org/abs/1706.03762}}\n@misc{c, url={https://arxiv.org/abs/2201.11903}}\n"
    got = read_library(text)
    assert got.ids == ["2405.15738", "1706.03762", "2201.11903"]  # a duplicate key is still a paper
    assert [line for line, _ in got.problems] == [2]


def test_truncated_csl_json_keeps_the_items_before():
    text = json.dumps(ZOTERO_CSL, indent=2)
    cut = text[: text.index('"id": "old"') + 5]
    got = read_library(cut, "export.json")
    assert got.ids == ["1706.03762", "2405.14734"]
    assert len(got.problems) == 2 and "broken JSON" in got.problems[-1][1]
    assert got.problems[-1][0] == cut.count("\n") + 1


def test_not_closed_and_non_object_csl_json():
    got = read_library('[{"id": "a", "URL": "https://arxiv.org/abs/2405.15738"},\n 42,\n', "x.json")
    assert got.ids == ["2405.15738"]
    assert got.problems == [(2, "line 2: a CSL-JSON item must be an object, got int"),
                            (3, "line 3: the JSON array is not closed (truncated file?)")]


def test_ris_without_end_tag_keeps_the_record():
    got = read_library(ZOTERO_RIS.rsplit("ER  -", 1)[0], "x.ris")
    assert got.ids == ["1706.03762", "2201.11903"]
    assert got.problems[-1] == (28, "line 28: the last record has no 'ER  -' end tag (truncated file?)")


def test_binary_empty_and_non_utf8_files_are_bad_input():
    with pytest.raises(BadInput, match="binary"):
        read_library("PK\x03\x04\x00\x00garbage", "library.bib")
    with pytest.raises(BadInput, match="not UTF-8"):
        read_library(b"\x89PNG\r\n\x1a\n\xff\xfe", "library.bib")
    with pytest.raises(BadInput, match="empty"):
        read_library("  \n\n", "library.bib")
    assert read_library("\ufeff2405.15738\r\n".encode("utf-8")).ids == ["2405.15738"]  # BOM and CRLF


def test_garbage_text_is_problems_not_a_crash():
    got = read_library("\n".join(f"junk line {i}" for i in range(500)))
    assert got.ids == [] and len(got.problems) == 101  # capped, with a last "too many problems"
    assert got.problems[-1][1] == "too many problems; the rest are not listed"


def test_too_large_and_too_many_entries():
    with pytest.raises(BadInput, match="limit is 5 MB"):
        read_library("2405.15738\n" * (MAX_BYTES // 11 + 1))
    many = "\n".join(f"24{m:02d}.{n:05d}" for m in range(1, 13) for n in range(1, 1000))
    assert len(many.splitlines()) > MAX_ENTRIES
    with pytest.raises(BadInput, match="more than 10,000 entries"):
        read_library(many)


def _ids(n: int) -> list[str]:
    return [f"24{m:02d}.{k:05d}" for m in range(1, 13) for k in range(1, 1000)][:n]


def test_exactly_the_entry_limit_is_accepted_and_one_more_refused():
    ids = _ids(MAX_ENTRIES + 1)
    assert MAX_ENTRIES == 10_000 and len(set(ids)) == MAX_ENTRIES + 1
    got = read_library("\n".join(ids[:MAX_ENTRIES]), "ids.txt")
    assert got.entries == MAX_ENTRIES and got.ids == ids[:MAX_ENTRIES] and got.problems == []
    with pytest.raises(BadInput, match="more than 10,000 entries"):
        read_library("\n".join(ids), "ids.txt")
    csl = [{"id": str(n), "type": "article", "URL": f"https://arxiv.org/abs/{pid}"} for n, pid in enumerate(ids)]
    assert read_library(json.dumps(csl[:MAX_ENTRIES]), "x.json").entries == MAX_ENTRIES
    with pytest.raises(BadInput, match="more than 10,000 entries"):
        read_library(json.dumps(csl), "x.json")



# ---- format detection: the extension first, then the content
A_LIST = "2405.15738\n"
A_BIB = "@misc{k, eprint = {2405.15738}}\n"


@pytest.mark.parametrize("name, fmt", [("x.bib", "bibtex"), ("X.BIB", "bibtex"), ("refs.bibtex", "bibtex"),
                                       ("my.library.ris", "ris"), ("export.2024.json", "csl-json"),
                                       ("ids.TXT", "list")])
def test_the_extension_decides_whatever_the_content(name, fmt):
    other = A_LIST if fmt != "list" else A_BIB  # content that says something else
    assert detect_format(other, name) == fmt
    assert read_library(A_BIB, "ids.txt").format == "list"


@pytest.mark.parametrize("text, fmt", [
    ('[{"id": "a"}]', "csl-json"), ('{"id": "a"}', "csl-json"), ('\n\n  [{"id": "a"}]', "csl-json"),
    ("  @misc{k,}", "bibtex"), ("@string without a brace", "bibtex"),
    ("% exported by JabRef\n@Misc{k,}", "bibtex"), ("% exported\n\t@article (k,)", "bibtex"),
    ("\n\nTY  - JOUR\nER  - \n", "ris"), ("TYPES of attention 2405.15738\nAU  - Someone\n", "list"),
    ("ty  - jour\n", "list"), ("2405.15738\n" * 49 + "TY  - JOUR\n", "ris"), ("2405.15738\n" * 50 + "TY  - JOUR\n", "list"),
])
def test_without_a_known_extension_the_content_decides(text, fmt):
    for name in ("", "library", "bib", "notes.dat"):  # no extension, or one that is not a format's
        assert detect_format(text, name) == fmt, name


def test_a_sniffed_format_is_read_as_that_format():
    assert read_library("% JabRef\n@Misc{k, eprint = {2405.15738}}\n").format == "bibtex"
    assert read_library("\n[{\"URL\": \"https://arxiv.org/abs/2405.15738\"}]").ids == ["2405.15738"]
    assert read_library('{"URL": "https://arxiv.org/abs/2405.15738"}').ids == ["2405.15738"]


# ---- the text itself: size, encoding, line ends
def test_the_size_limit_counts_bytes_and_says_how_big():
    fits = "2405.15738\n" + "#" * (MAX_BYTES - 12) + "\n"
    assert len(fits.encode()) == MAX_BYTES and read_library(fits).ids == ["2405.15738"]
    with pytest.raises(BadInput) as too_big:
        read_library(fits + "#")
    assert too_big.value.message == "the library file is 5.0 MB; the limit is 5 MB"
    with pytest.raises(BadInput) as wide:  # 2 bytes a character in UTF-8: counted as sent, not as characters
        read_library("\u00e9" * (3 * 2**20))
    assert wide.value.message == "the library file is 6.0 MB; the limit is 5 MB"
    with pytest.raises(BadInput) as sent:
        read_library(b"#" * (6 * 2**20))
    assert sent.value.message == "the library file is 6.0 MB; the limit is 5 MB"


def test_binary_empty_bom_and_line_ends_exactly():
    with pytest.raises(BadInput) as binary:
        read_library("2405.15738\x00")
    assert binary.value.message == "the library file is binary, not text; export BibTeX, RIS, CSL-JSON or a list of ids"
    with pytest.raises(BadInput) as empty:
        read_library("\ufeff \n")
    assert empty.value.message == "the library file is empty"
    assert read_library("\ufeff2405.15738\n").ids == ["2405.15738"]  # a BOM in text, not only in bytes
    classic_mac = read_library("2405.15738\r1706.03762\rnot one\r")
    assert classic_mac.ids == ["2405.15738", "1706.03762"] and classic_mac.problems == [
        (3, "line 3: not an arXiv id or URL: 'not one'")]
    windows = read_library("2405.15738\r\n\r\nnot one\r\n")
    assert windows.problems == [(3, "line 3: not an arXiv id or URL: 'not one'")]
    assert read_library("XLNet 1906.08237\n").problems == [(1, "line 1: not an arXiv id or URL: 'XLNet 1906.08237'")]


# ---- a plain list
def test_a_list_line_may_end_its_id_with_a_comma_or_semicolon():
    got = read_library("2405.15738, the BERT one\n1706.03762; attention\n" + "x" * 100 + "\n2405.15739X\n", "ids.txt")
    assert got.ids == ["2405.15738", "1706.03762"]
    assert got.problems == [(3, f"line 3: not an arXiv id or URL: {'x' * 80!r}"),
                            (4, "line 4: not an arXiv id or URL: '2405.15739X'")]


# ---- BibTeX: every field an exporter puts an arXiv id in, and what is not arXiv
BIBTEX_FIELDS = """\
@misc{eprint_only, eprint = {2405.00001}}
@misc{braced, eprint = {{2405.00002}}, archivePrefix = {{arXiv}}}
@misc{marked_eprint, eprint = {arXiv preprint arXiv:2405.00003}}
@article{mendeley, arxivId = {2405.00004}}
@misc{arxiv_field, arxiv = {2405.00005}}
@misc{biblatex, eprint = {2405.00006}, eprinttype = {arxiv}}
@misc{doi, doi = {10.48550/arXiv.2405.00007}}
@misc{url, url = {https://arxiv.org/abs/2405.00008v2}}
@article{journal, journal = {arXiv preprint arXiv:2405.00009}}
@misc{note, note = {arXiv:2405.00010 [cs.CL]}}
@misc{howpublished, howpublished = {\\url{https://arxiv.org/pdf/2405.00011}}}
@techreport{number, number = {arXiv:2405.00012}}
@article{pages, pages = {arXiv:2405.00013}}
@misc{pubmed_prefix, eprint = {2405.00014}, archivePrefix = {PubMed}}
@misc{pubmed_type, eprint = {2405.00015}, eprinttype = {pubmed}}
@misc{not_quite, eprint = {2405.00016}, archivePrefix = {XarXiv}}
"""


def test_bibtex_reads_each_field_and_only_arxiv_eprints():
    got = read_library(BIBTEX_FIELDS, "x.bib")
    assert got.ids == [f"2405.{n:05d}" for n in range(1, 14)]
    assert got.problems == [(14, "entry 'pubmed_prefix' at line 14 has no arXiv id"),
                            (15, "entry 'pubmed_type' at line 15 has no arXiv id"),
                            (16, "entry 'not_quite' at line 16 has no arXiv id")]


def test_bibtex_problems_say_why_and_keep_parsing_quietly(caplog):
    caplog.set_level(logging.WARNING, logger="bibtexparser")
    root = logging.getLogger().level
    text = ("@misc{" + "k" * 70 + ", title = {x}\n@misc{b, eprint = {2405.15738}}\n"
            "@string{jn = {Journal}}\n@string{jn = {Other}}\n")
    got = read_library(text, "x.bib")
    assert got.ids == ["2405.15738"]
    assert got.problems == [
        (1, f"line 1: cannot read the entry '@misc{{{'k' * 54}': Unexpected block start: `@misc`. "
            "Was still looking for field-value closing `,` or `}`"),
        (4, "line 4: cannot read the entry '@string{jn = {Other}}': a syntax error")]  # a duplicate @string
    assert not [r for r in caplog.records if r.name.startswith("bibtexparser")]  # reported as problems only
    assert logging.getLogger().level == root  # and nobody else's logging was touched


def test_bibtex_block_and_delimiter_limits_are_exact():
    from papersift.ingest.library import MAX_BIBTEX_BLOCKS, MAX_BIBTEX_MARKS

    entries = "".join(f"@misc{{k{n}, eprint = {{2405.{n + 1:05d}}}}}\n" for n in range(MAX_ENTRIES))
    comments = "@comment{x}\n" * (MAX_BIBTEX_BLOCKS - MAX_ENTRIES)
    assert read_library(entries + comments, "x.bib").entries == MAX_ENTRIES  # exactly the block limit
    with pytest.raises(BadInput) as blocks:
        read_library(entries + comments + "@comment{y}\n", "x.bib")
    assert blocks.value.message == ("the BibTeX file has 20,001 entries (blocks starting '@type{'); the limit is "
                                    "10,000 entries: import it in parts")
    head = "@misc{k, eprint = {2405.15738}, note = {"  # 8 delimiters, and 3 in the closing "}}\n"
    full = head + "," * (MAX_BIBTEX_MARKS - 11) + "}}\n"
    assert read_library(full, "x.bib").ids == ["2405.15738"]
    with pytest.raises(BadInput) as marks:
        read_library(head + "," * (MAX_BIBTEX_MARKS - 10) + "}}\n", "x.bib")
    assert marks.value.message == ("the BibTeX file has 1,500,001 braces, quotes, commas, equals signs and line "
                                   "breaks, more than a library of 10,000 entries (at most 1,500,000): is it BibTeX?")


# ---- RIS: every tag an exporter puts an arXiv id in; records without an end; text between records
RIS_FIELDS = """\
TY  - JOUR
ID  - doi
DO  - 10.48550/arXiv.2405.00001
ER  -

TY  - JOUR
T1  - url
UR  - https://arxiv.org/abs/2405.00002
ER  -

TY  - JOUR
TI  - journal
JO  - arXiv preprint arXiv:2405.00003
ER  -

TY  - JOUR
TI  - secondary
T2  - arXiv:2405.00004
ER  -

TY  - JOUR
J2  - arXiv:2405.00005
ER  -

TY  - JOUR
JA  - arXiv:2405.00006
ER  -

TY  - JOUR
JF  - arXiv:2405.00007
ER  -

TY  - JOUR
N1  - arXiv:2405.00008 [cs]
ER  -

TY  - JOUR
M1  - arXiv:2405.00009
ER  -

TY  - JOUR
IS  - arXiv:2405.00010
ER  -

TY  - JOUR
C1  - arXiv:2405.00011
ER  -

TY  - PREP
PB  - arXiv
IS  - 2405.00012
ER  -

TY  - PREP
JO  - arXiv
M1  - 2405.00013
ER  -

TY  - JOUR
PB  - Nature
IS  - 2405.00014
ER  -

TY  - JOUR
XY  - arXiv:2405.00015
ER  -
"""


def test_ris_reads_each_tag_and_bare_ids_only_from_arxiv():
    got = read_library(RIS_FIELDS, "x.ris")
    assert got.ids == [f"2405.{n:05d}" for n in range(1, 14)] + ["2405.00015"]  # and a tag rispy does not know
    nature = RIS_FIELDS.splitlines().index("PB  - Nature")  # the record's TY line, counted from 1
    assert got.problems == [(nature, f"entry 'record' at line {nature} has no arXiv id")]  # an issue number, not an id


def test_ris_records_cut_short_and_text_outside_them():
    text = ("stray " + "y" * 70 + "\nTY  - JOUR\nTI  - Title one\nID  - first\n"
            "TY  - JOUR\nTI  - second\nUR  - https://arxiv.org/abs/2405.15738\nER  - \nTY  - JOUR\nT1  - third")
    got = read_library(text, "x.ris")
    assert got.ids == ["2405.15738"]
    assert got.problems == [
        (1, f"line 1: text outside a record (records start with 'TY  -'): {('stray ' + 'y' * 70)[:60]!r}"),
        (2, "line 2: record has no 'ER  -' end tag before line 5"),
        (2, "entry 'first' at line 2 has no arXiv id"),
        (9, "line 9: the last record has no 'ER  -' end tag (truncated file?)"),
        (9, "entry 'third' at line 9 has no arXiv id")]
    assert got.entries == 3
    # a record rispy itself cannot read (its "UK" tag and an unknown tag both want the same key)
    clash = read_library("TY  - JOUR\nID  - a\nUK  - x\nXY  - y\nER  -\n" + RIS_FIELDS.split("\n\n")[0], "x.ris")
    assert clash.ids == ["2405.00001"] and clash.problems == [
        (1, "line 1: cannot read the record: string indices must be integers, not 'str'")]


# ---- CSL-JSON: every field, bare ids only from arXiv items, one item alone, and broken files
def test_csl_json_reads_each_field_and_bare_ids_only_from_arxiv():
    items = [{"id": "doi", "DOI": "10.48550/arXiv.2405.00001"}, {"id": "number", "number": "arXiv:2405.00002"},
             {"id": "note", "note": "arXiv:2405.00003 [cs]"},
             {"id": "container", "container-title": "arXiv preprint arXiv:2405.00004"},
             {"id": "location", "archive_location": "arXiv:2405.00005"}, {"id": "source", "source": "arXiv:2405.00006"},
             {"id": "publisher", "publisher": "arXiv", "number": "2405.00007"},
             {"id": "archive", "archive": "arXiv", "archive_location": "2405.00008"},
             {"id": "source_bare", "source": "arXiv", "number": "2405.00009"},
             {"id": "journal", "container-title": "Nature", "number": "2405.00010"},
             {"citation-key": "keyed"}, {"title": "Titled"}, {"type": "book"}, {"id": "k" * 90}]
    text = json.dumps(items, indent=0)
    got = read_library(text, "x.json")
    assert got.ids == [f"2405.{n:05d}" for n in range(1, 10)]
    lines = text.splitlines()
    at = [lines.index(json.dumps(item, indent=0).splitlines()[1]) for item in items[9:]]  # each item's "{" line
    assert got.problems == [(n, f"entry {key!r} at line {n} has no arXiv id")
                            for n, key in zip(at, ["journal", "keyed", "Titled", "item", "k" * 80], strict=True)]


def test_csl_json_one_item_alone_and_where_each_problem_is():
    assert read_library('\n {"id": "x", "URL": "https://arxiv.org/abs/2405.15738"}', "x.json").ids == ["2405.15738"]
    assert read_library('{"id": "x"}', "x.json").problems == [(1, "entry 'x' at line 1 has no arXiv id")]
    assert read_library('{"id": "x",\n "a": }', "x.json").problems == [
        (2, "line 2: broken JSON: Expecting value")]
    spaced = read_library('[{"id": "a"},\n\n  {"id": "b"}\n\n,\n{"id": "c"} {"id": "d"}]', "x.json")
    assert spaced.problems == [(1, "entry 'a' at line 1 has no arXiv id"), (3, "entry 'b' at line 3 has no arXiv id"),
                               (6, "entry 'c' at line 6 has no arXiv id"),
                               (6, "line 6: expected ',' or ']' between items; the rest of the file was skipped")]
    cut = read_library('[{"URL": "https://arxiv.org/abs/2405.15738"}', "x.json")  # ends right after an item
    assert cut.ids == ["2405.15738"] and cut.problems == [(1, "line 1: the JSON array is not closed (truncated file?)")]
    stray = read_library('[X{"URL": "https://arxiv.org/abs/2405.15738"}]', "x.json")
    assert stray.ids == [] and stray.problems == [
        (1, "line 1: broken JSON: Expecting value; the rest of the file was skipped")]


def test_csl_json_too_deep_or_too_long_numbers_name_the_line():
    with pytest.raises(BadInput) as deep:
        read_library('[{"id": "a"},\n' + "[" * 100_000, "x.json")
    assert deep.value.message == "line 2: the JSON nests arrays or objects too deeply to be a CSL-JSON library"
    with pytest.raises(BadInput) as alone:
        read_library("\n" + '{"a":' * 100_000, "x.json")
    assert alone.value.message == "line 1: the JSON nests arrays or objects too deeply to be a CSL-JSON library"
    with pytest.raises(BadInput) as long_number:
        read_library('[{"id": "a"},\n' + "9" * 4301 + "]", "x.json")
    assert long_number.value.message == ("line 2: the JSON holds a number too long to read (Exceeds the limit "
                                         "(4300 digits) for integer string conversion)")
