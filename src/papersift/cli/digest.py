"""``papersift digest ...``: one digest run for cron (``send``) and the outbox at a glance (``status``).

``papersift run`` (the scheduler that sends them unattended) is with the other serving commands
in ``cli/serve.py``.
"""

from __future__ import annotations

from typing import Optional

import typer

from papersift.cli.common import JsonOpt, app, emit, err, open_service, out, progress, settings

digest_app = typer.Typer(help="Email digests (configuration: papersift.toml, docs/DIGESTS.md).", no_args_is_help=True)
app.add_typer(digest_app, name="digest")


@digest_app.command("send")
def digest_send(
    limit: Optional[int] = typer.Option(None, help="Send at most N messages this run (the rest wait for the next)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count the digests that are due; write and send nothing."),
    date: Optional[str] = typer.Option(None, "--date", help="Act as if today were YYYY-MM-DD (default: today "
                                       "in digest.timezone)."),
    as_json: bool = JsonOpt,
):
    """One digest run, for cron: build the digests due today into the outbox, then send what is due."""
    from papersift.digest import Digests
    from papersift.service import parse_period

    day = parse_period("date", date).start if date else None  # the feed's own date rule and message
    digests = Digests(open_service(settings(), embedder=False))
    with progress("building digests") as advance:
        result = digests.run(today=day, limit=limit, dry_run=dry_run, progress=advance)

    def table(d):
        b = d["build"]
        periods = ", ".join(f"{k} {v}" for k, v in b["periods"].items()) or "none due"
        out.print(f"{d['date']} ({periods}): {b['built']} digests {'would be ' if d['dry_run'] else ''}built, "
                  f"{b['empty']} empty, {b['already_built']} already built", markup=False, highlight=False,
                  soft_wrap=True)
        if "send" in d:
            s = d["send"]
            out.print(f"sent {s['sent']}, retry later {s['retry']}, failed {s['failed']}, disabled {s['disabled']}, "
                      f"resumed after a crash {s['recovered']}", markup=False, highlight=False, soft_wrap=True)
            for line in s["errors"]:
                err.print(f"  {line}", markup=False, highlight=False)

    emit(result, as_json, table)
    send = result.get("send") or {}
    if send.get("unreachable") and not send.get("sent"):
        # cron mails a failing job's output: a run that delivered nothing must not look fine.
        # Exit 1, not 2: the input was good, the mail server was not there.
        waiting = sum(result["outbox"].get(k, 0) for k in ("pending", "sending"))
        err.print(f"error: nothing was sent: the SMTP server is unreachable; {waiting} message"
                  f"{'s' if waiting != 1 else ''} wait for the next run (see `papersift digest status`)",
                  markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


WAITING_SHOWN = 10


def _waiting_row(message) -> dict:
    return {"id": message.id, "kind": message.kind, "period": message.period_key, "recipient": message.recipient,
            "status": message.status, "attempts": message.attempts,
            "next_attempt_at": message.next_attempt_at or None, "last_error": message.last_error}


def _waiting_line(row: dict) -> str:
    what = f"#{row['id']} {row['kind']} {row['period']} to {row['recipient']}"
    if row["status"] == "sending":
        return f"{what}: being sent now (attempt {row['attempts']})"
    at = (row["next_attempt_at"] or "").replace("T", " ").rstrip("Z")
    due = f"next try {at} UTC" if at else "due now"
    if not row["last_error"]:
        return f"{what}: not tried yet, {due}"
    return f"{what}: {row['attempts']} attempt{'s' if row['attempts'] != 1 else ''}, {due}; " \
           f"last error: {row['last_error']}"


@digest_app.command("status")
def digest_status(as_json: bool = JsonOpt):
    """Subscribers by status, the outbox by state, and why the waiting messages have not gone out."""
    outbox = open_service(settings(), embedder=False).mail.outbox
    counts = outbox.counts()
    waiting = [_waiting_row(m) for m in outbox.waiting(WAITING_SHOWN)]
    total = counts.get("pending", 0) + counts.get("sending", 0)
    data = {"subscribers": outbox.subscriber_counts(), "outbox": counts, "waiting": waiting,
            "waiting_not_shown": max(0, total - len(waiting))}

    def table(d):
        for name in ("subscribers", "outbox"):
            counts = ", ".join(f"{k} {v}" for k, v in sorted(d[name].items())) or "none"
            out.print(f"{name}: {counts}", markup=False, highlight=False, soft_wrap=True)
        if d["waiting"]:
            out.print("waiting:", markup=False, highlight=False)
        for row in d["waiting"]:
            out.print(f"  {_waiting_line(row)}", markup=False, highlight=False, soft_wrap=True)
        if d["waiting_not_shown"]:
            out.print(f"  \u2026 and {d['waiting_not_shown']} more waiting", markup=False, highlight=False)

    emit(data, as_json, table)
