"""Form posts handled in a worker thread, never on the event loop.

A page's POST does slow things: a password hash (tens of milliseconds by design), a call to arXiv,
reading a library file, database writes. On the event loop each of them would hold every other
request of the site for as long as it runs, so a route reads its form there (asynchronously, with
the CSRF check) and does the rest in Starlette's thread pool::

    @router.post("/papers/{paper_id:path}/vote")
    @handled_in_thread()
    def vote(request: Request, form: FormData, paper_id: str): ...
"""

from __future__ import annotations

import inspect
import typing
from typing import Any, Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from papersift.web.session import read_form


def handled_in_thread(read: Callable[..., Awaitable[Any]] = read_form, **options: Any):
    """``read(request, **options)`` on the loop, then ``handle(request, form, **route_params)`` in a thread.

    The route keeps the handler's other parameters (path parameters, BackgroundTasks), so FastAPI
    fills them as it would for the handler itself."""
    def decorate(handle: Callable[..., Any]):
        hints = typing.get_type_hints(handle)  # real types: FastAPI reads them off the route below
        params = [p.replace(annotation=hints.get(name, p.annotation))
                  for name, p in inspect.signature(handle).parameters.items() if name != "form"]

        async def route(request: Request, **route_params: Any):
            form = await read(request, **options)
            return await run_in_threadpool(handle, request, form, **route_params)

        route.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        route.__name__, route.__qualname__, route.__doc__ = handle.__name__, handle.__qualname__, handle.__doc__
        return route
    return decorate
