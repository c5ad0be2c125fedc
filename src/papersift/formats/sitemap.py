"""Sitemaps (the sitemaps.org protocol, 0.9): a ``<urlset>`` of at most 50,000 URLs per file, and
a ``<sitemapindex>`` naming the files when there are more. ElementTree writes the XML, so a URL's
``&`` becomes ``&amp;`` as the protocol asks (URLs arrive already percent-encoded)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000  # per file, the protocol's limit (and 50 MB, which 50,000 of our URLs stay far below)
MEDIA_TYPE = "application/xml"


@dataclass(frozen=True)
class Url:
    loc: str
    lastmod: str | None = None  # YYYY-MM-DD


def _document(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def urlset(urls: list[Url]) -> bytes:
    if len(urls) > MAX_URLS:
        raise ValueError(f"a sitemap holds at most {MAX_URLS} URLs, got {len(urls)}")
    root = ET.Element("urlset", xmlns=NAMESPACE)
    for url in urls:
        node = ET.SubElement(root, "url")
        ET.SubElement(node, "loc").text = url.loc
        if url.lastmod:
            ET.SubElement(node, "lastmod").text = url.lastmod
    return _document(root)


def sitemap_index(locations: list[str]) -> bytes:
    root = ET.Element("sitemapindex", xmlns=NAMESPACE)
    for loc in locations:
        ET.SubElement(ET.SubElement(root, "sitemap"), "loc").text = loc
    return _document(root)


def chunks(total: int, per_file: int = MAX_URLS) -> int:
    """How many files ``total`` URLs take."""
    return max(1, -(-total // per_file))
