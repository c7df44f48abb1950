"""The Prefect flows: ``nightly`` (discover → fetch → parse → load → export) and ``reparse``.

Each stage is a task, so the Prefect UI shows where a run is and what failed:

- ``crawl-{source}``: one task per source (discovery and fetching), retried once when the
  source as a whole fails; a failed source never stops the others;
- ``parse-batch-{n}``: parse tasks over batches of the reports found, submitted to the flow's
  task runner while the crawl goes on; on this machine they feed a warm pool of worker
  processes on every core (``parsers="local"``), on a Dask cluster they parse where they run;
- ``load``: one task, the single writer (DuckDB allows one writing process per file);
- ``export``; then a markdown artifact (the run summary) and a table artifact (failures).

The run ends Completed, with a message naming the sources that failed if any, and Failed only
when no source could be crawled. The stages themselves are the plain objects of
flows/pipeline.py.

:func:`with_task_runner` puts the parse tasks on a Dask cluster (``prefect-dask``): a local one
on this machine's cores, or an existing one by its scheduler's address. A local cluster's
workers read the bodies from the raw archive; an existing cluster's may run on other machines,
so each parse task carries its bodies (the archive stays on this machine). The workers write
their parts (flows/parts.py) under the run's parts folder or URL; only the flow's process
writes the warehouse.
"""


import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID
from typing import Any, Generic, TypeVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed, State

from gongkai.extract.archive import RawArchive
from gongkai.extract.crawl import SourceResult, source_failure
from gongkai.extract.http import FetchOptions
from gongkai.extract.sources import Source, load_sources
from gongkai.flows.parsing import LocalParsers, ParseJob, parse_to_part
from gongkai.flows.parts import PartFiles
from gongkai.flows.pipeline import PARSE_BATCH, NightlyRun, ReparseRun
from gongkai.flows.summary import RunSummary

PROGRESS = logging.getLogger("gongkai.progress")  # the CLI shows it on stderr
T = TypeVar("T")


class Handle(Generic[T]):
    """A task parameter Prefect passes as it is (it does not look inside, copy or serialise it)."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


class SourceFailed(Exception):
    """The source as a whole failed (no list page could be read, or it crashed)."""


def _progress() -> Callable[[str], None]:
    logger = get_run_logger()

    def report(message: str) -> None:
        logger.info(message)
        PROGRESS.info(message)

    return report


DEFAULT_DEADLINE = 6 * 3600.0  # a nightly crawl that is not done in six hours ends with what it has

@task(name="crawl-source", task_run_name="crawl-{source.name}", retries=1, retry_delay_seconds=10,
      cache_policy=NONE)
async def crawl_source_task(source: Source, run: Handle[NightlyRun], result: Handle[SourceResult]) -> dict[str, Any]:
    """Discover and fetch one source's reports (retried once when the whole source fails)."""
    mine = result.value
    mine.__dict__.update(SourceResult(source.name).__dict__)  # a retry starts afresh
    await run.value.crawl_one(source, mine)
    failure = source_failure(mine)
    if failure:
        raise SourceFailed(f"{source.name}: {failure}")
    return {"list_pages": mine.list_pages, "reports": len(mine.reports), "failures": dict(mine.failures)}


@task(name="parse-batch", task_run_name="parse-batch-{number}", cache_policy=NONE)
def parse_batch_task(number: int, archive_root: str, jobs: list[ParseJob], parts_root: str,
                     parsers: Handle[LocalParsers | None] | None = None) -> PartFiles:
    """Parse a batch of archived report pages into a part (on the local pool, or right here on
    a Dask worker); the part is Parquet files under ``parts_root``, never the warehouse."""
    pool = parsers.value if parsers is not None else None
    return pool.run(archive_root, jobs, parts_root) if pool is not None else \
        parse_to_part(archive_root, jobs, parts_root)


Batches = list[PrefectFuture[PartFiles]]


def _for_workers(parsers: str, archive_root: str, jobs: list[ParseJob],
                 archive: RawArchive) -> tuple[str, list[ParseJob]]:
    """What a parse task is given: the archive's folder and the jobs naming their bodies; or,
    for workers on other machines ("remote"), the bodies themselves and no folder."""
    if parsers != "remote":
        return archive_root, jobs
    return "", [job.carrying_bodies(archive) for job in jobs]


