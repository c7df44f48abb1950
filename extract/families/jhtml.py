"""Zhengzhou platform (.jhtml) portals (public.zhengzhou.gov.cn, public.zzsj.gov.cn): lists
``?a=path&d={dept}&p={catalog}&page=N`` with items ``ul.common-list > a`` (title in ``span``,
date in ``em``); reports ``/{catalog}/{id}.jhtml``. No list page of this family was among the
captured pages: the shapes follow portals.md."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from gongkai.extract.families.base import Family, Link, Listing, find_date, page_text, select, soup_of, text_of

SELECTORS = {"items": "ul.common-list a[href]", "title": "span", "date": "em", "pages": "a[href*='page=']"}


def parse_listing(url: str, data: bytes) -> Listing:
    soup = soup_of(page_text(data))
    out = Listing()
    for a in select(soup, SELECTORS["items"], "list items", out):
        span, em = a.select_one(SELECTORS["title"]), a.select_one(SELECTORS["date"])
        title = text_of(span) if span is not None else text_of(a)
        out.items.append(Link(urljoin(url, a["href"].strip()), title, find_date(text_of(em)) if em else None))
    for a in soup.select(SELECTORS["pages"]):
        if re.search(r"[?&]page=\d+", a["href"]):
            out.add_page(urljoin(url, a["href"].strip()))
    return out


FAMILY = Family("jhtml", parse_listing)
