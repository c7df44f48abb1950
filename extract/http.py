"""The polite, resilient HTTP fetcher (the only module that talks HTTP).

- politeness per host (extract/politeness.py): one queue per host with the strictest delay
  and smallest concurrency of the sources using it, ``Crawl-delay`` honoured, a global limit,
  429/503 pushing the whole host back (then skipping it for the run);
- connections only to public addresses unless a source opts in (extract/netguard.py);
- robots.txt honoured (Protego): a 4xx robots.txt allows everything; one that cannot be read
  (429, 5xx, network or certificate trouble) allows nothing for the run, and says why;
- retries with exponential backoff and jitter on timeouts, connection errors and 5xx;
- every request has a total deadline (a server trickling bytes cannot hold it), the body a
  size cap on the wire and after decompression (no gzip bombs);
- redirects are new requests (the slot and the response are released first), each hop
  checked against the allowed hosts, the address rules and robots.txt; loops are refused;
- conditional GET with the validators of the previous fetch of that very URL, sent only when
  the archived copy is there and intact; a 304 is accepted only as the answer to one;
- every body goes to the raw archive and its index; every request (or refusal) becomes a
  :class:`FetchRecord`. :meth:`Fetcher.fetch` never raises.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx
from protego import Protego

from gongkai import __version__
from gongkai.extract.archive import IndexEntry, RawArchive
from gongkai.extract.netguard import AddressPolicy, BlockedAddress, GuardedBackend
from gongkai.extract.politeness import HostScheduler, HostSkipped
from gongkai.extract.urls import BadURL, dedup_key, origin_of, split_checked, strip_fragment

log = logging.getLogger(__name__)

USER_AGENT = f"gongkai/{__version__} (crawler for government information disclosure annual reports; honours robots.txt)"
ROBOTS_AGENT = "gongkai"
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class FetchOptions:
    """How the fetcher behaves (the crawl's ``--timeout`` sets ``timeout``)."""

    timeout: float = 15.0  # per network operation (connect, read)
    attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 20.0
    retry_after_max: float = 60.0
    max_bytes: int = 30 * 1024 * 1024  # body cap, on the wire and decompressed
    deadline: float | None = None  # whole request, body included (default: 4 × timeout, at least 10 s)
    global_limit: int = 32  # requests in flight across all hosts
    max_strikes: int = 5  # busy answers in a row before a host is skipped for the run
    ca_bundle: str | None = None  # a CA file to trust (e.g. a test's self-signed certificate)

    @property
    def request_deadline(self) -> float:
        return self.deadline if self.deadline is not None else max(10.0, 4 * self.timeout)


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
    method: str = "GET"
    form: tuple[tuple[str, str], ...] = ()
    final_url: str | None = None
    status_code: int | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    bytes: int = 0  # body bytes after decompression
    wire_bytes: int = 0  # body bytes as transferred
    sha256: str | None = None
    attempts: int = 0
    error: str | None = None
    note: str | None = None  # something worth knowing that is not an error
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.sha256 is not None and self.error is None


@dataclass
class RobotsState:
    rules: Protego | None
    status: str  # fetched | none | unreachable
    reason: str | None = None
    crawl_delay: float | None = None


class FetchRefused(Exception):
    """Not fetched on purpose: robots.txt, an off-site host, a private address, a body over the cap."""


class BadResponse(Exception):
    """An answer that cannot be used and is not worth asking again for (e.g. an unsolicited 304)."""


class _Busy(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _ServerError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class _Redirect:
    location: str
    status: int


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date, any zone)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" or no zone: the HTTP date is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _Decoder:
    """Content-Encoding decoding with a cap on the decompressed size."""

    def __init__(self, encoding: str | None) -> None:
        enc = (encoding or "").strip().lower()
        self.z: zlib._Decompress | None = None  # type: ignore[name-defined]
        self.deflate = enc == "deflate"
        if enc in ("", "identity"):
            return
        if enc in ("gzip", "x-gzip"):
            self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.deflate:
            self.z = zlib.decompressobj()
        else:
            raise BadResponse(f"unsupported Content-Encoding {enc!r}")
        self.started = False

    def feed(self, data: bytes, room: int) -> bytes:
        if self.z is None:
            return data
        try:
            out = self.z.decompress(data, room + 1)
        except zlib.error as exc:
            if self.deflate and not self.started:  # raw deflate without the zlib header
                self.z = zlib.decompressobj(-zlib.MAX_WBITS)
                self.started = True
                return self.feed(data, room)
            raise BadResponse(f"the {('deflate' if self.deflate else 'gzip')} body is corrupt: {exc}") from exc
        self.started = True
        if len(out) > room or self.z.unconsumed_tail:
            raise FetchRefused("decompressed body exceeds the cap (a compression bomb?)")
        return out


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _Busy | _ServerError):
        return str(exc)
    text = str(exc) or exc.__class__.__doc__ or ""
    return f"{type(exc).__name__}: {text.strip().splitlines()[0] if text.strip() else ''}".rstrip(": ")


