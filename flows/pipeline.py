"""The stages of the nightly crawl and of the re-parse, as plain objects and functions.

The Prefect flows (flows/nightly.py) run each stage as a task — a crawl task per source,
parse tasks over batches, one load task, an export task; :func:`nightly` and :func:`reparse`
here run the same stages without Prefect (the tests and benchmarks call them directly).

discover + fetch (extract/) → fetch log → parse (transform/) → load (one writer) → export.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gongkai import PARSER_VERSION
from gongkai.extract.archive import IndexEntry, RawArchive
from gongkai.extract.crawl import CrawlResult, FoundReport, SharedState, SourceResult, crawl, crawl_source
from gongkai.extract.http import FetchOptions, Fetcher, FetchRecord
from gongkai.extract.sources import Source
from gongkai.flows.aliases import replay_aliases
from gongkai.flows.exporter import export
from gongkai.flows.fetchlog import FetchLog, previous_validators, record_fetches
from gongkai.flows.integrity import check_file, mark_verified, quarantine
from gongkai.flows.loader import Incoming, Loader, LoadSummary
from gongkai.flows.parsing import LocalParsers, ParseJob, settle
from gongkai.flows.parts import PartFiles, remove_part, remove_parts_root
from gongkai.flows.settings import export_dir
from gongkai.flows.summary import RunSummary, summarize_fetches
from gongkai.flows.warehouse import WarehouseError, open_warehouse, warehouse, warehouse_path

__all__ = ["ARCHIVE_DIR", "FetchOptions", "NightlyRun", "ReparseRun", "RunSummary", "nightly", "reparse"]

log = logging.getLogger(__name__)

ARCHIVE_DIR = "archive"
PARTS_DIR = "parts"  # parse workers' parts wait here (one folder per run) until the writer loads them
PARSE_BATCH = 25  # reports per parse task (a Prefect task run costs tens of milliseconds)
LOCAL_BATCH = 25  # reports per job on the local pool
LOAD_REPORTS = 5000  # reports per load transaction at most (parts are loaded several at a time)
Progress = Callable[[str], None]


def loaded_contents(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT content_sha256 FROM report WHERE is_current AND parser_version = ?",
                       [PARSER_VERSION]).fetchall()
    return {r[0] for r in rows}


def _begin_run(con: duckdb.DuckDBPyConnection, flow: str) -> str:
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    con.execute("INSERT INTO crawl_run (run_id, flow, started_at) VALUES (?, ?, ?)",
                [run_id, flow, datetime.now(UTC).replace(tzinfo=None)])
    return run_id


def _end_run(con: duckdb.DuckDBPyConnection, summary: RunSummary) -> None:
    con.execute("UPDATE crawl_run SET finished_at = ?, summary = ? WHERE run_id = ?",
                [datetime.now(UTC).replace(tzinfo=None), json.dumps(summary.as_dict(), ensure_ascii=False),
                 summary.run_id])


def _last_run_sources(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Reports found per source by the last finished nightly run before ``run_id``."""
    row = con.execute("SELECT summary FROM crawl_run WHERE flow = 'nightly' AND finished_at IS NOT NULL "
                      "AND run_id <> ? AND summary IS NOT NULL ORDER BY finished_at DESC LIMIT 1", [run_id]).fetchone()
    if row is None:
        return {}
    try:
        sources = json.loads(row[0]).get("sources") or {}
        return {name: int(s.get("reports_found", 0)) for name, s in sources.items()}
    except (ValueError, TypeError, AttributeError):
        log.warning("the summary of the last run cannot be read: no comparison with it")
        return {}


def _add_load(summary: RunSummary, load: LoadSummary) -> None:
    summary.new += load.new
    summary.changed += load.changed
    summary.unchanged += load.unchanged
    summary.failed_parse += load.failed_parse
    summary.cells += load.cells
    for e in load.errors:
        summary.failures["not loaded"] = summary.failures.get("not loaded", 0) + 1
        log.error("not loaded: %s", e)


