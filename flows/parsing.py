"""Parsing fetched reports in batches, on this machine's cores or wherever a task runs.

A :class:`ParseJob` names an archived body (or carries it, for a worker on another machine); :func:`parse_jobs` turns a batch of them into parse
results (pure: the archive in, results out) and :func:`parse_to_part` into a *part*, the
batch's results as Parquet columns written where the single writer will read them
(flows/parts.py): workers never open the warehouse, and no cell object crosses to the
writer. :class:`LocalParsers` is a warm pool of worker processes on this machine's cores,
used by the plain pipeline and by the flow's parse tasks; on a Dask cluster the flow's parse
tasks call :func:`parse_to_part` where they run.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import Message
from multiprocessing.context import BaseContext
from pathlib import Path

from gongkai.extract.archive import RawArchive
from gongkai.flows.parts import Incoming, PartFiles, part_of, write_part
from gongkai.flows.workers import in_own_process, worker_context, worker_pool
from gongkai.transform.metadata import split_title
from gongkai.transform.models import STATUS_RANK, ParseResult, output_sha256
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
    attachments: tuple[tuple[str, str], ...] = ()  # (sha256, url) of files the page links or embeds
    link_title: str | None = None  # the text of the link the crawl followed (a last resort for metadata)
    # the bodies themselves, for a worker on another machine that cannot reach the archive
    body: bytes | None = None
    attachment_bodies: tuple[bytes | None, ...] = ()

    def carrying_bodies(self, archive: RawArchive) -> ParseJob:
        """This job with its body and its attachments' bodies read from the archive, to parse
        where the archive is out of reach (a body the archive lacks is left for the worker to
        report as missing)."""
        def body_of(sha256: str) -> bytes | None:
            try:
                return archive.get(sha256)
            except Exception:  # noqa: BLE001 - the worker reports it as this report's failure
                return None

        return replace(self, body=body_of(self.sha256),
                       attachment_bodies=tuple(body_of(sha) for sha, _ in self.attachments))

    @property
    def charset(self) -> str | None:
        """The charset the server declared (Content-Type), if any."""
        if not self.content_type:
            return None
        msg = Message()
        msg["content-type"] = self.content_type
        return msg.get_param("charset")  # type: ignore[return-value]


def _parse_archived(archive: RawArchive, sha256: str, url: str, charset: str | None = None,
                    body: bytes | None = None) -> ParseResult:
    try:
        data = body if body is not None else archive.get(sha256)
    except Exception as exc:  # noqa: BLE001 - reported as this report's failure
        result = ParseResult(source=url)
        result.warnings.append(f"cannot read the archived body: {exc}")
        return result
    return parse_report(data, url, charset=charset)


def _with_link_title(result: ParseResult, link_title: str | None) -> ParseResult:
    """Agency and year from the list page's link text when the document itself does not say."""
    if not link_title or (result.agency and result.year):
        return result
    agency, year = split_title(link_title)
    changed = False
    if result.agency is None and agency:
        result.agency, changed = agency, True
    if result.year is None and year:
        result.year, changed = year, True
    if changed:
        result.title = result.title or link_title
        result.warnings.append(f"agency/year taken from the list page's link text {link_title!r}")
        result.output_sha256 = output_sha256(result)
    return result


def parse_job(archive_root: str, job: ParseJob) -> ParseResult:
    """Parse one archived body; a body missing from the archive gives a failed result. A page
    without the tables that links or embeds files becomes the best-read of those files (the
    page's title, agency and date fill what the file does not say); a page with its tables
    stays the report, whatever files it links."""
    archive = RawArchive(Path(archive_root))
    page = _with_link_title(_parse_archived(archive, job.sha256, job.url, job.charset, job.body), job.link_title)
    if page.status != "failed" or not job.attachments:
        return page
    best: ParseResult | None = None
    bodies = job.attachment_bodies or (None,) * len(job.attachments)
    for (sha, url), body in zip(job.attachments, bodies):
        got = _parse_archived(archive, sha, url, body=body)
        if best is None or STATUS_RANK[got.status] > STATUS_RANK[best.status]:
            best = got
    if best is None or best.status == "failed":
        if best is not None:
            page.warnings.append(f"the linked file {best.source} could not be read either: "
                                 + "; ".join(best.warnings[:2]))
        return page
    for name in ("title", "agency", "year", "publication_date"):
        if getattr(best, name) is None and getattr(page, name) is not None:
            setattr(best, name, getattr(page, name))
            best.warnings.append(f"{name} taken from the report page {job.url}")
    best.warnings.append(f"read from the file {best.source}, linked from the report page {job.url} "
                         "(the page has no tables)")
    best.output_sha256 = output_sha256(best)
    return best


