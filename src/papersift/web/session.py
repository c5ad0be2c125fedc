"""Who is asking: the session cookie, CSRF tokens, and safe redirects.

* ``papersift_session``: a random session id (the store keeps its hash). HttpOnly,
  SameSite=Lax, Secure when the request came over https (the ``cookie_secure`` setting,
  ``PAPERSIFT_COOKIE_SECURE`` = ``auto`` (default) | ``true`` | ``false``; behind a
  TLS-terminating proxy run uvicorn with ``--proxy-headers`` or set ``true``).
* CSRF: a logged-in user's forms carry their session's token; anonymous forms (log in, sign
  up) carry a random token that must equal the ``papersift_csrf`` cookie (double submit). Every
  POST is checked, in :func:`read_form`, before anything else happens. A second, independent
  check there: a browser names the page a form came from (``Origin``, else ``Referer``), and when
  it does, that must be this site (:func:`check_origin`), so a leaked token alone is not enough.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from papersift.errors import BadInput, Forbidden, TooLarge, Unauthorized
from papersift.model import User
from papersift.service import SESSION_LIFETIME, Papersift

SESSION_COOKIE = "papersift_session"
CSRF_COOKIE = "papersift_csrf"
UPLOAD_BYTES = 5 * 1024 * 1024 + 64 * 1024  # a library file (ingest/library.py's 5 MB) and the form around it
MAX_FORM_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class Viewer:
    user: User | None
    csrf_token: str
    session_id: str | None = None
    new_csrf_cookie: bool = False
    new_session: bool = False
    end_session: bool = False

    def apply(self, response: Response, request: Request) -> None:
        """Set or clear the cookies this request decided on."""
        secure = cookie_secure(request)
        if self.new_csrf_cookie:
            response.set_cookie(CSRF_COOKIE, self.csrf_token, httponly=True, samesite="lax", secure=secure, path="/")
        if self.new_session and self.session_id:
            response.set_cookie(SESSION_COOKIE, self.session_id, max_age=int(SESSION_LIFETIME.total_seconds()),
                                httponly=True, samesite="lax", secure=secure, path="/")
        if self.end_session:
            response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


def service(request: Request) -> Papersift:
    """The front door this site was mounted with."""
    return request.app.state.service


def site_base(request: Request) -> str:
    """Absolute links: the configured base_url, else the address this request came to."""
    return (service(request).settings.base_url or str(request.base_url)).rstrip("/")


def cookie_secure(request: Request) -> bool:
    mode = service(request).settings.cookie_secure  # auto, true or false (papersift.config checked it)
    if mode != "auto":
        return mode == "true"
    return request.url.scheme == "https"


def viewer(request: Request) -> Viewer:
    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    session_id = request.cookies.get(SESSION_COOKIE)
    found = service(request).accounts.session(session_id) if session_id else None
    if found is not None:
        current = Viewer(found[0], found[1], session_id)
    else:
        token = request.cookies.get(CSRF_COOKIE) or ""
        fresh = not (20 <= len(token) <= 100)
        current = Viewer(None, secrets.token_urlsafe(32) if fresh else token, new_csrf_cookie=fresh,
                         end_session=bool(session_id))  # a dead session cookie is removed
    request.state.viewer = current
    return current


def log_in_viewer(request: Request, user: User, session_id: str, csrf: str) -> None:
    """This response starts a session (a fresh id: a session id is never carried over a log-in)."""
    request.state.viewer = Viewer(user, csrf, session_id, new_session=True)


def log_out_viewer(request: Request) -> None:
    service(request).accounts.log_out(request.cookies.get(SESSION_COOKIE))
    request.state.viewer = Viewer(None, secrets.token_urlsafe(32), new_csrf_cookie=True, end_session=True)


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES, max_files: int = 0,
                    max_fields: int = 50) -> FormData:
    """The POSTed form, after the CSRF check (403 when the token is missing or wrong)."""
    length = request.headers.get("content-length")
    # the server's app-wide cap (server/middleware.py) answers first; this keeps the form's own
    # limit if the page is mounted elsewhere. ASCII digits only: "²".isdigit() is True, int() fails.
    if length is not None and (not (length.isascii() and length.isdigit()) or int(length) > max_bytes):
        raise TooLarge(f"the form is too large (at most {max_bytes // 1024} KB)")
    check_origin(request)
    try:
        form = await request.form(max_files=max_files, max_fields=max_fields, max_part_size=max_bytes)
    except HTTPException:  # the app's body cap (413) for a body without Content-Length: keep it
        raise
    except Exception:  # python-multipart's errors for broken bodies
        raise BadInput("the form data could not be read") from None
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    expected = viewer(request).csrf_token
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("the form's security token is missing or does not match (CSRF check): "
                        "reload the page and try again")
    return form


def _origin(url: str | None) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, the default port filled in; None for anything else (``null``)."""
    try:
        parts = urlsplit(url or "")
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:  # a port that is not a number, a broken IPv6 address
        return None
    return (parts.scheme.lower(), parts.hostname, port) if parts.hostname and port else None