class _Batches:
    """Parse jobs gathered into batches as reports are found (each job once per run)."""

    def __init__(self) -> None:
        self.pending: list[ParseJob] = []
        self.seen: set[str] = set()
        self.count = 0

    def add(self, job: ParseJob) -> bool:
        if job.sha256 in self.seen:
            return False
        self.seen.add(job.sha256)
        self.pending.append(job)
        self.count += 1
        return True

    def take(self, size: int, *, all_: bool = False) -> list[list[ParseJob]]:
        out = []
        while len(self.pending) >= size or (all_ and self.pending):
            out.append(self.pending[:size])
            self.pending = self.pending[size:]
        return out


class _Loading:
    """The single writer's side of a run: loads the parse workers' parts in order, several to a
    transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, summary: RunSummary, progress: Progress | None,
                 owners: dict[str, str] | None = None, places: dict[str, str] | None = None) -> None:
        self.loader = Loader(con)
        self.owners = owners or {}  # crawl source → its owner (where its agencies are)
        self.places = places or {}  # report URL → the place it was loaded with before (re-parse)
        self.summary = summary
        self.progress = progress
        self.done = 0
        self.loaded = LoadSummary()  # everything loaded in this run (by_source: outcomes per crawl source)

    def place(self, item: Incoming) -> str | None:
        return self.owners.get(item.source_name or "") or self.places.get(item.source_url or "") or None

    def load(self, parts: PartFiles | list[PartFiles], total: int,
             keep: Callable[[Incoming], bool] | None = None) -> LoadSummary:
        """Load parts parse workers wrote (one transaction), then remove them."""
        parts = [parts] if isinstance(parts, PartFiles) else parts
        got = self.loader.load_part(parts, places=self.place, keep=keep)
        for part in parts:
            remove_part(part)
        _add_load(self.summary, got)
        self.loaded.add(got)
        self.done += sum(p.reports for p in parts)
        if self.progress:
            self.progress(f"parsed and loaded {self.done}/{total} report(s)")
        return got

    def load_all(self, parts: Iterable[PartFiles], total: int,
                 keep: Callable[[Incoming], bool] | None = None) -> None:
        """Load parts as they come, several to a transaction (:func:`load_groups`)."""
        for group in load_groups(parts):
            self.load(group, total, keep)


def load_groups(parts: Iterable[PartFiles], limit: int = LOAD_REPORTS) -> Iterator[list[PartFiles]]:
    """Parts as they come, in groups loaded in one transaction each: a group closes once it
    holds ``limit`` reports. A large transaction is written straight into the warehouse file;
    many small ones each pass through DuckDB's write-ahead log."""
    group: list[PartFiles] = []
    reports = 0
    for part in parts:
        group.append(part)
        reports += part.reports
        if reports >= limit:
            yield group
            group, reports = [], 0
    if group:
        yield group


def parts_root(data_dir: Path, run_id: str, parts_url: str | None = None) -> str:
    """Where a run's parse workers write their parts: ``DATA_DIR/parts/<run>`` or under the
    fsspec URL the operator gave (for workers on other machines)."""
    base = parts_url.rstrip("/") if parts_url else str(data_dir.resolve() / PARTS_DIR)
    return f"{base}/{run_id}"


def _begin_parts(data_dir: Path, run_id: str, parts_url: str | None) -> str:
    """This run's parts folder; parts an interrupted run of ours left in DATA_DIR/parts go
    (this process holds the warehouse, so no other run is writing there; the archive still
    has every body they came from)."""
    local = data_dir / PARTS_DIR
    if local.is_dir():
        for leftover in local.iterdir():
            if leftover.is_dir():
                log.info("removing the parts an interrupted run left: %s", leftover)
                shutil.rmtree(leftover, ignore_errors=True)
    return parts_root(data_dir, run_id, parts_url)


def _end_parts(data_dir: Path, root: str) -> None:
    remove_parts_root(root)
    local = data_dir / PARTS_DIR
    if local.is_dir() and not any(local.iterdir()):
        local.rmdir()


