import pytest

from papersift.errors import BadInput
from papersift.ids import parse_arxiv_id
from papersift.model import normalize_paper_id


@pytest.mark.parametrize("raw,expected", [
    ("2405.15738", ("2405.15738", None)),
    ("2405.15738v3", ("2405.15738", 3)),
    ("arXiv:2405.15738v2", ("2405.15738", 2)),
    ("https://arxiv.org/abs/2405.15738v1", ("2405.15738", 1)),
    ("https://arxiv.org/pdf/2405.15738.pdf", ("2405.15738", None)),
    ("0704.0001", ("0704.0001", None)),
    ("hep-th/9901001", ("hep-th/9901001", None)),
    ("hep-th/9901001v2", ("hep-th/9901001", 2)),
    ("math.GT/0309136", ("math/0309136", None)),
    ("  1501.00001 ", ("1501.00001", None)),
])
def test_parse_arxiv_id(raw, expected):
    assert parse_arxiv_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "2413.00001", "1501.0001", "1401.00001", "hep-th/99010",
                                 "2405.15738v", "x" * 500, "2405.15738; DROP TABLE papers"])
def test_bad_ids(raw):
    with pytest.raises(BadInput):
        parse_arxiv_id(raw)


def test_namespaced_ids():
    assert normalize_paper_id("scifact:4983") == "scifact:4983"
    assert normalize_paper_id("arXiv:2405.15738") == "2405.15738"
    with pytest.raises(BadInput):
        normalize_paper_id("Bad Id:1")


def test_paper_key_is_a_stable_63_bit_number():
    from papersift.ids import paper_key

    assert paper_key("2405.15738") == paper_key("2405.15738") != paper_key("2405.15739")
    keys = {paper_key(f"2405.{i:05d}") for i in range(20_000)}
    assert len(keys) == 20_000 and all(0 <= k < 2**63 for k in keys)
    assert paper_key("hep-th/9901001") == 0x40394ADFDBB72374  # stored in indexes on disk: must never change
