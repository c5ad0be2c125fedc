"""Links to the email digest appear only on a site that can send email: a default install (no
``smtp.host``) shows none, on any page, while its feeds still work; a site with a mail server (a real
one, aiosmtpd on 127.0.0.1) links it from every page's footer and each list's "Follow" line.
An administrator of a site without email is told how to turn it on; other readers are not."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from papersift.config import SMTPSettings

from ..smtp_support import SMTPServer
from ..web_support import ORG, csrf_of, served_site

# page -> the digest link its "Follow" line offers (None: the footer's only)
PAGES = {
    "/": "/subscribe",
    "/papers/date/2024-05-28": "/subscribe",
    "/arxiv": None,  # empty on this site: no feed line, the footer still counts
    "/search?q=diffusion": "/subscribe?search=diffusion",
    "/orgs/" + quote(ORG): "/subscribe?org=" + quote(ORG).replace("%20", "+"),
    "/authors/" + quote("Ada Example"): "/subscribe?author=Ada+Example",
    "/papers/2405.99902": None,
    "/login": None,
}


@pytest.fixture(scope="module")
def default_site(tmp_path_factory):
    with served_site(tmp_path_factory.mktemp("no-email"), lines=300) as (svc, base):
        svc.accounts.create_user("admin@example.com", "a long password", "Ada Admin", is_admin=True)
        svc.accounts.create_user("reader@example.com", "a long password", "Rea Reader")
        yield base


@pytest.fixture(scope="module")
def email_site(tmp_path_factory):
    smtp = SMTPServer().start()
    try:
        mail = SMTPSettings(host="127.0.0.1", port=smtp.port, starttls=False, sender="papersift <digest@example.org>")
        with served_site(tmp_path_factory.mktemp("email"), lines=300, smtp=mail,
                         base_url="https://papers.example.org") as (_, base):
            yield base
    finally:
        smtp.stop()


def test_digest_links_appear_only_where_email_is_set_up(default_site, email_site):
    with httpx.Client(base_url=default_site, timeout=30) as client:
        for path in PAGES:
            page = client.get(path)
            assert page.status_code == 200, path
            assert 'href="/subscribe' not in page.text and "Email digest" not in page.text, path
        assert 'href="/feeds/daily.atom"' in client.get("/").text  # the feeds need no email and stay
    with httpx.Client(base_url=email_site, timeout=30) as client:
        for path, follow in PAGES.items():
            page = client.get(path).text
            assert '<a href="/subscribe">Email digest</a></p>' in page, path  # the footer
            if follow:
                assert f'href="{follow.replace("&", "&amp;")}">Email digest</a>' in page, path
        subscribe = client.get("/subscribe").text
        assert 'name="email"' in subscribe and "not set up" not in subscribe  # and it leads to a form


def test_settings_tell_only_an_admin_how_to_turn_email_on(default_site):
    for email, told in (("admin@example.com", True), ("reader@example.com", False)):
        with httpx.Client(base_url=default_site, timeout=30) as client:
            token = csrf_of(client.get("/login").text)
            client.post("/login", data={"csrf_token": token, "email": email, "password": "a long password",
                                         "next": "/"})
            page = client.get("/settings").text
            assert "Email digests are not set up on this site." in page, email
            assert ("<code>smtp.host</code>" in page) is told, email
