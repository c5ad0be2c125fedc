"""Email digests end to end: the website's subscribe form, the confirmation email arriving at a
real SMTP server (aiosmtpd on 127.0.0.1), its link opened against the running site, digests sent
by `papersift digest send` (a real process), every link in them answered by the site, and the
one-click unsubscribe (RFC 8058) posted the way mail clients do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from papersift.config import DigestSettings, Settings, SMTPSettings
from papersift.digest import Digests
from papersift.model import FeedEntry, Paper
from papersift.server.app import create_app
from papersift.service import due_periods
from papersift.service.tokens import Signer, signing_key

from ..helpers import running_server
from ..smtp_support import SMTPServer
from ..web_support import (
    XSS_ABSTRACT,
    XSS_AUTHOR,
    XSS_DAY,
    XSS_ID,
    XSS_ORG,
    XSS_TITLE,
    assert_html_error,
    build_service,
    csrf_of,
    sign_up,
)

DAY, NEXT_DAY, THIRD_DAY = "2024-05-28", "2024-05-29", "2024-05-30"
TOPIC_ORG = "Quokka Institute"


def topic_papers() -> list[Paper]:
    """Papers of one organisation in cs.IR, published on the digest days (a topic to follow)."""
    at = "2024-05-31T09:00:00Z"
    return [Paper(id=f"2405.9991{i}", title=f"Quokka ranking study {i}", abstract=f"Ranking quokkas, part {i}.",
                  authors=["Kim Quokka", f"Helper {i}"], categories=["cs.IR"], organization=TOPIC_ORG,
                  published=f"{day}T12:00:00Z", upvotes=i, github_repo="quokka/ranker", source="hf-jsonl",
                  observed_at=at, feed_entry=FeedEntry(day=day, upvotes=i, rank=50 + i, captured_at=at))
            for i, day in enumerate([DAY, DAY, NEXT_DAY, THIRD_DAY], 1)]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("digest-web")
    smtp = SMTPServer().start()
    svc = build_service(tmp, settings=Settings(
        smtp=SMTPSettings(host="127.0.0.1", port=smtp.port, starttls=False, sender="papersift <digest@papers.example.org>",
                          unsubscribe_mailto="unsubscribe@papers.example.org"),
        digest=DigestSettings(retry_base_seconds=0)))
    svc.store.upsert_papers(topic_papers())
    svc.indexes_lexical_only().sync_lexical()
    config = svc.settings
    app = create_app(svc, background=False)
    try:
        with running_server(app) as base:
            config.base_url = base  # links in emails point at this running site
            toml = tmp / "papersift.toml"
            toml.write_text(f'base_url = "{base}"\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nstarttls = false\n'
                            'sender = "papersift <digest@papers.example.org>"\n'
                            'unsubscribe_mailto = "unsubscribe@papers.example.org"\n')
            yield {"base": base, "svc": svc, "smtp": smtp, "config": config, "toml": toml,
                   "digests": Digests(svc)}
    finally:
        smtp.stop()


def send(env, day: str, *extra) -> dict:
    """`papersift digest send` as cron runs it: a separate process on the same database."""
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", "digest", "send", "--date", day, "--json", *extra],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PAPERSIFT_DB": str(env["svc"].db), "PAPERSIFT_CONFIG": str(env["toml"])})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def subscribe(client: httpx.Client, email: str, **fields) -> httpx.Response:
    token = csrf_of(client.get("/subscribe").text)
    data = {"csrf_token": token, "email": email, "cadence": "daily", "trending": "1"} | fields
    return client.post("/subscribe", data={k: v for k, v in data.items() if v is not None})


def link(text: str, path: str) -> str:
    match = re.search(r"(https?://[^\s\"<>]+" + re.escape(path) + r"[A-Za-z0-9_.=-]+)", text)
    assert match, f"no {path} link in:\n{text[:2000]}"
    return match.group(1)


def confirm(env, address: str) -> None:
    """Open the confirmation link from the latest email and press the button."""
    mail = env["smtp"].to(address)[-1]
    url = link(mail.part("plain"), "/subscribe/confirm/")
    with httpx.Client(timeout=30) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text[:500]
        done = browser.post(url, data={"csrf_token": csrf_of(page.text)})
        assert done.status_code == 200 and "is subscribed" in done.text


def papers_in(mail) -> list[str]:
    return re.findall(r"/papers/([0-9]{4}\.[0-9]{4,5})", mail.part("plain"))


def test_subscribe_confirm_receive_and_unsubscribe_in_one_click(env):
    smtp, store, address = env["smtp"], env["svc"].store, "reader@example.org"
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        page = client.get("/subscribe")
        assert page.status_code == 200 and 'name="cadence"' in page.text
        response = subscribe(client, "Reader@Example.org", categories="cs.IR", organizations=TOPIC_ORG)
    assert response.status_code == 200 and "reader@example.org" in response.text
    (mail,) = smtp.wait_for(1) and [m for m in smtp.wait_for(1) if address in m.rcpt_tos]
    assert mail.message["Subject"] == "Confirm your papersift digest subscription"
    assert mail.message["To"] == address and mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message.get_content_type() == "multipart/alternative"
    url = link(mail.part("plain"), "/subscribe/confirm/")
    assert url in mail.part("html")  # the same link in both parts
    sub = store.get_subscriber_by_email(address)
    assert sub.status == "pending" and sub.topics == [("category", "cs.IR"), ("organization", TOPIC_ORG)]

    # nothing but the confirmation before the owner confirms
    result = send(env, DAY)
    assert result["build"]["built"] == 0 and len(smtp.to(address)) == 1

    with httpx.Client(timeout=30) as browser:  # a mail scanner that only GETs changes nothing
        page = browser.get(url)
        assert page.status_code == 200 and "Confirm my subscription" in page.text and "cs.IR" in page.text
        assert store.get_subscriber_by_email(address).status == "pending"
        done = browser.post(url, data={"csrf_token": csrf_of(page.text)})
        assert done.status_code == 200 and "is subscribed" in done.text
        assert store.get_subscriber_by_email(address).status == "active"
        reused = browser.get(url)
        assert_html_error(reused, 410)
        assert "already been used" in reused.text
        assert_html_error(browser.post(url, data={"csrf_token": csrf_of(page.text)}), 410)

    # the digest
    result = send(env, DAY)
    assert result["build"]["built"] >= 1 and result["send"]["sent"] >= 1, result
    digest = smtp.to(address)[-1]
    headers = digest.message
    assert headers["Subject"].startswith("Your daily papers: Tue 28 May 2024")
    assert headers["From"] == "papersift <digest@papers.example.org>" and headers["Date"]
    row = store._db.execute("SELECT message_id, status, smtp_reply FROM outbox WHERE kind = 'digest' AND recipient = ?",
                            (address,)).fetchone()
    assert row[0] == headers["Message-ID"] and row[1] == "sent" and row[2].startswith("250")
    unsubscribe_url = link(headers["List-Unsubscribe"], "/unsubscribe/")
    assert headers["List-Unsubscribe"] == f"<{unsubscribe_url}>, <mailto:unsubscribe@papers.example.org?subject=unsubscribe>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = digest.part("plain"), digest.part("html")
    assert "TRENDING" in text and "FOR YOUR TOPICS" in text and ">Trending<" in html and ">For your topics<" in html
    # the topic papers published that day, with why they are there, their code and organisation
    assert "Quokka ranking study 1" in text and "Matches: cs.IR, Quokka Institute" in text
    assert "Code: https://github.com/quokka/ranker" in text and 'href="https://github.com/quokka/ranker"' in html
    assert "Kim Quokka, Helper 1" in text and "upvote" in text
    assert "<script" not in html  # hostile metadata: test_hostile_metadata_is_text_in_every_part_of_the_digest
    assert link(text, "/subscription/") in html and unsubscribe_url in text and unsubscribe_url in html
    # every link in the email works against the running site
    hrefs = set(re.findall(r'href="([^"]+)"', html))
    local = sorted(h.replace("&amp;", "&") for h in hrefs if h.startswith(env["base"]))
    assert len(local) > 10
    with httpx.Client(timeout=30) as browser:
        for href in local:
            answer = browser.get(href)
            assert answer.status_code == 200, (href, answer.status_code)
    assert store.get_subscriber_by_email(address).status == "active"  # GET of the unsubscribe link: a page only

    # built once: a second run for the same day neither builds nor sends
    again = send(env, DAY)
    assert again["build"]["built"] == 0 and again["send"]["sent"] == 0 and len(smtp.to(address)) == 2
    # the next day never repeats a paper
    send(env, NEXT_DAY)
    second = smtp.to(address)[-1]
    assert "Quokka ranking study 3" in second.part("plain")
    assert papers_in(second) and not set(papers_in(second)) & set(papers_in(digest))
    assert second.message["Message-ID"] != headers["Message-ID"]

    # one click, as a mail client does it: no cookie, no CSRF token
    with httpx.Client(timeout=30) as mail_client:
        done = mail_client.post(unsubscribe_url, content=b"List-Unsubscribe=One-Click",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200 and "no more digest emails" in done.text
        assert store.get_subscriber_by_email(address).status == "unsubscribed"
        # the same link again (a retrying mail client, a second click): confirmed again, not an error
        for reuse in (mail_client.post(unsubscribe_url, content=b"List-Unsubscribe=One-Click"),
                      mail_client.get(unsubscribe_url)):
            assert reuse.status_code == 200 and "no more digest emails" in reuse.text, reuse.text[:500]
        assert_html_error(mail_client.get(link(text, "/subscription/")), 410)  # the manage link is dead
    count = len(smtp.to(address))
    send(env, THIRD_DAY)
    assert len(smtp.to(address)) == count  # nothing after unsubscribing


class _Markup(HTMLParser):
    """The elements and the text a mail client would render from the HTML part."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data):
        self.text.append(data)