def parse_jobs(archive_root: str, jobs: list[ParseJob]) -> list[ParseResult]:
    """Parse a batch (runs in a worker process, a Prefect task or a Dask worker)."""
    return [parse_job(archive_root, job) for job in jobs]


def parse_to_part(archive_root: str, jobs: list[ParseJob], parts_root: str) -> PartFiles:
    """Parse a batch and write its results as a part under ``parts_root`` (a folder or an
    fsspec URL the writer can read)."""
    items = [Incoming(result, source_url=job.url, fetched_at=job.fetched_at, source_name=job.source_name)
             for job, result in zip(jobs, parse_jobs(archive_root, jobs))]
    return write_part(part_of(items), parts_root)


class LocalParsers:
    """A pool of worker processes on this machine's cores, started once: forked directly while
    this process has a single thread (cheapest), else from a fork server (safe beside the
    threads Prefect and httpx run). A worker that dies (a reader's native library crashing on
    a body) breaks the pool: the next batch gets a fresh one, and the batches it held are
    parsed again report by report (:func:`settle`)."""

    def __init__(self, workers: int | None = None, start_method: str | None = None) -> None:
        self.context = worker_context(start_method)
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.pool = worker_pool(self.context, self.workers)

    def submit(self, archive_root: str, jobs: list[ParseJob], parts_root: str) -> Future[PartFiles]:
        try:
            return self.pool.submit(parse_to_part, archive_root, jobs, parts_root)
        except BrokenProcessPool:
            log.error("a parse worker died: starting a fresh pool of %d", self.workers)
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = worker_pool(self.context, self.workers)
            return self.pool.submit(parse_to_part, archive_root, jobs, parts_root)

    def run(self, archive_root: str, jobs: list[ParseJob], parts_root: str) -> PartFiles:
        """Parse a batch on the pool (report by report if a worker died: one bad page never ends the run)."""
        return settle(self.submit(archive_root, jobs, parts_root), archive_root, jobs, parts_root, self.context)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def settle(future: Future[PartFiles], archive_root: str, jobs: list[ParseJob], parts_root: str,
           context: BaseContext | None = None) -> PartFiles:
    """The part a pool worker made; or, if the worker failed or died, the batch parsed again
    report by report, each in a process of its own (:func:`parse_isolated`)."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a crashed worker never ends the run
        log.error("a parse worker failed (%s): parsing the batch's %d reports one by one", exc, len(jobs))
        return parse_isolated(archive_root, jobs, parts_root, context)


def parse_isolated(archive_root: str, jobs: list[ParseJob], parts_root: str,
                   context: BaseContext | None = None) -> PartFiles:
    """A batch parsed one report at a time, each in a process of its own: a body whose parse
    kills its process (a crash inside a native reader, PDFium or OpenCV) or raises becomes a
    failed result that says so, and the others are read; its body stays in the archive."""
    context = context or worker_context()
    results: list[ParseResult] = []
    for job in jobs:
        try:
            results.append(in_own_process(context, parse_job, archive_root, job))
        except Exception as exc:  # noqa: BLE001 - this report fails, the batch goes on
            result = ParseResult(source=job.url)
            died = isinstance(exc, BrokenProcessPool)
            result.warnings.append(("the parser's process died reading this body" if died else
                                    f"the parser failed on this body ({type(exc).__name__}: {exc})")
                                   + "; it stays in the archive to be parsed again")
            log.error("%s: %s", job.url, result.warnings[-1])
            results.append(result)
    items = [Incoming(result, source_url=job.url, fetched_at=job.fetched_at, source_name=job.source_name)
             for job, result in zip(jobs, results)]
    return write_part(part_of(items), parts_root)
