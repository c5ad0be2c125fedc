"""Comments are Markdown written by readers: rendered by markdown-it-py (CommonMark, raw HTML off) and
then cleaned by nh3 (ammonia) to an allow-list, so no script, event handler, style or ``javascript:`` /
``data:`` URL survives whatever the Markdown or the renderer produced. Links get ``rel="nofollow ugc
noopener"``; images are not shown (a link instead: no tracking pixels); ``@handle`` becomes a link to the
reader's page for the handles the caller says exist."""

from __future__ import annotations

import re
from typing import Iterable

import nh3
from markdown_it import MarkdownIt

_TAGS = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr", "del", "h1", "h2",
         "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
_MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?)")
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable(
    "strikethrough").disable("image")


def _mention_links(tokens, handles: set[str]) -> None:
    """Turn @handle in text (never inside code or a link) into a link token sequence."""
    from markdown_it.token import Token

    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        out, in_link = [], 0
        for tok in block.children:
            in_link += 1 if tok.type == "link_open" else -1 if tok.type == "link_close" else 0
            if tok.type != "text" or in_link or "@" not in tok.content:
                out.append(tok)
                continue
            last = 0
            for m in _MENTION.finditer(tok.content):
                if m.group(1).lower() not in handles:
                    continue
                out.append(_text(Token, tok.content[last:m.start()]))
                link = Token("link_open", "a", 1)
                link.attrs = {"href": f"/users/{m.group(1)}", "class": "mention"}
                out += [link, _text(Token, m.group(0)), Token("link_close", "a", -1)]
                last = m.end()
            out.append(_text(Token, tok.content[last:]))
        block.children = out


def _text(token_class, content: str):
    tok = token_class("text", "", 0)
    tok.content = content
    return tok


def render(markdown: str, handles: Iterable[str] = ()) -> str:
    """Safe HTML for a comment (``handles``: the mentioned readers that exist, lower case)."""
    tokens = _md.parse(markdown or "")
    wanted = {h.lower() for h in handles}
    if wanted:
        _mention_links(tokens, wanted)
    html = _md.renderer.render(tokens, _md.options, {})
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title", "class"}, "code": {"class"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow ugc noopener",
                     strip_comments=True)
