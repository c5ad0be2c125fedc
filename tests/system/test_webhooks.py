"""Webhooks end to end: a reader's digest goes to their email and their hook alike (the same papers),
each period once, signed with the hook's secret; a sender killed mid-delivery leaves a claim the next run
takes back and delivers once; a failing hook is switched off and its owner told; the default refuses a
hook on a loopback or private address; the settings page adds one (secret shown once) and sends a test.
The receiver is real, on 127.0.0.1, allowed by this site's configuration as an admin may allow a lab's own."""

from __future__ import annotations

import dataclasses
import json
import socket

import httpx
import pytest

from papersift.config.settings import CommunitySettings
from papersift.digest import Digests
from papersift.errors import BadInput
from papersift.service import verify_signature

from ..digest_support import DAYS, Clock, add_subscribers, make_service, smtp_config
from ..helpers import running_server
from ..smtp_support import SMTPServer
from ..web_support import csrf_of, log_in
from ..webhook_support import Receiver

PASSWORD = "correct horse battery"
HOOKS = "/api/v1/me/webhooks"


@pytest.fixture
def site(tmp_path):
    smtp, receiver, clock = SMTPServer().start(), Receiver(), Clock()
    settings = dataclasses.replace(smtp_config(smtp.port), community=CommunitySettings(webhooks_allow_private=True))
    svc = make_service(tmp_path, settings, clock)
    user = svc.accounts.create_user("a@example.org", PASSWORD, "Ada Reader")
    [sub] = add_subscribers(svc, ["a@example.org"], categories="cs.IR")
    svc.store.update_subscriber(sub, user_id=user.id)
    yield svc, smtp, receiver, clock, user
    svc.close()
    smtp.stop()
    receiver.stop()


def delivered_ids(request) -> list[str]:
    return [p["id"] for p in json.loads(request[2])["papers"]]


def test_email_and_webhook_get_the_same_digest_once(site):
    svc, smtp, receiver, _, user = site
    hook = svc.webhooks.add(user, receiver.url + "/hook", "json")
    digests = Digests(svc)
    result = digests.run(today=DAYS[1])
    assert result["send"]["sent"] == 1 and result["webhooks"] == {"sent": 1, "retry": 0, "failed": 0}
    [request] = receiver.wait_for(1)
    assert verify_signature(hook.secret, request[1].get("X-Papersift-Signature"), request[2])
    [mail] = smtp.wait_for(1)
    emailed = [pid for pid in svc.store.sent_paper_ids(1, delivered_ids(request))]
    assert sorted(emailed) == sorted(delivered_ids(request)) and delivered_ids(request)
    assert all(pid in mail.part("plain") for pid in delivered_ids(request))
    assert json.loads(request[2])["event"]["period"] == DAYS[1].isoformat()
    assert digests.run(today=DAYS[1])["webhooks"]["sent"] == 0 and len(receiver.requests) == 1  # once a period


def test_a_sender_killed_mid_delivery_is_taken_over_and_delivers_once(site):
    svc, _, receiver, _, user = site
    svc.webhooks.add(user, receiver.url + "/hook", "slack")
    digests = Digests(svc)
    svc.mail.build(DAYS[1])
    dead = f"{socket.gethostname()}|999999|0|dead"  # a sender whose process is gone, its claim left behind
    claimed = svc.store.claim(dead, "9999", kinds=["webhook"])
    assert claimed is not None and svc.store.get_message(claimed.id).status == "sending"
    assert digests.send_hooks() == {"sent": 1, "retry": 0, "failed": 0}
    [request] = receiver.wait_for(1)
    assert json.loads(request[2])["blocks"][0]["type"] == "header"
    assert digests.send_hooks() == {"sent": 0, "retry": 0, "failed": 0} and len(receiver.requests) == 1


