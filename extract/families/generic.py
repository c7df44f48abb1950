"""Generic portals: every link is a list item (the report-title filter picks the reports), and
pagination is followed from 下一页 / numbered links / ``index_N.html`` links and TRS-style page
scripts (``createPageHTML(n, …)``, ``var countPage = n``). Works as a fallback on every family's
list pages."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from gongkai.extract.families.base import Family, Listing, page_text, report_links, select, soup_of

SELECTORS = {"links": "a[href]"}
_NEXT_WORDS = ("下一页", "下页", "后一页", "尾页", "末页", "下一頁", "下一页>", ">")
_PAGED_RE = re.compile(r"(index|list|default)_\d+\.s?html?$|[?&](page|pageNo|pageIndex|p)=\d+", re.IGNORECASE)
_CREATE_PAGE_RE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")
_COUNT_PAGE_RE = re.compile(r"\bcountPage\s*=\s*['\"]?(\d+)")
MAX_PAGES_ANNOUNCED = 500


def script_pages(url: str, text: str) -> list[str]:
    """Pages announced by TRS page scripts: ``createPageHTML(count, current, "index", "html")``
    (page 0 is index.html, page i index_i.html) or ``var countPage = n``."""
    m = _CREATE_PAGE_RE.search(text)
    if m:
        count, prefix, ext = int(m.group(1)), m.group(3), m.group(4)
    else:
        c = _COUNT_PAGE_RE.search(text)
        if c is None:
            return []
        count, prefix = int(c.group(1)), "index"
        own = re.search(r"/index(?:_\d+)?\.(s?html?)$", url)
        ext = own.group(1) if own else "html"
    count = min(count, MAX_PAGES_ANNOUNCED)
    return [urljoin(url, f"{prefix}.{ext}")] + [urljoin(url, f"{prefix}_{i}.{ext}") for i in range(1, count)]


def pager_links(listing: Listing, root, url: str) -> None:
    for a in root.select("a[href]"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#")):
            continue
        target = urljoin(url, href)
        text = " ".join(a.get_text().split())
        if text in _NEXT_WORDS or text.isdigit() or _PAGED_RE.search(target):
            listing.add_page(target)


def parse_listing(url: str, data: bytes) -> Listing:
    text = page_text(data)
    soup = soup_of(text)
    listing = Listing()
    select(soup, SELECTORS["links"], "links", listing)
    listing.items = report_links(soup, url)
    pager_links(listing, soup, url)
    for page in script_pages(url, text):
        listing.add_page(page)
    return listing


FAMILY = Family("generic", parse_listing)
