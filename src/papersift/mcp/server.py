"""The MCP server object and the streamable HTTP endpoint mounted at ``/mcp``.

One :class:`~mcp.server.mcpserver.MCPServer` per front door, with the public tools
(``tools_public.py``) and the personal ones (``tools_personal.py``); who is calling is decided per
call (``readers.py``).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import ValidationError
from starlette.routing import Route

from papersift.mcp.readers import Readers
from papersift.mcp.tools_community import register_community
from papersift.mcp.tools_personal import register_personal
from papersift.mcp.tools_public import register_public
from papersift.service import Papersift

PATH = "/mcp"
INSTRUCTIONS = (
    "papersift: a self-hosted Daily Papers (arXiv and Hugging Face papers, ranked by upvotes). "
    "Search with search_papers (words, \"phrases\", -exclusions, author:, cat:, org:, title:, id:), open one "
    "with get_paper (markdown included), browse daily_papers or trending_papers (the community's picks) or "
    "new_on_arxiv (every paper arXiv announced, by category: new, cross-lists, replacements), follow similar_papers. "
    "With an API token: my_library, my_recommendations, save_paper, upvote_paper, paper_feedback, whoami "
    "(a read-only token: all but save_paper, upvote_paper and paper_feedback)."
)


class OneLineErrors(MCPServer):
    """Arguments that fail the tool's schema come back as one line naming each bad argument: the SDK's
    own message is pydantic's multi-line report with a documentation URL, which the docs promise not."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            raise ToolError(f"{name}: {argument_errors(exc.__cause__)}") from exc.__cause__


def argument_errors(exc: ValidationError) -> str:
    """``k: Input should be less than or equal to 50; query: Field required`` (values left out)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
        parts.append(f"{where}: {' '.join(str(error.get('msg', 'invalid value')).split())}")
    return "; ".join(parts[:5]) + ("; ..." if len(parts) > 5 else "")


def build_server(hub: Papersift, token: str | None = None) -> MCPServer:
    """The MCP server over the front door, every tool registered; ``token``: see :class:`Readers`."""
    # WARNING: the SDK configures the root logger at this level; INFO would log every tool call
    server = OneLineErrors("papersift", title="papersift", version="0.1.0", instructions=INSTRUCTIONS,
                           log_level="WARNING")
    readers = Readers(hub, token)
    register_public(server, hub, readers)
    register_personal(server, hub, readers)
    register_community(server, hub, readers)
    return server


class HttpEndpoint:
    """The streamable HTTP transport as one route for the main app, and the lifespan it needs.

    Stateless with JSON answers: every POST is served on its own (no session table to grow, any
    worker can answer, nothing for the body cap or error middleware to stream through), which is
    all these request/response tools need; GET (a stream for server-sent messages) is refused.
    DNS-rebinding checks (Host/Origin allow-lists) are off: the server answers on whatever host it
    is deployed at, and the only credential is a bearer token, which a browser never attaches on
    its own, so a rebound page gets no more than the public JSON API already gives anyone."""

    def __init__(self, hub: Papersift):
        self.server = build_server(hub)
        self._endpoint, self._runs = self._fresh(), 0
        # POST only: a stateless server has nothing to push, and the GET stream the SDK would open
        # instead would hold a connection forever (the spec's answer to GET is then 405)
        self.route = Route(PATH, endpoint=self._handle, methods=["POST"], include_in_schema=False)  # not JSON API

    def _fresh(self) -> Callable[..., Any]:
        """A new session manager; its endpoint (the SDK's manager runs once per instance)."""
        sub = self.server.streamable_http_app(
            streamable_http_path=PATH, stateless_http=True, json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        return next(r for r in sub.routes if isinstance(r, Route) and r.path == PATH).endpoint

    @property
    def _handle(self):
        endpoint = self

        class Delegate:  # an ASGI app (not a function), so Starlette passes scope/receive/send through
            async def __call__(self, scope, receive, send):
                await endpoint._endpoint(scope, receive, send)

        return Delegate()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the session manager for the app's lifetime (without it every call would fail); an app
        served again (a second uvicorn over the same app object, as tests do) gets a new one."""
        if self._runs:
            self._endpoint = self._fresh()
        self._runs += 1
        async with self.server.session_manager.run():
            yield
