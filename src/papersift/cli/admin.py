"""``papersift admin ...``: website accounts, API tokens and moderation, run by the site's operator.

The operator at the shell is not a website user, so the moderation calls pass ``None`` as the
acting admin (the service then skips the is-admin check that guards the website's buttons).
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from papersift.cli.common import JsonOpt, app, emit, open_service, out, settings
from papersift.errors import BadInput

admin_app = typer.Typer(help="Website accounts and moderation.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False)  # emails and ids are printed as they are


@admin_app.command("create-user")
def admin_create_user(
    email: str,
    admin: bool = typer.Option(False, "--admin", help="Make the user an administrator."),
    name: Optional[str] = typer.Option(None, help="Display name (default: the part before @)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    as_json: bool = JsonOpt,
):
    """Create a website account (the first admin: --admin). The password is prompted for."""
    svc = open_service(settings(), embedder=False)
    user = svc.accounts.create_user(email, _read_password(password_stdin), name, is_admin=admin)
    emit({"id": user.id, "email": user.email, "name": user.name, "is_admin": user.is_admin}, as_json,
         lambda d: _say(f"created {'admin' if d['is_admin'] else 'user'} {d['email']} ({d['name']})"))


@admin_app.command("set-admin")
def admin_set_admin(email: str, revoke: bool = typer.Option(False, "--revoke", help="Take admin rights away.")):
    """Give (or with --revoke take away) administrator rights."""
    user = open_service(settings(), embedder=False).accounts.set_admin(email, not revoke)
    _say(f"{user.email}: {'admin' if user.is_admin else 'not admin'}")


@admin_app.command("create-token")
def admin_create_token(
    email: str,
    name: Optional[str] = typer.Option(None, help="A label for the token."),
    scope: Optional[str] = typer.Option(None, "--scope", metavar="read|write",
                                        help="read: search and read only; write (default): also vote, save, "
                                             "submit and give feedback."),
    read_only: bool = typer.Option(False, "--read-only", help="The same as --scope read."),
):
    """Create an API token for a user and print it (it is shown only this once)."""
    if read_only and scope not in (None, "read"):
        raise BadInput(f"--read-only and --scope {scope[:20]} disagree: give one of them")
    accounts = open_service(settings(), embedder=False).accounts
    _, secret = accounts.create_token(accounts.user_by_email(email), name, "read" if read_only else scope or "write")
    print(secret)  # plain print: nothing may wrap or colour the secret a script reads


@admin_app.command("hide-user")
def admin_hide_user(email: str, restore: bool = typer.Option(False, "--restore", help="Undo: let them log in.")):
    """Disable an account: no log-in, sessions and tokens stop working, votes stop counting."""
    user = open_service(settings(), embedder=False).accounts.set_hidden(None, email, not restore)
    _say(f"{user.email}: {'hidden' if user.hidden else 'active'}")


@admin_app.command("hide-paper")
def admin_hide_paper(paper_id: str, restore: bool = typer.Option(False, "--restore", help="Undo: show it again.")):
    """Hide a paper from the feed, search and its page (admins still see it)."""
    paper = open_service(settings(), embedder=False).actions.hide_paper(None, paper_id, not restore)
    _say(f"{paper.id}: {'visible' if restore else 'hidden'}")