TEMPLATE_TAGS = {"html", "head", "meta", "title", "body", "table", "tr", "td", "div", "h1", "h2", "p", "a", "br"}


def test_hostile_metadata_is_text_in_every_part_of_the_digest(env):
    """The hostile paper (feed day XSS_DAY) is in this digest for sure: its subscriber follows
    its author, and DAY's window starts on XSS_DAY. Raw in text/plain, escaped in text/html."""
    address, store, digests = "hostile@example.org", env["svc"].store, env["digests"]
    (period,) = [p for p in due_periods(date.fromisoformat(DAY), env["config"]) if p.cadence == "daily"]
    assert period.start <= date.fromisoformat(XSS_DAY) <= period.end
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        assert subscribe(client, address, trending=None, authors=XSS_AUTHOR).status_code == 200
    _wait_for_mail(env, address, 1)
    confirm(env, address)
    sub = store.get_subscriber_by_email(address)
    assert sub.topics == [("author", XSS_AUTHOR)]
    assert env["svc"].mail.build(date.fromisoformat(DAY), only={sub.id}).built == 1
    digests.send_pending()
    _wait_for_mail(env, address, 2)
    mail = env["smtp"].to(address)[-1]
    assert papers_in(mail) == [XSS_ID]  # the hostile paper is what this digest is about
    assert mail.message["Subject"] == "Your daily papers: Tue 28 May 2024 (1 paper)"
    text, html = mail.part("plain"), mail.part("html")
    for raw in (XSS_TITLE, f"{XSS_AUTHOR}, Mallory O'Neil", XSS_ORG, XSS_ABSTRACT, f"Matches: author {XSS_AUTHOR}"):
        assert raw in text, raw  # the text part is text: no entities
    assert "&lt;" not in text and "&amp;" not in text
    for raw in (XSS_TITLE, XSS_AUTHOR, XSS_ORG, XSS_ABSTRACT):
        assert str(escape(raw)) in html, raw
    markup = _Markup()
    markup.feed(html)
    markup.close()
    assert markup.tags <= TEMPLATE_TAGS, markup.tags - TEMPLATE_TAGS  # no <script>, <img>, <b>, <textarea>
    shown = " ".join("".join(markup.text).split())
    assert XSS_TITLE in shown and XSS_ABSTRACT in shown  # what the reader sees: the literal characters
    assert all(h.startswith(("http://", "https://")) for h in markup.hrefs), markup.hrefs  # no javascript:


def test_an_empty_digest_is_not_sent(env):
    address = "quiet@example.org"
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        assert subscribe(client, address, trending=None, authors="Nobody Wrote This").status_code == 200
    env["smtp"].wait_for(1)
    _wait_for_mail(env, address, 1)
    confirm(env, address)
    before = len(env["smtp"].to(address))
    result = send(env, DAY)
    assert result["build"]["empty"] >= 1 and len(env["smtp"].to(address)) == before
    assert not env["svc"].store._db.execute(
        "SELECT 1 FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id WHERE s.email = ? AND o.kind = 'digest'",
        (address,)).fetchone()


def _wait_for_mail(env, address: str, count: int, timeout: float = 30) -> None:
    import time

    deadline = time.time() + timeout
    while len(env["smtp"].to(address)) < count:
        assert time.time() < deadline, f"no mail for {address}"
        time.sleep(0.05)


def test_an_active_address_gets_a_manage_link_not_a_change(env):
    address = "owner@example.org"
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        subscribe(client, address, categories="cs.CL")
        _wait_for_mail(env, address, 1)
        confirm(env, address)
        # someone else tries to change it: same page, nothing changes, the owner gets a manage link
        page = subscribe(client, address, cadence="weekly", categories="cs.CV")
        assert page.status_code == 200 and "Check your inbox" in page.text
        _wait_for_mail(env, address, 2)
        sub = env["svc"].store.get_subscriber_by_email(address)
        assert sub.cadence == "daily" and sub.topics == [("category", "cs.CL")]
        subscribe(client, address, cadence="weekly")  # asked again at once: no second email
    mail = env["smtp"].to(address)[-1]
    assert "already subscribed" in mail.part("plain")
    manage = link(mail.part("plain"), "/subscription/")
    with httpx.Client(timeout=30) as browser:
        page = browser.get(manage)
        assert page.status_code == 200 and 'value="cs.CL"' in page.text
        saved = browser.post(manage, data={"csrf_token": csrf_of(page.text), "cadence": "weekly", "trending": "1",
                                           "categories": "cs.CV cs.IR", "authors": "Ada Example\n\nAda example"})
        assert saved.status_code == 200 and "Saved." in saved.text
        assert_html_error(browser.post(manage, data={"cadence": "weekly"}), 403)  # no CSRF token
        bad = browser.post(manage, data={"csrf_token": csrf_of(page.text), "cadence": "hourly", "trending": "1"})
        assert bad.status_code == 400 and "unknown cadence" in bad.text.lower()
    sub = env["svc"].store.get_subscriber_by_email(address)
    assert sub.cadence == "weekly" and sub.topics == [("category", "cs.CV"), ("category", "cs.IR"),
                                                      ("author", "Ada Example")]
    assert len(env["smtp"].to(address)) == 2


