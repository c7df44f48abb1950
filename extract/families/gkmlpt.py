"""Guangdong gkmlpt portals: the page ``/gkmlpt/annualreport`` is a JavaScript app shell that
sets ``window._CONFIG = {SID: …, TREE: …}``; the list comes from the JSON API
``/gkmlpt/api/all/{column}?page=N&sid={SID}`` (real scrapers know the path by convention: it is
not in the page), answering ``{"total": …, "articles": [{"title", "url", "publisher",
"display_publish_time", "identifier"}]}``. The column is the annual-report node of ``TREE``
(or one the page names). A reply that is not such a list (a wrong sid, ``null``, an error
object) is a ListingError saying what came back.

No gkmlpt page was among the captured pages: the shapes follow portals.md."""

from __future__ import annotations

import json
import math
import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

from gongkai.extract.families.base import Family, Link, Listing, ListingError, find_date, page_text

_API_RE = re.compile(r"/gkmlpt/api/all/(\d+)")
_SID_RE = re.compile(r"""\bSID\b["']?\s*[:=]\s*["']?(\w+)""", re.IGNORECASE)
_NODE_RE = re.compile(r"""["']?id["']?\s*:\s*["']?(\d+)["']?\s*,[^{}]*?["']?name["']?\s*:\s*["']([^"']+)["']""")
_REPORT_COLUMN_RE = re.compile(r"年报|年度报告")
MAX_API_PAGES = 200


def _api_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["page"] = str(page)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _shell(url: str, text: str) -> Listing:
    out = Listing()
    sid = _SID_RE.search(text)
    api = _API_RE.search(text)
    column = api.group(1) if api else None
    if column is None:
        nodes = [(cid, name) for cid, name in _NODE_RE.findall(text) if _REPORT_COLUMN_RE.search(name)]
        column = nodes[0][0] if nodes else None
    if column is None:
        out.warnings.append("no annual-report column in window._CONFIG.TREE (and no /gkmlpt/api/all/ path)")
        return out
    query = {"page": 1} | ({"sid": sid.group(1)} if sid else {})
    if not sid:
        out.warnings.append("no SID in window._CONFIG: the API is asked without one")
    out.add_page(urljoin(url, f"/gkmlpt/api/all/{column}?{urlencode(query)}"))
    return out


def parse_listing(url: str, data: bytes) -> Listing:
    text = page_text(data)
    if "/gkmlpt/api/" not in url:  # the app shell: find the API it calls
        return _shell(url, text)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListingError(f"the gkmlpt API answered something that is not JSON ({text[:80]!r})") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("articles"), list):
        shown = json.dumps(payload, ensure_ascii=False)[:120]
        raise ListingError(f"the gkmlpt API refused the request or changed its reply (a wrong sid?): {shown}")
    out = Listing()
    for art in payload["articles"]:
        if isinstance(art, dict) and art.get("url"):
            out.items.append(Link(urljoin(url, str(art["url"])), " ".join(str(art.get("title", "")).split()),
                                  find_date(str(art.get("display_publish_time", "")))))
    total = payload.get("total")
    out.total = int(total) if isinstance(total, int | str) and str(total).isdigit() else None
    if out.total is None and total is not None:
        out.warnings.append(f"the API's total is {total!r}, not a number: only this page is read")
    page = int(parse_qs(urlsplit(url).query).get("page", ["1"])[0] or 1)
    if out.items and page == 1 and out.total:
        pages = math.ceil(out.total / len(payload["articles"]))
        for p in range(2, min(pages, MAX_API_PAGES) + 1):
            out.add_page(_api_page(url, p))
    return out


FAMILY = Family("gkmlpt", parse_listing)
