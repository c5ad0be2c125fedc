"""The repositories an abstract or comment links (code_links.py), and what a paper makes of them:
``code_links``, ``code_url``, ``has_code`` and its Hugging Face page (``hf_url``)."""

from __future__ import annotations

import gzip
import json
import re
import time

import pytest

from papersift.code_links import find_code_links
from papersift.model import Paper

from ..helpers import ARXIV_SAMPLE, HF_SAMPLE


def urls(*texts):
    return [link.url for link in find_code_links(*texts)]


@pytest.mark.parametrize("text, expected", [
    # sentence punctuation, brackets and LaTeX around a URL; a scheme or not; www.
    ("The ConvLLaVA model series are publicly available at https://github.com/alibaba/conv-llava.",
     ["https://github.com/alibaba/conv-llava"]),
    ("code: github.com/a-b/c_d.e, data (https://www.github.com/x/y);", ["https://github.com/a-b/c_d.e",
                                                                       "https://github.com/x/y"]),
    (r"\href{https://github.com/hyx1999/Quad}{repository}", ["https://github.com/hyx1999/Quad"]),
    (r"\url{https://github.com/haorandd/M2oE2\_load\_forecast.git}.", ["https://github.com/haorandd/M2oE2_load_forecast"]),
    ("[https://github.com/Zh1yuShen/HopWeaver]", ["https://github.com/Zh1yuShen/HopWeaver"]),
    # a deeper path, a query or a fragment name the same repository; the same one twice (any case) is one
    ("https://github.com/ai4colonoscopy/PraNet-V2/tree/main/binary_seg/jittor. See also "
     "http://GitHub.com/AI4Colonoscopy/pranet-v2#readme", ["https://github.com/ai4colonoscopy/PraNet-V2"]),
    # GitLab groups nest; its /-/ ends the project's path
    ("https://gitlab.com/group/sub/project/-/tree/main and gitlab.com/a/b.git", ["https://gitlab.com/group/sub/project",
                                                                               "https://gitlab.com/a/b"]),
    # Hugging Face: models, datasets, Spaces, the short host
    ("at https://huggingface.co/datasets/koenshen/EVADE-Bench. Weights: huggingface.co/nvidia/AceReason-Nemotron-1.1-7B,"
     " demo hf.co/spaces/org/demo", ["https://huggingface.co/datasets/koenshen/EVADE-Bench",
                                     "https://huggingface.co/nvidia/AceReason-Nemotron-1.1-7B",
                                     "https://huggingface.co/spaces/org/demo"]),
    # not repositories: a user or organisation, site pages, other hosts, e-mail, subdomains
    ("https://github.com/openai, github.com/topics/llm, https://github.com/orgs/x/y, huggingface.co/inceptionai. "
     "https://huggingface.co/collections/a/b-123 huggingface.co/papers/2405.15738 x.github.io/proj "
     "me@github.com/a/b api.github.com/repos/a/b notgithub.com/a/b https://github.com/", []),
])
def test_links_found_in_text(text, expected):
    assert urls(text) == expected


def test_kinds_names_and_order_across_abstract_and_comment():
    links = find_code_links("Models at huggingface.co/a/m and code at github.com/a/code.", "Data: gitlab.com/g/d")
    assert [(link.kind, link.name, link.is_code) for link in links] == [
        ("model", "a/m", False), ("github", "a/code", True), ("gitlab", "g/d", True)]
    assert find_code_links(None, "") == []


def test_hostile_text_is_read_in_linear_time():
    """Runs of URL characters, of host names and of slashes: each answers at once (a backtracking
    pattern took seconds on such text)."""
    for text in ("github.com/" + "a" * 100_000, "github.com/" * 10_000, "https://github.com/a" + "/" * 100_000,
                 "huggingface.co/" + "a/" * 50_000, "x" * 1_000_000):
        started = time.monotonic()
        find_code_links(text)
        assert time.monotonic() - started < 2, text[:30]


def test_every_link_in_the_real_sample_is_a_repository_its_text_names():
    """The committed arXiv and HF samples: each link found is a canonical repository URL whose
    owner/name the text spells (bar LaTeX's escaped underscores), and a good share of papers have one."""
    texts = []
    with gzip.open(ARXIV_SAMPLE, "rt") as handle:
        texts += [(row.get("abstract"), row.get("comment")) for row in map(json.loads, handle)]
    with gzip.open(HF_SAMPLE, "rt") as handle:
        texts += [(row.get("abstract"), None) for row in map(json.loads, handle)]
    with_links = 0
    for abstract, comment in texts:
        links = find_code_links(abstract, comment)
        with_links += bool(links)
        spelled = " ".join(filter(None, (abstract, comment))).replace("\\_", "_").lower()
        for link in links:
            assert re.fullmatch(r"https://(github\.com|gitlab\.com|huggingface\.co)/[\w./-]+", link.url), link
            assert link.name.lower() in spelled, link
    assert with_links >= len(texts) // 10


def test_the_code_link_of_a_paper():
    conv = Paper(id="2405.15738", abstract="The ConvLLaVA model series are publicly available at "
                                           "https://github.com/alibaba/conv-llava.")
    assert conv.has_code and conv.code_url == "https://github.com/alibaba/conv-llava"
    # HF's repository comes first, whether a URL or owner/name; a non-URL is not a link
    assert Paper(id="x", github_repo="https://gitlab.com/a/b", abstract=conv.abstract).code_url == "https://gitlab.com/a/b"
    assert Paper(id="x", github_repo="alibaba/conv-llava").code_url == "https://github.com/alibaba/conv-llava"
    assert Paper(id="x", github_repo="javascript:alert(5)").code_url is None
    # a code host before a Hugging Face repository, else the Hugging Face one
    both = Paper(id="x", abstract="weights huggingface.co/a/m", comment="code github.com/a/c")
    assert both.code_url == "https://github.com/a/c" and both.has_code
    assert Paper(id="x", abstract="weights huggingface.co/a/m").code_url == "https://huggingface.co/a/m"
    assert not Paper(id="x", abstract="no code here").has_code and Paper(id="x").code_url is None
    data = conv.to_dict()
    assert data["code_url"] == conv.code_url and data["code_links"] == [conv.code_url] and data["has_code"]


def test_the_hugging_face_page_only_for_papers_from_there():
    seen = {"source": "hf-jsonl", "at": "2024-06-01T00:00:00Z"}
    assert Paper(id="2405.15738", provenance={"upvotes": seen}).hf_url == "https://huggingface.co/papers/2405.15738"
    assert Paper(id="2405.15738", provenance={"title": {"source": "arxiv-oai", "at": "x"}}).hf_url is None
    assert Paper(id="scifact:42", provenance={"title": seen}).hf_url is None
    assert Paper(id="2405.15738").to_dict()["hf_url"] is None
