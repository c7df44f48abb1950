"""The polite, resilient HTTP fetcher (the only module that talks HTTP).

- per host: at most ``concurrency`` requests at once and ``delay_s`` between request starts;
- robots.txt honoured (Protego); a 4xx robots.txt allows everything, an unreachable one
  (5xx, network) allows nothing for the run;
- retries with exponential backoff and jitter (tenacity) on timeouts, connection errors,
  429 (honouring Retry-After) and 5xx;
- conditional GET with the ETag / Last-Modified of the previous fetch (304: the archived
  body is reused);
- a body-size cap; redirects followed only to allowed hosts; a clear User-Agent;
- every body goes to the raw archive; every request (or refusal) becomes a FetchRecord.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from gongkai import __version__
from gongkai.extract.archive import RawArchive

log = logging.getLogger(__name__)

USER_AGENT = f"gongkai/{__version__} (crawler for government information disclosure annual reports; honours robots.txt)"
ROBOTS_AGENT = "gongkai"
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Validators:
    """What the previous successful fetch of a URL returned."""

    etag: str | None
    last_modified: str | None
    sha256: str


@dataclass
class FetchRecord:
    url: str
    kind: str  # robots | list | report | attachment
    source_name: str | None
    final_url: str | None = None
    status_code: int | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    bytes: int = 0
    sha256: str | None = None
    attempts: int = 0
    error: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.sha256 is not None and self.error is None


class TransientHTTPError(Exception):
    """A response worth retrying (429, 5xx)."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class FetchRefused(Exception):
    """Not fetched on purpose: robots.txt, an off-site redirect, a body over the cap."""


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo or UTC)).total_seconds())


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    delay: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0


