"""Search snippets as safe HTML: the stored text escaped, tantivy's matches wrapped in ``<mark>``."""

from __future__ import annotations

import html


def render(snippet, text: str, chars: int) -> str:
    """Escape, then mark: highlight offsets are UTF-8 byte ranges into the raw fragment."""
    fragment = snippet.fragment() if snippet is not None else ""
    if not fragment:
        return html.escape(_truncate(text, chars))
    raw = fragment.encode("utf-8")
    parts, pos = [], 0
    for rng in sorted(snippet.highlighted(), key=lambda r: r.start):
        if rng.start < pos:
            continue
        parts.append(html.escape(raw[pos:rng.start].decode("utf-8", "replace")))
        parts.append("<mark>" + html.escape(raw[rng.start:rng.end].decode("utf-8", "replace")) + "</mark>")
        pos = rng.end
    parts.append(html.escape(raw[pos:].decode("utf-8", "replace")))
    # the fragment is trimmed to whole words: outside it, either more text (an ellipsis)
    # or only punctuation such as a final "." (kept, escaped)
    span, full = snippet.fragment_range(), text.encode("utf-8")
    head = full[:span.start].decode("utf-8", "replace")
    tail = full[span.end:].decode("utf-8", "replace")
    before = "\u2026" if any(c.isalnum() for c in head) else html.escape(head)
    after = "\u2026" if any(c.isalnum() for c in tail) else html.escape(tail)
    return before + "".join(parts) + after


def _truncate(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[: cut if cut > chars // 2 else chars].rstrip() + "\u2026"
