"""What a webhook delivery says, in three shapes: papersift's own JSON (for scripts), a Slack message
(incoming webhooks: ``text`` plus ``blocks``) and a Discord message (``content`` plus ``embeds``).

Everything in them is someone else's text (titles, authors): Slack's mrkdwn control characters
(``&``, ``<``, ``>``) are escaped, so a title cannot make a link or ``<!channel>``; Discord gets
``allowed_mentions: {"parse": []}`` (no ``@everyone`` from a title) and its Markdown characters escaped."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

FORMATS = ("json", "slack", "discord")
SLACK_BLOCKS = 48  # Slack takes 50 blocks a message: a header and a closing context line besides
DISCORD_EMBEDS = 10  # Discord takes 10 embeds a message
_DISCORD_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()-])")


@dataclass
class HookItem:
    id: str
    title: str
    url: str
    authors: list[str] = field(default_factory=list)
    why: str = ""


def slack_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discord_text(text: str) -> str:
    return _DISCORD_MARKDOWN.sub(r"\\\1", text).replace("@", "@\u200b")


def _authors(item: HookItem) -> str:
    return ", ".join(item.authors[:5]) + (" et al." if len(item.authors) > 5 else "")


def render(fmt: str, heading: str, items: list[HookItem], event: dict | None = None) -> bytes:
    """The request body for ``fmt`` (json | slack | discord)."""
    if fmt == "slack":
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": heading[:150]}}]
        for item in items[:SLACK_BLOCKS]:
            line = f"*<{item.url}|{slack_text(item.title)}>*\n{slack_text(_authors(item))}"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": (line + (
                f"\n_{slack_text(item.why)}_" if item.why else ""))[:3000]}})
        data: dict = {"text": f"{heading}: {len(items)} papers", "blocks": blocks}
    elif fmt == "discord":
        data = {"content": discord_text(heading)[:2000], "allowed_mentions": {"parse": []},
                "embeds": [{"title": discord_text(item.title)[:256], "url": item.url,
                            "description": discord_text(" · ".join(p for p in (_authors(item), item.why) if p))[:4096]}
                           for item in items[:DISCORD_EMBEDS]]}
    elif fmt == "json":
        data = {"event": event or {}, "heading": heading, "papers": [asdict(item) for item in items]}
    else:
        raise ValueError(f"unknown webhook format {fmt!r}")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
