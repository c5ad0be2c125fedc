"""Accounts: sign up, log in (throttled), sessions, API tokens, and the admin's user actions.

* Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
  profile); a hash made with older parameters is upgraded at the next successful log-in.
* Session ids and API tokens are random (``secrets``, 256 bits); the store keeps only their
  SHA-256, so a leaked database cannot be replayed as a cookie or a token. (A fast hash is
  enough here: unlike passwords these secrets are not guessable.)
* Each session has its own random CSRF token; the website checks it on every POST.
* An API token is read-only (``read``: every read, no vote, save, submission or feedback) or
  read-and-write (``write``, the default, what every token could do before scopes existed). The
  resolved user carries the scope (``User.token_scope``); :meth:`Accounts.user_for_token` with
  ``write=True`` refuses a read-only token, and the interfaces ask for that on every write.
* Log-in throttling: after ``MAX_FAILURES`` wrong passwords for one email from one address
  within ``FAILURE_WINDOW``, further attempts (even correct ones) get 429 until the window passes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from contextlib import suppress
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from papersift.errors import BadInput, Conflict, Forbidden, NotFound, TooManyAttempts, Unauthorized
from papersift.model import ApiToken, User
from papersift.store.protocol import Store

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=30)
PASSWORD_MIN, PASSWORD_MAX = 8, 512
NAME_MAX, EMAIL_MAX = 60, 254
TOKEN_PREFIX = "pst_"
TOKEN_SCOPES = ("read", "write")
READ_ONLY = ("this API token is read-only: it can search and read (your library, recommendations, signals) but "
             "not vote, save, submit or give feedback; create a read-and-write token at /settings or with "
             "`papersift admin create-token EMAIL`")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def clean_email(raw: str | None) -> str:
    email = (raw or "").strip().lower()
    if not email:
        raise BadInput("enter your email address")
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise BadInput(f"{email[:80]!r} is not an email address")
    return email


def clean_name(raw: str | None, email: str) -> str:
    name = " ".join((raw or "").split()) or email.split("@")[0]
    if len(name) > NAME_MAX:
        raise BadInput(f"the display name is too long (at most {NAME_MAX} characters)")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in name):
        raise BadInput("the display name contains control characters")
    return name


USERNAME_MAX = 39  # Hugging Face's and GitHub's limit
_NOT_HANDLE = re.compile(r"[^a-z0-9-]+")


def make_username(name: str, email: str, attempt: int = 0) -> str:
    """A handle from the display name (else the email's local part): ASCII letters, digits and
    hyphens; ``attempt`` > 0 adds a number, for when the plain one is taken."""
    for source in (name, email.split("@")[0], "reader"):
        ascii_text = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode().lower()
        base = _NOT_HANDLE.sub("-", ascii_text).strip("-")[:USERNAME_MAX - 4]
        if base:
            break
    return f"{base}-{attempt + 1}" if attempt else base


def check_password(password: str | None) -> str:
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise BadInput(f"the password must have at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise BadInput(f"the password must have at most {PASSWORD_MAX} characters")
    return password


class Accounts:
    def __init__(self, store: Store, hasher: PasswordHasher | None = None):
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # ---- users
    def create_user(self, email: str, password: str, name: str | None = None, is_admin: bool = False) -> User:
        email = clean_email(email)
        name = clean_name(name, email)
        password_hash = self.hasher.hash(check_password(password))
        for attempt in range(100):
            with suppress(Conflict):
                return self.store.create_user(email, name, password_hash, is_admin,
                                              username=make_username(name, email, attempt))
            if self.store.get_user_by_email(email) is not None:
                break
        return self.store.create_user(email, name, password_hash, is_admin)  # the email's Conflict, as before

    def user_by_email(self, email: str) -> User:
        user = self.store.get_user_by_email(clean_email(email))
        if user is None:
            raise NotFound(f"no account with the email {email.strip()[:80]}")
        return user

    def set_admin(self, email: str, is_admin: bool = True) -> User:
        user = self.user_by_email(email)
        self.store.update_user(user.id, is_admin=is_admin)
        return self.user_by_email(email)  # as stored now

    def set_hidden(self, actor: User | None, email: str, hidden: bool) -> User:
        """Hide (disable) or restore a user; ``actor`` None means the command line."""
        if actor is not None and not actor.is_admin:
            raise Forbidden("only administrators can hide users")
        user = self.user_by_email(email)
        if actor is not None and user.id == actor.id and hidden:
            raise BadInput("you cannot hide your own account")
        self.store.update_user(user.id, hidden=hidden)
        if hidden:  # log them out everywhere now, not when their session expires; their comments mail no one
            self.store.delete_user_sessions(user.id)
            self.store.cancel_comment_mail(writer_id=user.id)
        return self.user_by_email(email)  # as stored now

    def assign_missing_usernames(self) -> None:
        """Give each user made before handles existed one (from their display name or email)."""
        for found in self.store.users_without_username():
            for attempt in range(100):
                with suppress(Conflict):
                    self.store.update_user(found.id, username=make_username(found.name, found.email, attempt))
                    break

    def hidden_users(self) -> list[User]:
        return self.store.list_users(hidden=True)

    # ---- log in / sessions
    def _verify(self, user: User | None, password: str) -> bool:
        if user is None:
            # spend the same time as a real check, so timing does not reveal which emails exist
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
            self._safe_verify(self._dummy_hash, password)
            return False
        return self._safe_verify(user.password_hash, password)

    def _safe_verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def log_in(self, email: str, password: str, client: str) -> tuple[User, str, str]:
        """Check the password; return (user, session id for the cookie, CSRF token)."""
        email = clean_email(email)
        key = secret_hash(f"{email}|{client}")
        now = _now()
        if self.store.count_login_failures(key, _iso(now - FAILURE_WINDOW)) >= MAX_FAILURES:
            minutes = int(FAILURE_WINDOW.total_seconds() // 60)
            raise TooManyAttempts(f"too many failed log-ins for {email} from your address: "
                                  f"wait {minutes} minutes and try again")
        user = self.store.get_user_by_email(email)
        if not self._verify(user, password or "") or user is None:  # verified first: the same time for an unknown email
            self.store.record_login_failure(key, _iso(now))
            raise Unauthorized("wrong email or password")
        if user.hidden:
            raise Forbidden("this account has been disabled by an administrator")
        self.store.clear_login_failures(key)
        if self.hasher.check_needs_rehash(user.password_hash):
            self.store.update_user(user.id, password_hash=self.hasher.hash(password))
        session_id, csrf = self.start_session(user)
        return user, session_id, csrf

    def start_session(self, user: User) -> tuple[str, str]:
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.store.create_session(secret_hash(session_id), user.id, csrf, _iso(_now() + SESSION_LIFETIME))
        return session_id, csrf

    def session(self, session_id: str | None) -> tuple[User, str] | None:
        """(user, CSRF token) for a cookie's session id, or None (expired, unknown, hidden user)."""
        if not session_id or len(session_id) > 200:
            return None
        return self.store.get_session(secret_hash(session_id), _iso(_now()))

    def log_out(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 200:
            self.store.delete_session(secret_hash(session_id))

    # ---- API tokens
    def create_token(self, user: User, name: str | None = None, scope: str = "write") -> tuple[ApiToken, str]:
        """A new token, ``scope`` "read" or "write"; the secret is returned once and never stored."""
        if scope not in TOKEN_SCOPES:
            raise BadInput(f"a token's scope is read or write, not {str(scope)[:40]!r}")
        label = " ".join((name or "").split())[:NAME_MAX] or "API token"
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return self.store.create_api_token(secret_hash(secret), user.id, label, scope), secret

    def user_for_token(self, secret: str | None, write: bool = False) -> User:
        """The token's user (``token_scope`` set); ``write``: the caller is about to change something,
        which a read-only token may not (Forbidden)."""
        if not secret:
            raise Unauthorized("this action needs an API token: send 'Authorization: Bearer <token>' "
                               "(create one at /settings or with `papersift admin create-token EMAIL`)")
        user = self.store.user_for_api_token(secret_hash(secret.strip())) if len(secret) <= 200 else None
        if user is None:
            raise Unauthorized("unknown or revoked API token")
        if write and user.token_scope != "write":
            raise Forbidden(READ_ONLY)
        return user

    def tokens(self, user: User) -> list[ApiToken]:
        return self.store.list_api_tokens(user.id)

    def revoke_token(self, user: User, token_id: int) -> None:
        if not self.store.delete_api_token(user.id, token_id):
            raise NotFound(f"no API token {token_id} of yours")