class NightlyRun:
    """One nightly run against one data directory: the warehouse (single writer), the archive,
    the fetcher, and the parse jobs found while crawling. Use as a context manager."""

    def __init__(self, sources: list[Source], data_dir: Path, options: FetchOptions | None = None, *,
                 do_export: bool = True, deadline: float | None = None, progress: Progress | None = None,
                 parts_url: str | None = None) -> None:
        self.sources = [s for s in sources if s.enabled]
        self.parts_url = parts_url
        self.data_dir = data_dir
        self.options = options or FetchOptions()
        self.do_export = do_export
        self.deadline = deadline
        self.progress = progress
        self.archive = RawArchive(data_dir / ARCHIVE_DIR)
        self.batches = _Batches()
        self.skipped = 0  # report pages whose bytes are already loaded by this parser
        self.skipped_by_source: Counter[str] = Counter()
        self.fetcher: Fetcher | None = None
        self.crawl_result: CrawlResult | None = None
        self._shared = SharedState()

    def __enter__(self) -> NightlyRun:
        self.archive.clean_temporary()
        self._warehouse = warehouse(self.data_dir)
        self.con = self._warehouse.__enter__()
        self.run_id = _begin_run(self.con, "nightly")
        self.parts = _begin_parts(self.data_dir, self.run_id, self.parts_url)
        self.summary = RunSummary(run_id=self.run_id, flow="nightly", portals=len(self.sources))
        self.validators = previous_validators(self.con)
        self.loaded = loaded_contents(self.con)
        self.fetch_log = FetchLog(self.con, self.run_id)
        self.loading = _Loading(self.con, self.summary, self.progress, {s.name: s.owner for s in self.sources})
        return self

    def __exit__(self, *exc: object) -> None:
        self.archive.close()
        _end_parts(self.data_dir, self.parts)
        self._warehouse.__exit__(*exc)  # type: ignore[arg-type]

    # -- crawl ------------------------------------------------------------------------------------
    def on_found(self, found: FoundReport) -> None:
        """A report page was fetched: queue it for parsing unless these bytes are loaded already."""
        rec = found.record
        if not rec.ok:
            return
        if rec.sha256 in self.loaded:
            self.skipped += 1
            self.skipped_by_source[found.source.name] += 1
            return
        files = tuple((a.sha256, a.final_url or a.url) for a in found.attachments if a.ok and a.sha256)
        self.batches.add(ParseJob(rec.sha256 or "", found.url, rec.fetched_at, rec.content_type, found.source.name,
                                  files, found.link.title or None))

    async def crawl(self, each: Callable[[Source, SourceResult], Awaitable[object]] | None = None) -> CrawlResult:
        """Crawl every source (``each`` crawls one: by default :meth:`crawl_one`)."""
        async with Fetcher(self.archive, self.options, validators=self.validators,
                           on_record=self.fetch_log.add) as fetcher:
            self.fetcher = fetcher
            self.fetch_log.fetcher = fetcher
            result = await crawl(self.sources, fetcher, deadline=self.deadline, each=each or self.crawl_one)
        self.fetch_log.flush()
        self.crawl_result = result
        summarize_fetches(self.summary, result, fetcher, self.sources)
        return result

    async def crawl_one(self, source: Source, result: SourceResult) -> SourceResult:
        assert self.fetcher is not None, "crawl() opens the fetcher"
        return await crawl_source(source, self.fetcher, on_found=self.on_found, progress=self.progress,
                                  run=self._shared, result=result)

    # -- after the crawl ---------------------------------------------------------------------------
    def finish(self) -> RunSummary:
        self.summary.unchanged += self.skipped
        last = _last_run_sources(self.con, self.run_id)
        for name, mine in self.summary.sources.items():
            outcomes = self.loading.loaded.by_source.get(name, {})
            mine.new, mine.changed = outcomes.get("new", 0), outcomes.get("changed", 0)
            mine.unchanged = outcomes.get("unchanged", 0) + self.skipped_by_source[name]
            mine.failed_parse = outcomes.get("failed_parse", 0)
            mine.last_run_reports = last.get(name)
        if self.do_export:
            self.summary.exported_to = str(export(self.con, export_dir(self.data_dir), data_dir=self.data_dir).out)
        _end_run(self.con, self.summary)
        return self.summary


