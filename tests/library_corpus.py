"""Library files for the import tests and ``bench/library_import.py``: real-shaped exports of any
size, and hostile text that once froze the server (one regex or parser step per character, repeated
from every position: quadratic). The tests use small sizes; the benchmark uses the 5 MB cap.

Real-shaped: each entry is written as Zotero writes it (the fields and layout of the exports in
``tests/unit/test_library_import.py``), four arXiv preprints to one journal paper without an arXiv id.
"""

from __future__ import annotations

import json
from typing import Callable

WORDS = ("sparse attention routing mixture experts diffusion video retrieval dense passage graph neural "
         "reinforcement learning language model alignment preference reward scaling laws vision token "
         "benchmark reasoning chain thought agents planning robust efficient training inference").split()


def _arxiv_id(i: int) -> str:
    """Distinct, valid new-style ids: 2301.00001, 2301.00002, ... across months of 2023-2025."""
    month = i // 90000
    return f"{23 + month // 12}{month % 12 + 1:02d}.{i % 90000 + 1:05d}"


def _title(i: int) -> str:
    return " ".join(WORDS[(i * 7 + k * 13) % len(WORDS)] for k in range(8)).capitalize()


def zotero_bibtex(n: int) -> str:
    out = []
    for i in range(n):
        if i % 5 == 4:
            out.append(f"@article{{journal_{i},\n\ttitle = {{{_title(i)}}},\n\tvolume = {{{i % 600}}},\n"
                       f"\tdoi = {{10.1038/nature{i:05d}}},\n\tjournal = {{Nature}},\n"
                       f"\tauthor = {{Doe, Jane and Roe, Richard}},\n\tyear = {{2015}},\n\tpages = {{436--444}},\n}}\n")
            continue
        pid = _arxiv_id(i)
        out.append(f"@misc{{author_{i}_2024,\n\ttitle = {{{_title(i)}}},\n\turl = {{http://arxiv.org/abs/{pid}}},\n"
                   f"\tdoi = {{10.48550/arXiv.{pid}}},\n\tpublisher = {{arXiv}},\n"
                   f"\tauthor = {{Vaswani, Ashish and Shazeer, Noam}},\n\tmonth = aug,\n\tyear = {{2024}},\n"
                   f"\tnote = {{arXiv:{pid} [cs]}},\n}}\n")
    return "\n".join(out)


def zotero_ris(n: int) -> str:
    out = []
    for i in range(n):
        if i % 5 == 4:
            out.append(f"TY  - JOUR\nTI  - {_title(i)}\nAU  - Doe, Jane\nT2  - Nature\nVL  - 521\n"
                       f"DO  - 10.1038/nature{i:05d}\nER  - \n")
            continue
        pid = _arxiv_id(i)
        out.append(f"TY  - PREP\nTI  - {_title(i)}\nAU  - Vaswani, Ashish\nAU  - Shazeer, Noam\nPY  - 2024\n"
                   f"DO  - 10.48550/arXiv.{pid}\nDP  - arXiv.org\nPB  - arXiv\nUR  - http://arxiv.org/abs/{pid}\n"
                   f"N1  - arXiv:{pid} [cs]\nER  - \n")
    return "\n".join(out)


def zotero_csl_json(n: int) -> str:
    items = []
    for i in range(n):
        if i % 5 == 4:
            items.append({"id": f"http://zotero.org/users/1/items/J{i:07d}", "type": "article-journal",
                          "title": _title(i), "container-title": "Nature", "DOI": f"10.1038/nature{i:05d}"})
            continue
        pid = _arxiv_id(i)
        items.append({"id": f"http://zotero.org/users/1/items/P{i:07d}", "type": "article", "title": _title(i),
                      "publisher": "arXiv", "number": f"arXiv:{pid}", "URL": f"http://arxiv.org/abs/{pid}",
                      "author": [{"family": "Vaswani", "given": "Ashish"}], "issued": {"date-parts": [["2024", 8, 1]]}})
    return json.dumps(items, indent=2)


def arxiv_ids(n: int) -> list[str]:
    """The arXiv ids the real-shaped files of ``n`` entries hold, in file order."""
    return [_arxiv_id(i) for i in range(n) if i % 5 != 4]


