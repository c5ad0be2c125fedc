"""``papersift mcp``: the MCP tools over stdio, for Claude Desktop and other MCP clients.

The client starts this process and speaks JSON-RPC on its stdin/stdout, so nothing else may
write to stdout; logs go to stderr. The indexes are opened as a follower (read-only, like a web
worker of ``serve --workers``): this process never takes the index folder's writer lock from a
server started later, and it follows the commits of whoever indexes (``papersift serve`` or
``papersift index``) every second, vectors included. It writes only a reader's saves, votes and
feedback. The same tools are served over streamable HTTP at ``/mcp`` by ``papersift serve`` (docs/MCP.md).
"""

from __future__ import annotations

from typing import Optional

import typer

from papersift.cli.common import app, open_service, settings


@app.command("mcp")
def mcp_stdio(
    token: Optional[str] = typer.Option(None, "--token",
                                        help="An API token: act as its reader (library, recommendations, save, "
                                             "upvote). Prefer the variable PAPERSIFT_TOKEN: a command line is "
                                             "visible to others."),
    no_embed: bool = typer.Option(False, "--no-embed", help="Keyword search only (no embedding model)."),
):
    """Serve the MCP tools (search, papers, feeds, and with a token your library) over stdio."""
    from papersift.mcp import build_server
    from papersift.server.indexer import BackgroundIndexer

    config = settings(token=token)
    token = config.token or None
    svc = open_service(config, embedder=False if no_embed else None, follower=True)
    follow = None
    try:
        if token:
            svc.accounts.user_for_token(token.strip())  # a wrong token: exit 2 now, not an error on every call
        follow = BackgroundIndexer(svc)  # a follower's loop: takes in the indexer's commits
        follow.start()
        build_server(svc, token).run("stdio")
    finally:
        if follow is not None:
            follow.stop()
        svc.close()
