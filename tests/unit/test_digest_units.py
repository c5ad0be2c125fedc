"""The digest's small parts on their own: link tokens, subscription input, which digests are due
on which day, the 7-bit fallback of the message encoding, and the store's migration to schema 3."""

from __future__ import annotations

import email
import email.policy
import sqlite3
from datetime import date, timedelta

import pytest

from papersift.config import Settings
from papersift.digest import Digests
from papersift.errors import BadInput, BadToken, ExpiredToken
from papersift.formats.rss_atom import xml_text
from papersift.service import clean_choices, due_periods
from papersift.service.tokens import Signer
from papersift.store import open_store
from papersift.store.sqlite import MIGRATIONS, SCHEMA_VERSION

from ..digest_support import DAYS, Clock, add_subscribers, make_service, smtp_config


def test_tokens_are_signed_scoped_and_expire():
    now = [1_700_000_000.0]
    signer = Signer("k" * 32, clock=lambda: now[0])
    token = signer.sign("unsubscribe", 42, "3", 3600)
    claim = signer.verify(token, "unsubscribe")
    assert (claim.purpose, claim.subscriber_id, claim.value) == ("unsubscribe", 42, "3")
    body, mac = token.split(".")
    for bad in ("", "x", token + "x", body + ".", "." + mac, body.replace("e", "f", 1) + "." + mac, token + ".x",
                "a" * 700):
        with pytest.raises(BadToken):
            signer.verify(bad, "unsubscribe")
    with pytest.raises(BadToken):
        signer.verify(token, "manage")  # another purpose
    with pytest.raises(BadToken):
        Signer("another key").verify(token, "unsubscribe")
    now[0] += 3601
    with pytest.raises(ExpiredToken):
        signer.verify(token, "unsubscribe")


@pytest.mark.parametrize("args, message", [
    (("sometimes", True), "unknown cadence"),
    (("daily", False), "choose what to receive"),
    (("daily", False, "  ,  "), "choose what to receive"),
    (("weekly", True, "cs.LG notacat!"), "not an arXiv category"),
    (("weekly", True, "", "Org\x07Name"), "control characters"),
    (("weekly", True, "", "", "", "-only"), "saved search"),
    (("daily", True, " ".join(f"cs.A{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(21))), "at most 20"),
])
def test_bad_choices(args, message):
    with pytest.raises(BadInput, match=message):
        clean_choices(*args)


def test_choices_are_cleaned_and_deduplicated():
    choices = clean_choices(" Weekly ", False, "cs.LG, cs.CL cs.LG", "  Google   DeepMind \n\ngoogle deepmind",
                            "Yann LeCun", 'diffusion "video generation"')
    assert choices.cadence == "weekly" and not choices.trending
    assert choices.topics == [("category", "cs.LG"), ("category", "cs.CL"), ("organization", "Google DeepMind"),
                              ("author", "Yann LeCun"), ("search", 'diffusion "video generation"')]


def test_which_digests_are_due():
    config = Settings()  # weekly on Mondays
    monday = date(2026, 11, 23)
    week = {(monday + timedelta(days=i)).strftime("%a"): due_periods(monday + timedelta(days=i), config)
            for i in range(7)}
    assert [(p.cadence, p.key, p.start.isoformat()) for p in week["Mon"]] == [
        ("daily", "2026-11-23", "2026-11-20"), ("weekly", "2026-W48", "2026-11-16")]  # Monday covers Fri-Mon
    assert [(p.cadence, p.start.isoformat()) for p in week["Tue"]] == [("daily", "2026-11-23"), ("weekly", "2026-11-17")]
    assert [p.cadence for p in week["Sat"]] == ["weekly"] and [p.cadence for p in week["Sun"]] == ["weekly"]
    assert {p.key for d in week.values() for p in d if p.cadence == "weekly"} == {"2026-W48"}  # one key a week
    config.digest.weekly_day = "fri"
    assert [p.cadence for p in due_periods(date(2026, 11, 26), config)] == ["daily"]


def test_seven_bit_rendering_for_servers_without_8bitmime(tmp_path):
    svc = make_service(tmp_path, smtp_config(1), Clock())
    digests = Digests(svc)
    (sid,) = add_subscribers(svc, ["seven@example.org"])
    svc.store._db.execute("UPDATE papers SET data = json_set(data, '$.title', 'Caf\u00e9 \u2014 \u00fcber graphs')"
                          " WHERE id = '2405.10001'")
    svc.mail.build(DAYS[1])
    message = svc.store.claim("t", "9999")
    sub = svc.store.get_subscriber(sid)
    seven = digests.renderer.render(message, sub, eight_bit=False)
    eight = digests.renderer.render(message, sub, eight_bit=True)
    assert seven.isascii() and not eight.isascii() and len(eight) < len(seven)
    for raw in (seven, eight):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        text = next(p for p in parsed.walk() if p.get_content_type() == "text/plain").get_content()
        assert "Caf\u00e9 \u2014 \u00fcber graphs" in text
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_feed_text_drops_what_xml_forbids():
    assert xml_text("a\x00b\x0bc\ud800d\ufffee\tf\ng") == "abcde\tf\ng"


def test_migration_from_schema_2_keeps_everything(tmp_path):
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    for number in range(2):
        db.executescript(MIGRATIONS[number])
    db.execute("INSERT INTO users(email, name, password_hash, created_at) VALUES ('a@b.org', 'a', 'h', 'x')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    store = open_store(path)
    assert store.schema_version() == SCHEMA_VERSION >= 3
    assert store.get_user_by_email("a@b.org").name == "a" and store.count_subscribers() == {}
    user = store.get_user_by_email("a@b.org")
    sub = store.create_subscriber("a@b.org", "daily", True, [], user.id, "n")
    assert store.subscriber_for_user(user.id).id == sub.id


def test_the_code_link_is_the_papers_code_and_only_https():
    from papersift.digest.render import code_url
    from papersift.model import Paper

    assert code_url(Paper(id="2405.1", github_repo="owner/name")) == "https://github.com/owner/name"
    named = Paper(id="2405.2", abstract="Code at https://github.com/alibaba/conv-llava.")  # no repository from HF
    assert code_url(named) == "https://github.com/alibaba/conv-llava"
    assert code_url(Paper(id="2405.3", github_repo="http://github.com/x/y")) is None  # never plain http in mail
    assert code_url(Paper(id="2405.4", github_repo="javascript:alert(1)")) is None
