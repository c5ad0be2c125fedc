"""Claimed authorship and profiles: a user claims an author position on a paper, verified at once where
the site can prove it and otherwise queued for an admin; each user's public page and their handle.

A claim is verified automatically only from an address the user proved (a link mailed to it,
``email_verified_at``) and a claimed name that matches their display name: either that address is
written in the paper's abstract or comment, or its domain is one the admin listed
(``community.claims_verified_domains``). Everything else waits in the admin queue."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from papersift.errors import BadInput, Conflict, Forbidden, NotFound, Unauthorized
from papersift.model import AuthorClaim, User
from papersift.service.accounts import USERNAME_MAX, clean_name
from papersift.service.catalog import Card, Catalog
from papersift.service.notify import Notifier
from papersift.service.tokens import Signer, signing_key

HANDLE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
RESERVED = {"admin", "administrator", "api", "settings", "login", "logout", "signup", "papers", "users", "user",
            "collections", "static", "feeds", "search", "me", "new", "root", "system", "support", "papersift"}
VERIFY_LIFETIME = 3 * 24 * 3600


def name_key(name: str) -> list[str]:
    """A name as comparable words: accents, case and punctuation gone."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return [w for w in re.split(r"[^a-z]+", ascii_name) if w]


def names_match(claimed: str, display: str) -> bool:
    """Same last name, and each earlier word equal or an initial of the other's ("A. Lovelace" is "Ada Lovelace")."""
    a, b = name_key(claimed), name_key(display)
    if not a or not b or a[-1] != b[-1] or len(a) != len(b):
        return False
    return all(x == y or ((len(x) == 1 or len(y) == 1) and x[0] == y[0]) for x, y in zip(a[:-1], b[:-1], strict=True))


def check_handle(raw: str) -> str:
    handle = (raw or "").strip()
    if not 2 <= len(handle) <= USERNAME_MAX or not HANDLE.match(handle):
        raise BadInput(f"a username has 2 to {USERNAME_MAX} letters, digits or hyphens, and starts and ends with a "
                       "letter or digit")
    if handle.lower() in RESERVED:
        raise BadInput(f"{handle} is reserved: pick another username")
    return handle


@dataclass
class Profile:
    user: User
    claimed: list[Card]
    upvoted: list[Card]