def nightly(sources: list[Source], data_dir: Path, *, options: FetchOptions | None = None, do_export: bool = True,
            progress: Progress | None = None, deadline: float | None = None) -> RunSummary:
    """discover → fetch → parse → load → export in this process, parsing on this machine's cores
    while the crawl goes on."""
    parsers = LocalParsers()
    try:
        with NightlyRun(sources, data_dir, options, do_export=do_export, deadline=deadline,
                        progress=progress) as run:
            futures: list[tuple[list[ParseJob], Future[PartFiles]]] = []
            root = str(run.archive.root)

            async def crawl_and_dispatch() -> None:
                async def dispatch() -> None:
                    while True:
                        for batch in run.batches.take(LOCAL_BATCH):
                            futures.append((batch, parsers.submit(root, batch, run.parts)))
                        await asyncio.sleep(0.02)

                dispatcher = asyncio.ensure_future(dispatch())
                try:
                    await run.crawl()
                finally:
                    dispatcher.cancel()

            asyncio.run(crawl_and_dispatch())
            futures.extend((b, parsers.submit(root, b, run.parts)) for b in run.batches.take(LOCAL_BATCH, all_=True))
            run.loading.load_all((settle(future, root, batch, run.parts, parsers.context) for batch, future in futures),
                                 run.batches.count)
            return run.finish()
    finally:
        parsers.close()


# -- re-parse and rebuild -----------------------------------------------------------------------------

REPORT_KINDS = ("report", "file")  # what re-parsing reads from the archive


