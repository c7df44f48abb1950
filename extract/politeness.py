"""Per-host politeness: one queue per host, a global limit, and push-back when a host says it is busy.

- Every host has the strictest delay and the smallest concurrency of the sources that use it
  (and at least the ``Crawl-delay`` its robots.txt asks for, up to a cap).
- A request waits for its host's turn (at most ``concurrency`` at once), then for a place
  under the global limit; ``delay`` is counted between the moments requests really start (a
  turn granted while the previous request still waits for a global place waits for it).
- A 429 or 503 pushes the whole host back (Retry-After when given, else exponential, capped);
  after ``max_strikes`` push-backs in a row the host is skipped for the rest of the run.

>>> async def demo():
...     s = HostScheduler(global_limit=4)
...     s.configure("a.gov.cn", concurrency=1, delay=0.0)
...     async with s.slot("a.gov.cn"):
...         return s.host("a.gov.cn").active
>>> asyncio.run(demo())
1
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

DEFAULT_DELAY = 1.0
DEFAULT_CONCURRENCY = 2
CRAWL_DELAY_CAP = 30.0


class HostSkipped(Exception):
    """The host pushed back too often: nothing more is requested from it this run."""


@dataclass
class HostState:
    name: str
    delay: float = DEFAULT_DELAY
    concurrency: int = DEFAULT_CONCURRENCY
    configured: bool = False
    active: int = 0
    next_start: float = 0.0
    backoff: float = 0.0  # the current push-back step (grows while the host keeps saying busy)
    strikes: int = 0  # push-backs in a row
    pushbacks: int = 0  # in the whole run
    skipped: str | None = None  # why the host is skipped for the rest of the run
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)  # first come, first served
    timer: asyncio.TimerHandle | None = None
    starting: bool = False  # a granted request waits for its global place: the next one waits for it


class HostScheduler:
    def __init__(self, global_limit: int = 32, *, backoff_base: float = 1.0, backoff_cap: float = 60.0,
                 max_strikes: int = 5) -> None:
        self.hosts: dict[str, HostState] = {}
        self.global_limit = max(1, global_limit)
        self._global = asyncio.Semaphore(self.global_limit)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_strikes = max_strikes

    def host(self, name: str) -> HostState:
        state = self.hosts.get(name)
        if state is None:
            state = self.hosts[name] = HostState(name)
        return state

    def configure(self, name: str, *, concurrency: int, delay: float) -> None:
        """Settings of a source using this host: the strictest of all sources wins."""
        state = self.host(name)
        if state.configured:
            state.concurrency = min(state.concurrency, max(1, concurrency))
            state.delay = max(state.delay, max(0.0, delay))
        else:
            state.concurrency, state.delay, state.configured = max(1, concurrency), max(0.0, delay), True

    def crawl_delay(self, name: str, seconds: float | None) -> float | None:
        """Honour robots.txt's Crawl-delay (capped); returns the delay applied, if any."""
        if seconds is None or seconds <= 0:
            return None
        applied = min(float(seconds), CRAWL_DELAY_CAP)
        state = self.host(name)
        state.delay = max(state.delay, applied)
        return applied

    def _wake(self, state: HostState) -> None:
        """Grant turns to waiting requests, in order, as the host's delay and concurrency allow."""
        state.timer = None
        while state.waiters:
            if state.skipped:
                for fut in state.waiters:
                    if not fut.done():
                        fut.set_exception(HostSkipped(state.skipped))
                state.waiters.clear()
                return
            if state.active >= state.concurrency or state.starting:
                return  # the next release (or start) wakes the queue
            now = time.monotonic()
            if now < state.next_start:
                state.timer = asyncio.get_running_loop().call_at(
                    asyncio.get_running_loop().time() + (state.next_start - now), self._wake, state)
                return
            fut = state.waiters.popleft()
            if fut.done():  # cancelled while waiting
                continue
            state.active += 1
            state.next_start = now + state.delay
            state.starting = state.delay > 0
            fut.set_result(None)

    def _rearm(self, state: HostState) -> None:
        if state.timer is not None:
            state.timer.cancel()
        self._wake(state)

    @asynccontextmanager
    async def slot(self, name: str) -> AsyncIterator[HostState]:
        """Wait for the host's turn and a global place; hold them while the request runs."""
        state = self.host(name)
        if state.skipped:
            raise HostSkipped(state.skipped)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.waiters.append(fut)
        if state.timer is None:
            self._wake(state)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._release(state)  # granted just as it was cancelled
            raise
        started = False
        try:
            async with self._global:
                started = True
                self._started(state)
                yield state
        finally:
            if not started:
                self._started(state)  # cancelled while waiting for a global place
            self._release(state)

    def _started(self, state: HostState) -> None:
        """The granted request really starts now: the host's delay counts from here."""
        if state.starting:
            state.starting = False
            state.next_start = max(state.next_start, time.monotonic() + state.delay)
            self._rearm(state)

    def _release(self, state: HostState) -> None:
        state.active -= 1
        if state.timer is None:
            self._wake(state)

    async def push_back(self, name: str, retry_after: float | None) -> float:
        """The host answered 429/503: no request starts before the returned number of seconds."""
        state = self.host(name)
        state.strikes += 1
        state.pushbacks += 1
        state.backoff = min(self.backoff_cap, max(self.backoff_base, state.backoff * 2))
        wait = min(self.backoff_cap, retry_after) if retry_after is not None else state.backoff
        wait = max(wait, state.delay)
        state.next_start = max(state.next_start, time.monotonic() + wait)
        if state.strikes >= self.max_strikes:
            state.skipped = (f"skipped for the rest of the run after {state.strikes} busy answers (429/503) "
                             "in a row")
        self._rearm(state)
        return wait

    async def relieved(self, name: str) -> None:
        """A normal answer: the host is no longer busy."""
        state = self.host(name)
        state.strikes = 0
        state.backoff = 0.0
