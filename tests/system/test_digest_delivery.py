"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1): retries with backoff for a refused
connection and 4xx replies, failure with the reason for 5xx, disabling an address that keeps
bouncing, STARTTLS with authentication, abandoned claims, and concurrent senders."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from datetime import date

import pytest

from papersift.digest import Digests
from papersift.digest.sender import _process_start
from papersift.errors import BadInput

from ..digest_support import DAYS, Clock, add_subscribers, make_service, outbox, smtp_config
from ..smtp_support import SMTPServer, free_port, self_signed


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def test_refused_connection_backs_off_then_delivers(tmp_path):
    port, clock = free_port(), Clock()
    svc = make_service(tmp_path, smtp_config(port), clock)
    digests = Digests(svc)
    add_subscribers(svc, ["a@example.org", "b@example.org"])
    result = digests.run(today=DAYS[1])
    assert result["build"]["built"] == 2 and result["send"]["sent"] == 0
    assert result["send"]["retry"] == 1 and "cannot connect" in result["send"]["errors"][0]
    rows = outbox(svc.store)
    # the first was tried and backs off 60 s; the run stopped there (the server is down for all)
    assert [(r[2], r[3]) for r in rows] == [("pending", 1), ("pending", 0)]
    assert rows[0][4] == "2024-05-28T07:01:00Z" and "cannot connect" in rows[0][5]
    server = SMTPServer(port=port).start()
    try:
        digests.send_pending()  # b is due, a is not yet
        assert [m.rcpt_tos for m in server.wait_for(1)] == [["b@example.org"]]
        clock.advance(seconds=61)
        digests.send_pending()
        assert sorted(m.rcpt_tos[0] for m in server.wait_for(2)) == ["a@example.org", "b@example.org"]
        assert [r[2] for r in outbox(svc.store)] == ["sent", "sent"]
    finally:
        server.stop()


def test_4xx_is_retried_with_growing_backoff_and_given_up_at_max_attempts(tmp_path, smtp):
    clock = Clock()
    svc = make_service(tmp_path, smtp_config(smtp.port, max_attempts=3), clock)
    digests = Digests(svc)
    add_subscribers(svc, ["busy@example.org", "fine@example.org", "later@example.org"])
    smtp.reply_rcpt["busy@example.org"] = ["451 4.3.0 try again later"]  # always
    smtp.reply_rcpt["later@example.org"] = ["450 4.2.1 mailbox busy", None]  # once
    report = digests.run(today=DAYS[1])["send"]
    assert report["sent"] == 1 and report["retry"] == 2
    delays = []
    for _step in range(2):
        row = outbox(svc.store, recipient="busy@example.org")[0]
        assert row[2] == "pending" and "451 4.3.0" in row[5]
        delays.append(row[4])
        clock.now = clock.now.fromisoformat(row[4].replace("Z", "+00:00"))
        digests.send_pending()
    assert delays == ["2024-05-28T07:01:00Z", "2024-05-28T07:03:00Z"]  # 60 s, then 120 s
    busy = outbox(svc.store, recipient="busy@example.org")[0]
    assert busy[2] == "failed" and busy[3] == 3 and "gave up after 3 attempts" in busy[5]
    assert outbox(svc.store, recipient="later@example.org")[0][2] == "sent"
    assert svc.store.get_subscriber_by_email("busy@example.org").status == "active"  # temporary: not a bounce
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["fine@example.org", "later@example.org"]


def test_5xx_fails_with_the_reason_and_disables_after_the_threshold(tmp_path, smtp):
    clock = Clock()
    svc = make_service(tmp_path, smtp_config(smtp.port, bounce_threshold=3), clock)
    digests = Digests(svc)
    add_subscribers(svc, ["gone@example.org", "ok@example.org"])
    smtp.reply_rcpt["gone@example.org"] = ["550 5.1.1 no such user"]
    for n, day in enumerate(DAYS[1:4], 1):
        clock.now = clock.now.replace(day=day.day)
        report = digests.run(today=day)["send"]
        assert report["failed"] == 1 and report["disabled"] == int(n == 3)
        sub = svc.store.get_subscriber_by_email("gone@example.org")
        assert sub.bounces == n and sub.status == ("disabled" if n == 3 else "active")
    failed = outbox(svc.store, recipient="gone@example.org")
    assert [r[2] for r in failed] == ["failed"] * 3 and "RCPT TO: 550 5.1.1 no such user" in failed[0][5]
    assert "3 permanent delivery failures" in svc.store.get_subscriber_by_email("gone@example.org").status_reason
    digests.run(today=DAYS[4])  # disabled: no longer built
    assert len(outbox(svc.store, recipient="gone@example.org")) == 3
    assert len(smtp.to("ok@example.org")) == 4


def test_a_delivery_forgives_earlier_bounces(tmp_path, smtp):
    svc = make_service(tmp_path, smtp_config(smtp.port), Clock())
    digests = Digests(svc)
    add_subscribers(svc, ["flaky@example.org"])
    smtp.reply_rcpt["flaky@example.org"] = ["552 5.2.2 mailbox full", None]
    digests.run(today=DAYS[1])
    assert svc.store.get_subscriber_by_email("flaky@example.org").bounces == 1
    digests.run(today=DAYS[2])
    sub = svc.store.get_subscriber_by_email("flaky@example.org")
    assert sub.bounces == 0 and sub.status == "active" and len(smtp.messages) == 1


