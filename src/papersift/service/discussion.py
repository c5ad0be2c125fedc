"""The discussion of each paper: comments in Markdown, replies one level deep, reactions, reports and
moderation, and the mail it causes (replies, mentions, a verified author's paper discussed).

What a viewer sees is decided here: a hidden paper has no discussion (404), a comment an admin hid
and every comment of a hidden user are left out for everyone but admins, a deleted comment keeps its
place (as "deleted") only while it has replies. A reply to a reply joins its parent's thread: one
level deep, as on Hugging Face."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from papersift.errors import BadInput, Forbidden, NotFound, TooManyAttempts, Unauthorized
from papersift.model import Comment, User
from papersift.service.catalog import Catalog
from papersift.service.notify import Notifier

REACTIONS = ("👍", "🎉", "❤️", "🤔", "👀", "🚀")
REASON_MAX = 500
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?)")
MAX_MENTIONS = 10  # mail to at most this many mentioned readers per comment


@dataclass
class CommentView:
    comment: Comment
    replies: list["CommentView"] = field(default_factory=list)
    reactions: dict[str, int] = field(default_factory=dict)
    mine: frozenset[str] = frozenset()  # the viewer's reactions
    mentions: frozenset[str] = frozenset()  # handles in the text that are readers here (linked)
    by_author: bool = False  # its writer is a verified author of the paper
    can_edit: bool = False
    can_delete: bool = False
    revisions: list[tuple[str, str]] = field(default_factory=list)  # earlier texts: admins only

    @property
    def deleted(self) -> bool:
        return self.comment.deleted_at is not None


@dataclass
class Thread:
    paper_id: str
    comments: list[CommentView]
    count: int  # visible comments and replies
    reactions: tuple[str, ...] = REACTIONS


def clean_body(raw: str | None, limit: int) -> str:
    body = (raw or "").replace("\r\n", "\n").strip()
    if not body:
        raise BadInput("write something first: the comment is empty")
    if len(body) > limit:
        raise BadInput(f"the comment is too long ({len(body):,} characters; at most {limit:,})")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in body):
        raise BadInput("the comment contains control characters")
    return body


def mentioned(body: str) -> list[str]:
    return list(dict.fromkeys(m.group(1).lower() for m in MENTION.finditer(body)))[:MAX_MENTIONS * 5]


class Discussion:
    def __init__(self, catalog: Catalog, settings, clock, authors=None):
        self.catalog, self.store, self.settings, self.clock = catalog, catalog.store, settings, clock
        self.limits = settings.community
        self.notifier = Notifier(self.store, settings)
        self.authors = authors  # the Authorship part: who the verified authors of a paper are

    # ---- reads
    def thread(self, viewer: User | None, paper_id: str) -> Thread:
        paper = self.catalog.visible_paper(paper_id, viewer)
        admin = bool(viewer and viewer.is_admin)
        rows = [c for c in self.store.paper_comments(paper.id) if admin or (c.hidden_at is None and not c.author_hidden)]
        ids = [c.id for c in rows]
        counts = self.store.reaction_counts(ids)
        mine = self.store.user_reactions(viewer.id, ids) if viewer else set()
        authors = {u.id for u in self.authors.paper_authors(viewer, paper.id).values()} if self.authors else set()
        handles = {h.lower() for h in self.store.users_by_username(
            {h for c in rows for h in mentioned(c.body)})}
        views: dict[int, CommentView] = {}
        for c in rows:
            views[c.id] = CommentView(
                c, reactions=counts.get(c.id, {}), mine=frozenset(r for cid, r in mine if cid == c.id),
                mentions=frozenset(h for h in mentioned(c.body) if h in handles), by_author=c.user_id in authors,
                can_edit=bool(viewer and viewer.id == c.user_id and c.deleted_at is None and c.hidden_at is None),
                can_delete=bool(viewer and (viewer.id == c.user_id or admin) and c.deleted_at is None),
                revisions=self.store.comment_revisions(c.id) if admin and c.edited_at else [])
        top: list[CommentView] = []
        for c in rows:
            parent = views.get(c.parent_id) if c.parent_id else None
            (parent.replies if parent else top).append(views[c.id])
        shown = [v for v in top if not (v.deleted and not v.replies and not admin)]
        for v in shown:
            v.replies = [r for r in v.replies if admin or not r.deleted]
        count = sum(1 for c in rows if c.deleted_at is None and c.hidden_at is None and not c.author_hidden)
        return Thread(paper.id, shown, count)

    def recent_by_user(self, viewer: User | None, author: User, limit: int = 10) -> list[Comment]:
        """``author``'s latest comments that ``viewer`` may see, newest first (for the profile page)."""
        if author.hidden and not (viewer and viewer.is_admin):
            return []
        comments = self.store.user_comments(author.id, limit * 2)
        excluded = self.catalog._excluded(viewer, self.catalog.hidden_ids())
        return [c for c in comments if c.paper_id not in excluded][:limit]

    def paper_of(self, viewer: User | None, comment_id: int) -> str | None:
        """The paper a comment is on, if the viewer may see it (where a form sends them back to)."""
        comment = self.store.get_comment(comment_id)
        if comment is None or (not (viewer and viewer.is_admin) and (comment.hidden_at or comment.author_hidden)):
            return None
        return comment.paper_id

    def writer_of(self, admin: User | None, comment_id: int) -> tuple[User, str]:
        """(the comment's writer, its paper) for an admin hiding that writer (Accounts.set_hidden does it)."""
        self._admin(admin)
        comment = self.store.get_comment(comment_id)
        writer = self.store.get_user(comment.user_id) if comment else None
        if comment is None or writer is None:
            raise NotFound(f"no comment {comment_id}")
        return writer, comment.paper_id

    def counts(self, paper_ids: list[str]) -> dict[str, int]:
        return self.store.comment_counts(paper_ids)

    # ---- writes
    def post(self, viewer: User | None, paper_id: str, body: str, parent_id: int | None = None) -> Comment:
        writer = self._writer(viewer)
        paper = self.catalog.visible_paper(paper_id, writer)
        text = clean_body(body, self.limits.comment_max_chars)
        parent = None
        if parent_id is not None:
            parent = self._visible(writer, parent_id)
            if parent.paper_id != paper.id:
                raise BadInput("that comment is on another paper")
            if parent.parent_id is not None:  # one level deep: a reply to a reply joins its thread
                parent = self._visible(writer, parent.parent_id)
        self._check_rate(writer)
        comment = self.store.add_comment(paper.id, writer.id, text, parent.id if parent else None)
        self._notify(writer, comment, parent, paper.title or paper.id)
        return comment

    def edit(self, viewer: User | None, comment_id: int, body: str) -> Comment:
        writer = self._writer(viewer)
        comment = self._visible(writer, comment_id)
        if comment.user_id != writer.id:
            raise Forbidden("only its writer can edit a comment")
        if comment.deleted_at is not None:
            raise BadInput("a deleted comment cannot be edited")
        text = clean_body(body, self.limits.comment_max_chars)
        if text != comment.body:
            self.store.edit_comment(comment.id, text)
        return self.store.get_comment(comment.id) or comment

    def delete(self, viewer: User | None, comment_id: int) -> bool:
        writer = self._writer(viewer)
        comment = self._visible(writer, comment_id)
        if comment.user_id != writer.id and not writer.is_admin:
            raise Forbidden("only its writer or an admin can delete a comment")
        return self.store.delete_comment(comment.id)

    def react(self, viewer: User | None, comment_id: int, reaction: str, on: bool = True) -> dict[str, int]:
        reader = self._writer(viewer)
        if reaction not in REACTIONS:
            raise BadInput(f"reactions are {' '.join(REACTIONS)}")
        comment = self._visible(reader, comment_id)
        if comment.deleted_at is not None:
            raise BadInput("a deleted comment takes no reactions")
        self.store.set_reaction(comment.id, reader.id, reaction, on)
        return self.store.reaction_counts([comment.id]).get(comment.id, {})

    def report(self, viewer: User | None, comment_id: int, reason: str) -> bool:
        reader = self._writer(viewer)
        reason = " ".join((reason or "").split())
        if not reason:
            raise BadInput("say why you report this comment")
        if len(reason) > REASON_MAX:
            raise BadInput(f"the reason is too long (at most {REASON_MAX} characters)")
        return self.store.report_comment(self._visible(reader, comment_id).id, reader.id, reason)

    # ---- moderation
    def hide(self, admin: User | None, comment_id: int, hidden: bool = True) -> bool:
        self._admin(admin)
        if self.store.get_comment(comment_id) is None:
            raise NotFound(f"no comment {comment_id}")
        changed = self.store.set_comment_hidden(comment_id, hidden, admin.id if admin else None)
        if hidden:
            self.store.cancel_comment_mail([comment_id])
        return changed

    def resolve(self, admin: User | None, comment_id: int) -> int:
        self._admin(admin)
        return self.store.resolve_reports(comment_id)

    def reports(self, admin: User | None, limit: int = 100):
        self._admin(admin)
        return self.store.open_reports(limit)

    # ---- helpers
    @staticmethod
    def _writer(viewer: User | None) -> User:
        if viewer is None:
            raise Unauthorized("log in to take part in the discussion")
        return viewer

    @staticmethod
    def _admin(viewer: User | None) -> None:
        if viewer is None or not viewer.is_admin:
            raise Forbidden("only administrators moderate the discussion")

    def _visible(self, viewer: User, comment_id: int) -> Comment:
        comment = self.store.get_comment(comment_id)
        if comment is None or (not viewer.is_admin and (comment.hidden_at or comment.author_hidden)):
            raise NotFound(f"no comment {comment_id}")
        self.catalog.visible_paper(comment.paper_id, viewer)
        return comment

    def _check_rate(self, writer: User) -> None:
        now = self.clock()
        young = writer.created_at and writer.created_at > _iso(now - timedelta(days=1))
        limit = self.limits.new_account_comments_per_hour if young else self.limits.comments_per_hour
        if self.store.count_user_comments_since(writer.id, _iso(now - timedelta(hours=1))) >= limit:
            raise TooManyAttempts(f"you have posted {limit} comments in the last hour"
                                  f"{' (a new account)' if young else ''}: try again later")

    def _notify(self, writer: User, comment: Comment, parent: Comment | None, title: str) -> None:
        """One mail per reader and comment: a reply's parent writer, then mentioned readers, then the
        paper's verified authors; never the writer."""
        link = f"/papers/{comment.paper_id}#comment-{comment.id}"
        reasons: dict[int, tuple[User, str]] = {}
        if parent is not None:
            parent_writer = self.store.get_user(parent.user_id)
            if parent_writer:
                reasons.setdefault(parent_writer.id, (parent_writer, f"{writer.name} replied to your comment"))
        for user in list(self.store.users_by_username(mentioned(comment.body)).values())[:MAX_MENTIONS]:
            reasons.setdefault(user.id, (user, f"{writer.name} mentioned you"))
        if self.authors:
            for user in self.authors.paper_authors(None, comment.paper_id).values():
                reasons.setdefault(user.id, (user, f"{writer.name} commented on your paper"))
        excerpt = comment.body if len(comment.body) <= 600 else comment.body[:600] + "…"
        for uid, (user, why) in reasons.items():
            if uid != writer.id:
                self.notifier.notify(user, f"comment:{comment.id}", f"{why}: {title}",
                                     [f"{why} on “{title}”:", excerpt], link, "Read the discussion")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
