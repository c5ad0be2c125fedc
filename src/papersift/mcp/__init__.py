"""The MCP server for AI agents: one more sibling interface over the front door.

``build_server(hub, token)`` gives the :class:`~mcp.server.mcpserver.MCPServer` (the official SDK)
with every tool; ``papersift mcp`` runs it over stdio, and ``HttpEndpoint`` is the streamable
HTTP transport that ``server/app.py`` mounts at ``/mcp``. It imports only ``papersift.service``
and ``papersift.formats`` (and the value types below them), like ``api/``. Tools and their
arguments: ``tools_public.py`` (search, a paper, similar, the feed, trending) and
``tools_personal.py`` (library, recommendations, save, upvote, feedback: these need a token).
See docs/MCP.md.
"""

from papersift.mcp.readers import Readers
from papersift.mcp.server import PATH, HttpEndpoint, build_server

__all__ = ["PATH", "HttpEndpoint", "Readers", "build_server"]