@task(name="load", cache_policy=NONE)
def load_task(loading: Handle[Any], batches: Handle[Batches], total: int) -> dict[str, int]:
    """Load every parsed part, in order, several to a transaction (the single writer)."""
    loading.value(future.result() for future in batches.value)
    return {"batches": len(batches.value), "reports": total}


@task(name="export", cache_policy=NONE)
def export_task(run: Handle[NightlyRun]) -> str | None:
    """Finish the run: export (unless switched off) and record the summary in crawl_run."""
    return run.value.finish().exported_to


async def _artifacts(summary: RunSummary, failures: list[dict[str, Any]]) -> None:
    md = "# gongkai " + summary.flow + "\n\n" + "\n".join(f"- {line}" for line in summary.lines())
    await create_markdown_artifact(markdown=md, key=f"gongkai-{summary.flow}-summary",
                                   description="What the run did, per source")
    if failures:
        await create_table_artifact(table=failures[:1000], key=f"gongkai-{summary.flow}-failures",
                                    description="Every request that failed, with its reason")


def _final_state(summary: RunSummary, attempted: int) -> State[dict[str, object]]:
    data = summary.as_dict()
    failed = summary.failed_sources
    if attempted and len(failed) == attempted:
        return Failed(message=f"no source could be crawled: {'; '.join(failed.values())}", data=data)
    if failed:
        return Completed(message=f"{len(failed)} of {attempted} source(s) failed: {', '.join(sorted(failed))}",
                         data=data)
    return Completed(message=f"{summary.new} new, {summary.changed} changed, {summary.unchanged} unchanged",
                     data=data)


@flow(name="nightly")
async def nightly_flow(sources_file: str, data_dir: str, do_export: bool = True,
                       options: FetchOptions | None = None, parsers: str = "local",
                       source_retry_delay: float = 10.0,
                       deadline: float | None = DEFAULT_DEADLINE,
                       parts_url: str | None = None) -> State[dict[str, object]]:
    """Crawl every enabled source, archive what was fetched, parse, load new and changed reports,
    export. ``parsers``: "local" (a pool on this machine's cores), "runner" (parse where the
    task runner runs the task, e.g. on a local Dask cluster's workers, reading the archive) or
    "remote" (the same on workers elsewhere: the bodies travel with the tasks). A source that fails as a whole is tried
    again after ``source_retry_delay`` seconds. The crawl ends cleanly after ``deadline``
    seconds (None: no limit) with what it has: parsed, loaded and reported. ``parts_url``: where
    parse workers write their parts (default DATA_DIR/parts; an fsspec URL for remote workers)."""
    progress = _progress()
    sources = load_sources(Path(sources_file))
    pool = LocalParsers() if parsers == "local" else None
    try:
        with NightlyRun(sources, Path(data_dir), options, do_export=do_export, deadline=deadline,
                        progress=progress, parts_url=parts_url) as run:
            root = str(run.archive.root)
            batches: Batches = []

            def submit(jobs: list[ParseJob]) -> None:
                batches.append(parse_batch_task.submit(len(batches) + 1, *_for_workers(parsers, root, jobs, run.archive),
                                                       run.parts, Handle(pool)))

            async def dispatch() -> None:  # parse while the crawl goes on
                while True:
                    for jobs in run.batches.take(PARSE_BATCH):
                        submit(jobs)
                    await asyncio.sleep(0.1)

            crawl_task = crawl_source_task.with_options(retry_delay_seconds=source_retry_delay)

            async def each(source: Source, result: SourceResult) -> None:
                await crawl_task(source, Handle(run), Handle(result))

            dispatcher = asyncio.ensure_future(dispatch())
            try:
                await run.crawl(each)
            finally:
                dispatcher.cancel()
            for jobs in run.batches.take(PARSE_BATCH, all_=True):
                submit(jobs)

            def load(parts: Iterable[PartFiles]) -> None:
                run.loading.load_all(parts, run.batches.count)

            load_task(Handle(load), Handle(batches), run.batches.count)
            export_task(Handle(run))
            summary = run.summary
            failures = [{"source": r.source_name or "", "kind": r.kind, "url": r.url, "error": r.error or ""}
                        for r in (run.fetcher.records if run.fetcher else []) if r.error]
    finally:
        if pool is not None:
            pool.close()
    for line in summary.lines():
        get_run_logger().info(line)
    await _artifacts(summary, failures)
    return _final_state(summary, len(run.sources))


