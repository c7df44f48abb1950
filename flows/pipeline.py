"""The steps of the nightly crawl and of the re-parse, as plain functions (the Prefect flows in
flows/nightly.py call them as tasks; tests call them directly).

discover + fetch (extract/) → fetch log → parse (transform/) → load (one writer) → export.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from gongkai.extract.archive import ArchiveError, IndexEntry, RawArchive
from gongkai.extract.crawl import CrawlResult, FoundReport, crawl, reason_of
from gongkai.extract.http import FetchOptions, Fetcher, FetchRecord, Validators
from gongkai.extract.urls import BadURL, origin_of
from gongkai.extract.sources import Source
from gongkai.flows.exporter import export
from gongkai.flows.loader import Incoming, Loader, LoadSummary
from gongkai.flows.aliases import replay_aliases
from gongkai.flows.integrity import check_file, mark_verified, quarantine
from gongkai.flows.warehouse import WarehouseError, open_warehouse, warehouse, warehouse_path
from gongkai.paths import SQL_DIR
from gongkai import PARSER_VERSION
from gongkai.transform.models import ParseResult
from gongkai.transform.parse import parse_report

log = logging.getLogger(__name__)

ARCHIVE_DIR = "archive"


@dataclass
class SourceSummary:
    """One source's part of a run: what an operator needs to see per portal."""

    list_pages: int = 0
    list_pages_failed: int = 0
    max_pages_reached: bool = False
    reports_found: int = 0
    years: list[int] = field(default_factory=list)
    attachments: int = 0
    dropped_offsite: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    robots: str = ""  # fetched / none / unreachable (why)
    crashed: str | None = None


@dataclass
class RunSummary:
    run_id: str
    flow: str
    portals: int = 0
    list_pages: int = 0
    pages_fetched: int = 0  # 200 responses with a body
    not_modified: int = 0  # 304 responses
    bytes_transferred: int = 0  # on the wire
    bytes_decoded: int = 0  # after decompression
    reports_found: int = 0
    attachments: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed_parse: int = 0
    cells: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # reason → count
    sources: dict[str, SourceSummary] = field(default_factory=dict)
    deadline_reached: bool = False
    notes: list[str] = field(default_factory=list)
    exported_to: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RunSummary:
        fields = dict(data)
        fields["sources"] = {k: SourceSummary(**v) for k, v in dict(fields.get("sources") or {}).items()}
        return cls(**fields)  # type: ignore[arg-type]

    def lines(self) -> list[str]:
        out = [f"run {self.run_id} ({self.flow})"]
        if self.flow == "nightly":
            out += [
                f"portals: {self.portals}, list pages: {self.list_pages}, pages fetched: {self.pages_fetched}, "
                f"not modified (304): {self.not_modified}, bytes: {self.bytes_transferred:,} on the wire "
                f"({self.bytes_decoded:,} decoded)",
                f"reports found: {self.reports_found}, attachments archived: {self.attachments}",
            ]
        else:
            out.append(f"archived report pages re-parsed: {self.reports_found}")
        out.append(f"reports loaded: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
                   f"{self.failed_parse} failed to parse; {self.cells} cells written")
        if self.failures:
            out.append("failures: " + "; ".join(f"{k}: {v}" for k, v in sorted(self.failures.items())))
        for name, s in sorted(self.sources.items()):
            notes = []
            if s.crashed:
                notes.append(f"FAILED: {s.crashed}")
            if s.max_pages_reached:
                notes.append("stopped at max_pages")
            if s.dropped_offsite:
                notes.append(f"{s.dropped_offsite} off-site link(s) dropped")
            if s.robots.startswith("unreachable"):
                notes.append(f"robots.txt {s.robots}")
            if s.failures:
                notes.append("failures: " + ", ".join(f"{k} {v}" for k, v in sorted(s.failures.items())))
            years = f" ({min(s.years)}–{max(s.years)})" if s.years else ""
            out.append(f"  {name}: {s.list_pages} list page(s), {s.reports_found} report(s){years}"
                       + (f"; {'; '.join(notes)}" if notes else ""))
        if self.deadline_reached:
            out.append("the run's deadline was reached: it ended with what had been fetched")
        out.extend(self.notes)
        if self.exported_to:
            out.append(f"export: {self.exported_to}")
        return out


def previous_validators(con: duckdb.DuckDBPyConnection) -> dict[str, Validators]:
    rows = con.execute((SQL_DIR / "reports" / "validators.sql").read_text(encoding="utf-8")).fetchall()
    return {url: Validators(etag, modified, sha) for url, etag, modified, sha in rows}


