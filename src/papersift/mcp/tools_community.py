"""The community tools: collections (list public ones or a paper's, read one, add a paper with a note
to one of the caller's) and a paper's discussion. Reads work without a token (public collections,
the visible discussion); with one, the caller's private collections too. Adding needs a read-and-write
token (``readers.writes``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from papersift.mcp.readers import Readers, guarded, tool_description, writes
from papersift.mcp.tools_public import PaperId
from papersift.service import Papersift, collection_slug

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
CollectionId = Annotated[int, Field(ge=1, le=2**62, description="The collection's number (its slug ends with it).")]


def _summary(c) -> dict[str, Any]:
    return {"id": c.id, "slug": collection_slug(c), "title": c.title, "owner": c.owner_handle,
            "description": c.description, "private": c.private or c.is_library, "papers": c.items,
            "upvotes": c.upvotes}


class CommunityTools:
    def __init__(self, hub: Papersift, readers: Readers):
        self.hub, self.readers = hub, readers

    @guarded
    def list_collections(
        self, ctx: Context,
        paper_id: Annotated[str | None, Field(max_length=200, description=(
            "Only collections holding this paper (an arXiv id)."))] = None,
        mine: Annotated[bool, Field(description="The caller's own collections (needs a token).")] = False,
        sort: Annotated[Literal["upvotes", "newest"], Field(description="Public ones: most upvoted or newest.")]
        = "upvotes",
    ) -> dict[str, Any]:
        """Collections of papers readers keep (title, owner, how many papers, upvotes): public ones, those
        holding a paper, or with `mine` the caller's own (the library among them)."""
        if mine:
            user = self.readers.reader(ctx)
            found = self.hub.collections.of_user(user, user)
        else:
            found = self.hub.collections.public(sort=sort, per_page=50, paper_id=paper_id)
        return {"collections": [_summary(c) for c in found]}

    @guarded
    def read_collection(self, ctx: Context, collection_id: CollectionId) -> dict[str, Any]:
        """One collection: its description and its papers in order, each with the owner's note."""
        user = self.readers.viewer(ctx)
        view = self.hub.collections.view(user, self.hub.collections.get(user, collection_id))
        return _summary(view.collection) | {"items": [
            {"position": e.item.position, "id": e.card.paper.id, "title": e.card.paper.title, "note": e.item.note,
             "upvotes": e.card.upvotes} for e in view.entries]}

    @guarded
    def add_to_collection(self, ctx: Context, collection_id: CollectionId, paper_id: PaperId,
                          note: Annotated[str, Field(max_length=500, description="Why it is there (plain text).")] = ""
                          ) -> dict[str, Any]:
        """Add a paper to one of the caller's collections, with a note. Adding it again changes nothing."""
        item, added = self.hub.collections.add(self.readers.reader(ctx), collection_id, paper_id, note)
        return {"collection": collection_id, "id": item.paper_id, "position": item.position, "added": added}

    @guarded
    def paper_discussion(self, ctx: Context, paper_id: PaperId) -> dict[str, Any]:
        """A paper's discussion on this site: comments (Markdown) with their replies and reactions."""
        thread = self.hub.discussion.thread(self.readers.viewer(ctx), paper_id)

        def one(v) -> dict[str, Any]:
            c = v.comment
            return {"id": c.id, "author": c.author_handle, "verified_author": v.by_author,
                    "body": None if v.deleted else c.body, "created_at": c.created_at, "reactions": v.reactions,
                    "replies": [one(r) for r in v.replies]}
        return {"paper": thread.paper_id, "count": thread.count, "comments": [one(v) for v in thread.comments]}


def register_community(server: MCPServer, hub: Papersift, readers: Readers) -> None:
    """Adds the community tools to ``server``."""
    tools = CommunityTools(hub, readers)
    for fn, title, hints in ((tools.list_collections, "List collections", READ),
                             (tools.read_collection, "Read a collection", READ),
                             (tools.add_to_collection, "Add a paper to a collection", WRITE),
                             (tools.paper_discussion, "A paper's discussion", READ)):
        reads = bool(hints.read_only_hint)
        server.add_tool(fn if reads else writes(fn), title=title, annotations=hints,
                        description=tool_description(fn, personal=not reads, write=not reads))
