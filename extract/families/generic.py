"""Generic portals: follow links whose text reads like a report title, and pagination links
(下一页 / numbered pages / index_N.html / TRS createPageHTML) that stay under the start path."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from gongkai.extract.families.base import Family, Listing, anchors, html_root, report_links

_NEXT_WORDS = ("下一页", "下页", "后一页", "尾页", "末页", "下一頁")
_PAGED_RE = re.compile(r"(index|list|default)_\d+\.s?html?$|[?&](page|pageNo|pageIndex|p)=\d+", re.IGNORECASE)
_CREATE_PAGE_RE = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")


def trs_pages(url: str, text: str) -> list[str]:
    """Pages announced by TRS's ``createPageHTML(count, current, "index", "html")``."""
    m = _CREATE_PAGE_RE.search(text)
    if not m:
        return []
    count, prefix, ext = int(m.group(1)), m.group(3), m.group(4)
    pages = [urljoin(url, f"{prefix}.{ext}")]
    pages += [urljoin(url, f"{prefix}_{i}.{ext}") for i in range(1, min(count, 500))]
    return pages


def parse_listing(url: str, data: bytes) -> Listing:
    root = html_root(data)
    listing = report_links(root, url)
    for target, text, _ in anchors(root, url):
        if text.strip() in _NEXT_WORDS or text.strip().isdigit() or _PAGED_RE.search(target):
            listing.pages.append(target)
    text = data.decode("utf-8", errors="ignore")
    listing.pages.extend(trs_pages(url, text))
    return listing


FAMILY = Family("generic", parse_listing)
