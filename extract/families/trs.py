"""TRS WCM portals: list pages ``index.html``, ``index_1.html`` … announced by the page script
(``createPageHTML(n, i, "index", "html")`` or ``var countPage = n``); list items link report pages
``./YYYYMM/tYYYYMMDD_{id}.html`` (also ``.htm``, ``.shtml``, ``_wap.html``). Templated columns
(Fujian's avalon.js) print the list statically beside a template bound to JSON fields
``chnldocurl``, ``doctitle``, ``docreltime``; a JSON reply with those fields is read as a list.
Captured pages: ``tests/fixtures/portals/real/trs-*``."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

from gongkai.extract.families.base import (
    Family,
    Link,
    Listing,
    ListingError,
    find_date,
    page_text,
    report_links,
    select,
    soup_of,
)
from gongkai.extract.families.generic import script_pages

SELECTORS = {"items": "a[href]"}
DETAIL_RE = re.compile(r"/t\d{8}_\d+(?:_wap)?\.s?html?$")
_JSON_URL_RE = re.compile(r"""["']([^"'\s]+\.json)["']""")


def _json_items(url: str, payload: object) -> list[Link]:
    """Objects anywhere in a JSON reply that carry chnldocurl and doctitle."""
    out: list[Link] = []
    stack = [payload]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("chnldocurl") and node.get("doctitle"):
                out.append(Link(urljoin(url, str(node["chnldocurl"])), " ".join(str(node["doctitle"]).split()),
                                find_date(str(node.get("docreltime", "")))))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return out


def parse_listing(url: str, data: bytes) -> Listing:
    text = page_text(data)
    listing = Listing()
    if text.lstrip().startswith(("{", "[")):
        try:
            listing.items = _json_items(url, json.loads(text))
        except json.JSONDecodeError as exc:
            raise ListingError(f"a TRS JSON list that is not JSON: {exc}") from exc
        if not listing.items:
            listing.warnings.append("a JSON list with no item carrying chnldocurl and doctitle")
        return listing
    soup = soup_of(text)
    select(soup, SELECTORS["items"], "links", listing)
    listing.items = report_links(soup, url, accept=DETAIL_RE.search)
    if not listing.items:
        listing.warnings.append("no list item links a TRS detail page (./YYYYMM/tYYYYMMDD_N.html)")
    for page in script_pages(url, text):
        listing.add_page(page)
    if "ms-controller" in text or "chnldocurl" in text:  # an avalon.js template: its JSON list, if named
        for m in _JSON_URL_RE.finditer(text):
            listing.add_page(urljoin(url, m.group(1)))
    return listing


FAMILY = Family("trs", parse_listing)