def test_starttls_with_authentication(tmp_path):
    import ssl

    cert, key = self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    server = SMTPServer(tls=tls, users={"mailer": "s3cret"}).start()
    try:
        config = smtp_config(server.port)
        config.smtp.starttls, config.smtp.ca_file, config.smtp.user, config.smtp.password = True, str(cert), "mailer", "s3cret"
        svc = make_service(tmp_path, config, Clock())
        digests = Digests(svc)
        add_subscribers(svc, ["tls@example.org"])
        assert digests.run(today=DAYS[1])["send"]["sent"] == 1
        assert server.wait_for(1)[0].rcpt_tos == ["tls@example.org"]
        # wrong password: a configuration error, not the subscriber's fault; nothing is lost
        config.smtp.password = "wrong"
        with pytest.raises(BadInput, match="authentication failed"):
            digests.run(today=DAYS[2])
        assert outbox(svc.store)[-1][2] == "pending"
        # an untrusted certificate is refused
        config.smtp.password, config.smtp.ca_file = "s3cret", ""
        with pytest.raises(BadInput, match="TLS"):
            digests.send_pending()
        config.smtp.ca_file = str(cert)
        assert digests.send_pending().sent == 1 and len(server.wait_for(2)) == 2
    finally:
        server.stop()


def test_abandoned_claims_are_resent_but_live_ones_are_left_alone(tmp_path, smtp):
    clock = Clock()
    svc = make_service(tmp_path, smtp_config(smtp.port, claim_lease_minutes=15), clock)
    digests = Digests(svc)
    add_subscribers(svc, ["dead@example.org", "alive@example.org", "old@example.org"])
    svc.mail.build(DAYS[1])
    host = socket.gethostname()
    sleeper = subprocess.Popen(["sleep", "60"])
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its pid is free
    try:
        owners = {"dead@example.org": f"{host}|{gone.pid}|{_process_start(gone.pid)}|x",
                  "alive@example.org": f"{host}|{sleeper.pid}|{_process_start(sleeper.pid)}|y",
                  "old@example.org": "elsewhere|1|1|z"}
        for address, owner in owners.items():
            (row,) = outbox(svc.store, recipient=address)
            claimed_at = "2024-05-28T06:00:00Z" if address == "old@example.org" else "2024-05-28T06:59:00Z"
            svc.store._db.execute("UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = 1"
                                  " WHERE id = ?", (owner, claimed_at, row[0]))
        report = digests.send_pending()
        # a dead local process, and a claim older than the lease (another host), are resent
        assert report.recovered == 2 and report.sent == 2
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["dead@example.org", "old@example.org"]
        assert outbox(svc.store, recipient="alive@example.org")[0][2] == "sending"
    finally:
        sleeper.kill()
        sleeper.wait()
    digests.send_pending()
    assert outbox(svc.store, recipient="alive@example.org")[0][2] == "sent"


def test_concurrent_senders_send_each_message_once(tmp_path, smtp):
    svc = make_service(tmp_path, smtp_config(smtp.port), Clock())
    digests = Digests(svc)
    emails = [f"reader{i}@example.org" for i in range(40)]
    add_subscribers(svc, emails)
    svc.mail.build(DAYS[1])
    threads = [threading.Thread(target=digests.send_pending) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    received = smtp.wait_for(40)
    time.sleep(0.2)
    assert len(smtp.messages) == 40 and len({m.message_id for m in received}) == 40
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(emails)


def test_unsubscribing_between_build_and_send_cancels(tmp_path, smtp):
    svc = make_service(tmp_path, smtp_config(smtp.port), Clock())
    digests = Digests(svc)
    (sid,) = add_subscribers(svc, ["leaving@example.org"])
    svc.mail.build(DAYS[1])
    sub = svc.store.get_subscriber(sid)
    assert svc.store.unsubscribe(sid, sub.token_epoch)
    assert digests.send_pending().sent == 0 and not smtp.messages
    assert outbox(svc.store)[0][2] == "cancelled"


def test_weekly_digests_and_periods(tmp_path, smtp):
    config = smtp_config(smtp.port)
    config.digest.weekly_day = "wed"
    svc = make_service(tmp_path, config, Clock())
    digests = Digests(svc)
    add_subscribers(svc, ["weekly@example.org"], cadence="weekly", trending=False, categories="cs.IR")
    assert digests.run(today=DAYS[1])["build"]["periods"] == {"daily": "2024-05-28"}  # Tuesday: not yet
    first = digests.run(today=DAYS[2])  # Wednesday: due
    assert first["build"]["periods"]["weekly"] == "2024-W22" and first["send"]["sent"] == 1
    assert digests.run(today=DAYS[3])["build"]["already_built"] == 1  # Thursday: built once per week
    mail = smtp.wait_for(1)[0]
    assert mail.message["Subject"].startswith("Your weekly papers: week 22, 2024")
    text = mail.part("plain")
    assert "TRENDING" not in text and "Matches: cs.IR" in text
    assert text.count("Matches: cs.IR") == 9  # Mon-Wed: three cs.IR papers a day
    weekend = digests.run(today=date(2024, 6, 1))
    assert weekend["build"]["periods"] == {"weekly": "2024-W22"}  # Saturday: no daily digests
