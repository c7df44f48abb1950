"""TRS WCM portals: ``index.html``, ``index_1.html`` … (count in ``createPageHTML``); report
pages ``./YYYYMM/tYYYYMMDD_{id}.html`` (also .shtml, _wap.html)."""

from __future__ import annotations

import re

from gongkai.extract.families.base import (
    Family,
    Link,
    Listing,
    anchors,
    find_date,
    html_root,
    looks_like_report,
)
from gongkai.extract.families.generic import trs_pages

_DETAIL_RE = re.compile(r"/t\d{8}_\d+(?:_wap)?\.s?html?$")


def parse_listing(url: str, data: bytes) -> Listing:
    root = html_root(data)
    out = Listing()
    for target, title, a in anchors(root, url):
        if _DETAIL_RE.search(target) and looks_like_report(title):
            parent = a.getparent()
            context = "".join(parent.itertext()) if parent is not None else ""
            out.reports.append(Link(target, title, find_date(context)))
    out.pages = trs_pages(url, data.decode("utf-8", errors="ignore"))
    return out


FAMILY = Family("trs", parse_listing)
