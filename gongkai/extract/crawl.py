"""Discover and fetch the reports of the sources: list pages → report pages → attachments.

List pages found by a family's own rules (Hanweb's dataproxy, gkmlpt's API, TRS's page
count) are followed as given; pagination links a generic page merely contains are followed
only under the start URL's path. Everything stays inside the source's allowed hosts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gongkai.extract.families import FAMILIES
from gongkai.extract.families.base import Link, attachments_of
from gongkai.extract.http import Fetcher, FetchRecord
from gongkai.extract.sources import Source

log = logging.getLogger(__name__)


@dataclass
class FoundReport:
    source: Source
    link: Link
    record: FetchRecord  # the fetch of the report page (or file)
    is_file: bool = False  # published as an attachment only (PDF/DOC…): archived, parsed later


@dataclass
class CrawlResult:
    reports: list[FoundReport] = field(default_factory=list)
    list_pages: int = 0
    attachments: int = 0
    skipped_years: int = 0
    errors: list[str] = field(default_factory=list)


def _under(url: str, prefixes: list[str]) -> bool:
    return any(url.startswith(p) for p in prefixes)


def _prefix(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rsplit("/", 1)[0] + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


async def crawl_source(source: Source, fetcher: Fetcher, result: CrawlResult,
                       progress: Callable[[str], None] | None = None) -> None:
    family = FAMILIES[source.family]
    for url in source.start_urls:
        fetcher.configure_host(urlsplit(url).netloc.lower(), source.concurrency, source.delay_s)
    queue = list(source.start_urls)
    vouched = set(queue)
    prefixes = [_prefix(u) for u in source.start_urls]
    seen: set[str] = set()
    links: dict[str, Link] = {}
    files: dict[str, Link] = {}
    while queue and len(seen) < source.max_pages:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        rec = await fetcher.fetch(url, "list", source.name, source.allowed_hosts)
        result.list_pages += 1
        if not rec.ok:
            result.errors.append(f"{source.name}: list page {url}: {rec.error}")
            continue
        listing = family.parse_listing(rec.final_url or url, fetcher.archive.get(rec.sha256 or ""))
        for page in listing.pages:
            if page in seen or not source.allows_host(page):
                continue
            if family.name == "generic" and not _under(page, prefixes) and page not in vouched:
                continue
            vouched.add(page)
            queue.append(page)
        for link in listing.reports + listing.attachments:
            if not source.allows_host(link.url):
                continue
            if not source.wants_year(link.year):
                result.skipped_years += 1
                continue
            target = files if link in listing.attachments else links
            target.setdefault(link.url, link)
    if progress:
        progress(f"{source.name}: {len(seen)} list page(s), {len(links)} report(s), {len(files)} file(s)")

    async def fetch_report(link: Link, is_file: bool) -> None:
        rec = await fetcher.fetch(link.url, "attachment" if is_file else "report", source.name, source.allowed_hosts)
        result.reports.append(FoundReport(source, link, rec, is_file))
        if not rec.ok:
            result.errors.append(f"{source.name}: {link.url}: {rec.error}")
            return
        if not is_file:
            for att in attachments_of(rec.final_url or link.url, fetcher.archive.get(rec.sha256 or "")):
                if source.allows_host(att):
                    a = await fetcher.fetch(att, "attachment", source.name, source.allowed_hosts)
                    result.attachments += 1
                    if not a.ok:
                        result.errors.append(f"{source.name}: attachment {att}: {a.error}")

    await asyncio.gather(*(fetch_report(link, False) for link in links.values()),
                         *(fetch_report(link, True) for link in files.values()))


async def crawl(sources: list[Source], fetcher: Fetcher, progress: Callable[[str], None] | None = None) -> CrawlResult:
    result = CrawlResult()
    await asyncio.gather(*(crawl_source(s, fetcher, result, progress) for s in sources if s.enabled))
    return result