def record_fetches(con: duckdb.DuckDBPyConnection, run_id: str, records: list[FetchRecord]) -> None:
    """Append fetch records to the fetch log (one transaction)."""
    if not records:
        return
    cols = {
        "run_id": [run_id] * len(records),
        "source_name": [r.source_name for r in records],
        "kind": [r.kind for r in records],
        "url": [r.url for r in records],
        "final_url": [r.final_url for r in records],
        "status_code": pa.array([r.status_code for r in records], pa.int32()),
        "not_modified": [r.not_modified for r in records],
        "etag": [r.etag for r in records],
        "last_modified": [r.last_modified for r in records],
        "content_type": [r.content_type for r in records],
        "bytes": pa.array([r.bytes for r in records], pa.int64()),
        "wire_bytes": pa.array([r.wire_bytes for r in records], pa.int64()),
        "sha256": [r.sha256 for r in records],
        "attempts": pa.array([r.attempts for r in records], pa.int32()),
        "error": [r.error for r in records],
        "note": pa.array([r.note for r in records], pa.string()),
        "fetched_at": pa.array([r.fetched_at for r in records], pa.timestamp("us")),
        "elapsed_ms": [r.elapsed_ms for r in records],
    }
    table = pa.table({k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in cols.items()})
    con.register("_gk_fetch", table)
    try:
        con.execute("INSERT INTO fetch_log BY NAME SELECT * FROM _gk_fetch")
    finally:
        con.unregister("_gk_fetch")


