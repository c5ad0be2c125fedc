"""The personal tools: a reader's library, recommendations, save, upvote, feedback, who am I.

Each needs an API token (see ``server.Readers``); without one the call returns a tool error that
says so. The writes are idempotent, as on the website and the JSON API: saving twice keeps one
save, and ``saved=false`` / ``upvoted=false`` / ``on=false`` undo. They are the tools annotated
``PERSONAL_WRITE``, and a read-only token gets a tool error from each (``readers.writes``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from papersift.mcp import shapes
from papersift.mcp.readers import Readers, guarded, tool_description, writes
from papersift.mcp.tools_public import PaperId
from papersift.service import Papersift

PERSONAL_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
PERSONAL_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                 open_world_hint=False)


class PersonalTools:
    def __init__(self, hub: Papersift, readers: Readers):
        self.hub, self.readers = hub, readers

    @guarded
    def whoami(self, ctx: Context) -> dict[str, Any]:
        """The reader this token belongs to (email, display name, whether an admin, the token's scope: read or write)."""
        user = self.readers.reader(ctx)
        return {"email": user.email, "name": user.name, "is_admin": user.is_admin, "scope": user.token_scope}

    @guarded
    def my_library(self, ctx: Context,
                   page: Annotated[int, Field(ge=1, le=10000, description="Page, from 1.")] = 1,
                   per_page: Annotated[int, Field(ge=1, le=100, description="Papers per page.")] = 20) -> dict[str, Any]:
        """The papers the reader saved, most recently saved first."""
        listing = self.hub.catalog.library(self.readers.reader(ctx), page=page, per_page=per_page)
        return {"total": listing.total, "page": listing.page, "pages": listing.pages, "per_page": per_page,
                "papers": [shapes.paper_entry(c.paper, c.upvotes) | {"upvoted": c.voted} for c in listing.cards]}

    @guarded
    def my_recommendations(
        self, ctx: Context,
        period: Annotated[Literal["day", "week", "month"], Field(description=(
            "Recommend from the papers listed on the feed's last day, week or month."))] = "week",
        k: Annotated[int, Field(ge=1, le=50, description="How many papers.")] = 10,
    ) -> dict[str, Any]:
        """Papers for this reader, learnt from their upvotes, saves and feedback, each with why (the liked
        papers it is closest to, the words). An empty list comes with `reason`, e.g. no signal yet."""
        return self.hub.for_you.recommendations(self.readers.reader(ctx), period=period, k=k).as_dict()

    @guarded
    def save_paper(self, ctx: Context, paper_id: PaperId,
                   saved: Annotated[bool, Field(description="true: save; false: remove from the library.")] = True
                   ) -> dict[str, Any]:
        """Save a paper to the reader's library (or remove it). Idempotent."""
        user = self.readers.reader(ctx)
        pid = self.hub.catalog.visible_paper(paper_id, user).id  # the canonical id (arXiv:…v2 -> …)
        return {"id": pid, "saved": self.hub.actions.save(user, pid, saved)}

    @guarded
    def upvote_paper(self, ctx: Context, paper_id: PaperId,
                     upvoted: Annotated[bool, Field(description="true: upvote; false: take the upvote back.")] = True
                     ) -> dict[str, Any]:
        """Upvote a paper as the reader (or take the upvote back); returns the paper's upvotes now. Idempotent."""
        state = self.hub.actions.vote(self.readers.reader(ctx), paper_id, upvoted)
        return {"id": state.paper_id, "upvoted": state.voted, "upvotes": state.upvotes}

    @guarded
    def paper_feedback(self, ctx: Context, paper_id: PaperId,
                       kind: Annotated[Literal["more", "not_for_me"], Field(description=(
                           '"more": more like this; "not_for_me": fewer like this.'))],
                       on: Annotated[bool, Field(description="true: record it; false: undo it.")] = True
                       ) -> dict[str, Any]:
        """Tell the recommender "more like this" or "not for me" about a paper (or undo it). Idempotent."""
        return self.hub.for_you.feedback(self.readers.reader(ctx), paper_id, kind, on=on)


def register_personal(server: MCPServer, hub: Papersift, readers: Readers) -> None:
    tools = PersonalTools(hub, readers)
    for fn, title, hints in ((tools.whoami, "Who am I", PERSONAL_READ), (tools.my_library, "My library", PERSONAL_READ),
                             (tools.my_recommendations, "My recommendations", PERSONAL_READ),
                             (tools.save_paper, "Save a paper", PERSONAL_WRITE),
                             (tools.upvote_paper, "Upvote a paper", PERSONAL_WRITE),
                             (tools.paper_feedback, "More like this / not for me", PERSONAL_WRITE)):
        reads = bool(hints.read_only_hint)  # the annotation decides, so no write tool can forget the scope
        server.add_tool(fn if reads else writes(fn), title=title, annotations=hints,
                        description=tool_description(fn, personal=True, write=not reads))
