"""Signed, expiring tokens for the links in emails (confirm, unsubscribe, manage).

A token is ``base64url(json payload) "." base64url(HMAC-SHA256(key, purpose-tagged payload))``.
The payload names its purpose, the subscriber, a value that the store can void (the
confirmation nonce, or the subscriber's ``token_epoch``) and an expiry time, so:

* a forged or altered token fails the MAC (checked in constant time);
* a token for one purpose cannot be used for another (the purpose is inside the MAC);
* an expired token is refused even with a good MAC;
* a used token stops working because the store changed the nonce / epoch it names.

The key comes from ``secret_key`` in the config (``PAPERSIFT_SECRET_KEY``); without one, a random
256-bit key is made on first use and kept in the database (never in the repository).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

from papersift.errors import BadToken, ExpiredToken

PURPOSES = ("confirm", "unsubscribe", "manage", "verify-email")  # verify-email: the id is a user's
SECRET_NAME = "link-signing-key"
MAX_TOKEN_CHARS = 600
# What sign() makes: two base64url parts. Checked before anything else so that a non-ASCII or
# otherwise foreign token never reaches the ASCII-only MAC code (it raised UnicodeEncodeError).
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MAX_SUBSCRIBER_ID = 2**63 - 1  # SQLite's INTEGER range: a bigger id overflowed in the look-up


@dataclass(frozen=True)
class LinkClaim:
    purpose: str
    subscriber_id: int
    value: str  # the confirmation nonce, or str(token_epoch)
    expires: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, key: str | bytes, clock=time.time):
        if not key:
            raise ValueError("an empty signing key")
        self._key = hashlib.sha256(b"papersift-links\0" + (key.encode() if isinstance(key, str) else key)).digest()
        self._clock = clock

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def sign(self, purpose: str, subscriber_id: int, value: str, lifetime_seconds: float) -> str:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        payload = {"p": purpose, "s": subscriber_id, "v": value, "x": int(self._clock() + lifetime_seconds)}
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str | None, purpose: str) -> LinkClaim:
        """The claim inside a good token for ``purpose``; BadToken / ExpiredToken otherwise."""
        broken = BadToken("this link is not valid: it may have been cut off or changed. "
                          "Copy the whole link from the email, or subscribe again for a new one")
        if not token or len(token) > MAX_TOKEN_CHARS or not _SHAPE.fullmatch(token):
            raise broken
        body, mac = token.split(".")
        if not hmac.compare_digest(mac.encode("ascii"), self._mac(body).encode("ascii")):
            raise broken
        try:
            claim = _claim(json.loads(_unb64(body)))
        except (ValueError, KeyError, TypeError):
            raise broken from None
        if claim.purpose != purpose:
            raise broken
        if claim.expires < self._clock():
            raise ExpiredToken("this link has expired" + (
                ": subscribe again to get a new confirmation email" if purpose == "confirm"
                else ": use the link in your latest digest email"))
        return claim


def _claim(data) -> LinkClaim:
    """The payload's fields, strictly typed: a well-signed payload is still checked (a bool, a
    float or an id outside the store's integer range is refused, not passed on to SQLite)."""
    subscriber, expires = data["s"], data["x"]
    for number in (subscriber, expires):
        if type(number) is not int:
            raise TypeError("not an integer")
    if not 0 < subscriber <= MAX_SUBSCRIBER_ID:
        raise ValueError("subscriber id out of range")
    return LinkClaim(str(data["p"]), subscriber, str(data["v"]), expires)


def signing_key(configured: str, store) -> str:
    """The configured key, or the one kept in the database (made on first use)."""
    if configured:
        return configured
    return store.get_secret(SECRET_NAME, lambda: secrets.token_urlsafe(32))
