"""Exactly once across a crash: a real `papersift digest send` process is killed with SIGKILL
while the SMTP server is receiving one of its messages; the next run sends every pending
message, and the server ends up with each digest exactly once (counted by Message-ID).

The server holds the DATA of the third message before answering it. The kill lands there,
deterministically: the sender has committed 'sending' for that row and is waiting for the
server's reply. A message the server never answered 250 to was not accepted (the held
handler sees its client gone and does not keep it), so on restart the abandoned claim must
be sent again, and the two messages already accepted must not be.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys

from ..digest_support import DAYS, add_subscribers, make_service, smtp_config
from ..smtp_support import Hold, SMTPServer

SUBSCRIBERS = 6
KILL_AT = 3


def send_process(db, config_file, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "papersift.cli", "digest", "send", "--date", DAYS[1].isoformat(), "--json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PAPERSIFT_DB": str(db), "PAPERSIFT_CONFIG": str(config_file)})


def states(store) -> dict[str, int]:
    rows = store._db.execute("SELECT status, COUNT(*) FROM outbox WHERE kind = 'digest' GROUP BY status").fetchall()
    return dict(rows)


def test_sigkill_mid_send_then_restart_delivers_each_message_exactly_once(tmp_path):
    server = SMTPServer().start()
    server.hold = Hold(number=KILL_AT)
    config = smtp_config(server.port)
    svc = make_service(tmp_path, config)
    try:
        emails = [f"reader{i}@example.org" for i in range(SUBSCRIBERS)]
        add_subscribers(svc, emails)
        config_file = tmp_path / "papersift.toml"
        config_file.write_text(f'base_url = "{config.base_url}"\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
                               f'starttls = false\nsender = "{config.smtp.sender}"\n')

        first = send_process(svc.db, config_file)
        assert server.hold.receiving.wait(60), first.communicate(timeout=5)
        # the server has the third message's DATA and has not answered: kill the sender now
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        assert first.returncode == -signal.SIGKILL
        assert states(svc.store) == {"sent": KILL_AT - 1, "sending": 1, "pending": SUBSCRIBERS - KILL_AT}
        server.hold.release.set()  # the handler finds its client gone: the message is not accepted
        assert _eventually(lambda: server.aborted == 1)
        assert len(server.messages) == KILL_AT - 1

        second = send_process(svc.db, config_file)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        report = json.loads(out)
        assert report["build"]["built"] == 0 and report["build"]["already_built"] == SUBSCRIBERS
        assert report["send"]["recovered"] == 1 and report["send"]["sent"] == SUBSCRIBERS - KILL_AT + 1

        received = server.wait_for(SUBSCRIBERS)
        by_id = collections.Counter(m.message_id for m in received)
        assert len(received) == SUBSCRIBERS and set(by_id.values()) == {1}
        assert sorted(m.rcpt_tos[0] for m in received) == sorted(emails)
        rows = svc.store._db.execute("SELECT message_id, status, attempts FROM outbox WHERE kind = 'digest'").fetchall()
        assert {r[0] for r in rows} == set(by_id) and {r[1] for r in rows} == {"sent"}
        assert sorted(r[2] for r in rows) == [1] * (SUBSCRIBERS - 1) + [2]  # only the interrupted one twice

        third = send_process(svc.db, config_file)  # and a later run has nothing left to do
        out, _ = third.communicate(timeout=120)
        assert json.loads(out)["send"]["sent"] == 0 and len(server.messages) == SUBSCRIBERS
    finally:
        server.stop()


def _eventually(check, timeout: float = 10) -> bool:
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()