@flow(name="reparse")
async def reparse_flow(data_dir: str, rebuild: bool = False, parsers: str = "local",
                       parts_url: str | None = None) -> State[dict[str, object]]:
    """Re-parse the raw archive with the current parser; no network. ``rebuild``: a fresh
    warehouse from the archive, the old file kept aside."""
    progress = _progress()
    pool = LocalParsers() if parsers == "local" else None
    try:
        with ReparseRun(Path(data_dir), rebuild=rebuild, progress=progress, parts_url=parts_url) as run:
            root = str(run.archive.root)
            batches: Batches = [parse_batch_task.submit(n, *_for_workers(parsers, root, jobs, run.archive), run.parts,
                                                        Handle(pool))
                                for n, jobs in enumerate(run.jobs(), 1)]
            load_task(Handle(run.load), Handle(batches), len(run.docs))
            summary = run.finish()
    finally:
        if pool is not None:
            pool.close()
    await _artifacts(summary, [])
    return Completed(message=f"{summary.changed} changed, {summary.unchanged} unchanged", data=summary.as_dict())


TASK_RUNNERS = ("local", "dask")
DASK_NOT_INSTALLED = "--task-runner dask needs prefect-dask: pip install 'gongkai[dask]'"


class TaskRunnerError(ValueError):
    """A task runner that cannot be used as asked (the message says why)."""


def dask_runner(address: str | None = None, workers: int | None = None) -> Any:
    """A ``DaskTaskRunner``: on the cluster whose scheduler is at ``address``
    (``tcp://HOST:PORT``), else on a local cluster of one single-threaded worker process per
    core (listening on 127.0.0.1 only, no dashboard)."""
    try:
        import dask
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise TaskRunnerError(DASK_NOT_INSTALLED) from exc
    # the cluster's own chatter (workers starting, stopping) stays out of the command's output
    dask.config.set({"logging.distributed": "warning"})
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address:
        if not address.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise TaskRunnerError(f"--dask-address {address!r} is not a Dask scheduler address (tcp://HOST:PORT)")
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": workers or max(1, os.cpu_count() or 1), "threads_per_worker": 1, "processes": True,
        "host": "127.0.0.1", "dashboard_address": None})


def with_task_runner(flow_obj: Any, task_runner: str = "local", dask_address: str | None = None,
                     workers: int | None = None) -> tuple[Any, str]:
    """The flow to run and its ``parsers`` parameter: "local" keeps the parse tasks on this
    machine's warm pool; "dask" submits them to a Dask cluster, where they parse as they run."""
    if task_runner not in TASK_RUNNERS:
        raise TaskRunnerError(f"--task-runner {task_runner!r}: choose one of {', '.join(TASK_RUNNERS)}")
    if task_runner == "local":
        if dask_address:
            raise TaskRunnerError("--dask-address needs --task-runner dask")
        return flow_obj, "local"
    # a cluster of its own runs here and reads the archive; one at an address may run anywhere,
    # so its workers are sent the bodies to parse
    return flow_obj.with_options(task_runner=dask_runner(dask_address, workers)), "remote" if dask_address else "runner"


@dataclass
class FlowOutcome:
    ok: bool  # Completed
    summary: dict[str, object]
    message: str
    flow_run_id: UUID | None


def run_flow(flow_call: Any) -> FlowOutcome:
    """Run a flow (called with ``return_state=True``) to its end from synchronous code."""
    state = asyncio.run(flow_call)
    data = state.result(raise_on_failure=False)
    if isinstance(data, BaseException):
        raise data
    return FlowOutcome(state.is_completed(), data, state.message or "", state.state_details.flow_run_id)
