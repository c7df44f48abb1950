"""TRS WCM portals: ``index.html``, ``index_1.html`` … (count in ``createPageHTML``); report
pages ``./YYYYMM/tYYYYMMDD_{id}.html`` (also .shtml, _wap.html)."""

from __future__ import annotations

import re

from gongkai.extract.families.base import Family, Listing, html_root, report_links
from gongkai.extract.families.generic import trs_pages

_DETAIL_RE = re.compile(r"/t\d{8}_\d+(?:_wap)?\.s?html?$")


def parse_listing(url: str, data: bytes) -> Listing:
    out = report_links(html_root(data), url, accept=_DETAIL_RE.search)
    out.pages = trs_pages(url, data.decode("utf-8", errors="ignore"))
    return out


FAMILY = Family("trs", parse_listing)
