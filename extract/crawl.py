"""Discover and fetch the reports of the sources: list pages → report pages → attachments.

List pages found by a family's own rules (Hanweb's dataproxy, gkmlpt's API, TRS's page
count) are followed as given; pagination links a generic page merely contains are followed
only under the start URL's path. Everything stays inside the source's allowed hosts, and
links that leave them are counted, not fetched.

A page that fails (a network error, a listing that cannot be read, a body that is not what it
claims) is recorded with its reason and the crawl goes on: nothing here raises for one page.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from gongkai.extract.families import FAMILIES
from gongkai.extract.families.base import Family, Link, Listing, PageRequest, soup_of
from gongkai.extract.pagemeta import attachments_of
from gongkai.extract.http import Fetcher, FetchRecord
from gongkai.extract.sources import Source
from gongkai.extract.urls import dedup_key, host_of

log = logging.getLogger(__name__)

_REFRESH_RE = re.compile(r"^\s*\d*\s*[;,]?\s*url\s*=\s*['\"]?([^'\"]+)", re.IGNORECASE)


@dataclass
class FoundReport:
    source: Source
    link: Link
    record: FetchRecord  # the fetch of the report page (or file)
    is_file: bool = False  # published as an attachment only (PDF/DOC…)
    attachments: list[FetchRecord] = field(default_factory=list)  # files the report page links or embeds

    @property
    def url(self) -> str:
        return self.record.final_url or self.link.url


OnFound = Callable[[FoundReport], None]


@dataclass
class SourceResult:
    """What crawling one source gave: the operator's view of that portal in this run."""

    source: str
    list_pages: int = 0
    list_pages_failed: int = 0
    max_pages_reached: bool = False
    reports: list[FoundReport] = field(default_factory=list)
    attachments: int = 0  # attachment files fetched and archived
    attachments_failed: int = 0
    dropped_offsite: int = 0  # links leaving the allowed hosts (not fetched)
    skipped_years: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what the family's selectors missed
    failures: Counter[str] = field(default_factory=Counter)  # reason → count
    years: set[int] = field(default_factory=set)
    crashed: str | None = None  # a source-level failure (the source's task failed)

    @property
    def reports_found(self) -> int:
        return len(self.reports)


@dataclass
class CrawlResult:
    sources: dict[str, SourceResult] = field(default_factory=dict)
    deadline_reached: bool = False

    @property
    def reports(self) -> list[FoundReport]:
        return [f for s in self.sources.values() for f in s.reports]

    @property
    def list_pages(self) -> int:
        return sum(s.list_pages for s in self.sources.values())

    @property
    def attachments(self) -> int:
        return sum(s.attachments for s in self.sources.values())


def _under(url: str, prefixes: list[str]) -> bool:
    return any(url.startswith(p) for p in prefixes)