class Fetcher:
    """Fetch URLs politely into the raw archive. Use as ``async with Fetcher(...) as f``."""

    def __init__(
        self,
        archive: RawArchive,
        options: FetchOptions | None = None,
        *,
        validators: dict[str, Validators] | None = None,
        policy: AddressPolicy | None = None,
        on_record: Callable[[FetchRecord], None] | None = None,
        **overrides: object,
    ) -> None:
        opts = options or FetchOptions()
        if overrides:
            opts = FetchOptions(**{**opts.__dict__, **overrides})  # type: ignore[arg-type]
        self.options = opts
        self.archive = archive
        self.validators = validators or {}
        self.policy = policy or AddressPolicy()
        self.scheduler = HostScheduler(opts.global_limit, backoff_base=max(opts.backoff, 0.05),
                                       backoff_cap=opts.retry_after_max, max_strikes=opts.max_strikes)
        verify: ssl.SSLContext | bool = True
        if opts.ca_bundle:
            verify = ssl.create_default_context(cafile=opts.ca_bundle)
        limits = httpx.Limits(max_connections=opts.global_limit + 8, max_keepalive_connections=opts.global_limit)
        transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
        transport._pool._network_backend = GuardedBackend(self.policy)  # every connection is checked
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(opts.timeout, pool=None),  # waiting for a pooled connection is not the portal's fault
            follow_redirects=False, transport=transport, trust_env=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        )
        self.robots: dict[str, RobotsState] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self.records: list[FetchRecord] = []
        self.on_record = on_record
        self._index: list[IndexEntry] = []

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        self.flush_index()

    # -- configuration ----------------------------------------------------------------------------
    def configure_host(self, host: str, concurrency: int, delay: float) -> None:
        self.scheduler.configure(host, concurrency=concurrency, delay=delay)

    def flush_index(self) -> None:
        """Write the archive index entries of the bodies fetched so far."""
        entries, self._index = self._index, []
        self.archive.record(entries)

    # -- robots.txt -------------------------------------------------------------------------------
    async def robots_refusal(self, url: str, source_name: str | None,
                             allowed_hosts: tuple[str, ...] | None = None) -> str | None:
        """Why robots.txt forbids ``url`` (None when it may be fetched)."""
        origin = origin_of(url)
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self.robots:
                self.robots[origin] = await self._load_robots(origin, source_name, allowed_hosts)
        state = self.robots[origin]
        if state.rules is None:
            return f"robots.txt of {origin} unreachable ({state.reason}): nothing is fetched from it this run"
        if not state.rules.can_fetch(url, ROBOTS_AGENT):
            return "disallowed by robots.txt"
        return None

    async def _load_robots(self, origin: str, source_name: str | None,
                           allowed_hosts: tuple[str, ...] | None) -> RobotsState:
        rec = await self.fetch(f"{origin}/robots.txt", "robots", source_name, allowed_hosts)
        if rec.ok:  # 200, or 304 with the archived copy
            text = self.archive.get(rec.sha256 or "").decode("utf-8", errors="replace")
            rules = Protego.parse(text)
            applied = self.scheduler.crawl_delay(split_checked(origin)[1], rules.crawl_delay(ROBOTS_AGENT))
            return RobotsState(rules, "fetched", crawl_delay=applied)
        if rec.status_code is not None and 400 <= rec.status_code < 500 and rec.status_code != 429:
            return RobotsState(Protego.parse(""), "none", f"HTTP {rec.status_code}")  # no robots.txt: all allowed
        reason = rec.error or f"HTTP {rec.status_code}"
        log.warning("robots.txt of %s unreachable (%s): nothing is fetched from it this run", origin, reason)
        return RobotsState(None, "unreachable", reason)

    # -- fetching ---------------------------------------------------------------------------------
    async def fetch(self, url: str, kind: str, source_name: str | None = None,
                    allowed_hosts: tuple[str, ...] | None = None, *, method: str = "GET",
                    form: tuple[tuple[str, str], ...] = ()) -> FetchRecord:
        """Fetch one URL (robots.txt permitting; ``method="POST"`` sends ``form``); never raises."""
        rec = FetchRecord(url=strip_fragment(url), kind=kind, source_name=source_name, method=method, form=form)
        started = time.monotonic()
        try:
            await self._follow(rec, allowed_hosts)
        except (FetchRefused, BadURL, BlockedAddress) as exc:
            rec.error = f"refused: {exc}"
        except HostSkipped as exc:
            rec.error = f"host skipped: {exc}"
        except BadResponse as exc:
            rec.error = f"bad response: {exc}"
        except _GaveUp as exc:
            rec.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad page never ends the run
            log.exception("fetching %s failed unexpectedly", url)
            rec.error = f"internal error: {type(exc).__name__}: {exc}"
        rec.elapsed_ms = (time.monotonic() - started) * 1000
        if rec.error:
            log.info("%s %s: %s", kind, url, rec.error)
        self.records.append(rec)
        if self.on_record is not None:
            self.on_record(rec)
        return rec

    async def _follow(self, rec: FetchRecord, allowed_hosts: tuple[str, ...] | None) -> None:
        url = rec.url
        seen: set[str] = set()
        for hop in range(MAX_REDIRECTS + 1):
            _, host, _ = split_checked(url)
            if allowed_hosts is not None and host not in allowed_hosts:
                raise FetchRefused(f"redirect to off-site host {host} ({url})" if hop else f"off-site host {host}")
            blocked = self.policy.check(host, host) if _is_ip(host) else None
            if blocked is not None:  # an address literal: refused before any connection
                raise FetchRefused(blocked)
            if rec.kind != "robots":
                why = await self.robots_refusal(url, rec.source_name, allowed_hosts)
                if why is not None:
                    raise FetchRefused(why if not hop else f"redirect target {url}: {why}")
            seen.add(dedup_key(url))
            outcome = await self._attempts(rec, url, host)
            if outcome is None:
                return
            if outcome.status not in (307, 308):  # the other redirects turn a POST into a GET
                rec.method, rec.form = "GET", ()
            target = strip_fragment(urljoin(url, outcome.location))
            if dedup_key(target) in seen:
                raise FetchRefused(f"redirect loop ({url} → {target})")
            url = target
        raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")

    def _conditional(self, rec: FetchRecord, url: str) -> tuple[dict[str, str], Validators | None]:
        previous = self.validators.get(url) if rec.method == "GET" else None
        if previous is None or not (previous.etag or previous.last_modified):
            return {}, None
        if not self.archive.verify(previous.sha256):
            rec.note = "the archived copy is missing or damaged: fetched again unconditionally"
            log.warning("%s: %s", url, rec.note)
            return {}, None
        headers = {}
        if previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
        return headers, previous

    def _pause(self, attempt: int) -> float:
        o = self.options
        return min(o.backoff_max, o.backoff * 2 ** (attempt - 1)) + random.uniform(0, o.backoff)

    async def _attempts(self, rec: FetchRecord, url: str, host: str) -> _Redirect | None:
        headers, previous = self._conditional(rec, url)
        last: BaseException | None = None
        for attempt in range(1, self.options.attempts + 1):
            rec.attempts += 1
            try:
                async with self.scheduler.slot(host):
                    async with asyncio.timeout(self.options.request_deadline):
                        outcome = await self._exchange(rec, url, headers, previous)
            except TimeoutError as exc:
                raise _GaveUp(f"gave up: deadline of {self.options.request_deadline:g} s for the whole request "
                              "exceeded (the server is too slow)") from exc
            except _Busy as exc:
                last = exc
                retry_after = min(exc.retry_after, self.options.retry_after_max) if exc.retry_after is not None else None
                await self.scheduler.push_back(host, retry_after)  # the next attempt waits for the host's turn
                continue
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise FetchRefused(f"bad URL {url!r}: {exc}") from exc
            except (_ServerError, httpx.TransportError) as exc:  # timeouts, resets, short bodies, 5xx
                last = exc
                if attempt < self.options.attempts:
                    await asyncio.sleep(self._pause(attempt))
                continue
            await self.scheduler.relieved(host)
            return outcome
        assert last is not None
        raise _GaveUp(f"gave up after {rec.attempts} attempts: {_describe(last)}")

    async def _exchange(self, rec: FetchRecord, url: str, headers: dict[str, str],
                        previous: Validators | None) -> _Redirect | None:
        request = self.client.build_request(rec.method, url, headers=headers,
                                            data=dict(rec.form) if rec.method == "POST" else None)
        resp = await self.client.send(request, stream=True)
        try:
            rec.final_url = url
            rec.status_code = status = resp.status_code
            if status in _REDIRECTS and resp.headers.get("location"):
                return _Redirect(resp.headers["location"], status)
            if status in (429, 503):
                raise _Busy(status, parse_retry_after(resp.headers.get("retry-after")))
            if status >= 500:
                raise _ServerError(status)
            rec.etag = resp.headers.get("etag")
            rec.last_modified = resp.headers.get("last-modified")
            rec.content_type = resp.headers.get("content-type")
            if status == 304:
                if previous is None:
                    raise BadResponse("HTTP 304 to a request that was not conditional")
                rec.not_modified = True
                rec.sha256 = previous.sha256
                rec.etag = rec.etag or previous.etag
                rec.last_modified = rec.last_modified or previous.last_modified
                return None
            body = await self._read_body(resp, rec)
            if status != 200:
                rec.error = f"HTTP {status}"
                return None
            rec.sha256 = self.archive.put(body)
            self._index.append(IndexEntry(
                sha256=rec.sha256, url=rec.url, kind=rec.kind, final_url=url, source_name=rec.source_name,
                etag=rec.etag, last_modified=rec.last_modified, content_type=rec.content_type,
                fetched_at=rec.fetched_at.isoformat()))
            return None
        finally:
            await resp.aclose()

    async def _read_body(self, resp: httpx.Response, rec: FetchRecord) -> bytes:
        cap = self.options.max_bytes
        declared = resp.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise FetchRefused(f"body of {declared} bytes exceeds the cap of {cap}")
        decoder = _Decoder(resp.headers.get("content-encoding"))
        chunks: list[bytes] = []
        size = wire = 0
        async for raw in resp.aiter_raw():
            wire += len(raw)
            if wire > cap:
                raise FetchRefused(f"body exceeds the cap of {cap} bytes")
            data = decoder.feed(raw, cap - size)
            size += len(data)
            chunks.append(data)
        rec.wire_bytes, rec.bytes = wire, size
        return b"".join(chunks)


class _GaveUp(Exception):
    """Retries exhausted (the message says after how many and why)."""


def _is_ip(host: str) -> bool:
    return bool(host) and (host.replace(".", "").isdigit() or ":" in host)
