"""Hardening, the digest and feed items, against real parts (a uvicorn server, SQLite files, aiosmtpd,
`papersift digest` in its own process, feedparser):

* item 4: a non-ASCII or out-of-range digest link token is the site's 400 page, never a 500;
* item 5: RSS text fields (abstracts, titles, names) reach a feed reader as text, not live HTML;
* item 11: the "whole feed" link names the digest's own period; `digest send` exits 1 and
  `digest status` shows the stored error and the next try when the SMTP server is down; a
  repeated one-click unsubscribe confirms (200) instead of answering 410.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import feedparser
import httpx
import pytest

from papersift.config import Settings, SMTPSettings
from papersift.digest import Digests
from papersift.model import FeedEntry, Paper
from papersift.server.app import create_app
from papersift.service import due_periods
from papersift.service.tokens import Signer, signing_key

from ..digest_support import DAYS, Clock, add_subscribers, make_service, outbox, smtp_config
from ..helpers import running_server
from ..smtp_support import SMTPServer, free_port
from ..web_support import assert_html_error, csrf_of, site_service

BASE = "https://papers.example.org"
FEED_DAY = "2024-05-28"
HOSTILE_TITLE = "Bold <b>claims</b> & <img src=x onerror=alert(1)> results"  # tags feedparser calls HTML
HOSTILE_ABSTRACT = "We study <img src=x onerror=alert(3)> bounds where $a<b$ & $c>d$ <script>alert(4)</script> here."
HOSTILE_AUTHOR = "Eve <i>the</i> <img src=y onerror=alert(5)> Hacker"
PLAIN_TITLE = "Graphs & trees: when a < b"
PLAIN_ABSTRACT = "Plain text with symbols: a < b > c & d, \"quoted\" and O'Neil's."


# ---------------------------------------------------------------- item 5: RSS / Atom text
def feed_papers() -> list[Paper]:
    at = f"{FEED_DAY}T09:00:00Z"
    rows = [("2405.88801", HOSTILE_TITLE, HOSTILE_ABSTRACT, [HOSTILE_AUTHOR, "Bob & Co"]),
            ("2405.88802", PLAIN_TITLE, PLAIN_ABSTRACT, ["Ann Plain"])]
    return [Paper(id=pid, title=title, abstract=abstract, authors=authors, categories=["cs.CR"],
                  organization="Feed Lab", published=f"{FEED_DAY}T00:00:00Z", upvotes=5 - i, source="hf-jsonl",
                  observed_at=at, feed_entry=FeedEntry(day=FEED_DAY, upvotes=5 - i, rank=i, captured_at=at))
            for i, (pid, title, abstract, authors) in enumerate(rows)]


@pytest.fixture(scope="module")
def feed_site(tmp_path_factory):
    svc = site_service(tmp_path_factory.mktemp("feeds") / "feeds.db", base_url=BASE)
    svc.store.upsert_papers(feed_papers())
    svc.indexes_lexical_only().sync_lexical()
    app = create_app(svc, background=False)
    with running_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client
    svc.close()


class _Html(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def as_reader_shows(value: str, content_type: str | None) -> tuple[list[str], str]:
    """(elements, text) of a parsed feed value, read the way feedparser labelled it: HTML is
    rendered (its elements would be live), plain text is shown as it is."""
    if content_type != "text/html":
        return [], value
    parser = _Html()
    parser.feed(value)
    parser.close()
    return parser.tags, "".join(parser.text)


def assert_shows_as_text(value: str, content_type: str | None, expected: str) -> None:
    tags, text = as_reader_shows(value, content_type)
    assert not tags, f"live HTML elements {tags} in {value!r}"
    assert text == expected, (text, expected)


def parse(feed_site, path: str):
    response = feed_site.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    parsed = feedparser.parse(response.content, sanitize_html=False)  # what a reader that trusts the feed sees
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feed_entries_reach_the_reader_as_text(feed_site, fmt):
    parsed = parse(feed_site, f"/feeds/date/{FEED_DAY}.{fmt}")
    entries = {e.link.rsplit("/", 1)[1]: e for e in parsed.entries}
    assert set(entries) == {"2405.88801", "2405.88802"}
    for paper in feed_papers():
        entry = entries[paper.id]
        assert entry.link == f"{BASE}/papers/{paper.id}" and entry.id == entry.link
        assert_shows_as_text(entry.title, entry.title_detail.type, paper.title)
        assert_shows_as_text(entry.summary, entry.summary_detail.type, paper.abstract)
        names = [a.name for a in entry.authors] if fmt == "atom" else [entry.author]
        shown = [as_reader_shows(n, "text/html" if fmt == "rss" else "text/plain") for n in names]
        assert all(not tags for tags, _ in shown), shown
        expected = paper.authors if fmt == "atom" else [", ".join(paper.authors)]
        assert [text for _, text in shown] == expected
    hostile = entries["2405.88801"]
    if fmt == "rss":  # HTML built from escaped text: the reader displays the markup as characters
        assert hostile.summary_detail.type == "text/html"
        assert "<img" not in hostile.summary and "<script" not in hostile.summary
        assert "&lt;img src=x onerror=alert(3)&gt;" in hostile.summary
    else:  # Atom says it is text: the same characters, never rendered
        assert hostile.summary_detail.type == "text/plain" and hostile.summary == HOSTILE_ABSTRACT


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feed_titles_and_links_from_the_query_stay_text(feed_site, fmt):
    query = "<script>alert(7)</script> <b>bounds</b> & more"
    parsed = parse(feed_site, f"/feeds/search.{fmt}?q={quote(query)}")
    assert_shows_as_text(parsed.feed.title, parsed.feed.title_detail.type, f"papersift: search \u201c{query}\u201d")
    assert_shows_as_text(parsed.feed.subtitle, parsed.feed.subtitle_detail.type, f"Papers matching {query}.")
    assert parsed.feed.link.startswith(f"{BASE}/search?") and "<" not in parsed.feed.link
    author = quote(HOSTILE_AUTHOR, safe="")
    parsed = parse(feed_site, f"/feeds/authors/{author}.{fmt}")
    assert parsed.entries and parsed.entries[0].link == f"{BASE}/papers/2405.88801"
    assert_shows_as_text(parsed.feed.title, parsed.feed.title_detail.type, f"papersift: {HOSTILE_AUTHOR}")
    assert parsed.feed.link == f"{BASE}/authors/{author}"


# ---------------------------------------------------------------- items 4 and 11c: link tokens
@pytest.fixture(scope="module")
def link_site(tmp_path_factory):
    svc = make_service(tmp_path_factory.mktemp("links"), Settings(smtp=SMTPSettings(
        host="127.0.0.1", port=free_port(), starttls=False, sender="papersift <digest@papers.example.org>")))
    app = create_app(svc, background=False)
    with running_server(app) as base:
        svc.settings.base_url = base  # the links the renderer signs point at this site
        yield {"base": base, "svc": svc, "digests": Digests(svc)}
    svc.close()


ROUTES = {"confirm": "/subscribe/confirm/", "manage": "/subscription/", "unsubscribe": "/unsubscribe/"}


def both_methods(client: httpx.Client, path: str) -> list[httpx.Response]:
    """GET and POST, the POST with what the route needs to get as far as reading the token
    (a CSRF token for the confirm and manage forms; the one-click body for unsubscribe)."""
    if path.startswith("/unsubscribe/"):
        post = client.post(path, content=b"List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    else:
        token = csrf_of(client.get("/subscribe").text)
        post = client.post(path, data={"csrf_token": token, "cadence": "daily", "trending": "1"})
    return [client.get(path), post]


@pytest.mark.parametrize("token", ["%C3%A9.x", "%C3%A9", "x.%C3%A9", "abc.d%C3%A9f", "%D9%A1.%D9%A2",
                                   "%E2%80%AE.x", "%00.x", "a%20b.c", "a..b", "." * 3, "x" * 601 + ".y"])
@pytest.mark.parametrize("purpose", sorted(ROUTES))
def test_malformed_tokens_are_the_bad_link_page(link_site, purpose, token):
    with httpx.Client(base_url=link_site["base"], timeout=30) as client:
        for response in both_methods(client, ROUTES[purpose] + token):
            assert_html_error(response, 400)
            assert "this link is not valid" in response.text.lower()


@pytest.mark.parametrize("purpose", sorted(ROUTES))
def test_well_signed_tokens_with_impossible_payloads_are_the_bad_link_page(link_site, purpose):
    signer = Signer(signing_key("", link_site["svc"].store))
    tokens = [signer.sign(purpose, 2**70, "0", 3600), signer.sign(purpose, 2**63, "0", 3600),
              signer.sign(purpose, -1, "0", 3600), signer.sign(purpose, 0, "0", 3600),
              signer.sign(purpose, True, "0", 3600), signer.sign(purpose, 1.5, "0", 3600)]
    with httpx.Client(base_url=link_site["base"], timeout=30) as client:
        for token in tokens:
            for response in both_methods(client, ROUTES[purpose] + token):
                assert_html_error(response, 400)
                assert "this link is not valid" in response.text.lower()
        # the largest id SQLite holds is a well-formed link to no one
        for response in both_methods(client, ROUTES[purpose] + signer.sign(purpose, 2**63 - 1, "0", 3600)):
            assert_html_error(response, 400)
            assert "no longer exists" in response.text.lower()


def test_one_click_unsubscribe_is_idempotent(link_site):
    digests, store = link_site["digests"], link_site["svc"].store
    (sid,) = add_subscribers(link_site["svc"], ["twice@example.org"])
    sub = store.get_subscriber(sid)
    unsubscribe, manage = digests.renderer.link("unsubscribe", sub), digests.renderer.link("manage", sub)
    one_click = {"content": b"List-Unsubscribe=One-Click",
                 "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    with httpx.Client(timeout=30) as mail_client:
        first = mail_client.get(unsubscribe)
        assert first.status_code == 200 and "Stop all digest emails" in first.text  # a page with a button
        assert store.get_subscriber(sid).status == "active"
        for attempt in range(3):  # mail clients retry; people click twice
            done = mail_client.post(unsubscribe, **one_click)
            assert done.status_code == 200, (attempt, done.status_code, done.text[:500])
            assert "You are unsubscribed" in done.text and "will get no more digest emails" in done.text
            assert store.get_subscriber(sid).status == "unsubscribed"
        again = mail_client.get(unsubscribe)
        assert again.status_code == 200 and "You are unsubscribed" in again.text
        assert "Stop all digest emails" not in again.text  # no button to press again
        assert_html_error(mail_client.get(manage), 410)  # the manage link died with the epoch
        # subscribing again (after the resend pause): the old link must not undo the new subscription
        store._db.execute("UPDATE outbox SET created_at = '2000-01-01T00:00:00Z' WHERE subscriber_id = ?", (sid,))
        link_site["svc"].mail.subscriptions.subscribe("twice@example.org", sub_choices())
        assert store.get_subscriber(sid).status == "pending"
        for response in (mail_client.get(unsubscribe), mail_client.post(unsubscribe, **one_click)):
            assert_html_error(response, 410)
            assert "out of date" in response.text.lower()
        assert store.get_subscriber(sid).status == "pending"


def sub_choices():
    from papersift.service import clean_choices

    return clean_choices("daily", True)


# ---------------------------------------------------------------- item 11a: the whole-feed link
def test_the_whole_feed_link_names_the_digests_own_period():
    config = Settings()  # weekly on Mondays
    tuesday, monday = date(2024, 8, 20), date(2024, 8, 19)  # 2024-W34
    (daily, weekly) = due_periods(tuesday, config)
    assert (daily.key, daily.feed_path) == ("2024-08-20", "/papers/date/2024-08-20")
    assert (weekly.key, weekly.feed_path) == ("2024-W34", "/papers/week/2024-W34")
    assert [p.feed_path for p in due_periods(monday, config)] == ["/papers/date/2024-08-19", "/papers/week/2024-W34"]
    config.digest.weekly_day = "sun"
    assert [p.feed_path for p in due_periods(date(2024, 8, 25), config)] == ["/papers/week/2024-W34"]


def test_the_sent_digests_link_their_own_day_and_week(tmp_path):
    smtp = SMTPServer().start()
    svc = make_service(tmp_path, smtp_config(smtp.port), Clock())
    try:
        digests = Digests(svc)
        add_subscribers(svc, ["day@example.org"], cadence="daily")
        add_subscribers(svc, ["week@example.org"], cadence="weekly")
        result = digests.run(today=DAYS[1])  # Tuesday 28 May 2024, ISO week 22
        assert result["send"]["sent"] == 2, result
        for address, path, heading in (("day@example.org", "/papers/date/2024-05-28", "Tue 28 May 2024"),
                                       ("week@example.org", "/papers/week/2024-W22", "week 22, 2024")):
            (mail,) = smtp.to(address)
            assert heading in mail.message["Subject"]
            assert f'<a href="{BASE}{path}" style="color:#0b57d0;">See the whole feed</a>' in mail.part("html")
            assert f"The whole feed: {BASE}{path}" in mail.part("plain").splitlines()
    finally:
        smtp.stop()
        svc.close()


def test_a_queued_digest_with_an_old_feed_path_links_its_own_period(tmp_path):
    smtp = SMTPServer().start()
    svc = make_service(tmp_path, smtp_config(smtp.port), Clock())
    try:
        digests = Digests(svc)
        add_subscribers(svc, ["old@example.org"])
        svc.mail.build(DAYS[1])
        # what a digest built by the previous release holds: the window's first day
        svc.store._db.execute("UPDATE outbox SET payload = json_set(payload, '$.feed_path', '/papers/date/2024-05-27')"
                              " WHERE kind = 'digest'")
        assert digests.send_pending().sent == 1
        text = smtp.to("old@example.org")[0].part("plain")
        assert f"The whole feed: {BASE}/papers/date/2024-05-28" in text.splitlines()
    finally:
        smtp.stop()
        svc.close()


# ---------------------------------------------------------------- item 11b: the SMTP server is down
def cli(db: Path, toml: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papersift.cli", "digest", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PAPERSIFT_DB": str(db), "PAPERSIFT_CONFIG": str(toml)})


def test_send_fails_and_status_explains_when_the_smtp_server_is_down(tmp_path):
    stopped = SMTPServer().start()
    port = stopped.port
    stopped.stop()  # the server was there, and now it is down: the port is closed
    svc = make_service(tmp_path, smtp_config(port))
    smtp = None
    toml = tmp_path / "papersift.toml"
    toml.write_text(f'base_url = "{BASE}"\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
                    'sender = "papersift <digest@papers.example.org>"\n[digest]\nretry_base_seconds = 600\n')
    add_subscribers(svc, ["down1@example.org", "down2@example.org"])
    try:
        proc = cli(svc.db, toml, "send", "--date", "2024-05-28")
        assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and "nothing was sent" in proc.stderr
        assert f"cannot connect to 127.0.0.1:{port}" in proc.stderr and "2 messages wait" in proc.stderr
        proc = cli(svc.db, toml, "send", "--date", "2024-05-28", "--json")  # the first is not due yet, the second is
        assert proc.returncode == 1 and json.loads(proc.stdout)["send"]["unreachable"] is True

        status = cli(svc.db, toml, "status", "--json")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        assert data["outbox"]["pending"] == 2 and data["waiting_not_shown"] == 0
        now = datetime.now(timezone.utc)
        for row in data["waiting"]:
            assert row["kind"] == "digest" and row["period"] == "2024-05-28" and row["attempts"] == 1
            assert f"cannot connect to 127.0.0.1:{port}" in row["last_error"]
            retry = datetime.fromisoformat(row["next_attempt_at"].replace("Z", "+00:00"))
            assert 0 < (retry - now).total_seconds() <= 601
        table = cli(svc.db, toml, "status")
        assert table.returncode == 0, table.stderr
        lines = [line for line in table.stdout.splitlines() if "@example.org" in line]
        assert len(lines) == 2, table.stdout
        for line in lines:
            assert re.search(r"1 attempt, next try \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; last error: cannot connect to "
                             rf"127\.0\.0\.1:{port}", line), line

        smtp = SMTPServer(port=port).start()  # back up: sending works, and a run that sent is a success
        svc.store._db.execute("UPDATE outbox SET next_attempt_at = '' WHERE kind = 'digest'")  # due now
        proc = cli(svc.db, toml, "send", "--date", "2024-05-28", "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["send"]["sent"] == 2 and len(smtp.wait_for(2)) == 2
        assert [r[2] for r in outbox(svc.store)] == ["sent", "sent"]
        assert json.loads(cli(svc.db, toml, "status", "--json").stdout)["waiting"] == []
    finally:
        if smtp is not None:
            smtp.stop()
        svc.close()


def test_a_run_with_nothing_due_is_not_an_error_even_when_the_server_is_down(tmp_path):
    svc = make_service(tmp_path)
    toml = tmp_path / "papersift.toml"
    toml.write_text(f'base_url = "{BASE}"\n[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nstarttls = false\n'
                    'sender = "papersift <digest@papers.example.org>"\n')
    proc = cli(svc.db, toml, "send", "--date", "2024-05-28")  # no subscribers: nothing to send
    assert proc.returncode == 0, proc.stderr
    status = cli(svc.db, toml, "status")
    assert status.returncode == 0 and "outbox: none" in status.stdout and "waiting" not in status.stdout
    svc.close()