def test_a_failing_hook_is_retried_then_switched_off_and_its_owner_told(site):
    svc, _, receiver, clock, user = site
    flaky = svc.webhooks.add(user, receiver.url + "/status/503", "json")
    digests = Digests(svc)
    svc.webhooks.send_test(user, flaky.id)
    assert digests.send_hooks() == {"sent": 0, "retry": 1, "failed": 0}  # a 503 is worth another try
    broken = svc.webhooks.add(user, receiver.url + "/status/404", "json")
    for _ in range(3):
        clock.advance(minutes=1)
        svc.webhooks.send_test(user, broken.id)
        digests.send_hooks()
    hook = svc.store.get_webhook(broken.id)
    assert not hook.active and hook.failures == 3 and "404" in hook.last_error
    notices = [m for m in svc.store.waiting_messages() if m.kind == "account" and m.user_id == user.id]
    assert len(notices) == 1 and "switched off" in notices[0].payload["subject"]
    with pytest.raises(BadInput, match="switched off"):
        svc.webhooks.send_test(user, broken.id)
    to_broken = sum(path == "/status/404" for path, _, _ in receiver.requests)
    assert to_broken == 3
    assert svc.webhooks.enqueue_digest(user.id, "2024-05-29", {"period": "2024-05-29"}, ["2405.20001"]) == 1  # flaky's
    digests.send_hooks()
    assert sum(path == "/status/404" for path, _, _ in receiver.requests) == to_broken  # off: nothing goes to it
    svc.webhooks.switch_on(user, broken.id)
    assert svc.store.get_webhook(broken.id).active


def test_the_default_refuses_hooks_inside_the_network(tmp_path):
    svc = make_service(tmp_path, smtp_config(1))
    user = svc.accounts.create_user("b@example.org", PASSWORD, "Bob")
    try:
        for url in ("http://127.0.0.1:8080/", "http://localhost/", "http://10.1.2.3/", "http://169.254.169.254/",
                    "http://[::1]/", "https://user:hunter2@hooks.example.org/", "ftp://hooks.example.org/"):
            with pytest.raises(BadInput) as refused:
                svc.webhooks.add(user, url, "json")
            assert "hunter2" not in str(refused.value)
        with pytest.raises(BadInput, match="format"):
            svc.webhooks.add(user, "https://93.184.215.14/", "teams")
    finally:
        svc.close()


def test_the_settings_page_adds_a_hook_and_sends_a_test(site):
    from papersift.server.app import create_app

    svc, _, receiver, _, _ = site
    with running_server(create_app(svc, background=False)) as base:
        client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
        log_in(client, "a@example.org", PASSWORD)
        token = csrf_of(client.get("/settings").text)
        added = client.post("/settings/webhooks", data={"csrf_token": token, "url": receiver.url + "/hook",
                                                         "format": "discord"})
        assert added.status_code == 201 and "whsec_" in added.text
        assert "whsec_" not in client.get("/settings").text  # shown once
        bad = client.post("/settings/webhooks", data={"csrf_token": token, "url": "javascript:alert(1)"})
        assert bad.status_code == 400
        [hook] = svc.store.user_webhooks(svc.accounts.user_by_email("a@example.org").id)
        client.post(f"/settings/webhooks/{hook.id}", data={"csrf_token": token, "action": "test"})
        [request] = receiver.wait_for(1)
        body = json.loads(request[2])
        assert body["allowed_mentions"] == {"parse": []} and "test" in body["content"]
        assert verify_signature(hook.secret, request[1].get("X-Papersift-Signature"), request[2])


def test_the_json_api_adds_lists_tests_and_deletes_hooks(site):
    from papersift.server.app import create_app

    svc, _, receiver, _, user = site
    _, token = svc.accounts.create_token(user, "hooks")
    with running_server(create_app(svc, background=False)) as base:
        api = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"})
        made = api.post(HOOKS, json={"url": receiver.url + "/hook", "format": "json"})
        assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
        listed = api.get(HOOKS).json()["webhooks"]
        assert [h["id"] for h in listed] == [made.json()["id"]] and "secret" not in listed[0]
        assert api.post(f"{HOOKS}/{made.json()['id']}/test").json()["queued"] is True
        [request] = receiver.wait_for(1)
        assert verify_signature(made.json()["secret"], request[1].get("X-Papersift-Signature"), request[2])
        refused = api.post(HOOKS, json={"url": "https://user:hunter2@example.org/"})
        assert refused.status_code == 400 and "hunter2" not in refused.text
        assert api.post(HOOKS, json={"url": receiver.url, "format": "teams"}).status_code == 400
        assert api.delete(f"{HOOKS}/{made.json()['id']}").json()["deleted"] is True and api.get(HOOKS).json()["webhooks"] == []
        assert api.delete(f"{HOOKS}/{made.json()['id']}").status_code == 404
        assert httpx.get(base + "/api/v1/me/webhooks").status_code == 401
