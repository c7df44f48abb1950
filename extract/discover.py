"""Find a portal's annual-report columns: from its home page or 政府信息公开 page, walk the same
host (robots.txt honoured, the fetcher's politeness, at most ``max_depth`` links deep and
``max_pages`` pages) to the columns whose names or addresses read like the report column
(年报, 年度报告, zfxxgknb, gknb, annualreport …, department and township sub-columns too),
tell each one's portal family, and count the reports and years it lists.

>>> columns = asyncio.run(discover("https://www.xx.gov.cn/", fetcher))  # doctest: +SKIP
>>> print(columns[0].toml("xx-nb"))                                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from gongkai.extract.crawl import fetch_listing
from gongkai.extract.families import FAMILIES
from gongkai.extract.families.base import link_title, soup_of
from gongkai.extract.http import Fetcher
from gongkai.extract.urls import dedup_key, host_of, strip_fragment

log = logging.getLogger(__name__)

_COLUMN_TEXT_RE = re.compile(r"(?:政府信息公开|政务公开|信息公开)?(?:工作)?(?:年度报告|年报)$|^年报$|公开年报")
_COLUMN_URL_RE = re.compile(r"(?:zfxxgknb|xxgknb|gknb|zwgknb|annualreport|ndbg|nianbao)", re.IGNORECASE)
_TOWARDS_RE = re.compile(r"信息公开|政务公开|公开目录|部门|乡镇|街道|xxgk|zwgk|gkml|zfxxgk", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?:19|20)\d{2}")


@dataclass
class Column:
    """A list page that reads like an annual-report column."""

    url: str
    name: str
    family: str = "generic"
    reports: int = 0
    years: list[int] = field(default_factory=list)
    note: str = ""

    def toml(self, slug: str) -> str:
        years = f"  # {min(self.years)}–{max(self.years)}" if self.years else ""
        lines = ["[[source]]", f'name = "{slug}"', f'family = "{self.family}"', f'start_urls = ["{self.url}"]',
                 f"# {self.name}: {self.reports} report(s) on its first page{years}"]
        if self.note:
            lines.append(f"# {self.note}")
        return "\n".join(lines) + "\n"


def family_of(url: str, data: bytes) -> str:
    """The portal family a list page belongs to, from its address and its markup."""
    head = data[:400_000]
    if b"window._CONFIG" in head or "/gkmlpt/" in url:
        return "gkmlpt"
    if b"<datastore" in head or b"dataproxy.jsp" in head or b"/module/jslib/jquery/jpage" in head:
        return "hanweb"
    if b"createPageHTML" in head or b"countPage" in head or b"chnldocurl" in head:
        return "trs"
    if "a=path" in urlsplit(url).query:
        return "jhtml"
    return "generic"


def is_column_link(text: str, url: str) -> bool:
    """A link to the report column (not to one report: a column name carries no year)."""
    name = "".join(text.split())
    if _YEAR_RE.search(name):
        return False
    return bool(_COLUMN_TEXT_RE.search(name) or _COLUMN_URL_RE.search(urlsplit(url).path))


async def discover(start: str, fetcher: Fetcher, *, max_depth: int = 3, max_pages: int = 60,
                   progress: Callable[[str], None] | None = None) -> list[Column]:
    """Walk ``start``'s host breadth-first (links towards 信息公开 first) and return the
    report columns found, each with its family and what its first page lists."""
    host = host_of(start)
    allowed = (host,)
    seen: set[str] = {dedup_key(start)}
    level: list[tuple[str, str]] = [(strip_fragment(start), "")]
    columns: dict[str, Column] = {}
    fetched = 0
    for depth in range(max_depth + 1):
        following: list[tuple[int, str, str]] = []
        for url, name in level:
            if fetched >= max_pages:
                break
            rec = await fetcher.fetch(url, "list", None, allowed)
            fetched += 1
            if not rec.ok:
                log.info("discover: %s: %s", url, rec.error)
                continue
            data = fetcher.archive.get(rec.sha256 or "")
            page_url = rec.final_url or url
            if name and is_column_link(name, page_url):
                columns[dedup_key(page_url)] = await _column(page_url, name, data, fetcher, allowed)
                continue
            try:
                root = soup_of(data)
            except Exception:  # noqa: BLE001 - not a page: nothing to follow
                continue
            for a in root.select("a[href]"):
                href = (a.get("href") or "").strip()
                if not href or href.startswith(("javascript:", "mailto:", "#")):
                    continue
                target = strip_fragment(urljoin(page_url, href))
                key = dedup_key(target)
                if key in seen or host_of(target) != host:
                    continue
                seen.add(key)
                text = link_title(a)
                if is_column_link(text, target):
                    following.append((0, target, text))
                elif depth < max_depth and _TOWARDS_RE.search(text + " " + urlsplit(target).path):
                    following.append((1, target, text))
        if progress:
            progress(f"discover: depth {depth}, {fetched} page(s) read, {len(columns)} column(s) found")
        following.sort(key=lambda t: t[0])  # report columns first, then the way towards them
        level = [(u, n) for _, u, n in following]
        if not level or fetched >= max_pages:
            break
    return sorted(columns.values(), key=lambda c: c.url)


async def _column(url: str, name: str, data: bytes, fetcher: Fetcher, allowed: tuple[str, ...]) -> Column:
    family = family_of(url, data)
    column = Column(url, " ".join(name.split()), family)
    try:
        listing = FAMILIES[family].parse_listing(url, data)
        if not listing.reports and not listing.attachments and listing.pages:
            # a shell whose list comes from its first announced page (gkmlpt's API, a Hanweb proxy)
            more = (await fetch_listing(fetcher, FAMILIES[family], listing.pages[0], None, allowed)).listing
            if more is not None:
                listing.items.extend(more.items)
                listing.total = listing.total if listing.total is not None else more.total
    except Exception as exc:  # noqa: BLE001 - reported beside the column
        column.note = f"its first page could not be read as a {family} list: {exc}"
        return column
    column.reports = len(listing.reports) + len(listing.attachments)
    column.years = sorted({y for link in listing.reports if (y := link.year)})
    if listing.total is not None and listing.total > column.reports:
        column.note = f"the column says it holds {listing.total} records in all"
    elif listing.pages:
        column.note = f"{len(listing.pages)} further list page(s) announced"
    return column
