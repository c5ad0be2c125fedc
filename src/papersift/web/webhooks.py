"""The settings' webhooks: add one (its secret shown once), send a test, switch it on again, delete it."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.datastructures import FormData

from papersift.web.pages import ID_HIGH, whole_number
from papersift.web.posted import handled_in_thread
from papersift.web.session import field, redirect, require_user, service

router = APIRouter(include_in_schema=False)


def _number(raw: str) -> int:
    return whole_number(raw, "the webhook number", high=ID_HIGH)


@router.post("/settings/webhooks")
@handled_in_thread()
def add(request: Request, form: FormData):
    from papersift.web.settings import settings_page

    user = require_user(request)
    hook = service(request).webhooks.add(user, field(form, "url", 5000), field(form, "format", 20) or "json")
    return settings_page(request, user, 201, new_webhook=hook)  # the only time its secret is shown


@router.post("/settings/webhooks/{hook_id}")
@handled_in_thread()
def change(request: Request, form: FormData, hook_id: str, tasks: BackgroundTasks):
    from papersift.errors import BadInput

    user, number = require_user(request), _number(hook_id)
    hooks = service(request).webhooks
    action = field(form, "action", 10)
    if action == "delete":
        hooks.remove(user, number)
    elif action == "on":
        hooks.switch_on(user, number)
    elif action == "test":
        queued = hooks.send_test(user, number)
        send = getattr(request.app.state, "send_hook_soon", None)
        if queued is not None and send is not None:
            tasks.add_task(send, queued)
    else:
        raise BadInput("action is delete, on or test")
    return redirect(request, f"/settings?webhook={action}#webhooks")
