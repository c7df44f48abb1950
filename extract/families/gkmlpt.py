"""Guangdong gkmlpt portals: the page ``/gkmlpt/annualreport`` names a JSON API
``/gkmlpt/api/all/{col}?page=N&sid={sid}`` answering
``{"total": …, "articles": [{"title", "url", "display_publish_time", …}]}``."""

from __future__ import annotations

import json
import math
import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

from gongkai.extract.families.base import Family, Link, Listing, find_date, looks_like_report

_API_RE = re.compile(r"/gkmlpt/api/all/(\d+)")
_SID_RE = re.compile(r"sid\W{1,5}(\d+)")


def _api_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["page"] = str(page)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def parse_listing(url: str, data: bytes) -> Listing:
    out = Listing()
    if "/gkmlpt/api/" not in url:  # the HTML page: find the API it calls
        text = data.decode("utf-8", errors="replace")
        api, sid = _API_RE.search(text), _SID_RE.search(text)
        if api:
            query = {"page": 1} | ({"sid": sid.group(1)} if sid else {})
            out.pages.append(urljoin(url, f"/gkmlpt/api/all/{api.group(1)}?{urlencode(query)}"))
        return out
    try:
        payload = json.loads(data.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return out
    articles = payload.get("articles") or []
    for art in articles:
        title = str(art.get("title", ""))
        if art.get("url") and looks_like_report(title):
            out.reports.append(Link(urljoin(url, str(art["url"])), title,
                                    find_date(str(art.get("display_publish_time", "")))))
    total = int(payload.get("total") or 0)
    page = int(parse_qs(urlsplit(url).query).get("page", ["1"])[0])
    if articles and page == 1:
        pages = math.ceil(total / len(articles))
        out.pages.extend(_api_page(url, p) for p in range(2, min(pages, 200) + 1))
    return out


FAMILY = Family("gkmlpt", parse_listing)
