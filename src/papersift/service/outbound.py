"""Requests this site makes to addresses its readers give (webhooks): refused where they could reach
inside the network (SSRF), signed so the receiver can trust them, bounded in time and size.

* The URL is http(s) with a host and no user-info (a secret there would be kept and logged; it is refused
  without being repeated).
* The host is resolved **once**; every address it resolves to must be global unicast (not loopback,
  private, link-local such as 169.254.169.254, shared, multicast, reserved or unspecified, IPv4-mapped
  forms included), unless the admin allows private addresses (``webhooks_allow_private``: a lab's own
  chat server; link-local ones stay refused even then). The request then goes to that checked address
  (the Host header and TLS name stay the URL's), so a second DNS answer cannot redirect it (DNS rebinding).
* Redirects are not followed (one could point anywhere); a 3xx is a failed delivery that says so.
* At most ``TIMEOUT`` seconds and ``MAX_RESPONSE`` bytes of answer are read.
* The body is signed: ``X-Papersift-Signature: t=UNIX_TIME,v1=HEX`` where HEX is the HMAC-SHA256, keyed
  with the hook's secret, of ``"{t}." + body``; :func:`verify_signature` is what a receiver runs (it refuses
  a time more than ``TOLERANCE`` seconds off, so a captured request cannot be replayed later).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from papersift.errors import BadInput

URL_MAX = 2000
TIMEOUT = 10.0
MAX_RESPONSE = 64 * 1024
TOLERANCE = 300
SIGNATURE_HEADER = "X-Papersift-Signature"


class Refused(Exception):
    """The address may not be reached from here (its reason is safe to show the hook's owner)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (the Host header, the TLS name)
    port: int
    path: str  # path and query
    address: str  # the checked IP the request goes to


@dataclass
class Delivery:
    status: int
    body: bytes  # at most MAX_RESPONSE bytes of the answer

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def check_url(raw: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a webhook URL, or BadInput saying what is wrong with it."""
    url = (raw or "").strip()
    if not url:
        raise BadInput("enter the webhook's URL")
    if len(url) > URL_MAX:
        raise BadInput(f"the URL is too long (at most {URL_MAX} characters)")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise BadInput("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadInput("this is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise BadInput("a webhook URL starts with https:// (or http://)")
    if parts.username is not None or parts.password is not None:
        raise BadInput("put no user name or password in the URL: the hook's secret signs every request instead")
    if not parts.hostname:
        raise BadInput("the URL has no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def _allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return False
    if ip.is_link_local:  # 169.254.169.254 and fe80::: cloud metadata and the link, never a lab's server
        return False
    return ip.is_global or (allow_private and (ip.is_private or ip.is_loopback))


def resolve(raw: str, allow_private: bool = False) -> Target:
    """The URL checked and its host resolved once; Refused when any address it names is not allowed."""
    scheme, host, port, path = check_url(raw)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Refused(f"{host} has no address")
    bad = [a for a in addresses if not _allowed(a, allow_private)]
    if bad:
        raise Refused(f"{host} resolves to {bad[0]}, an address inside a network (loopback, private, link-local "
                      "or reserved): webhooks go to public addresses only")
    return Target(scheme, host, port, path, addresses[0])


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str | None, body: bytes, now: float | None = None,
                     tolerance: int = TOLERANCE) -> bool:
    """What a receiver checks: the MAC over the timestamp and the body, and a timestamp close to now."""
    fields = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, timestamp), f"t={timestamp},v1={fields.get('v1', '')}")


def post(url: str, body: bytes, secret: str, allow_private: bool = False, timeout: float = TIMEOUT,
         now: float | None = None) -> Delivery:
    """POST ``body`` (JSON) to the checked address of ``url``, signed; Refused or httpx's errors on failure."""
    target = resolve(url, allow_private)
    address = f"[{target.address}]" if ":" in target.address else target.address
    stamp = int(time.time() if now is None else now)
    headers = {"Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
               "Content-Type": "application/json", "User-Agent": "papersift-webhook/1",
               SIGNATURE_HEADER: signature(secret, body, stamp)}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        request = client.build_request("POST", f"{target.scheme}://{address}:{target.port}{target.path}",
                                       content=body, headers=headers, extensions=extensions)
        response = client.send(request, stream=True)
        try:
            answer = b""
            for chunk in response.iter_bytes():
                answer += chunk[:MAX_RESPONSE - len(answer)]
                if len(answer) >= MAX_RESPONSE:
                    break
        finally:
            response.close()
        if 300 <= response.status_code < 400:
            raise Refused(f"the hook answered {response.status_code} (a redirect): redirects are not followed")
        return Delivery(response.status_code, answer)
