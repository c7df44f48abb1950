"""Zhengzhou platform (.jhtml) portals: lists ``?a=path&d={dept}&p={catalog}&page=N`` with
items ``ul.common-list > a`` (title in ``span``, date in ``em``); reports ``/{catalog}/{id}.jhtml``."""

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

_PAGE_RE = re.compile(r"[?&]page=\d+")


def parse_listing(url: str, data: bytes) -> Listing:
    root = html_root(data)
    out = Listing()
    for target, text, a in anchors(root, url):
        if target.endswith(".jhtml"):
            span = a.find(".//span")
            title = " ".join("".join(span.itertext()).split()) if span is not None else text
            em = a.find(".//em")
            date = find_date("".join(em.itertext())) if em is not None else None
            if looks_like_report(title):
                out.reports.append(Link(target, title, date))
        elif _PAGE_RE.search(target):
            out.pages.append(target)
    return out


FAMILY = Family("jhtml", parse_listing)
