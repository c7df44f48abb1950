"""Parsing fetched reports in batches, on this machine's cores or wherever a task runs.

A :class:`ParseJob` names an archived body; :func:`parse_jobs` turns a batch of them into parse
results (pure: the archive in, results out). :class:`LocalParsers` is a warm pool of worker
processes on this machine's cores, used by the plain pipeline and by the flow's parse tasks.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from pathlib import Path

from gongkai.extract.archive import RawArchive
from gongkai.transform.models import ParseResult
from gongkai.transform.parse import parse_report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParseJob:
    """One archived body to parse, with what the loader needs besides its parse."""

    sha256: str
    url: str
    fetched_at: datetime | None = None
    content_type: str | None = None
    source_name: str | None = None

    @property
    def charset(self) -> str | None:
        """The charset the server declared (Content-Type), if any."""
        if not self.content_type:
            return None
        msg = Message()
        msg["content-type"] = self.content_type
        return msg.get_param("charset")  # type: ignore[return-value]


def parse_job(archive_root: str, job: ParseJob) -> ParseResult:
    """Parse one archived body; a body missing from the archive gives a failed result."""
    try:
        data = RawArchive(Path(archive_root)).get(job.sha256)
    except Exception as exc:  # noqa: BLE001 - reported as this report's failure
        result = ParseResult(source=job.url)
        result.warnings.append(f"cannot read the archived body: {exc}")
        return result
    return parse_report(data, job.url, charset=job.charset)


def parse_jobs(archive_root: str, jobs: list[ParseJob]) -> list[ParseResult]:
    """Parse a batch (runs in a worker process, a Prefect task or a Dask worker)."""
    return [parse_job(archive_root, job) for job in jobs]


class LocalParsers:
    """A pool of worker processes on this machine's cores, started once: forked directly while
    this process has a single thread (cheapest), else from a fork server (safe beside the
    threads Prefect and httpx run)."""

    def __init__(self, workers: int | None = None) -> None:
        if threading.active_count() == 1:
            ctx = multiprocessing.get_context("fork")
        else:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["gongkai.flows.parsing"])
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)

    def submit(self, archive_root: str, jobs: list[ParseJob]) -> Future[list[ParseResult]]:
        return self.pool.submit(parse_jobs, archive_root, jobs)

    def run(self, archive_root: str, jobs: list[ParseJob]) -> list[ParseResult]:
        """Parse a batch on the pool, or here if a worker died (one bad page never ends the run)."""
        try:
            return self.submit(archive_root, jobs).result()
        except Exception as exc:  # noqa: BLE001
            log.error("a parse worker failed (%s): parsing the batch in this process", exc)
            return parse_jobs(archive_root, jobs)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
