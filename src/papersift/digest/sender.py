"""Delivering the outbox over SMTP, each message exactly once in every case we can observe.

The protocol, per message:

1. **claim**: one write transaction moves the row pending -> sending, with our owner tag
   (host, pid, process start time, random) and the time; committed *before* the SMTP
   transaction starts.
2. **send**: MAIL FROM, RCPT TO, DATA on a (reused) connection.
3. **record**: the server's reply to the final "." decides: 250 -> sent (with the reply
   text, beside the Message-ID fixed at build time); 4xx, a refused connection, a timeout ->
   back to pending with exponential backoff (``next_attempt_at``); 5xx -> failed with the
   reason, and a 5xx for the address (RCPT/DATA) counts towards disabling it.

After a crash (SIGKILL, power cut) rows can be left in 'sending'. The next sender treats a
row as abandoned when its owner process is gone (same host, pid no longer alive or reused)
or its claim is older than ``claim_lease_minutes``, and puts it back to pending. That is
right for every moment of the crash but one: SMTP accepts a message only with its 250 reply
to the final "."; if the process dies before that reply the server has not taken the
message (RFC 5321 4.1.1.4: a message is the sender's responsibility until the 250), so a
resend is the only delivery. The one window we cannot see is between the server's 250 and
our commit of 'sent' (a few hundred microseconds, no I/O but one SQLite write): a crash
exactly there yields one duplicate, which carries the same Message-ID so clients can fold
it. We chose at-least-once for that window because the alternative (never resend an
abandoned claim) would lose every message whose transfer a crash interrupted, which is the
far larger window. tests/system/test_digest_crash.py kills a real sender with SIGKILL while the
SMTP server holds a message before answering, and checks that every message arrives once.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr
from typing import Callable, Iterable

from papersift.config import Settings
from papersift.digest.render import Renderer
from papersift.errors import BadInput
from papersift.model import OutboxMessage, Subscriber
from papersift.service import Outbox

log = logging.getLogger("papersift.digest")
MESSAGES_PER_CONNECTION = 100  # many servers cap a session; reconnecting now and then is cheap


# What goes by mail (a webhook's deliveries are the hook sender's, digest/hooks.py)
EMAIL_KINDS = ("digest", "confirm", "manage", "notify", "account")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _process_start(pid: int) -> str:
    """The kernel's start time of ``pid`` (Linux), to tell a live owner from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return "Z" if fields[0] == b"Z" else fields[19].decode()  # state, then starttime (field 22)
    except (OSError, IndexError):
        return ""


def _alive(pid: int, started: str) -> bool:
    now = _process_start(pid)
    if now:
        return now != "Z" and (not started or now == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not os.path.exists("/proc/self/stat")  # /proc exists but not for pid: gone


class TemporaryFailure(Exception):
    """Worth retrying later: refused connection, timeout, 4xx."""


class Unreachable(TemporaryFailure):
    """No connection at all: the rest of the run would fail the same way."""


class ConnectionLost(TemporaryFailure):
    """The connection broke mid-transaction (the server may have closed an idle session)."""


class PermanentFailure(Exception):
    def __init__(self, message: str, bounce: bool):
        super().__init__(message)
        self.bounce = bounce  # the address itself was refused (counts towards disabling it)


class ConfigFailure(Exception):
    """Our side is wrong (authentication, STARTTLS): stop the run, keep the messages pending."""


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    disabled: int = 0
    recovered: int = 0
    unreachable: bool = False  # the run stopped because no connection could be made
    errors: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retry": self.retry, "failed": self.failed, "disabled": self.disabled,
                "recovered": self.recovered, "unreachable": self.unreachable, "errors": self.errors[:20]}


