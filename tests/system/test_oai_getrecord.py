"""OAIHarvester.get_record (what a website submission fetches) against the local fake arXiv."""

from __future__ import annotations

import pytest

from papersift.errors import BadInput, NotFound, Unavailable
from papersift.ingest.arxiv import OAIHarvester
from tests.fakes.server import Reply, fixture


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake_http, **kw) -> OAIHarvester:
    return OAIHarvester(fake_http.url + "/oai", sleep=Sleeps(), polite_delay=0, **kw)


def test_get_record_new_style_id(fake_http):
    fake_http.script("/oai", fixture("oai_getrecord.xml"), query={"verb": "GetRecord"})
    paper = client(fake_http).get_record("arXiv:2503.11731v2")
    assert paper.id == "2503.11731" and paper.source == "arxiv-oai"
    assert paper.title.startswith("Industrial-Grade Sensor Simulation") and "\n" not in paper.title
    assert paper.authors == ["Xianming Zeng", "Sicong Du", "Qiang Li"]
    assert paper.categories == ["cs.CV", "cs.RO"] and paper.published == "2025-03-14T00:00:00Z"
    (request,) = fake_http.requests_to("/oai")
    # OAI-PMH GetRecord: the OAI identifier of an arXiv paper is oai:arXiv.org:ID (no version)
    assert request.query == {"verb": "GetRecord", "identifier": "oai:arXiv.org:2503.11731",
                             "metadataPrefix": "arXiv"}


def test_get_record_old_style_id_and_entities(fake_http):
    fake_http.script("/oai", fixture("oai_getrecord_old_id.xml"),
                     query={"identifier": "oai:arXiv.org:hep-th/9901001"})
    paper = client(fake_http).get_record("hep-th/9901001")
    assert paper.id == "hep-th/9901001" and paper.authors == ["J. Smith Jr"]
    assert paper.title == r"A Note on $\mathcal{N}=4$ Amplitudes & Dualities"
    assert "$a<b$" in paper.abstract and "<simple>" in paper.abstract  # entities decoded, text kept raw


def test_unknown_id_is_not_found(fake_http):
    fake_http.script("/oai", fixture("oai_id_does_not_exist.xml"))
    with pytest.raises(NotFound, match="arXiv has no paper 2503.99999"):
        client(fake_http).get_record("2503.99999")


def test_malformed_id_makes_no_request(fake_http):
    with pytest.raises(BadInput, match="not an arXiv id"):
        client(fake_http).get_record("not-a-paper")
    assert fake_http.requests == []


def test_other_protocol_error_and_junk(fake_http):
    fake_http.script("/oai", fixture("oai_bad_argument.xml"), query={"identifier": "oai:arXiv.org:2503.00002"})
    fake_http.script("/oai", Reply(200, body=b"<html>maintenance</html>"), query={"identifier": "oai:arXiv.org:2503.00003"})
    with pytest.raises(BadInput, match="badArgument"):
        client(fake_http).get_record("2503.00002")
    with pytest.raises(Unavailable, match="not an OAI-PMH response"):
        client(fake_http).get_record("2503.00003")


def test_get_record_retries_503_then_succeeds(fake_http):
    fake_http.script("/oai", Reply(503, {"Retry-After": "3"}), fixture("oai_getrecord.xml"))
    sleeps = Sleeps()
    paper = OAIHarvester(fake_http.url + "/oai", sleep=sleeps, polite_delay=0).get_record("2503.11731")
    assert paper.id == "2503.11731" and sleeps == [3.0]


def test_get_record_gives_up_with_a_clear_message(fake_http):
    fake_http.script("/oai", Reply(503, {"Retry-After": "1"}))
    with pytest.raises(Unavailable, match=r"HTTP 503 2 times \(GetRecord 2503.11731\); retry later"):
        client(fake_http, max_attempts=2).get_record("2503.11731")
