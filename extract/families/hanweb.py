"""Hanweb (大汉 jcms) portals: ``/col/col{N}/index.html`` lists hold records in a
``<script type="text/xml"><datastore>`` block; further records come from
``/module/web/jpage/dataproxy.jsp?startrecord=…&endrecord=…&perpage=…&columnid=N&unitid=…``,
which answers the same XML with ``<totalrecord>``."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin

from gongkai.extract.families.base import Family, Link, Listing, find_date, html_root, looks_like_report
from gongkai.transform.decode import decode_bytes

_RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL)
_TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>")
_PERPAGE_RE = re.compile(r"perpage\W{1,5}(\d+)")
_COLUMN_RE = re.compile(r"/col/col(\d+)/|columnid=(\d+)")
_UNIT_RE = re.compile(r"unitid\W{1,5}(\d+)")


def parse_listing(url: str, data: bytes) -> Listing:
    text = decode_bytes(data).text
    out = Listing()
    for record in _RECORD_RE.findall(text):
        root = html_root(record)
        if root is None:
            continue
        for a in root.iter("a"):
            title = (a.get("title") or "".join(a.itertext())).strip()
            href = a.get("href")
            if href and looks_like_report(title):
                out.reports.append(Link(urljoin(url, href), title, find_date("".join(root.itertext()))))
    total = _TOTAL_RE.search(text)
    column = _COLUMN_RE.search(url) or _COLUMN_RE.search(text)
    if total and column and "dataproxy.jsp" not in url:  # the first page announces every group
        per = int(_PERPAGE_RE.search(text).group(1)) if _PERPAGE_RE.search(text) else 15
        unit = _UNIT_RE.search(text)
        col = column.group(1) or column.group(2)
        for start in range(1, int(total.group(1)) + 1, per):
            params = {"startrecord": start, "endrecord": start + per - 1, "perpage": per, "columnid": col}
            if unit:
                params["unitid"] = unit.group(1)
            out.pages.append(urljoin(url, "/module/web/jpage/dataproxy.jsp?" + urlencode(params)))
    return out


FAMILY = Family("hanweb", parse_listing)