def _prefix(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rsplit("/", 1)[0] + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def reason_of(error: str) -> str:
    """Group errors by kind for summaries (not by URL)."""
    for key in ("robots.txt", "off-site", "exceeds the cap", "deadline", "host skipped", "private address",
                "loopback address", "redirect loop", "redirects", "HTTP 404", "HTTP 403", "HTTP 410", "HTTP 5",
                "HTTP 429", "Timeout", "ConnectError", "RemoteProtocolError", "ReadError", "bad response",
                "bad URL", "listing", "internal error"):
        if key in error:
            return key
    return error.split(":")[0][:60]


def meta_refresh(url: str, data: bytes) -> str | None:
    """The target of a ``<meta http-equiv="refresh" content="0; url=…">`` on a page, if any."""
    if b"refresh" not in data[:20000].lower():
        return None
    try:
        root = soup_of(data[:200000])
    except Exception:  # noqa: BLE001 - not HTML: no refresh
        return None
    for meta in root.select("meta[http-equiv]"):
        if (meta.get("http-equiv") or "").strip().lower() == "refresh":
            m = _REFRESH_RE.match(meta.get("content") or "")
            if m:
                return urljoin(url, m.group(1).strip())
    return None


@dataclass
class ListingFetch:
    """A list page as fetched and read: the form of the request that answered, its record, the
    page's URL and bytes, the listing (None when it could not be read) and why not."""

    request: PageRequest
    record: FetchRecord
    url: str
    data: bytes = b""
    listing: Listing | None = None
    error: str = ""


async def fetch_listing(fetcher: Fetcher, family: Family, request: PageRequest, source_name: str | None,
                        allowed_hosts: tuple[str, ...] | None) -> ListingFetch:
    """Fetch and read one list page; while the answer lists nothing usable, try the request's
    next form (Hanweb's proxy: POST, then GET, then page=N)."""
    while True:
        rec = await fetcher.fetch(request.url, "list", source_name, allowed_hosts, method=request.method,
                                  form=request.form)
        got = ListingFetch(request, rec, rec.final_url or request.url)
        if rec.ok:
            try:
                got.data = fetcher.archive.get(rec.sha256 or "")
                got.listing = family.parse_listing(got.url, got.data)
            except Exception as exc:  # noqa: BLE001 - a listing that cannot be read is that page's failure
                got.error = f"listing could not be read: {type(exc).__name__}: {exc}"
        else:
            got.error = rec.error or "not fetched"
        listing = got.listing
        usable = listing is not None and (listing.items or listing.pages or listing.total is not None)
        if usable or request.fallback is None:  # else the portal answers another form of the request
            return got
        request = request.fallback


class SharedState:
    """State shared by all sources of one crawl: files fetched once per run."""

    def __init__(self) -> None:
        self.files: dict[str, asyncio.Task[FetchRecord]] = {}


async def crawl_source(source: Source, fetcher: Fetcher, *, on_found: OnFound | None = None,
                       progress: Callable[[str], None] | None = None, run: SharedState | None = None,
                       result: SourceResult | None = None) -> SourceResult:
    """List pages level by level (each level fetched concurrently); every report is fetched
    as soon as it is discovered, while the listing goes on. ``result`` (filled as the crawl
    goes) keeps what was found if the crawl is cut short."""
    run = run or SharedState()
    result = result if result is not None else SourceResult(source.name)
    family = FAMILIES[source.family]
    for url in source.start_urls:
        fetcher.configure_host(host_of(url), source.concurrency, source.delay_s)
    if source.allow_private:
        fetcher.policy.allow_private(source.allowed_hosts)
    prefixes = [_prefix(u) for u in source.start_urls]
    seen: set[str] = set()
    wanted: set[str] = set()
    fetches: list[asyncio.Task[None]] = []

    def failed(what: str, error: str) -> None:
        result.errors.append(f"{source.name}: {what}: {error}")
        result.failures[reason_of(error)] += 1

    async def fetch_file(url: str) -> FetchRecord:
        key = dedup_key(url)
        task = run.files.get(key)
        if task is None:  # an attachment two pages (or two sources) link is fetched once
            task = run.files[key] = asyncio.ensure_future(
                fetcher.fetch(url, "attachment", source.name, source.allowed_hosts))
        return await task

    async def fetch_report(link: Link, is_file: bool) -> None:
        try:
            if is_file:
                rec = await fetch_file(link.url)
            else:
                rec = await fetcher.fetch(link.url, "report", source.name, source.allowed_hosts)
                if rec.ok:
                    target = meta_refresh(rec.final_url or link.url, fetcher.archive.get(rec.sha256 or ""))
                    if target and source.allows_host(target) and dedup_key(target) != dedup_key(link.url):
                        rec = await fetcher.fetch(target, "report", source.name, source.allowed_hosts)
            found = FoundReport(source, link, rec, is_file)
            if rec.ok and not is_file:
                for att in attachments_of(found.url, fetcher.archive.get(rec.sha256 or "")):
                    if not source.allows_host(att):
                        result.dropped_offsite += 1
                        continue
                    a = await fetch_file(att)
                    found.attachments.append(a)
                    if a.ok:
                        result.attachments += 1
                    else:
                        result.attachments_failed += 1
                        failed(f"attachment {att}", a.error or "not fetched")
            result.reports.append(found)
            if link.year:
                result.years.add(link.year)
            if not rec.ok:
                failed(link.url, rec.error or "not fetched")
            if on_found is not None:
                on_found(found)  # e.g. start parsing while the crawl goes on
        except Exception as exc:  # noqa: BLE001 - one bad report never ends the run
            log.exception("%s: report %s", source.name, link.url)
            failed(link.url, f"internal error: {type(exc).__name__}: {exc}")

    def accept(link: Link, is_file: bool) -> None:
        key = dedup_key(link.url)
        if key in wanted:
            return
        if not source.allows_host(link.url):
            result.dropped_offsite += 1
            return
        if not source.wants_year(link.year):
            result.skipped_years += 1
            return
        wanted.add(key)
        fetches.append(asyncio.ensure_future(fetch_report(link, is_file)))

    def page_key(request: PageRequest) -> str:
        return dedup_key(request.url) + (request.key[len(request.url):] if request.method == "POST" else "")

    async def list_page(request: PageRequest) -> list[PageRequest]:
        got = await fetch_listing(fetcher, family, request, source.name, source.allowed_hosts)
        result.list_pages += 1
        listing, page_url, data = got.listing, got.url, got.data
        if listing is None:
            result.list_pages_failed += 1
            failed(f"list page {got.request.url}", got.error)
            return []
        for warning in listing.warnings:
            if warning not in result.warnings:
                result.warnings.append(warning)
        for link in listing.reports:
            accept(link, False)
        for link in listing.attachments:
            accept(link, True)
        pages: list[PageRequest] = []
        refresh = meta_refresh(page_url, data) if not listing.items else None
        for page in [*listing.pages, *([PageRequest(refresh)] if refresh else [])]:
            if page_key(page) in seen:
                continue
            if not source.allows_host(page.url):
                result.dropped_offsite += 1
                continue
            if family.name == "generic" and not _under(page.url, prefixes) and page.url != refresh:
                continue
            pages.append(page)
        return pages

    try:
        level = [PageRequest(u) for u in dict.fromkeys(source.start_urls)]
        while level:
            room = max(0, source.max_pages - len(seen))
            if len(level) > room:
                result.max_pages_reached = True
                level = level[:room]
            if not level:
                break
            seen.update(page_key(p) for p in level)
            found_pages = await asyncio.gather(*(list_page(p) for p in level))
            level = list({page_key(p): p for pages in found_pages for p in pages if page_key(p) not in seen}.values())
        if result.max_pages_reached:
            log.warning("%s: stopped at max_pages = %d list pages", source.name, source.max_pages)
        if progress:
            progress(f"{source.name}: {result.list_pages} list page(s), {len(fetches)} report(s) to fetch")
        await asyncio.gather(*fetches)
    except BaseException:
        for task in fetches:  # cut short (the run's deadline): no fetch outlives its source
            task.cancel()
        raise
    return result


EachSource = Callable[[Source, SourceResult], Awaitable[object]]


async def crawl(sources: list[Source], fetcher: Fetcher, progress: Callable[[str], None] | None = None,
                on_found: OnFound | None = None, deadline: float | None = None,
                each: EachSource | None = None) -> CrawlResult:
    """Crawl every enabled source at once; a source that fails is reported, the others go on.
    ``deadline`` (seconds) ends a stuck run with what it has. ``each(source, result)`` crawls one
    source into ``result`` (default: :func:`crawl_source`; the Prefect flow wraps it in a task)."""
    result = CrawlResult()
    run = SharedState()
    enabled = [s for s in sources if s.enabled]

    async def default(source: Source, mine: SourceResult) -> None:
        await crawl_source(source, fetcher, on_found=on_found, progress=progress, run=run, result=mine)

    async def one(source: Source) -> None:
        mine = result.sources[source.name] = SourceResult(source.name)
        try:
            await (each or default)(source, mine)
        except asyncio.CancelledError:
            mine.crashed = mine.crashed or "not finished before the run's deadline"
            raise
        except Exception as exc:  # noqa: BLE001 - one broken source never stops the others
            log.warning("source %s failed: %s", source.name, exc)
            mine.crashed = mine.crashed or f"{type(exc).__name__}: {exc}"

    tasks = [asyncio.ensure_future(one(s)) for s in enabled]
    try:
        async with asyncio.timeout(deadline):
            await asyncio.gather(*tasks)
    except TimeoutError:
        result.deadline_reached = True
        log.warning("the run's deadline of %s s was reached: ending with what was fetched", deadline)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return result


def source_failure(result: SourceResult) -> str | None:
    """Why a source as a whole failed (not one page of it): nothing to retry page by page."""
    if result.crashed:
        return result.crashed
    if result.list_pages and result.list_pages_failed == result.list_pages:
        first = next((e for e in result.errors if "list page" in e), "")
        return f"no list page could be read ({first.split(': ', 1)[-1]})" if first else "no list page could be read"
    return None