class FetchLog:
    """Writes fetch records to the warehouse as the crawl goes (in batches), after the archive
    index entries of their bodies: a run killed midway keeps its validators and its record."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str, batch: int = 200, every_s: float = 1.0) -> None:
        self.con, self.run_id, self.batch, self.every_s = con, run_id, batch, every_s
        self.pending: list[FetchRecord] = []
        self.fetcher: Fetcher | None = None
        self.last = time.monotonic()

    def add(self, record: FetchRecord) -> None:
        self.pending.append(record)
        if len(self.pending) >= self.batch or time.monotonic() - self.last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if self.fetcher is not None:
            self.fetcher.flush_index()
        records, self.pending = self.pending, []
        record_fetches(self.con, self.run_id, records)


def run_crawl(sources: list[Source], archive: RawArchive, validators: dict[str, Validators],
              options: FetchOptions, progress: Callable[[str], None] | None = None,
              on_found: Callable[[FoundReport], None] | None = None, fetch_log: FetchLog | None = None,
              deadline: float | None = None) -> tuple[CrawlResult, Fetcher]:
    async def go() -> tuple[CrawlResult, Fetcher]:
        async with Fetcher(archive, options, validators=validators,
                           on_record=fetch_log.add if fetch_log is not None else None) as fetcher:
            if fetch_log is not None:
                fetch_log.fetcher = fetcher
            result = await crawl(sources, fetcher, progress, on_found, deadline=deadline)
        if fetch_log is not None:
            fetch_log.flush()
        return result, fetcher

    return asyncio.run(go())


def parse_archived(archive_root: str, sha256: str, url: str) -> ParseResult:
    """Parse one archived body (runs in a worker process)."""
    return parse_report(RawArchive(Path(archive_root)).get(sha256), url)


class Parsers:
    """Parses report pages in worker processes while the crawl is still fetching.

    A page whose bytes are already loaded as a current report by this parser version is not
    parsed again: its output cannot have changed."""

    def __init__(self, archive: RawArchive, loaded: set[str], workers: int | None = None) -> None:
        self.archive = archive
        self.loaded = loaded
        self.pool = ProcessPoolExecutor(max_workers=workers or max(1, os.cpu_count() or 1),
                                        mp_context=multiprocessing.get_context("fork"))
        self.jobs: list[tuple[FoundReport, Future[ParseResult]]] = []
        self.skipped = 0
        self.pool.submit(int).result()  # start the workers before the crawl's threads exist

    def submit(self, found: FoundReport) -> None:
        if not found.record.ok or found.is_file:
            return
        sha = found.record.sha256 or ""
        if sha in self.loaded:
            self.skipped += 1
            return
        url = found.record.final_url or found.link.url
        self.jobs.append((found, self.pool.submit(parse_archived, str(self.archive.root), sha, url)))

    def results(self) -> Iterator[tuple[FoundReport, ParseResult]]:
        for found, job in self.jobs:
            try:
                yield found, job.result()
            except Exception as exc:  # noqa: BLE001 - a crashed worker must not stop the run
                url = found.record.final_url or found.link.url
                log.error("parsing %s failed in a worker: %s", url, exc)
                yield found, parse_report(self.archive.get(found.record.sha256 or ""), url)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def loaded_contents(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT content_sha256 FROM report WHERE is_current AND parser_version = ?",
                       [PARSER_VERSION]).fetchall()
    return {r[0] for r in rows}


def load_parsed(con: duckdb.DuckDBPyConnection, parsed: Iterable[tuple[FoundReport, ParseResult]],
                total: int, progress: Callable[[str], None] | None = None) -> LoadSummary:
    """Load parsed report pages (one writer, batched)."""
    items = (Incoming(result, source_url=found.record.final_url or found.link.url,
                      fetched_at=found.record.fetched_at) for found, result in parsed)
    return Loader(con).load(items, batch_size=100,
                            progress=(lambda n: progress(f"parsed and loaded {n}/{total} report pages"))
                            if progress else None)


def _begin_run(con: duckdb.DuckDBPyConnection, flow: str) -> str:
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    con.execute("INSERT INTO crawl_run (run_id, flow, started_at) VALUES (?, ?, ?)",
                [run_id, flow, datetime.now(UTC).replace(tzinfo=None)])
    return run_id


def _end_run(con: duckdb.DuckDBPyConnection, summary: RunSummary) -> None:
    con.execute("UPDATE crawl_run SET finished_at = ?, summary = ? WHERE run_id = ?",
                [datetime.now(UTC).replace(tzinfo=None), json.dumps(summary.as_dict(), ensure_ascii=False),
                 summary.run_id])


def summarize_fetches(summary: RunSummary, result: CrawlResult, fetcher: Fetcher,
                      sources: list[Source]) -> None:
    records = fetcher.records
    summary.list_pages = result.list_pages
    summary.pages_fetched = sum(1 for r in records if r.status_code == 200 and not r.not_modified)
    summary.not_modified = sum(1 for r in records if r.not_modified)
    summary.bytes_transferred = sum(r.wire_bytes for r in records)
    summary.bytes_decoded = sum(r.bytes for r in records)
    summary.reports_found = sum(1 for f in result.reports if not f.is_file)
    summary.attachments = sum(1 for r in records if r.kind == "attachment" and r.ok)
    summary.failures = dict(Counter(reason_of(r.error) for r in records if r.error))
    summary.deadline_reached = result.deadline_reached
    for source in sources:
        got = result.sources.get(source.name)
        if got is None:
            continue
        robots = []
        for url in source.start_urls:
            try:
                state = fetcher.robots.get(origin_of(url))
            except BadURL:
                state = None
            if state is not None:
                robots.append(state.status + (f" ({state.reason})" if state.status == "unreachable" else ""))
        summary.sources[source.name] = SourceSummary(
            list_pages=got.list_pages, list_pages_failed=got.list_pages_failed,
            max_pages_reached=got.max_pages_reached, reports_found=len(got.reports), years=sorted(got.years),
            attachments=got.attachments, dropped_offsite=got.dropped_offsite, failures=dict(got.failures),
            robots=", ".join(dict.fromkeys(robots)), crashed=got.crashed)


def nightly(sources: list[Source], data_dir: Path, *, options: FetchOptions | None = None, do_export: bool = True,
            progress: Callable[[str], None] | None = None, deadline: float | None = None) -> RunSummary:
    """discover → fetch → parse → load → export, in one process (the single writer)."""
    archive = RawArchive(data_dir / ARCHIVE_DIR)
    archive.clean_temporary()
    with warehouse(data_dir) as con:
        run_id = _begin_run(con, "nightly")
        summary = RunSummary(run_id=run_id, flow="nightly", portals=sum(1 for s in sources if s.enabled))
        parsers = Parsers(archive, loaded_contents(con))
        try:
            result, fetcher = run_crawl(sources, archive, previous_validators(con), options or FetchOptions(),
                                        progress, parsers.submit, FetchLog(con, run_id), deadline)
            summarize_fetches(summary, result, fetcher, sources)
            load = load_parsed(con, parsers.results(), len(parsers.jobs), progress)
        finally:
            parsers.close()
        load.unchanged += parsers.skipped
        _add_load(summary, load)
        if do_export:
            summary.exported_to = str(export(con, data_dir / "export").out)
        _end_run(con, summary)
        return summary


def _add_load(summary: RunSummary, load: LoadSummary) -> None:
    summary.new, summary.changed, summary.unchanged = load.new, load.changed, load.unchanged
    summary.failed_parse, summary.cells = load.failed_parse, load.cells
    for e in load.errors:
        summary.failures["not loaded"] = summary.failures.get("not loaded", 0) + 1
        log.error("not loaded: %s", e)


REPORT_KINDS = ("report", "file")  # what re-parsing reads from the archive


def archived_documents(archive: RawArchive) -> list[IndexEntry]:
    """The latest archived body of every report page and loaded file (from the archive index)."""
    latest: dict[str, IndexEntry] = {}
    for entry in archive.entries():
        if entry.kind in REPORT_KINDS:
            latest[entry.final_url or entry.url] = entry
    return sorted(latest.values(), key=lambda e: e.final_url or e.url)


def _parse_documents(archive: RawArchive, docs: list[IndexEntry], summary: RunSummary) -> Iterator[Incoming]:
    damaged = 0
    for entry in docs:
        url = entry.final_url or entry.url
        try:
            data = archive.get(entry.sha256)
        except ArchiveError as exc:
            damaged += 1
            log.error("%s: %s", url, exc)
            continue
        fetched = datetime.fromisoformat(entry.fetched_at) if entry.fetched_at else None
        yield Incoming(parse_report(data, url), source_url=url, fetched_at=fetched)
    if damaged:
        summary.failures["missing or damaged in the archive"] = damaged


def reparse(data_dir: Path, progress: Callable[[str], None] | None = None, *, rebuild: bool = False) -> RunSummary:
    """Re-parse every archived report page and loaded file with the current parser (no network)
    and load new versions where the output changed. ``rebuild``: build a fresh warehouse from
    the archive instead, keeping the old (e.g. damaged) file aside."""
    archive = RawArchive(data_dir / ARCHIVE_DIR)
    if rebuild:
        return _rebuild(data_dir, archive, progress)
    with warehouse(data_dir) as con:
        run_id = _begin_run(con, "reparse")
        summary = RunSummary(run_id=run_id, flow="reparse")
        docs = archived_documents(archive)
        summary.reports_found = len(docs)
        total = Loader(con).load(_parse_documents(archive, docs, summary), batch_size=100,
                                 progress=(lambda n: progress(f"re-parsed {n}/{len(docs)}")) if progress else None)
        _add_load(summary, total)
        _end_run(con, summary)
        return summary


def _rebuild(data_dir: Path, archive: RawArchive, progress: Callable[[str], None] | None) -> RunSummary:
    path = warehouse_path(data_dir)
    fresh = path.with_name(path.name + ".rebuilding")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)  # a rebuild of ours that was interrupted
    entries = list(archive.entries())
    if not entries:
        raise WarehouseError(f"the raw archive {archive.root} has no index entries: nothing to rebuild from")
    con = open_warehouse(fresh)
    try:
        run_id = _begin_run(con, "rebuild")
        summary = RunSummary(run_id=run_id, flow="rebuild")
        record_fetches(con, run_id, [_record_of(e, archive) for e in entries if e.kind != "file"])
        docs = archived_documents(archive)
        summary.reports_found = len(docs)
        total = Loader(con).load(_parse_documents(archive, docs, summary), batch_size=100,
                                 progress=(lambda n: progress(f"rebuilt {n}/{len(docs)}")) if progress else None)
        _add_load(summary, total)
        replay_aliases(con, data_dir)
        _end_run(con, summary)
    finally:
        con.close()
    mark_verified(fresh)
    if path.exists():
        try:
            check_file(path)
            label = "replaced"
        except WarehouseError:
            label = "damaged"
        kept = quarantine(path, label)
        log.warning("the previous warehouse is kept as %s", kept)
        summary.notes.append(f"the previous ({label}) warehouse is kept as {kept}")
    os.replace(fresh, path)
    mark_verified(path)
    return summary


def _record_of(entry: IndexEntry, archive: RawArchive) -> FetchRecord:
    size = archive.path(entry.sha256).stat().st_size if archive.has(entry.sha256) else 0
    fetched = datetime.fromisoformat(entry.fetched_at) if entry.fetched_at else datetime.now(UTC).replace(tzinfo=None)
    return FetchRecord(url=entry.url, kind=entry.kind, source_name=entry.source_name, final_url=entry.final_url,
                       status_code=200, etag=entry.etag, last_modified=entry.last_modified,
                       content_type=entry.content_type, bytes=size, sha256=entry.sha256, attempts=1,
                       note="rebuilt from the archive index", fetched_at=fetched)