@pytest.mark.parametrize("fields, message", [
    ({"email": "not-an-address"}, "is not an email address"),
    ({"email": ""}, "enter your email address"),
    ({"cadence": "hourly"}, "unknown cadence"),
    ({"cadence": None}, "unknown cadence"),
    ({"trending": None}, "choose what to receive"),
    ({"categories": "cs.LG, not a category!"}, "not an arXiv category"),
    ({"searches": 'diffusion "unclosed'}, "saved search"),
    ({"authors": "x" * 300}, "too long"),
])
def test_bad_subscribe_input_is_a_400_with_the_reason(env, fields, message):
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        data = {"email": "someone@example.org"} | fields
        response = subscribe(client, data.pop("email"), **data)
    assert response.status_code == 400 and message.lower() in response.text.replace("&#39;", "'").lower(), response.text[-1500:]
    assert 'name="csrf_token"' in response.text  # the form comes back, filled in
    assert env["svc"].store.get_subscriber_by_email("someone@example.org") is None


def test_forged_expired_and_misused_tokens_change_nothing(env):
    store = env["svc"].store
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        assert_html_error(client.post("/subscribe", data={"email": "x@example.org", "cadence": "daily",
                                                          "trending": "1"}), 403)  # no CSRF token
        subscribe(client, "tokens@example.org")
        _wait_for_mail(env, "tokens@example.org", 1)
        url = link(env["smtp"].to("tokens@example.org")[-1].part("plain"), "/subscribe/confirm/")
        token = url.rsplit("/", 1)[1]
        body, mac = token.split(".")
        sub = store.get_subscriber_by_email("tokens@example.org")
        key = signing_key("", store)
        expired = Signer(key, clock=lambda: 1_000_000_000).sign("confirm", sub.id, sub.confirm_nonce, 3600)
        wrong_key = Signer("another key").sign("confirm", sub.id, sub.confirm_nonce, 3600)
        other_sub = Signer(key).sign("unsubscribe", sub.id + 1000, "0", 3600)
        for bad, status, text in [
            (body + "." + mac[:-2] + "xx", 400, "not valid"),
            (body[:-3] + "." + mac, 400, "not valid"),
            ("garbage", 400, "not valid"),
            (wrong_key, 400, "not valid"),
            (expired, 410, "expired"),
        ]:
            token = csrf_of(client.get("/subscribe").text)
            for response in (client.get(f"/subscribe/confirm/{bad}"),
                             client.post(f"/subscribe/confirm/{bad}", data={"csrf_token": token})):
                assert_html_error(response, status)
                assert text in response.text.lower()
        # a confirmation token is not an unsubscribe or manage token, and vice versa
        assert_html_error(client.post(f"/unsubscribe/{token}"), 400)
        assert_html_error(client.get(f"/subscription/{token}"), 400)
        assert_html_error(client.post(f"/unsubscribe/{other_sub}"), 400)
    assert store.get_subscriber_by_email("tokens@example.org").status == "pending"


