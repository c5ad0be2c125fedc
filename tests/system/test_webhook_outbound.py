"""Webhook requests against a real receiver on 127.0.0.1 (allowed here, as an admin may allow a lab's
own server), and what the default configuration refuses before any connection: loopback by name and by
number (decimal, IPv6, IPv4-mapped), private ranges, the cloud metadata address, unspecified addresses,
redirects; URLs with user-info (a secret) or another scheme. Each signature is checked as a receiver
would check it, and the requests are counted: a refused hook must never reach the receiver."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from papersift.errors import BadInput
from papersift.formats.webhook import HookItem, render
from papersift.service.outbound import (
    MAX_RESPONSE,
    SIGNATURE_HEADER,
    Refused,
    check_url,
    post,
    resolve,
    signature,
    verify_signature,
)

from ..webhook_support import Receiver

SECRET = "whsec-test-secret"


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.stop()


def signed(request) -> bool:
    _, headers, body = request
    return verify_signature(SECRET, headers.get(SIGNATURE_HEADER), body)


def test_a_signed_delivery_reaches_an_allowed_receiver(receiver):
    body = render("json", "New papers for you", [HookItem("2405.15738", "A title", "https://p.example/papers/x")])
    done = post(f"http://127.0.0.1:{receiver.port}/hook?x=1", body, SECRET, allow_private=True)
    assert done.ok and done.body == b"ok"
    path, headers, received = receiver.requests[-1]
    assert path == "/hook?x=1" and received == body and signed(receiver.requests[-1])
    assert headers["Content-Type"] == "application/json"
    assert json.loads(received)["papers"][0]["id"] == "2405.15738"
    assert not verify_signature("another secret", headers[SIGNATURE_HEADER], received)
    assert not verify_signature(SECRET, headers[SIGNATURE_HEADER], received + b" ")  # a changed body
    stamp = int(time.time()) - 3600
    assert not verify_signature(SECRET, signature(SECRET, body, stamp), body)  # replayed an hour later
    assert verify_signature(SECRET, signature(SECRET, body, stamp), body, now=stamp + 10)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "2130706433", "0x7f000001",
                                  "10.0.0.1", "192.168.1.10", "172.16.0.5", "169.254.169.254", "100.64.0.1",
                                  "0.0.0.0", "[::]", "[fe80::1]", "[fc00::1]", "224.0.0.1"])
def test_the_default_refuses_addresses_inside_a_network(receiver, host):
    before = len(receiver.requests)
    port = f":{receiver.port}" if host in ("127.0.0.1", "localhost") else ""
    with pytest.raises(Refused, match="inside a network|cannot resolve"):
        post(f"http://{host}{port}/hook", b"{}", SECRET)
    assert len(receiver.requests) == before  # never contacted


@pytest.mark.parametrize("host", ["169.254.169.254", "[fe80::1]", "224.0.0.1", "0.0.0.0"])
def test_allowing_private_addresses_never_allows_metadata_or_multicast(host):
    with pytest.raises(Refused):
        post(f"http://{host}/latest/meta-data/", b"{}", SECRET, allow_private=True)


def test_redirects_are_not_followed(receiver):
    with pytest.raises(Refused, match="redirect"):
        post(f"http://127.0.0.1:{receiver.port}/redirect", b"{}", SECRET, allow_private=True)


def test_time_and_answer_are_bounded(receiver):
    big = post(f"http://127.0.0.1:{receiver.port}/big", b"{}", SECRET, allow_private=True)
    assert big.ok and len(big.body) == MAX_RESPONSE
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        post(f"http://127.0.0.1:{receiver.port}/slow", b"{}", SECRET, allow_private=True, timeout=0.5)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("url,message", [
    ("ftp://hooks.example.org/x", "https://"), ("javascript:alert(1)", "https://"), ("", "enter"),
    ("https://user:hunter2@hooks.example.org/x", "no user name or password"), ("https:///nohost", "no host"),
    ("https://hooks.example.org/" + "a" * 2100, "too long"), ("https://hooks.example.org/a b", "spaces"),
    ("https://hooks.example.org:99999/", "not a URL"),
])
def test_bad_urls_are_clear_errors_that_keep_secrets_out(url, message):
    with pytest.raises(BadInput, match=message) as refused:
        check_url(url)
    assert "hunter2" not in str(refused.value)


def test_a_public_address_passes_the_check():
    target = resolve("https://93.184.215.14:8443/hooks/abc?x=1")
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https", "93.184.215.14", 8443, "/hooks/abc?x=1", "93.184.215.14")


def test_slack_and_discord_messages_keep_titles_as_text():
    item = HookItem("2405.1", "<!channel> *bold* @everyone <https://evil.example|click>", "https://p.example/a",
                    ["Ann & Bob"], "matches: quokka")
    slack = json.loads(render("slack", "Daily", [item]))
    text = slack["blocks"][1]["text"]["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "Ann &amp; Bob" in text
    assert text.startswith("*<https://p.example/a|")
    discord = json.loads(render("discord", "Daily", [item]))
    assert discord["allowed_mentions"] == {"parse": []} and "@everyone" not in discord["embeds"][0]["title"]
    assert "\\*bold\\*" in discord["embeds"][0]["title"]
