"""The reader's webhooks under ``/api/v1/me/webhooks`` (a token): list, add (the secret is in this one
answer only), delete, send a test. What they are and how a receiver checks a delivery: docs/DIGESTS.md."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from papersift.api.actions import BEARER, json_body, read_json, token_user
from papersift.api.models import ERRORS, PREFIX
from papersift.service import Papersift


class NewHook(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"url": "https://93.184.215.14/hooks/papers", "format": "json"}]}}
    url: str = Field(..., max_length=2000, description="https (or http), a public address")
    format: Literal["json", "slack", "discord"] = "json"


def hook_json(hook, secret: bool = False) -> dict:
    data = {"id": hook.id, "url": hook.url, "format": hook.format, "active": hook.active, "failures": hook.failures,
            "last_error": hook.last_error, "created_at": hook.created_at}
    return data | ({"secret": hook.secret} if secret else {})


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX + "/me/webhooks", tags=["webhooks"], responses=ERRORS, dependencies=[BEARER])
    hooks = hub.webhooks

    @router.get("", summary="Your webhooks (without their secrets)")
    def list_hooks(request: Request):
        return {"webhooks": [hook_json(h) for h in hooks.of(token_user(hub, request))]}

    @router.post("", status_code=201, openapi_extra=json_body(NewHook),
                 summary="Add a webhook: your digest also goes there (the secret is shown in this answer only)")
    async def add(request: Request):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, NewHook)
        made = await run_in_threadpool(hooks.add, user, body.url, body.format)
        return JSONResponse(hook_json(made, secret=True), status_code=201)

    @router.delete("/{hook_id}", summary="Delete a webhook (its unsent deliveries are cancelled)")
    def delete(request: Request, hook_id: int = Path(..., ge=1, le=2**62)):
        return {"id": hook_id, "deleted": hooks.remove(token_user(hub, request), hook_id)}

    @router.post("/{hook_id}/test", summary="Send a test delivery now")
    def test(request: Request, hook_id: int = Path(..., ge=1, le=2**62)):
        queued = hooks.send_test(token_user(hub, request), hook_id)
        send = getattr(request.app.state, "send_hook_soon", None)
        if queued is not None and send is not None:
            send(queued)
        return {"id": hook_id, "queued": queued is not None}

    return router
