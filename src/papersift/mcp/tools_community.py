"""The community tools: collections (list, read, add a paper) and a paper's discussion."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from papersift.mcp.readers import Readers
from papersift.service import Papersift


def register_community(server: MCPServer, hub: Papersift, readers: Readers) -> None:
    """Adds the community tools to ``server``."""