class Authorship:
    def __init__(self, catalog: Catalog, settings, clock):
        self.catalog, self.store, self.settings, self.clock = catalog, catalog.store, settings, clock
        self.notifier = Notifier(self.store, settings)

    # ---- reads
    def paper_authors(self, viewer: User | None, paper_id: str) -> dict[int, User]:
        """Author position -> the verified user who claimed it (not hidden users, not claims they hid)."""
        return self._authors_of([paper_id]).get(paper_id, {})

    def _authors_of(self, paper_ids: list[str]) -> dict[str, dict[int, User]]:
        claims = self.store.verified_claims(paper_ids)
        users = {uid: self.store.get_user(uid) for uid in {c.user_id for c in claims}}
        found: dict[str, dict[int, User]] = {}
        for claim in claims:
            user = users.get(claim.user_id)
            if user is not None:
                found.setdefault(claim.paper_id, {})[claim.position] = user
        return found

    def claims_of_paper(self, viewer: User | None, paper_id: str) -> list[AuthorClaim]:
        """The viewer's own claims of the paper (any state) and everyone's verified, shown ones."""
        self.catalog.visible_paper(paper_id, viewer)
        return [c for c in self.store.paper_claims(paper_id)
                if (viewer is not None and c.user_id == viewer.id)
                or (c.status == "verified" and not c.hidden and not c.user_hidden)]

    def my_claims(self, viewer: User | None, paper_id: str) -> list[AuthorClaim]:
        return [] if viewer is None else [c for c in self.store.user_claims(viewer.id) if c.paper_id == paper_id]

    def users_named(self, viewer: User | None, author: str) -> list[User]:
        """Verified claimants who claimed the author name ``author`` on some paper (for author pages)."""
        key = name_key(author)
        found: dict[int, User] = {}
        papers, _ = self.store.papers_by_author(author, 50, 0)
        claimed = self._authors_of([p.id for p in papers])  # one query for all of them
        for paper in papers:
            for position, user in claimed.get(paper.id, {}).items():
                if position < len(paper.authors or []) and name_key(paper.authors[position]) == key:
                    found[user.id] = user
        return list(found.values())

    def profile(self, viewer: User | None, handle: str) -> Profile:
        user = self.store.get_user_by_username(handle or "")
        if user is None or (user.hidden and not (viewer and viewer.is_admin)):
            raise NotFound(f"no user {handle[:60]!r}")
        claimed_ids = [c.paper_id for c in self.store.user_claims(user.id) if c.status == "verified" and not c.hidden]
        claimed = self.catalog.cards(self.store.get_papers(claimed_ids).values(), viewer)
        upvoted: list[Card] = []
        if user.show_upvotes or (viewer and viewer.id == user.id):
            voted = [pid for kind, pid, _ in reversed(self.store.user_signals(user.id)) if kind == "upvote"][:30]
            upvoted = self.catalog.cards(self.store.get_papers(voted).values(), viewer)
        return Profile(user, claimed, upvoted)

    # ---- claims
    def claim(self, viewer: User | None, paper_id: str, position: int) -> AuthorClaim:
        user = _signed_in(viewer)
        paper = self.catalog.visible_paper(paper_id, user)
        authors = paper.authors or []
        if not 0 <= position < len(authors):
            raise BadInput(f"the paper has {len(authors)} authors: position is 0 to {len(authors) - 1}")
        how = self._proof(user, paper, authors[position])
        return self.store.add_claim(user.id, paper.id, position, "verified" if how else "pending", how)

    def _proof(self, user: User, paper, claimed_name: str) -> str | None:
        if not user.email_verified_at or not names_match(claimed_name, user.name):
            return None
        email = user.email.lower()
        if email in f"{paper.abstract or ''} {paper.comment or ''}".lower():
            return "verified email address in the paper's metadata"
        domain = email.rsplit("@", 1)[-1]
        for listed in (d.strip().lower().lstrip("@") for d in self.settings.community.claims_verified_domains.split(",")):
            if listed and (domain == listed or domain.endswith("." + listed)):
                return f"verified email address at {listed}"
        return None

    def decide(self, admin: User | None, claim_id: int, verify: bool) -> AuthorClaim:
        if admin is None or not admin.is_admin:
            raise Forbidden("only administrators decide claims")
        if not self.store.decide_claim(claim_id, "verified" if verify else "rejected", admin.id,
                                       f"decided by {admin.handle}"):
            raise NotFound(f"no claim {claim_id}")
        return self._claim(claim_id)

    def pending(self, admin: User | None) -> list[AuthorClaim]:
        if admin is None or not admin.is_admin:
            raise Forbidden("only administrators see the claims queue")
        return self.store.pending_claims()

    def hide(self, viewer: User | None, claim_id: int, hidden: bool = True) -> AuthorClaim:
        """Hide (or show again) one's own claim: a hidden claim marks nothing anywhere."""
        claim = self._mine(viewer, claim_id)
        self.store.set_claim_hidden(claim.id, hidden)
        return self._claim(claim.id)

    def withdraw(self, viewer: User | None, claim_id: int) -> AuthorClaim:
        claim = self._mine(viewer, claim_id)
        self.store.delete_claim(claim.id)
        return claim

    def _mine(self, viewer: User | None, claim_id: int) -> AuthorClaim:
        user = _signed_in(viewer)
        claim = self.store.get_claim(claim_id)
        if claim is None or claim.user_id != user.id:
            raise NotFound(f"no claim {claim_id} of yours")
        return claim

    def _claim(self, claim_id: int) -> AuthorClaim:
        found = self.store.get_claim(claim_id)
        if found is None:
            raise NotFound(f"no claim {claim_id}")
        return found

    # ---- the address and the handle
    def _signer(self) -> Signer:
        return Signer(signing_key(self.settings.secret_key, self.store))

    def request_email_verification(self, viewer: User | None) -> int | None:
        user = _signed_in(viewer)
        token = self._signer().sign("verify-email", user.id, user.email.lower(), VERIFY_LIFETIME)
        stamp = self.clock().strftime("%Y%m%d%H%M")  # at most one new mail a minute
        return self.notifier.notify(user, f"verify-email:{stamp}", "Confirm your email address",
                                    ["Follow the link to confirm that this address is yours. Claims of authorship "
                                     "can then be verified from it.", "If you did not ask for this, ignore it."],
                                    f"/settings/verify-email?token={token}", "Confirm my address", mandatory=True)

    def verify_email(self, token: str) -> User:
        claim = self._signer().verify(token, "verify-email")
        user = self.store.get_user(claim.subscriber_id)
        if user is None or user.hidden or user.email.lower() != claim.value:
            raise BadInput("this link is for an address this account no longer has")
        self.store.update_user(user.id, email_verified_at=self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"))
        return self.store.get_user(user.id) or user

    def update_profile(self, viewer: User | None, username: str | None = None, name: str | None = None,
                       show_upvotes: bool | None = None, notify_email: bool | None = None) -> User:
        user = _signed_in(viewer)
        handle = None
        if username is not None and username != user.username:
            handle = check_handle(username)
        display = None if name is None else clean_name(name, user.email)
        try:
            self.store.update_user(user.id, username=handle, name=display, show_upvotes=show_upvotes,
                                   notify_email=notify_email)
        except Conflict:
            raise Conflict(f"the username {handle} is taken") from None
        return self.store.get_user(user.id) or user


def _signed_in(viewer: User | None) -> User:
    if viewer is None:
        raise Unauthorized("log in first")
    return viewer
