"""Reading library files for the cold start (issue 11): each format in its exporters' real syntax, and broken files."""

from __future__ import annotations

import json

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