class Fetcher:
    """Fetch URLs politely into the raw archive. Use as ``async with Fetcher(...) as f``."""

    def __init__(
        self,
        archive: RawArchive,
        *,
        validators: dict[str, Validators] | None = None,
        timeout: float = 15.0,
        max_bytes: int = 30 * 1024 * 1024,
        attempts: int = 4,
        backoff: float = 0.5,
        backoff_max: float = 20.0,
        retry_after_max: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        on_record: Callable[[FetchRecord], None] | None = None,
    ) -> None:
        self.archive = archive
        self.validators = validators or {}
        self.max_bytes = max_bytes
        self.attempts = attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False, headers={"User-Agent": USER_AGENT},
            transport=transport,
        )
        self.hosts: dict[str, _Host] = {}
        self.robots: dict[str, Protego | None] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}
        self.records: list[FetchRecord] = []
        self.on_record = on_record

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    # -- politeness -----------------------------------------------------------------------------
    def configure_host(self, host: str, concurrency: int, delay: float) -> None:
        state = self.hosts.get(host)
        if state is None:
            self.hosts[host] = _Host(asyncio.Semaphore(max(1, concurrency)), max(0.0, delay))
        else:  # two sources on one host: the more polite settings win
            state.delay = max(state.delay, delay)

    def _host(self, url: str) -> _Host:
        host = urlsplit(url).netloc.lower()
        if host not in self.hosts:
            self.configure_host(host, 2, 1.0)
        return self.hosts[host]

    async def _wait_turn(self, state: _Host) -> None:
        async with state.lock:
            now = time.monotonic()
            wait = state.next_start - now
            state.next_start = max(now, state.next_start) + state.delay
        if wait > 0:
            await asyncio.sleep(wait)

    async def allowed(self, url: str, source_name: str | None) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self.robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self.robots:
                self.robots[origin] = await self._load_robots(origin, source_name)
        rules = self.robots[origin]
        return rules is not None and rules.can_fetch(url, ROBOTS_AGENT)

    async def _load_robots(self, origin: str, source_name: str | None) -> Protego | None:
        rec = await self._fetch(f"{origin}/robots.txt", "robots", source_name, check_robots=False)
        if rec.ok:  # 200, or 304 with the archived copy
            text = self.archive.get(rec.sha256).decode("utf-8", errors="replace")  # type: ignore[arg-type]
            return Protego.parse(text)
        if rec.status_code is not None and 400 <= rec.status_code < 500:
            return Protego.parse("")  # no robots.txt: everything allowed
        log.warning("robots.txt of %s unavailable (%s): nothing is fetched from it this run", origin,
                    rec.error or rec.status_code)
        return None

    # -- fetching ---------------------------------------------------------------------------------
    async def fetch(self, url: str, kind: str, source_name: str | None = None,
                    allowed_hosts: tuple[str, ...] | None = None) -> FetchRecord:
        """Fetch one URL (robots.txt permitting); never raises for HTTP or network trouble."""
        return await self._fetch(url, kind, source_name, allowed_hosts=allowed_hosts)

    async def _fetch(self, url: str, kind: str, source_name: str | None, *, check_robots: bool = True,
                     allowed_hosts: tuple[str, ...] | None = None) -> FetchRecord:
        rec = FetchRecord(url=url, kind=kind, source_name=source_name)
        started = time.monotonic()
        try:
            if check_robots and not await self.allowed(url, source_name):
                raise FetchRefused("disallowed by robots.txt")
            await self._fetch_with_retries(rec, allowed_hosts)
        except FetchRefused as exc:
            rec.error = f"refused: {exc}"
        except TransientHTTPError as exc:
            rec.status_code = exc.status
            rec.error = f"gave up after {rec.attempts} attempts: HTTP {exc.status}"
        except httpx.HTTPError as exc:
            rec.error = f"gave up after {rec.attempts} attempts: {type(exc).__name__}: {exc}"
        rec.elapsed_ms = (time.monotonic() - started) * 1000
        if rec.error:
            log.info("%s %s: %s", kind, url, rec.error)
        self.records.append(rec)
        if self.on_record is not None:
            self.on_record(rec)
        return rec

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientHTTPError) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_after_max)
        return wait_exponential_jitter(multiplier=self.backoff, max=self.backoff_max, jitter=self.backoff)(state)

    async def _fetch_with_retries(self, rec: FetchRecord, allowed_hosts: tuple[str, ...] | None) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            retry=retry_if_exception_type((TransientHTTPError, httpx.TimeoutException, httpx.TransportError)),
            wait=self._wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                rec.attempts += 1
                await self._fetch_once(rec, allowed_hosts)

    async def _fetch_once(self, rec: FetchRecord, allowed_hosts: tuple[str, ...] | None) -> None:
        url = rec.url
        for _ in range(MAX_REDIRECTS + 1):
            state = self._host(url)
            headers = {}
            previous = self.validators.get(url)
            if previous is not None and self.archive.has(previous.sha256):
                if previous.etag:
                    headers["If-None-Match"] = previous.etag
                if previous.last_modified:
                    headers["If-Modified-Since"] = previous.last_modified
            async with state.semaphore:
                await self._wait_turn(state)
                async with self.client.stream("GET", url, headers=headers) as resp:
                    if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                        target = urljoin(url, resp.headers["location"])
                        host = (urlsplit(target).hostname or "").lower()
                        if allowed_hosts is not None and host not in allowed_hosts:
                            raise FetchRefused(f"redirect to off-site host {host} ({target})")
                        if rec.kind != "robots" and not await self.allowed(target, rec.source_name):
                            raise FetchRefused(f"redirect target disallowed by robots.txt ({target})")
                        url = target
                        continue
                    rec.final_url = url
                    rec.status_code = resp.status_code
                    if resp.status_code == 429 or resp.status_code >= 500:
                        raise TransientHTTPError(resp.status_code, parse_retry_after(resp.headers.get("retry-after")))
                    rec.etag = resp.headers.get("etag")
                    rec.last_modified = resp.headers.get("last-modified")
                    rec.content_type = resp.headers.get("content-type")
                    if resp.status_code == 304 and previous is not None:
                        rec.not_modified = True
                        rec.sha256 = previous.sha256
                        rec.etag = rec.etag or previous.etag
                        rec.last_modified = rec.last_modified or previous.last_modified
                        return
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > self.max_bytes:
                        raise FetchRefused(f"body of {declared} bytes exceeds the cap of {self.max_bytes}")
                    chunks = []
                    size = 0
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise FetchRefused(f"body exceeds the cap of {self.max_bytes} bytes")
                        chunks.append(chunk)
                    body = b"".join(chunks)
                    rec.bytes = size
                    if resp.status_code != 200:
                        rec.error = f"HTTP {resp.status_code}"
                        return
                    rec.sha256 = self.archive.put(body)
                    return
        raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")
