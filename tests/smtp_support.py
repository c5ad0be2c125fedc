"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the digest tests, with scriptable failures.

``SMTPServer`` keeps every message it accepted (``.messages``: envelope + parsed email) and can
be told to answer one address with a 4xx/5xx (``.reply_rcpt``), or to hold the DATA of the
N-th message before answering (``.hold``): the handler signals that it is receiving, then
waits. A message whose client vanishes meanwhile is not accepted (aiosmtpd cancels the
handler when the connection drops; a released handler also checks the socket), as a real
server does not accept a message it never answered 250 to.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    def part(self, subtype: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == f"text/{subtype}":
                return part.get_content()
        raise AssertionError(f"no text/{subtype} part")


@dataclass
class Hold:
    number: int  # hold the DATA of the number-th message (1-based)
    receiving: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _client_gone(server) -> bool:
    """Has the client closed its end? (Peeks at the socket: nothing reads it while a handler waits.)"""
    transport = server.transport
    if transport is None or transport.is_closing():
        return True
    with socket.socket(fileno=os.dup(transport.get_extra_info("socket").fileno())) as sock:
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False  # open, just quiet
        except OSError:
            return True  # reset


class Handler:
    def __init__(self, server: "SMTPServer"):
        self.server = server
        self.data_count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        script = self.server.reply_rcpt.get(address.lower())
        if script:
            reply = script.pop(0) if len(script) > 1 else script[0]
            if reply:
                self.server.rcpt_refusals.append((address, reply))
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        hold = self.server.hold
        if hold is not None and hold.number == self.data_count:
            hold.receiving.set()
            try:
                while not hold.release.is_set():
                    await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                # aiosmtpd cancels the handler when the client's connection drops: the message was
                # never answered, so it is not accepted (what a real server does)
                self.server.aborted += 1
                raise
            if _client_gone(server):
                self.server.aborted += 1
                return "421 client went away before the message was accepted"
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed))
        return f"250 OK queued as q{self.data_count}"


class SMTPServer:
    def __init__(self, port: int | None = None, tls: ssl.SSLContext | None = None, users: dict | None = None):
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.reply_rcpt: dict[str, list[str | None]] = {}
        self.rcpt_refusals: list[tuple[str, str]] = []
        self.hold: Hold | None = None
        self.aborted = 0
        self.port = port or free_port()
        kwargs = {}
        if tls is not None:
            kwargs.update(tls_context=tls, require_starttls=True)
        if users is not None:
            def check(server, session, envelope, mechanism, auth_data):
                ok = users.get(auth_data.login.decode()) == auth_data.password.decode()
                return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535
            kwargs.update(authenticator=check, auth_required=True)
        self.controller = Controller(Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.release.set()
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if address.lower() in [r.lower() for r in m.rcpt_tos]]


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 / localhost (made here; never stored)."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key
