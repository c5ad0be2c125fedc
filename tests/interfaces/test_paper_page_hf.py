"""The paper page a Hugging Face user expects, through the real server: the link to the paper's page on
Hugging Face, the models / datasets / Spaces that link it (harvested from a server in HF's wire
format), and the Code link an abstract gives when Hugging Face knows no repository."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from papersift.model import Paper
from tests.fakes.server import FakeHTTP, fixture

from ..helpers import HF_SAMPLE, head_jsonl
from ..web_support import served, site_service

CONV = "2405.15738"  # ConvLLaVA: its abstract names github.com/alibaba/conv-llava; HF knows no repository
DYT = "2503.10622"  # the fake HF server's paper with linked repositories
ARXIV_ONLY = "2501.00001"


class Links(HTMLParser):
    """Every link of a page: (href, its text)."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append([dict(attrs).get("href"), ""])

    def handle_data(self, data):
        for link in self._open:
            link[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join(text.split())))


def links_of(html: str) -> dict[str, list[str]]:
    """text -> the hrefs of the links with that text, in the paper itself (not its similar papers)."""
    start = html.index('<article class="paper"')
    parser = Links()
    parser.feed(html[start:html.index("</article>", start)])
    out: dict[str, list[str]] = {}
    for href, text in parser.links:
        out.setdefault(text, []).append(href)
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hf-page")
    fake = FakeHTTP()
    fake.script("/api/daily_papers", fixture("hf_daily_2025-03-17.json"), query={"date": "2025-03-17"})
    fake.script(f"/api/papers/{DYT}", fixture("hf_paper_2503.10622.json"))
    svc = site_service(tmp / "site.db")
    svc.ingest_file("hf-daily", head_jsonl(HF_SAMPLE, tmp / "hf.jsonl", 60))
    svc.harvest_hf(["2025-03-17"], base_url=fake.url)
    fake.close()
    svc.store.upsert_papers([Paper(id=ARXIV_ONLY, title="Only on arXiv", abstract="No code.", source="arxiv-oai",
                                   observed_at="2025-01-02T00:00:00Z", published="2025-01-01T00:00:00Z")])
    svc.indexes_lexical_only().sync_lexical()
    with served(svc) as base, httpx.Client(base_url=base, timeout=30) as client:
        client.service = svc  # for a test that writes what a later harvest would
        yield client


def test_a_paper_from_hugging_face_links_its_page_there_and_its_code_from_the_abstract(site):
    page = site.get(f"/papers/{CONV}")
    assert page.status_code == 200
    links = links_of(page.text)
    assert links["Hugging Face"] == [f"https://huggingface.co/papers/{CONV}"]
    assert links["Code"] == ["https://github.com/alibaba/conv-llava"]  # from the abstract's last sentence
    assert links["github.com/alibaba/conv-llava"] == ["https://github.com/alibaba/conv-llava"]  # Repositories
    assert re.search(r"<dt>Repositories</dt>", page.text)
    assert "On Hugging Face" not in page.text  # nothing harvested about its linked repositories
    only_arxiv = links_of(site.get(f"/papers/{ARXIV_ONLY}").text)
    assert "Hugging Face" not in only_arxiv and "Code" not in only_arxiv


def test_the_models_datasets_and_spaces_that_link_a_paper(site):
    page = site.get(f"/papers/{DYT}")
    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "Models citing this paper 14:" in text and "Datasets citing this paper 1:" in text
    assert "Spaces citing this paper 2:" in text
    links = links_of(page.text)
    shown = [name for name in links if name.startswith(("jiachenzhu/", "dyt-community/", "🌌", "🧪"))]
    assert ["jiachenzhu/DyT-ViT-B", "jiachenzhu/DyT-ViT-L", "jiachenzhu/DyT-ConvNeXt-B", "jiachenzhu/DyT-DiT-B-4",
            "jiachenzhu/DyT-DiT-L-4"] == shown[:5]  # five of the models, in HF's order
    assert "jiachenzhu/DyT-DiT-XL-2" not in links
    assert links["jiachenzhu/DyT-ViT-B"] == ["https://huggingface.co/jiachenzhu/DyT-ViT-B"]
    assert links["jiachenzhu/dyt-ablations"] == ["https://huggingface.co/datasets/jiachenzhu/dyt-ablations"]
    assert links["🌌 jiachenzhu/DyT-demo"] == ["https://huggingface.co/spaces/jiachenzhu/DyT-demo"]
    assert links["all 14"] == [f"https://huggingface.co/papers/{DYT}"]  # the rest are on Hugging Face
    code = [hrefs for name, hrefs in links.items() if name.startswith("Code ")]  # "Code ★ 1.2K": its stars
    assert code == [["https://github.com/jiachenzhu/DyT"]]  # HF's own repository for it
    api = site.get(f"/api/v1/papers/{DYT}").json()
    assert api["hf_url"] == f"https://huggingface.co/papers/{DYT}" and api["hf_links"]["models"]["total"] == 14
    assert api["hf_links"]["spaces"]["top"][0]["emoji"] == "🌌"
    conv = site.get(f"/api/v1/papers/{CONV}").json()
    assert conv["code_url"] == "https://github.com/alibaba/conv-llava" and conv["has_code"] and not conv["github_repo"]


def test_nothing_linked_shows_no_section(site):
    """Hugging Face said the paper has no linked repositories (as it does for most): the API says so, the
    page shows no empty section."""
    paper = Paper(id="2405.15738", source="hf-api", observed_at="2030-01-01T00:00:00Z",
                  hf_links={kind: {"total": 0, "top": []} for kind in ("models", "datasets", "spaces")})
    site.service.store.upsert_papers([paper])
    page = site.get(f"/papers/{CONV}").text
    assert "On Hugging Face" not in page and "citing this paper" not in page
    known = site.get(f"/api/v1/papers/{CONV}").json()["hf_links"]  # the API still says what is known: none
    assert {kind: links["total"] for kind, links in known.items()} == {"models": 0, "datasets": 0, "spaces": 0}
