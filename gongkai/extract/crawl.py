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


OnFound = Callable[[FoundReport], None]


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
                       progress: Callable[[str], None] | None = None, on_found: OnFound | None = None) -> None:
    """List pages level by level (each level fetched concurrently); every report is fetched
    as soon as it is discovered, while the listing goes on."""
    family = FAMILIES[source.family]
    for url in source.start_urls:
        fetcher.configure_host(urlsplit(url).netloc.lower(), source.concurrency, source.delay_s)
    prefixes = [_prefix(u) for u in source.start_urls]
    seen: set[str] = set()
    wanted: set[str] = set()
    fetches: list[asyncio.Task[None]] = []
    n_reports = n_files = 0

    async def fetch_report(link: Link, is_file: bool) -> None:
        rec = await fetcher.fetch(link.url, "attachment" if is_file else "report", source.name, source.allowed_hosts)
        found = FoundReport(source, link, rec, is_file)
        result.reports.append(found)
        if on_found is not None:
            on_found(found)  # e.g. start parsing while the crawl goes on
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

    async def list_page(url: str) -> list[str]:
        rec = await fetcher.fetch(url, "list", source.name, source.allowed_hosts)
        result.list_pages += 1
        if not rec.ok:
            result.errors.append(f"{source.name}: list page {url}: {rec.error}")
            return []
        nonlocal n_reports, n_files
        listing = family.parse_listing(rec.final_url or url, fetcher.archive.get(rec.sha256 or ""))
        for link in listing.reports + listing.attachments:
            if link.url in wanted or not source.allows_host(link.url):
                continue
            if not source.wants_year(link.year):
                result.skipped_years += 1
                continue
            wanted.add(link.url)
            is_file = link in listing.attachments
            n_files += is_file
            n_reports += not is_file
            fetches.append(asyncio.create_task(fetch_report(link, is_file)))
        pages = []
        for page in listing.pages:
            if page in seen or not source.allows_host(page):
                continue
            if family.name == "generic" and not _under(page, prefixes):
                continue
            pages.append(page)
        return pages

    level = list(dict.fromkeys(source.start_urls))
    while level:
        level = level[: max(0, source.max_pages - len(seen))]
        seen.update(level)
        found_pages = await asyncio.gather(*(list_page(u) for u in level))
        level = list(dict.fromkeys(p for pages in found_pages for p in pages if p not in seen))
    if progress:
        progress(f"{source.name}: {len(seen)} list page(s), {n_reports} report(s), {n_files} file(s)")
    await asyncio.gather(*fetches)


async def crawl(sources: list[Source], fetcher: Fetcher, progress: Callable[[str], None] | None = None,
                on_found: OnFound | None = None) -> CrawlResult:
    result = CrawlResult()
    await asyncio.gather(*(crawl_source(s, fetcher, result, progress, on_found) for s in sources if s.enabled))
    return result