class Sender:
    def __init__(self, outbox: Outbox, config: Settings, renderer: Renderer,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.outbox, self.config, self.renderer, self.clock = outbox, config, renderer, clock
        pid = os.getpid()
        self.owner = f"{socket.gethostname()}|{pid}|{_process_start(pid)}|{secrets.token_hex(4)}"

    # ---- abandoned claims
    def _abandoned(self, message: OutboxMessage, now: datetime) -> bool:
        lease = timedelta(minutes=self.config.digest.claim_lease_minutes)
        if not message.claimed_at or message.claimed_at < _iso(now - lease):
            return True
        host, pid, started, _ = (message.claimed_by or "|0||").split("|", 3)
        if host != socket.gethostname() or not pid.isdigit():
            return False  # another machine's sender: only its lease can tell
        if int(pid) == os.getpid():
            return False  # another sender in this process (e.g. the web's), still running
        return not _alive(int(pid), started)

    def recover(self) -> int:
        now = self.clock()
        count = 0
        for message in self.outbox.abandoned_claims():
            if message.claimed_by is not None and self._abandoned(message, now):  # a claim names its sender
                log.warning("outbox %s (%s) was left mid-send by %s: sending again", message.id,
                            message.recipient, message.claimed_by)
                self.outbox.release(message.id, message.claimed_by, "sender stopped while sending; resent", _iso(now))
                count += 1
        return count

    # ---- SMTP
    def _connect(self) -> smtplib.SMTP:
        smtp = self.config.smtp
        try:
            conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            conn.ehlo_or_helo_if_needed()
            if smtp.starttls:
                conn.starttls(context=ssl.create_default_context(cafile=smtp.ca_file or None))
                conn.ehlo_or_helo_if_needed()  # STARTTLS forgets the first EHLO (RFC 3207)
            if smtp.user:
                conn.login(smtp.user, smtp.password)
            return conn
        except smtplib.SMTPAuthenticationError as exc:
            raise ConfigFailure(f"SMTP authentication failed for {smtp.user}: {exc.smtp_code} "
                                f"{_reply_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError:
            raise ConfigFailure(f"{smtp.host}:{smtp.port} does not offer STARTTLS (set smtp.starttls = false "
                                "only for a server on this machine or a trusted network)") from None
        except ssl.SSLError as exc:
            raise ConfigFailure(f"TLS with {smtp.host}:{smtp.port} failed: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            raise TemporaryFailure(f"connect: {exc.smtp_code} {_reply_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(f"cannot connect to {smtp.host}:{smtp.port}: {exc}") from None

    def _transmit(self, conn: smtplib.SMTP, message: OutboxMessage, data: bytes) -> str:
        sender = parseaddr(self.config.smtp.sender)[1]
        options = [] if data.isascii() else ["BODY=8BITMIME"]  # rendered 8-bit only for servers that take it
        try:
            code, reply = conn.mail(sender, options)
            if code != 250:
                conn.rset()
                _fail(code, reply, "MAIL FROM", bounce=False)
            code, reply = conn.rcpt(message.recipient)
            if code not in (250, 251):
                conn.rset()
                _fail(code, reply, "RCPT TO", bounce=True)
            code, reply = conn.data(data)  # returns after the server's answer to the final "."
        except smtplib.SMTPResponseException as exc:  # e.g. no 354 after DATA, 421 closing
            try:
                conn.rset()
            except (OSError, smtplib.SMTPException):
                pass
            _fail(exc.smtp_code, exc.smtp_error, "DATA", bounce=True)
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionLost(f"connection lost: {exc}") from None
        if code != 250:
            _fail(code, reply, "DATA", bounce=True)
        return f"{code} {reply.decode(errors='replace')}"

    # ---- the run
    def send_due(self, limit: int | None = None, ids: Iterable[int] | None = None) -> SendReport:
        """Send due messages (of ``ids`` if given) until none is left, or ``limit`` were tried."""
        self.config.require_email()
        self.config.require_base_url()
        report = SendReport(recovered=self.recover())
        self.renderer.start_run()
        only = list(ids) if ids is not None else None
        conn: smtplib.SMTP | None = None
        used = tried = 0
        try:
            while limit is None or tried < limit:
                message = self.outbox.claim(self.owner, _iso(self.clock()), only, EMAIL_KINDS)
                if message is None:
                    break
                tried += 1
                subscriber = None if message.subscriber_id is None else self.outbox.subscriber(message.subscriber_id)
                try:
                    if conn is None or used >= MESSAGES_PER_CONNECTION:
                        _quit(conn)
                        conn = None  # nothing is left to quit if the next connection fails
                        conn, used = self._connect(), 0
                    used += 1
                    data = self._render(message, subscriber, conn.has_extn("8bitmime"), report)
                    if data is None:
                        continue
                    try:
                        reply = self._transmit(conn, message, data)
                    except ConnectionLost:
                        if used == 1:
                            raise
                        # a reused connection the server had closed (idle timeout, session cap):
                        # one immediate try on a fresh one before backing off
                        _quit(conn)
                        conn = None
                        conn, used = self._connect(), 1
                        reply = self._transmit(conn, message, data)
                except TemporaryFailure as exc:
                    _quit(conn)
                    conn = None
                    self._retry(message, str(exc), report)
                    if isinstance(exc, Unreachable):
                        report.unreachable = True
                        report.errors.append(str(exc))
                        break  # the server is unreachable: the rest would fail the same way
                    continue
                except PermanentFailure as exc:
                    self._failed(message, str(exc), exc.bounce, report)
                    continue
                except ConfigFailure as exc:
                    conn = None
                    self.outbox.release(message.id, self.owner, str(exc), _iso(self.clock()))
                    report.errors.append(str(exc))
                    raise BadInput(str(exc)) from None
                self.outbox.mark_sent(message.id, self.owner, reply, _iso(self.clock()))
                report.sent += 1
                report.message_ids.append(message.message_id)
        finally:
            _quit(conn)
        return report

    def _render(self, message: OutboxMessage, subscriber: Subscriber | None, eight_bit: bool,
                report: SendReport) -> bytes | None:
        """The message as bytes; None when it cannot be built (it has failed then, with the reason)."""
        try:
            if message.user_id is not None:  # mail to one reader (a notification, a link they asked for)
                return self.renderer.render_notice(message, self.clock(), eight_bit)
            if subscriber is None:
                raise LookupError(f"subscriber {message.subscriber_id} no longer exists")
            return self.renderer.render(message, subscriber, self.clock(), eight_bit)
        except Exception as exc:  # a bug or bad data: do not retry forever, keep the reason
            log.exception("cannot render outbox message %s", message.id)
            self._failed(message, f"could not build the message: {exc}", False, report)
            return None

    def _retry(self, message: OutboxMessage, error: str, report: SendReport) -> None:
        digest = self.config.digest
        if message.attempts >= digest.max_attempts:
            self._failed(message, f"gave up after {message.attempts} attempts; last error: {error}", False, report)
            return
        delay = min(digest.retry_base_seconds * 2 ** (message.attempts - 1), digest.retry_max_seconds)
        self.outbox.release(message.id, self.owner, error, _iso(self.clock() + timedelta(seconds=delay)))
        report.retry += 1
        log.info("outbox %s to %s: %s; retry in %.0f s", message.id, message.recipient, error, delay)

    def _failed(self, message: OutboxMessage, error: str, bounce: bool, report: SendReport) -> None:
        disabled = self.outbox.mark_failed(message.id, self.owner, error, bounce,
                                          self.config.digest.bounce_threshold, _iso(self.clock()))
        report.failed += 1
        report.disabled += int(disabled)
        report.errors.append(f"{message.recipient}: {error}")
        log.warning("outbox %s to %s failed: %s%s", message.id, message.recipient, error,
                    " (address disabled)" if disabled else "")


def _reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _fail(code: int, reply: bytes | str, stage: str, bounce: bool):
    error = f"{stage}: {code} {_reply_text(reply)}".strip()
    if 400 <= code < 500 or code == -1:
        raise TemporaryFailure(error)
    raise PermanentFailure(error, bounce=bounce and 500 <= code < 600)


def _quit(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
