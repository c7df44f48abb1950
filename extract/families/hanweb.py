"""Hanweb (大汉 jcms) portals, as their captured pages show them.

- A column page ``/col/col{N}/index.html`` inlines the first group of records in a
  ``<script type="text/xml"><datastore>``: each ``<record><![CDATA[…]]></record>`` is an ``<li>``
  (newer sites) or a ``<tr>`` with the date in ``[brackets]`` (older ones); the link text may be
  cut with ``…`` while ``title`` holds the whole title.
- The page does not carry ``<totalrecord>``: the total and the page size sit in the jpage
  script's config (``totalRecord``, ``perPage``, ``groupSize``, any letter case), and
  ``<nextgroup>`` holds a ``dataproxy.jsp?page=1&appid=…&webid=…&path=/&columnid=…&unitid=…
  &webname=…&permissiontype=0`` link (parameters may repeat, ``webname`` may be percent-encoded
  twice, older sites quote values and use ``/module/jslib/jquery/jpage/dataproxy.jsp``).
- Further groups come from ``dataproxy.jsp?startrecord=S&endrecord=E&perpage=P``, POSTed with
  the form fields ``col, appid, webid, path, columnid, unitid, webname, permissiontype`` (some
  portals answer GET, some only ``page=N``: each request falls back to the next form); the
  replies carry ``<totalrecord>``/``<totalpage>``. Without a config the first reply gives the
  total. An empty recordset ends the list.

The jpage config's exact script was not among the captured pages; it is read as portals.md
describes it (``totalRecord:29``, ``perPage:15``, ``groupSize:3``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from gongkai.extract.families.base import (
    Family,
    Link,
    Listing,
    PageRequest,
    find_date,
    link_of,
    page_text,
    text_of,
    unique,
)

SELECTORS = {"record_link": "a[href]", "record": "li, tr"}
_RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL | re.IGNORECASE)
_NEXTGROUP_RE = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.DOTALL | re.IGNORECASE)
_HREF_RE = re.compile(r"""href\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_TOTAL_PAGES_RE = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.IGNORECASE)
_CONFIG_RE = {key: re.compile(rf"""\b{key}\s*[:=]\s*["']?(\d+)""", re.IGNORECASE)
              for key in ("totalRecord", "perPage", "groupSize")}
_COLUMN_RE = re.compile(r"/col/col(\d+)/")
_UNIT_RE = re.compile(r"""unitid\W{1,5}(\d+)""", re.IGNORECASE)
FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "unitid", "webname", "permissiontype")
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
DEFAULT_PER_PAGE, DEFAULT_GROUP = 15, 3


def _decoded(value: str) -> str:
    """Undo percent-encoding however many times it was applied (``webname`` is often twice)."""
    for _ in range(3):
        nxt = unquote(value)
        if nxt == value:
            break
        value = nxt
    return value


def _records(text: str, url: str) -> list[Link]:
    links: list[Link] = []
    for record in _RECORD_RE.findall(text):
        markup = record.strip()
        if markup[:3].lower() == "<tr":  # older sites: table rows (lxml drops rows outside a table)
            markup = f"<table>{markup}</table>"
        soup = BeautifulSoup(markup, "lxml")
        scope = soup.select_one(SELECTORS["record"]) or soup
        for a in scope.select(SELECTORS["record_link"]):
            link = link_of(a, url, context=scope)
            if link is not None:
                links.append(Link(link.url, link.title, link.date or find_date(text_of(scope))))
                break  # one item per record
    return unique(links)


def _column(url: str, text: str) -> tuple[str, dict[str, str]]:
    """The data proxy's URL and the column's form fields, from ``<nextgroup>`` (or the page)."""
    fields: dict[str, str] = {"col": "1", "permissiontype": "0", "path": "/"}
    proxy = urljoin(url, DEFAULT_PROXY)
    group = _NEXTGROUP_RE.search(text)
    href = _HREF_RE.search(group.group(1)) if group else None
    if href:
        target = urljoin(url, href.group(2).replace("&amp;", "&"))
        parts = urlsplit(target)
        proxy = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        seen: set[str] = set()
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in FORM_FIELDS and key not in seen:  # a repeated parameter: the first one counts
                seen.add(key)
                value = _decoded(value).strip("'\"")
                if value:
                    fields[key] = value
    if "columnid" not in fields:
        column = _COLUMN_RE.search(url) or re.search(r"columnid\W{1,5}(\d+)", text, re.IGNORECASE)
        if column:
            fields["columnid"] = column.group(1)
    if "unitid" not in fields:
        unit = _UNIT_RE.search(text)
        if unit:
            fields["unitid"] = unit.group(1)
    return proxy, fields


def group_request(proxy: str, fields: dict[str, str], start: int, end: int, per: int) -> PageRequest:
    """Records ``start``…``end``: POST (the form real portals expect), else GET, else ``page=N``."""
    form = tuple((k, fields[k]) for k in FORM_FIELDS if k in fields)
    query = urlencode([("startrecord", start), ("endrecord", end), ("perpage", per), *form])
    page = (start - 1) // max(1, end - start + 1) + 1
    by_page = PageRequest(f"{proxy}?{urlencode([('page', page), *form])}")
    return PageRequest(f"{proxy}?{query}", "POST", form, fallback=PageRequest(f"{proxy}?{query}", fallback=by_page))


def _int(query: dict[str, str], key: str) -> int | None:
    value = query.get(key, "")
    return int(value) if value.isdigit() else None


def parse_listing(url: str, data: bytes) -> Listing:
    text = page_text(data)
    listing = Listing(items=_records(text, url))
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    total = _TOTAL_RE.search(text)
    listing.total = int(total.group(1)) if total else None
    if "dataproxy" not in parts.path:  # a column page: announce the groups it does not inline
        if not listing.items:
            listing.warnings.append("no <record> items in the column page's <datastore>")
        proxy, fields = _column(url, text)
        config = {key: int(m.group(1)) for key, rx in _CONFIG_RE.items() if (m := rx.search(text))}
        per = config.get("perPage", DEFAULT_PER_PAGE)
        group = per * config.get("groupSize", DEFAULT_GROUP)
        if "totalRecord" in config:
            listing.total = config["totalRecord"]
            for start in range(group + 1, listing.total + 1, group):
                listing.pages.append(group_request(proxy, fields, start, min(start + group - 1, listing.total), per))
        elif "columnid" in fields:  # no config: the first reply says how many there are
            listing.pages.append(group_request(proxy, fields, 1, group, per))
        return listing
    if not listing.items:
        return listing  # an empty recordset ends the list
    fields = {k: _decoded(v) for k, v in query.items() if k in FORM_FIELDS}
    proxy = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    start, end, per = _int(query, "startrecord"), _int(query, "endrecord"), _int(query, "perpage")
    if start == 1 and end and listing.total:  # the first reply: the groups after it
        size = end - start + 1
        for s in range(end + 1, listing.total + 1, size):
            listing.pages.append(group_request(proxy, fields, s, min(s + size - 1, listing.total), per or size))
    page = _int(query, "page")
    if page is not None and start is None:  # paging by page=N
        pages = _TOTAL_PAGES_RE.search(text)
        last = int(pages.group(1)) if pages else None
        if last is None or page < last:
            listing.pages.append(PageRequest(f"{proxy}?{urlencode([('page', page + 1), *fields.items()])}"))
    return listing


FAMILY = Family("hanweb", parse_listing)