def test_subscribing_from_account_settings(env):
    address = "member@example.org"
    store = env["svc"].store
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        assert sign_up(client, address).status_code == 303
        settings = client.get("/settings")
        assert "Email digest" in settings.text
        fields = {"csrf_token": csrf_of(settings.text), "cadence": "weekly", "organizations": TOPIC_ORG}
        done = client.post("/settings/digest", data=fields)
        assert done.status_code == 303 and done.headers["location"] == "/settings?digest=check-inbox#digest"
        _wait_for_mail(env, address, 1)
        sub = store.get_subscriber_by_email(address)
        assert sub.status == "pending" and sub.user_id is not None and sub.cadence == "weekly"
        assert "waiting for you to confirm" in client.get("/settings").text
        confirm(env, address)
        # the account's own confirmed subscription: edited directly, no email
        done = client.post("/settings/digest", data=fields | {"cadence": "daily", "trending": "1"})
        assert done.headers["location"] == "/settings?digest=saved#digest"
        assert store.get_subscriber_by_email(address).cadence == "daily"
        bad = client.post("/settings/digest", data=fields | {"cadence": "sometimes"})
        assert bad.status_code == 400 and "unknown cadence" in bad.text.lower()
        client.post("/settings/digest", data={"csrf_token": fields["csrf_token"], "action": "unsubscribe"})
        assert store.get_subscriber_by_email(address).status == "unsubscribed"
    assert len(env["smtp"].to(address)) == 1


def test_subscribe_page_prefills_from_email_me_links(env):
    with httpx.Client(base_url=env["base"], timeout=30) as client:
        page = client.get("/subscribe", params={"org": TOPIC_ORG}).text
        assert f">{TOPIC_ORG}</textarea>" in page
        assert 'name="trending" value="1" checked' not in page
        assert 'name="trending" value="1" checked' in client.get("/subscribe").text


def test_without_smtp_the_site_says_digests_are_off(tmp_path):
    svc = build_service(tmp_path, lines=50)
    with running_server(create_app(svc, background=False)) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            page = client.get("/subscribe")
            assert page.status_code == 200 and "not set up on this site" in page.text
            response = client.post("/subscribe", data={"csrf_token": csrf_of(client.get("/login").text),
                                                       "email": "a@example.org", "cadence": "daily", "trending": "1"})
            assert_html_error(response, 404)
            assert "not set up on this site" in response.text


@pytest.mark.slow
def test_cli_errors_exit_2(env, tmp_path):
    def run(*args, config: Path | None = None):
        environ = {**os.environ, "PAPERSIFT_DB": str(env["svc"].db)}
        environ.pop("PAPERSIFT_CONFIG", None)
        if config is not None:
            environ["PAPERSIFT_CONFIG"] = str(config)
        return subprocess.run([sys.executable, "-m", "papersift.cli", "digest", *args], capture_output=True,
                              text=True, timeout=120, env=environ, cwd=tmp_path)

    bad = tmp_path / "bad.toml"
    for text, message in [("[smtp]\nport = 'many'\n", "smtp.port: expected"), ("nonsense = 1\n", "unknown key"),
                          ("[digest]\nweekly_day = 'someday'\n", "weekly_day"), ("[smtp\n", "not valid TOML")]:
        bad.write_text(text)
        proc = run("send", config=bad)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    proc = run("send")  # no config at all: email is off
    assert proc.returncode == 2 and "smtp.host" in proc.stderr
    for args, message in [(("send", "--date", "2024-02-30"), "bad date"), (("send", "--limit", "0"), "--limit"),
                          (("send", "--limit", "x"), "")]:
        proc = run(*args, config=env["toml"])
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    dry = run("send", "--dry-run", "--date", date(2024, 5, 28).isoformat(), "--json", config=env["toml"])
    assert dry.returncode == 0 and json.loads(dry.stdout)["dry_run"] is True
    status = run("status", "--json")
    assert status.returncode == 0 and "outbox" in json.loads(status.stdout)
