"""The cross-site scripting corpus the community tests post everywhere a person writes (comments,
collection titles, descriptions and notes, display names), and a checker for what comes back.

The vectors are the usual ones against Markdown and HTML sanitisers (OWASP's filter evasion cheat
sheet, markdown-it's and nh3's own test suites): script tags, event handlers, ``javascript:`` /
``vbscript:`` / ``data:`` URLs in every spelling (case, entities, control characters, angle brackets),
SVG and MathML (mutation XSS), nested Markdown, attribute breakouts. Each one that executed would call
``alert``, which the browser tests watch for.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[click](javascript:alert(3))",
    "[click](JaVaScRiPt:alert(4))",
    "[x](javascript&#58;alert(5))",
    "<svg onload=alert(6)>",
    "<svg><script>alert(7)</script></svg>",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoOCk+)",
    "[d](data:text/html,<script>alert(9)</script>)",
    '<a href="javascript:alert(10)">x</a>',
    "**<i onmouseover=alert(11)>bold</i>**",
    '<iframe src="javascript:alert(12)"></iframe>',
    "[a](<javascript:alert(13)>)",
    "<details open ontoggle=alert(14)>",
    "&lt;script&gt;alert(15)&lt;/script&gt;",
    "`<script>alert(16)</script>`",
    "[x](vbscript:alert(17))",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(18)>",
    '"><script>alert(19)</script>',
    "<javascript:alert(20)>",
    "[x](java\tscript:alert(21))",
    "<style>body{background:url(javascript:alert(22))}</style>",
    "<form action=javascript:alert(23)><button>go</button></form>",
    '![x](x" onerror="alert(24))',
    '[x](https://example.org" onclick="alert(25))',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgyNik8L3NjcmlwdD4="></object>',
    '<base href="javascript:alert(27)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(28)">',
    "[![x](javascript:alert(29))](javascript:alert(30))",
    '<a href="&#106;avascript:alert(31)">x</a>',
    "[x](&#x6A;avascript:alert(32))",
    "'-alert(33)-'",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(34)>",
    "[x](\u0000javascript:alert(35))",
    "<a href=\"jav&#x09;ascript:alert(36)\">tab</a>",
]

# Elements that user content must never produce (the site's own pages use none of them)
_FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "base", "frame", "frameset",
                   "applet"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background", "srcset"}
_BAD_SCHEME = re.compile(r"^(javascript|vbscript|data):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        where = f"<{tag}>"
        if tag in _FORBIDDEN_TAGS and not (tag == "script" and (dict(attrs).get("src") or "").startswith("/static/")):
            self.found.append(f"{where} element")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.found.append("<meta http-equiv=refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{where} {name}= handler")
            if name == "style":
                self.found.append(f"{where} style attribute")
            if tag == "link" and value == "data:,":  # the site's own empty favicon
                continue
            if name in _URL_ATTRIBUTES and value and _BAD_SCHEME.match(_INVISIBLE.sub("", value).lower()):
                self.found.append(f"{where} {name}={value[:40]!r}")

    handle_startendtag = handle_starttag


def dangerous_markup(html: str) -> list[str]:
    """What in ``html`` could run script or load a dangerous URL (empty when it is safe)."""
    scan = _Scan()
    scan.feed(html)
    scan.close()
    return scan.found


def test_the_checker_sees_each_kind_of_danger():
    """A checker that finds nothing would pass every test: it must see each vector as raw HTML."""
    assert dangerous_markup("<p>fine <a href='https://example.org'>x</a></p>") == []
    for raw in ('<script>alert(1)</script>', '<img src=x onerror=alert(2)>', '<a href="&#106;avascript:x">',
                '<a href="jav&#x09;ascript:x">', '<svg>', '<p style="x">', '<meta http-equiv="Refresh">',
                '<iframe src="https://example.org">', '<a href=" data:text/html,x">'):
        assert dangerous_markup(raw), raw