def known_places(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Report URL → the place (source owner) it was last loaded with."""
    try:
        rows = con.execute("SELECT source_url, arg_max(place, report_id) FROM report WHERE place IS NOT NULL "
                           "GROUP BY source_url").fetchall()
    except duckdb.Error:  # a warehouse from before places were recorded
        return {}
    return dict(rows)


def archived_documents(archive: RawArchive) -> list[IndexEntry]:
    """The latest archived body of every report page and loaded file (from the archive index)."""
    latest: dict[str, IndexEntry] = {}
    for entry in archive.entries():
        if entry.kind in REPORT_KINDS:
            latest[entry.final_url or entry.url] = entry
    return sorted(latest.values(), key=lambda e: e.final_url or e.url)


class ReparseRun:
    """Re-parse the archive into the warehouse — or, with ``rebuild``, into a fresh warehouse that
    replaces the old one (kept aside) at the end. Use as a context manager."""

    def __init__(self, data_dir: Path, *, rebuild: bool = False, progress: Progress | None = None,
                 parts_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.parts_url = parts_url
        self.rebuild = rebuild
        self.progress = progress
        self.archive = RawArchive(data_dir / ARCHIVE_DIR)
        self.path = warehouse_path(data_dir)
        self.fresh = self.path.with_name(self.path.name + ".rebuilding")

    def __enter__(self) -> ReparseRun:
        flow = "rebuild" if self.rebuild else "reparse"
        if self.rebuild:
            for leftover in (self.fresh, self.fresh.with_name(self.fresh.name + ".wal")):
                leftover.unlink(missing_ok=True)  # a rebuild of ours that was interrupted
            entries = list(self.archive.entries())
            if not entries:
                raise WarehouseError(f"the raw archive {self.archive.root} has no index entries: nothing to "
                                     "rebuild from")
            self.con = open_warehouse(self.fresh)
        else:
            self._warehouse = warehouse(self.data_dir)
            self.con = self._warehouse.__enter__()
        self.summary = RunSummary(run_id=_begin_run(self.con, flow), flow=flow)
        self.parts = _begin_parts(self.data_dir, self.summary.run_id, self.parts_url)
        if self.rebuild:
            record_fetches(self.con, self.summary.run_id, [_record_of(e, self.archive) for e in entries
                                                            if e.kind != "file"])
        self.docs = archived_documents(self.archive)
        self.summary.reports_found = len(self.docs)
        self.loading = _Loading(self.con, self.summary, self.progress, places=self._known_places())
        return self

    def _known_places(self) -> dict[str, str]:
        """Where each report was placed when it was loaded (its source's owner): a re-parse knows
        no sources, and namesakes (two districts' 区科工信局) need it. A rebuild reads it from
        the old warehouse when that can still be read."""
        if not self.rebuild:
            return known_places(self.con)
        if not self.path.exists():
            return {}
        try:  # (open_warehouse checks the file first: a damaged one is not read further)
            with open_warehouse(self.path, read_only=True) as old:
                return known_places(old)
        except (duckdb.Error, WarehouseError) as exc:
            log.warning("the old warehouse cannot be read for the reports' places (%s): namesakes without "
                        "a place of their own stay unresolved", exc)
            return {}

    def jobs(self) -> list[list[ParseJob]]:
        """The archived documents in parse batches."""
        batches = _Batches()
        for e in self.docs:
            fetched = datetime.fromisoformat(e.fetched_at) if e.fetched_at else None
            batches.add(ParseJob(e.sha256, e.final_url or e.url, fetched, e.content_type, e.source_name))
        return batches.take(PARSE_BATCH, all_=True)

    def load(self, parts: Iterable[PartFiles]) -> None:
        """Load the parts of the re-parse (reports whose archived body is missing or damaged
        are counted, not loaded)."""
        damaged = 0

        def keep(item: Incoming) -> bool:
            nonlocal damaged
            bad = any(w.startswith("cannot read the archived body") for w in item.result.warnings)
            damaged += bad
            return not bad

        self.loading.load_all(parts, len(self.docs), keep=keep)
        if damaged:
            self.summary.failures["missing or damaged in the archive"] = (
                self.summary.failures.get("missing or damaged in the archive", 0) + damaged)

    def finish(self) -> RunSummary:
        if self.rebuild:
            replay_aliases(self.con, self.data_dir)
        _end_run(self.con, self.summary)
        return self.summary

    def __exit__(self, exc_type: object, *rest: object) -> None:
        _end_parts(self.data_dir, self.parts)
        if not self.rebuild:
            self._warehouse.__exit__(exc_type, *rest)  # type: ignore[arg-type]
            return
        self.con.close()
        if exc_type is not None:
            return  # the old warehouse stays as it was; the partial one is removed on the next try
        mark_verified(self.fresh)
        if self.path.exists():
            try:
                check_file(self.path)
                label = "replaced"
            except WarehouseError:
                label = "damaged"
            kept = quarantine(self.path, label)
            log.warning("the previous warehouse is kept as %s", kept)
            self.summary.notes.append(f"the previous ({label}) warehouse is kept as {kept}")
        os.replace(self.fresh, self.path)
        mark_verified(self.path)


def reparse(data_dir: Path, progress: Progress | None = None, *, rebuild: bool = False) -> RunSummary:
    """Re-parse every archived report page and loaded file with the current parser (no network)
    and load new versions where the output changed. ``rebuild``: build a fresh warehouse from
    the archive instead, keeping the old (e.g. damaged) file aside."""
    parsers = LocalParsers()
    try:
        with ReparseRun(data_dir, rebuild=rebuild, progress=progress) as run:
            root = str(run.archive.root)
            futures = [(b, parsers.submit(root, b, run.parts)) for b in run.jobs()]
            run.load(settle(future, root, jobs, run.parts, parsers.context) for jobs, future in futures)
            summary = run.finish()
        return summary
    finally:
        parsers.close()


def _record_of(entry: IndexEntry, archive: RawArchive) -> FetchRecord:
    size = archive.stored_size(entry.sha256) or 0
    fetched = datetime.fromisoformat(entry.fetched_at) if entry.fetched_at else datetime.now(UTC).replace(tzinfo=None)
    return FetchRecord(url=entry.url, kind=entry.kind, source_name=entry.source_name, final_url=entry.final_url,
                       status_code=200, etag=entry.etag, last_modified=entry.last_modified,
                       content_type=entry.content_type, bytes=size, sha256=entry.sha256, attempts=1,
                       note="rebuilt from the archive index", fetched_at=fetched)