def _site_origins(request: Request) -> set:
    """This site as the app sees it: the scheme (X-Forwarded-Proto counts from --trusted-proxies only)
    and the Host header, and the configured ``base_url`` (a proxy that rewrites Host)."""
    return {_origin(str(request.base_url)), _origin(service(request).settings.base_url or None)} - {None}


def check_origin(request: Request) -> None:
    """Forbidden for a form posted from another site. Browsers send ``Origin`` on every POST (``null``
    from a sandboxed or privacy-hiding page: also refused); a request without it is judged by
    ``Referer``, and one with neither (an old browser, a script) by the CSRF token alone."""
    origin = (request.headers.get("origin") or "").strip()
    header, sent = ("Origin", origin) if origin else ("Referer", (request.headers.get("referer") or "").strip())
    if not sent or _origin(sent) in _site_origins(request):
        return
    raise Forbidden(f"this form was sent from another site ({header}: {sent[:100]}), not from "
                    f"{str(request.base_url).rstrip('/')}: reload this site's page and send it from there "
                    "(behind a reverse proxy, check --trusted-proxies and base_url)")


async def read_upload_form(request: Request) -> FormData:
    """A form with one file (a library import): the larger cap the server allows on its path
    (``UPLOAD_BYTES``; server/app.py), CSRF-checked like every form."""
    return await read_form(request, UPLOAD_BYTES, max_files=1)


def field(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text")
    if len(value) > limit:
        raise BadInput(f"{name} is too long (at most {limit} characters)")
    return value


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: never ``//host``, ``/\\host`` or ``http://...`` (no open redirect).

    The path is also checked percent-decoded (``/%2F%2Fhost``, ``/%5Chost``, even twice encoded):
    a browser keeps those on this site today, but one more decode anywhere on the way (a proxy,
    a future template or script) would turn them into ``//host``. No real page path needs them."""
    if not value or len(value) > 2000 or not _local_path(value):
        return default
    path = value.split("?", 1)[0].split("#", 1)[0]
    for _ in range(3):
        decoded = unquote(path)
        if decoded == path:
            return value
        if not _local_path(decoded):
            return default
        path = decoded
    return default  # still encoded after three decodes: nothing a page of ours links to


def _local_path(value: str) -> bool:
    return (value.startswith("/") and not value.startswith("//") and "\\" not in value
            and not any(ord(ch) < 32 for ch in value))


def redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    viewer(request).apply(response, request)
    return response


def login_redirect(request: Request, next_url: str | None = None) -> RedirectResponse:
    from urllib.parse import quote

    target = safe_next(next_url, "/") if next_url else safe_next(request.url.path)
    return redirect(request, "/login?next=" + quote(target, safe="/"))


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def require_user(request: Request) -> User:
    """The logged-in user (401 when nobody is)."""
    current = viewer(request)
    if current.user is None:
        raise Unauthorized("log in first")
    return current.user