REAL_SHAPED: dict[str, tuple[Callable[[int], str], str]] = {
    "bibtex": (zotero_bibtex, "library.bib"),
    "ris": (zotero_ris, "library.ris"),
    "csl-json": (zotero_csl_json, "library.json"),
}


def _fill(unit: str, size: int, head: str = "", tail: str = "") -> str:
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


# name -> (text of about ``size`` bytes, file name that picks the format). Each was once slow (a
# regex or parser step repeated from every position) or an error (deep JSON, huge numbers).
ADVERSARIAL: dict[str, Callable[[int], tuple[str, str]]] = {
    "arxiv repeated, a list": lambda n: (_fill("arxiv", n), "x.txt"),
    "arxiv repeated, a BibTeX note": lambda n: (_fill("arxiv", n, "@misc{k, note={", "}}\n"), "x.bib"),
    "arxiv repeated, a RIS note": lambda n: (_fill("arxiv", n, "TY  - JOUR\nN1  - ", "\nER  - \n"), "x.ris"),
    "arxiv repeated, a CSL-JSON note": lambda n: (_fill("arxiv", n, '[{"id": "k", "note": "', '"}]'), "x.json"),
    "arxiv preprint repeated": lambda n: (_fill("arxiv preprint ", n), "x.txt"),
    "arxiv colons repeated": lambda n: (_fill("arXiv: ", n), "x.txt"),
    "arxiv urls without an id": lambda n: (_fill("arxiv.org/abs/", n), "x.txt"),
    "arxiv then letters": lambda n: (_fill("a", n, "arxiv:"), "x.txt"),
    "old-style id prefixes": lambda n: (_fill("hep-th/", n, "arxiv "), "x.txt"),
    "long digit run": lambda n: (_fill("9", n), "x.txt"),
    "long digit run after an id": lambda n: (_fill("9", n, "2405."), "x.txt"),
    "@a{ repeated": lambda n: (_fill("@a{", n), "x.bib"),
    "@a{ repeated, detected": lambda n: (_fill("@a{", n), ""),
    "deep open braces in BibTeX": lambda n: (_fill("{", n, "@misc{k, title = "), "x.bib"),
    "closing braces in BibTeX": lambda n: (_fill("}", n, "@misc{k, title = {a"), "x.bib"),
    "an unclosed quote in BibTeX": lambda n: (_fill("x", n, '@misc{k, title = "'), "x.bib"),
    "commas in BibTeX": lambda n: (_fill(",", n, "@misc{k"), "x.bib"),
    "equals signs in BibTeX": lambda n: (_fill("a=", n, "@misc{k, "), "x.bib"),
    "at signs": lambda n: (_fill("@", n), "x.bib"),
    "blank lines before an @": lambda n: (_fill("\n", n, "", "@misc{k, eprint={2405.15738}}"), ""),
    "spaces before an @": lambda n: (_fill(" ", n, "", "@misc{k, eprint={2405.15738}}"), ""),
    "RIS start tags": lambda n: (_fill("TY  - JOUR\n", n), "x.ris"),
    "RIS tags without records": lambda n: (_fill("N1  - arxiv\n", n), "x.ris"),
    "one huge RIS line": lambda n: (_fill("x", n, "TY  - JOUR\nTI  - ", "\nER  - \n"), "x.ris"),
    "deep JSON arrays": lambda n: (_fill("[", n), "x.json"),
    "deep JSON objects": lambda n: (_fill('{"a":', n), "x.json"),
    "deep JSON inside an item": lambda n: (_fill("[", n, '[{"id": "k", "note": '), "x.json"),
    "a number of 4,301 digits": lambda n: ("[" + "9" * 4301 + "]", "x.json"),
    "a huge number": lambda n: (_fill("9", n, "["), "x.json"),
    "JSON escapes": lambda n: (_fill("\\u00e9", n, '[{"id": "k", "note": "', '"}]'), "x.json"),
    "JSON items that are not objects": lambda n: (_fill("1,", n, "[", "1]"), "x.json"),
}
