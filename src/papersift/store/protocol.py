"""The one seam between the rest of papersift and where papers live, split by concern.

`PaperStore` is what ingest, the indexes, search and the feed need; `CommunityStore` is
accounts and what users do to papers; `DigestStore` is subscriptions and the outbox. `Store`
is all three: what a backend implements. The queries are written once per concern (papers.py,
community.py, signals.py, digests.py, over the dialect in sql.py); SQLite (sqlite.py) is the
default backend and PostgreSQL (postgres.py) the other, selected by URL in
:func:`papersift.store.open_store`. Code above the store depends on these protocols only, so
every method it calls is declared here (``tests/unit/test_lower_layers.py`` checks SQLite has them all).
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from papersift.model import (
    ApiToken,
    AuthorClaim,
    Collection,
    CollectionItem,
    Comment,
    FeedEntry,
    OutboxMessage,
    Paper,
    Subscriber,
    UpsertResult,
    User,
    Webhook,
)

# The recommender's own signals; upvotes and saves are positive signals too, stored where they are.
SIGNAL_KINDS = ("more", "not_for_me")


class PaperStore(Protocol):
    """Papers, their feed rows, harvest cursors, the change counter and cached embeddings.

    Every write to a paper takes the next change number (``seq``); derived indexes catch up
    by reading changes after their watermark, so ``max_seq`` only ever grows."""

    url: str  # where this store lives, as open_store accepts it

    def schema_version(self) -> int:
        """The schema this store's data is at (migrations have run up to it)."""
    def close(self) -> None: ...

    # papers
    def upsert_papers(
        self, records: Iterable[Paper], cursor: tuple[str, dict | None] | None = None
    ) -> UpsertResult:
        """Merge records in one transaction; optionally save a harvest cursor in the same one."""
    def get_paper(self, paper_id: str) -> Paper | None: ...
    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]: ...
    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these papers the store has (reads no paper: for thousands of ids at once)."""
    def count_papers(self) -> int: ...

    # the change counter
    def iter_changes(self, after_seq: int, batch: int = 1000) -> Iterator[tuple[int, Paper]]:
        """Papers written after change number ``after_seq``, oldest change first."""
    def max_seq(self) -> int: ...
    def count_changes(self, after_seq: int) -> int:
        """How many papers ``iter_changes(after_seq)`` yields (a progress bar's total)."""

    # feed
    def feed_entries(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]: ...
    def feed_rows(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        """Like feed_entries, but each Paper carries only id, upvotes and published: enough to
        rank a period without decoding every paper (callers load the page's papers after)."""
    def paper_feed_entries(self, paper_id: str) -> list[FeedEntry]:
        """The paper's feed rows, oldest day first."""
    def submitter_feed_rows(self, login: str, limit: int) -> list[tuple[Paper, FeedEntry]]:
        """The feed rows ``login`` submitted (at most ``limit``), newest day first; light papers as in
        feed_rows."""
    def nearest_feed_days(self, day: str) -> tuple[str | None, str | None]:
        """The closest feed days before and after ``day`` that have papers."""
    def latest_feed_day(self, harvested: bool = False) -> str | None:
        """The latest feed day; ``harvested``: of a harvested source's rows, not a local submission's."""
    def latest_listing_day(self) -> str | None:
        """The latest day a harvested source listed papers on (arXiv's listings, Hugging Face's feed);
        a local submission's day does not count."""

    # arXiv's listings, one row per (category, day, paper), kind new | cross | replace
    def listings(self, day_from: str, day_to: str, categories: Sequence[str] = ()) -> list[tuple[str, str, str, str]]:
        """(paper id, day, kind, category) in [day_from, day_to], only ``categories`` when given."""
    def nearest_listing_days(self, day: str, categories: Sequence[str] = ()) -> tuple[str | None, str | None]:
        """The closest listing days before and after ``day`` (in ``categories`` when given)."""
    def listing_categories(self, day_from: str, day_to: str) -> list[tuple[str, int]]:
        """(category, listed papers) in [day_from, day_to], most first."""

    # listings (newest first; (papers on this page, total))
    def papers_by_organization(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]: ...
    def papers_by_author(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]: ...
    def papers_published_between(self, day_from: str, day_to: str) -> list[Paper]:
        """Papers whose publication date is in [day_from, day_to] (YYYY-MM-DD, inclusive)."""

    # harvest/scheduler cursors and index watermarks
    def get_cursor(self, name: str) -> dict | None: ...
    def set_cursor(self, name: str, value: dict | None) -> None: ...
    def get_watermark(self, name: str) -> int: ...
    def set_watermark(self, name: str, seq: int) -> None: ...

    # vectors: the embeddings cache (expensive to compute, so kept with the papers)
    def get_embeddings(self, model: str, keys: dict[str, str]) -> dict[str, np.ndarray]:
        """Vectors for paper ids whose stored text hash equals ``keys[id]``."""
    def put_embeddings(self, model: str, rows: list[tuple[str, str, np.ndarray]]) -> None: ...
    def iter_embeddings(self, model: str) -> Iterator[tuple[str, np.ndarray]]: ...


class CommunityStore(Protocol):
    """Accounts (users, sessions, API tokens keep only hashes of their secrets) and what users
    do to papers: votes, saves, and moderators hiding papers."""

    # users
    def create_user(self, email: str, name: str, password_hash: str, is_admin: bool = False,
                    username: str | None = None) -> User:
        """Raise Conflict when the email or the username (both case-insensitive) is taken."""
    def get_user(self, user_id: int) -> User | None: ...
    def get_user_by_email(self, email: str) -> User | None: ...
    def get_user_by_username(self, username: str) -> User | None:
        """Case-insensitive, hidden users included (callers decide what a viewer sees)."""
    def users_by_username(self, usernames: Iterable[str]) -> dict[str, User]:
        """The users of these handles (case-insensitive), keyed by the handle as asked."""
    def users_without_username(self) -> list[User]:
        """Users made before handles existed (the service gives each one)."""
    def update_user(self, user_id: int, *, is_admin: bool | None = None, hidden: bool | None = None,
                    password_hash: str | None = None, username: str | None = None, name: str | None = None,
                    notify_email: bool | None = None, show_upvotes: bool | None = None,
                    email_verified_at: str | None = None) -> None:
        """Conflict when ``username`` is another user's (case-insensitive)."""
    def list_users(self, hidden: bool | None = None, limit: int = 100) -> list[User]: ...

    # sessions and API tokens
    def create_session(self, session_hash: str, user_id: int, csrf_token: str, expires_at: str) -> None: ...
    def get_session(self, session_hash: str, now: str) -> tuple[User, str] | None:
        """(user, CSRF token) for a live session of a user who is not hidden."""
    def delete_session(self, session_hash: str) -> None: ...
    def delete_user_sessions(self, user_id: int) -> None: ...
    def create_api_token(self, token_hash: str, user_id: int, name: str, scope: str = "write") -> ApiToken:
        """``scope``: "read" (reads only) or "write" (also the reader's writes); the store keeps it as given."""
    def user_for_api_token(self, token_hash: str) -> User | None:
        """The token's user (not hidden), with ``token_scope`` set to the token's scope."""
    def list_api_tokens(self, user_id: int) -> list[ApiToken]: ...
    def delete_api_token(self, user_id: int, token_id: int) -> bool: ...

    # login throttling
    def record_login_failure(self, key: str, at: str) -> None: ...
    def count_login_failures(self, key: str, since: str) -> int: ...
    def clear_login_failures(self, key: str) -> None: ...

    # votes, saves, hidden papers
    def set_vote(self, user_id: int, paper_id: str, on: bool) -> bool:
        """Add or remove one user's vote atomically; return whether anything changed."""
    def vote_counts(self, paper_ids: Iterable[str]) -> dict[str, int]:
        """Local votes per paper (votes of hidden users do not count); absent ids have none."""
    def user_votes(self, user_id: int, paper_ids: Iterable[str]) -> set[str]: ...
    def set_saved(self, user_id: int, paper_id: str, on: bool) -> bool: ...
    def user_saves(self, user_id: int, paper_ids: Iterable[str]) -> set[str]: ...
    def saved_papers(self, user_id: int, limit: int, offset: int) -> tuple[list[Paper], int]:
        """The user's library (their private collection marked ``is_library``), most recently saved first."""
    def set_paper_hidden(self, paper_id: str, hidden: bool, by_user: int | None = None) -> bool: ...
    def hidden_paper_ids(self) -> set[str]: ...
    def voted_listings(self, day_from: str, day_to: str) -> list[tuple[str, str]]:
        """(paper id, first listing day in the range) of arXiv's announcements there that have a vote here."""
    def data_stamp(self) -> int | str:
        """A value that changes whenever anyone commits a write (cached pages key on it)."""

    # the recommender's signals: "more" and "not_for_me" (upvotes and saves above count too, unduplicated)
    def add_signal(self, user_id: int, paper_id: str, kind: str) -> bool:
        """Idempotent (one per user, paper, kind); BadInput for another kind; True when it is new."""
    def add_signals(self, user_id: int, paper_ids: Iterable[str], kind: str) -> set[str]:
        """``add_signal`` for many papers in one transaction (all or none); the ids that were new."""
    def remove_signal(self, user_id: int, paper_id: str, kind: str) -> bool: ...
    def user_signals(self, user_id: int) -> list[tuple[str, str, str]]:
        """(kind, paper id, created_at), oldest first, kinds "more", "not_for_me", "upvote", "save"."""
    def delete_user_signals(self, user_id: int, votes_and_saves: bool = False) -> int:
        """One transaction; the number of rows deleted."""
    def followed_categories(self, user_id: int) -> list[str]:
        """The arXiv categories the reader follows, sorted."""
    def set_followed_categories(self, user_id: int, categories: Iterable[str]) -> None:
        """Replace the reader's followed categories (checked by the caller)."""

    # the private recommendations feed: one secret per reader, kept as its hash
    def set_feed_token(self, user_id: int, token_hash: str | None) -> None:
        """Replace the reader's feed token (None: revoke it)."""
    def feed_token_created(self, user_id: int) -> str | None: ...
    def user_for_feed_token(self, token_hash: str) -> User | None:
        """The reader whose feed this is (not a hidden user), or None."""


class DigestStore(Protocol):
    """Subscriptions, the outbox and the papers each subscriber has been sent (store/digests.py).

    The outbox's rules live here, so every backend keeps them: one digest per (subscriber, kind,
    period); a digest's papers are recorded as sent in the same transaction that makes its row
    (so no paper goes to a subscriber twice); a row moves pending -> sending -> sent | pending
    (retry) | failed | cancelled, and only a claim moves it to sending."""

    def get_secret(self, name: str, make: Callable[[], str]) -> str:
        """The named secret, made with ``make()`` and kept on first use (race-free)."""

    # subscribers
    def create_subscriber(self, email: str, cadence: str, trending: bool, topics: list[tuple[str, str]],
                          user_id: int | None, confirm_nonce: str) -> Subscriber:
        """A pending subscriber; Conflict when the email (case-insensitive) already has one."""
    def get_subscriber(self, subscriber_id: int) -> Subscriber | None: ...
    def get_subscriber_by_email(self, email: str) -> Subscriber | None: ...
    def subscriber_for_user(self, user_id: int) -> Subscriber | None: ...
    def update_subscriber(self, subscriber_id: int, *, cadence: str | None = None, trending: bool | None = None,
                          topics: list[tuple[str, str]] | None = None, status: str | None = None,
                          confirm_nonce: str | None = None, user_id: int | None = None,
                          bump_epoch: bool = False) -> Subscriber: ...
    def confirm_subscriber(self, subscriber_id: int, nonce: str) -> bool:
        """pending -> active when ``nonce`` is the outstanding one; clears it (one use only)."""
    def unsubscribe(self, subscriber_id: int, epoch: int) -> bool:
        """-> unsubscribed when ``epoch`` is current; bumps it (every old link dies) and cancels
        the subscriber's unsent messages. False when the link is stale or already used."""
    def active_subscribers(self, cadences: Iterable[str]) -> list[Subscriber]: ...
    def count_subscribers(self) -> dict[str, int]: ...

    # what each subscriber has been sent
    def sent_paper_ids(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]: ...

    # the outbox
    def outbox_subscribers(self, kind: str, period_key: str) -> set[int]:
        """Subscribers that already have a row for (kind, period)."""
    def enqueue(self, subscriber_id: int, kind: str, period_key: str, recipient: str, message_id: str,
                payload: dict, paper_ids: Iterable[str] = (), now: str | None = None) -> int | None:
        """Make the row and record ``paper_ids`` as sent, in one transaction; None when the
        (subscriber, kind, period) row exists already (nothing changes)."""
    def cancel_comment_mail(self, comment_ids: Iterable[int] = (), writer_id: int | None = None) -> int:
        """Cancel unsent notifications about these comments (or all of ``writer_id``'s); how many."""
    def enqueue_for_user(self, user_id: int, kind: str, period_key: str, recipient: str, message_id: str,
                         payload: dict, now: str | None = None) -> int | None:
        """Mail to a reader, once per (user, kind, ``period_key``); None when made already. Delivered while
        the reader is not hidden; kind "notify" (a notification) also only while they keep ``notify_email``
        on, kind "account" (a link they asked for) regardless (checked at the claim)."""
    def last_enqueued_at(self, subscriber_id: int, kinds: Iterable[str]) -> str | None: ...
    def claim(self, owner: str, now: str, ids: Iterable[int] | None = None,
              kinds: Iterable[str] | None = None) -> OutboxMessage | None:
        """Atomically take the oldest due pending row (of ``ids``, of ``kinds`` if given) -> sending; rows of
        subscribers who can no longer receive them become cancelled on the way."""

    # webhooks: a reader's URLs their digest also goes to
    def create_webhook(self, user_id: int, url: str, fmt: str, secret: str) -> Webhook: ...
    def get_webhook(self, webhook_id: int) -> Webhook | None: ...
    def user_webhooks(self, user_id: int) -> list[Webhook]: ...
    def delete_webhook(self, webhook_id: int) -> bool:
        """The hook, and its unsent deliveries cancelled, in one transaction."""
    def record_webhook_result(self, webhook_id: int, error: str | None, disable_after: int) -> bool:
        """Success resets the failures; a failure counts one and at ``disable_after`` switches the hook off
        (True when it did, once)."""
    def set_webhook_active(self, webhook_id: int, active: bool) -> None: ...
    def abandoned_claims(self) -> list[OutboxMessage]:
        """Rows in 'sending' (the sender decides which of them are abandoned)."""
    def release(self, message_id: int, owner: str, error: str, next_attempt_at: str) -> None:
        """sending -> pending (a temporary failure, or an abandoned claim), to retry at ``next_attempt_at``."""
    def mark_sent(self, message_id: int, owner: str, reply: str, now: str) -> None: ...
    def mark_failed(self, message_id: int, owner: str, error: str, bounce: bool, bounce_threshold: int,
                    now: str) -> bool:
        """-> failed with the reason; ``bounce``: count a permanent failure of the address and
        disable it at ``bounce_threshold`` (returns True when it was disabled now)."""
    def get_message(self, message_id: int) -> OutboxMessage | None: ...
    def outbox_counts(self) -> dict[str, int]: ...
    def waiting_messages(self, limit: int = 20) -> list[OutboxMessage]:
        """Pending and sending rows for ``digest status``: those with a last error first, then by due time."""


class DiscussionStore(Protocol):
    """Comments on papers (store/discussion.py): rows are never removed (deleting and hiding mark them)."""

    def add_comment(self, paper_id: str, user_id: int, body: str, parent_id: int | None = None) -> Comment: ...
    def get_comment(self, comment_id: int) -> Comment | None: ...
    def paper_comments(self, paper_id: str) -> list[Comment]:
        """Every comment of the paper, oldest first, deleted and hidden ones included."""
    def user_comments(self, user_id: int, limit: int) -> list[Comment]:
        """The user's visible comments (not deleted or hidden), newest first."""
    def count_user_comments_since(self, user_id: int, since: str) -> int: ...
    def edit_comment(self, comment_id: int, body: str) -> None:
        """Replace the body, keeping the one it replaces in the revisions (one transaction)."""
    def comment_revisions(self, comment_id: int) -> list[tuple[str, str]]:
        """(earlier body, when it was replaced), oldest first."""
    def delete_comment(self, comment_id: int) -> bool: ...
    def set_comment_hidden(self, comment_id: int, hidden: bool, by_user: int | None = None) -> bool:
        """Hiding also resolves the comment's open reports."""
    def set_reaction(self, comment_id: int, user_id: int, reaction: str, on: bool) -> bool: ...
    def reaction_counts(self, comment_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        """comment -> reaction -> count (reactions of hidden users do not count)."""
    def user_reactions(self, user_id: int, comment_ids: Iterable[int]) -> set[tuple[int, str]]: ...
    def report_comment(self, comment_id: int, user_id: int, reason: str) -> bool:
        """One report per user and comment; False when they reported it already."""
    def open_reports(self, limit: int = 100) -> list[tuple[Comment, int, list[str]]]:
        """(comment, open reports, reasons), most reported first."""
    def resolve_reports(self, comment_id: int) -> int: ...
    def comment_counts(self, paper_ids: Iterable[str]) -> dict[str, int]:
        """Visible comments per paper (not deleted, not hidden, writer not hidden)."""


class CollectionStore(Protocol):
    """Collections of papers with notes, and their upvotes (store/collections.py). Item positions run
    1..n without gaps."""

    def create_collection(self, owner_id: int, title: str, description: str = "", private: bool = False,
                          theme: str | None = None) -> Collection: ...
    def get_collection(self, collection_id: int) -> Collection | None: ...
    def user_collections(self, owner_id: int) -> list[Collection]:
        """All of the owner's collections, the library first."""
    def public_collections(self, paper_id: str | None = None, sort: str = "upvotes", limit: int = 50,
                           offset: int = 0, owner_id: int | None = None) -> list[Collection]:
        """Public ones (not hidden, owner not hidden, never a library); sort upvotes | lastModified | newest."""
    def user_collections_holding(self, owner_id: int, paper_id: str) -> list[Collection]:
        """The owner's collections (the library included) that hold the paper."""
    def count_user_collections(self, owner_id: int) -> int: ...
    def update_collection(self, collection_id: int, *, title: str | None = None, description: str | None = None,
                          private: bool | None = None, theme: str | None = None) -> Collection: ...
    def delete_collection(self, collection_id: int) -> bool:
        """The collection, its items and upvotes, in one transaction."""
    def set_collection_hidden(self, collection_id: int, hidden: bool, by_user: int | None = None) -> bool: ...
    def collection_items(self, collection_id: int) -> list[CollectionItem]: ...
    def add_collection_item(self, collection_id: int, paper_id: str, note: str = "") -> tuple[CollectionItem, bool]:
        """Appended at the end; (the item, False when the paper was there already: nothing changes)."""
    def update_collection_item(self, collection_id: int, item_id: int, *, note: str | None = None,
                               position: int | None = None) -> CollectionItem:
        """NotFound for an item of another collection; a move shifts the items between."""
    def remove_collection_item(self, collection_id: int, item_id: int) -> bool: ...
    def set_collection_upvote(self, collection_id: int, user_id: int, on: bool) -> bool: ...
    def user_upvoted_collection(self, collection_id: int, user_id: int) -> bool: ...


class AuthorshipStore(Protocol):
    """Claims of author positions on papers (store/authorship.py)."""

    def add_claim(self, user_id: int, paper_id: str, position: int, status: str = "pending",
                  how: str | None = None) -> AuthorClaim:
        """Conflict when the user claimed this paper already or another user holds the position verified."""
    def get_claim(self, claim_id: int) -> AuthorClaim | None: ...
    def paper_claims(self, paper_id: str) -> list[AuthorClaim]: ...
    def verified_claims(self, paper_ids: Iterable[str]) -> list[AuthorClaim]:
        """The verified claims of these papers that mark something: not hidden, claimant not hidden."""
    def user_claims(self, user_id: int) -> list[AuthorClaim]: ...
    def pending_claims(self, limit: int = 100) -> list[AuthorClaim]: ...
    def decide_claim(self, claim_id: int, status: str, by_user: int | None, how: str | None = None) -> bool: ...
    def set_claim_hidden(self, claim_id: int, hidden: bool) -> bool: ...
    def delete_claim(self, claim_id: int) -> bool: ...


@runtime_checkable
class Store(PaperStore, CommunityStore, DigestStore, DiscussionStore, CollectionStore, AuthorshipStore, Protocol):
    """Everything a backend implements; what ``open_store`` returns."""
