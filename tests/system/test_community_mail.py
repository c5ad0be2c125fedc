"""The discussion's mail at a real SMTP server: a reply reaches the parent's writer, a mention the
mentioned reader, a comment on a paper its verified author, each exactly once (one mail per reader and
comment, whatever the reasons; a second send run sends nothing; a retried post cannot add a mail);
never the writer; not a reader who turned mail off or was hidden. The link to prove an address is
mailed even with notifications off, and following it verifies the address."""

from __future__ import annotations

import re

import pytest

from papersift.digest import Digests

from ..digest_support import smtp_config
from ..smtp_support import SMTPServer
from ..web_support import build_service

PAPER = "2405.99902"  # authors "Ada Example", "Coauthor 2"
PASSWORD = "correct horse battery"


@pytest.fixture
def site(tmp_path):
    smtp = SMTPServer().start()
    svc = build_service(tmp_path, lines=50, settings=smtp_config(smtp.port))
    users = {name: svc.accounts.create_user(f"{name}@example.org", PASSWORD, name.title())
             for name in ("ada", "bob", "carol", "dan")}
    yield svc, smtp, users
    svc.close()
    smtp.stop()


def test_replies_mentions_and_authors_are_mailed_once(site):
    svc, smtp, u = site
    svc.store.add_claim(u["ada"].id, PAPER, 0, status="verified", how="test")  # Ada wrote the paper
    svc.store.update_user(u["dan"].id, notify_email=False)
    first = svc.discussion.post(u["bob"], PAPER, "Is the bound tight?")
    svc.discussion.post(u["carol"], PAPER, "It is, @bob and @dan and @carol and @ada", parent_id=first.id)
    digests = Digests(svc)
    report = digests.sender().send_due()
    assert report.sent == 3
    received = smtp.wait_for(3)
    by_reader = {m.message["To"]: m for m in received}
    # Ada: Bob's comment on her paper, then Carol's reply (a mention and her paper: one mail); Bob: the reply
    assert sorted(m.message["To"] for m in received) == ["ada@example.org", "ada@example.org", "bob@example.org"]
    bob_mail = by_reader["bob@example.org"]
    assert "Carol replied to your comment" in bob_mail.message["Subject"]
    assert "https://papers.example.org/papers/2405.99902#comment-" in bob_mail.part("plain")
    assert "/settings" in bob_mail.part("html")
    assert digests.sender().send_due().sent == 0  # nothing twice
    assert svc.discussion.notifier.notify(u["bob"], f"comment:{first.id + 1}", "again", ["x"], "/") is None


def test_a_hidden_reader_gets_no_mail_queued_for_them(site):
    svc, smtp, u = site
    first = svc.discussion.post(u["bob"], PAPER, "hello")
    svc.discussion.post(u["carol"], PAPER, "reply", parent_id=first.id)
    svc.accounts.set_hidden(None, "bob@example.org", True)
    assert Digests(svc).sender().send_due().sent == 0
    assert svc.store.outbox_counts() == {"cancelled": 1}


def test_the_link_to_prove_an_address_is_mailed_and_verifies_it(site):
    svc, smtp, u = site
    svc.store.update_user(u["carol"].id, notify_email=False)  # asked for: it goes regardless
    carol = svc.store.get_user(u["carol"].id)
    assert svc.authors.request_email_verification(carol) is not None
    Digests(svc).sender().send_due()
    [mail] = smtp.wait_for(1)
    link = re.search(r"https://papers\.example\.org(/settings/verify-email\?token=\S+)", mail.part("plain")).group(1)
    token = link.split("token=", 1)[1]
    assert svc.authors.verify_email(token).email_verified_at
    from papersift.errors import BadToken

    with pytest.raises(BadToken):
        svc.authors.verify_email(token[:-3] + "abc")


def test_a_hidden_comment_or_writer_is_mailed_to_no_one(site):
    svc, smtp, u = site
    svc.accounts.set_admin("ada@example.org")
    ada = svc.store.get_user(u["ada"].id)
    first = svc.discussion.post(u["bob"], PAPER, "hello")
    rude = svc.discussion.post(u["carol"], PAPER, "rude reply", parent_id=first.id)
    svc.discussion.hide(ada, rude.id)
    svc.discussion.post(u["dan"], PAPER, "another reply", parent_id=first.id)
    svc.accounts.set_hidden(ada, "dan@example.org", True)
    assert Digests(svc).sender().send_due().sent == 0
    assert svc.store.outbox_counts() == {"cancelled": 2}
