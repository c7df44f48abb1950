"""The ``gongkai`` command line.

Exit codes: 0 success; 1 a runtime failure (a damaged or locked warehouse, an export or crawl
that could not be written); 2 a usage mistake (a missing path, a bad option value, a refused
query, a malformed sources file). Errors are one line on stderr; ``--debug`` (or
``GONGKAI_LOG_LEVEL=DEBUG``) shows the traceback as well.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import traceback
from collections import Counter
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gongkai import __version__
from gongkai.flows.parse_files import Expanded, PathProblem, expand_paths, json_line, parse_many
from gongkai.flows.settings import configure_logging, export_dir, load_settings, prefect_env, show_progress
from gongkai.paths import DATA_DIR, SQL_DIR
from gongkai.transform.models import ParseResult

# The warehouse, the crawler and Prefect are imported by the commands that use them, so that
# ``gongkai parse`` starts quickly. Errors of these kinds are the user's one-line messages:
_KNOWN_ERRORS = (("gongkai.flows.integrity", "WarehouseError"), ("gongkai.flows.exporter", "ExportError"),
                 ("gongkai.extract.sources", "SourceError"), ("gongkai.extract.archive", "ArchiveError"),
                 ("gongkai.flows.query", "QueryRefused"))


def _is_error(exc: BaseException, module: str, name: str) -> bool:
    """Whether ``exc`` is a ``module.name`` (a module not imported yet raised none)."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, getattr(loaded, name))


class Problem(Exception):
    """An error for the user: one line, and the exit code (2 for usage mistakes, 1 otherwise)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


_STATE = {"debug": False}

app = typer.Typer(
    help="gongkai: 政府信息公开工作年度报告 → canonical cells, a DuckDB warehouse and Parquet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gongkai {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Log everything and show tracebacks of errors.")] = False,
) -> None:
    settings = load_settings()
    _STATE["debug"] = debug or settings.debug
    configure_logging("DEBUG" if debug else settings.log_level)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command; errors become one line on stderr and an exit code (usage
    mistakes that the command line itself catches are reported by it, with exit code 2)."""
    try:
        app(args=argv, prog_name="gongkai")
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one readable line
        usage = isinstance(exc, PathProblem) or _is_error(exc, "gongkai.flows.query", "QueryRefused")
        code = exc.code if isinstance(exc, Problem) else 2 if usage else 1
        if _STATE["debug"]:
            traceback.print_exc()
        known = isinstance(exc, Problem | PathProblem) or any(_is_error(exc, *k) for k in _KNOWN_ERRORS)
        message = str(exc) if known else f"{type(exc).__name__}: {exc}"
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(' '.join(message.split()))}",
                                                    highlight=False)  # "[sources]" is text, not markup
        sys.exit(code)


def _fail(message: str, code: int = 1) -> NoReturn:
    raise Problem(message, code)


def _summary_table(results: list[ParseResult]) -> Table:
    table = Table(title=f"{len(results)} report(s)")
    for col in ("source", "agency", "year", "layout", "status", "cells", "failing rules"):
        table.add_column(col, overflow="fold")
    for r in results:
        counts = Counter(c.rule for c in r.failing_rules())
        failing = ", ".join(f"{rule}×{n}" for rule, n in sorted(counts.items()))
        colour = {"ok": "green", "partial": "yellow", "failed": "red"}[r.status]
        table.add_row(
            Path(r.source).name, r.agency or "?", str(r.year or "?"), r.layout or "?",
            f"[{colour}]{r.status}[/{colour}]", str(len(r.cells)),
            failing,
        )
    return table


def _expand(paths: list[Path]) -> Expanded:
    found = expand_paths(paths)
    for note in found.notes():
        typer.echo(note, err=True)
    if not found.files:
        _fail("no report files among the paths given", 2)
    return found


def _console() -> Console:
    out = Console()
    return out if out.is_terminal else Console(width=200, soft_wrap=True)  # no wrapping inside a pipe


@app.command()
def parse(
    paths: Annotated[list[Path], typer.Argument(help="Report files (HTML, text, Markdown, PDF, DOCX, XLSX, XLS; DOC/WPS with LibreOffice; scans with gongkai[ocr]) or folders.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per report (JSON Lines).")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any report is not ok.")] = False,
) -> None:
    """Parse reports into canonical cells, checks and warnings.

    Example: gongkai parse data/samples/000.txt --json

    Example: gongkai parse data/samples/   (a readable summary table)
    """
    files = _expand(paths).files
    results: list[ParseResult] = []
    statuses: list[str] = []
    err = Console(stderr=True)
    outputs = parse_many(files, render=json_line) if as_json else parse_many(files)
    with Progress(
        TextColumn("parsing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=not (err.is_terminal and len(files) > 20), transient=True,
    ) as progress:
        task = progress.add_task("parse", total=len(files))
        for got in outputs:
            if isinstance(got, ParseResult):
                results.append(got)
                statuses.append(got.status)
            else:  # a JSON line, printed as it comes
                line, status = got
                sys.stdout.write(line)
                sys.stdout.flush()
                statuses.append(status)
            progress.advance(task)
    if not as_json:
        console = _console()
        console.print(_summary_table(results))
        for r in results:
            for w in r.warnings:
                console.print(f"[dim]{Path(r.source).name}:[/dim] {escape(w)}", highlight=False)
    if strict and any(status != "ok" for status in statuses):
        raise typer.Exit(1)


DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder of the warehouse, archive and exports (default: $GONGKAI_DATA_DIR or ./data)."),
]


def _data_dir(value: Path | None) -> Path:
    return value if value is not None else load_settings().data_dir


LOAD_FILES = 200  # files per load transaction


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders to parse and load.")],
    data_dir: DataDir = None,
) -> None:
    """Parse local reports and load them into the warehouse (idempotent, versioned).

    Example: gongkai load data/samples/ --data-dir ./data

    Loading the same files again changes nothing; a changed report becomes a new version. A report that fails to parse is recorded with its reason and loading goes on. Each file's bytes are kept in the raw archive, so that the warehouse can always be rebuilt (gongkai reparse --rebuild).
    """
    from gongkai.extract.archive import ArchiveError, IndexEntry, RawArchive
    from gongkai.flows.loader import Loader, LoadSummary
    from gongkai.flows.parts import concat_parts, file_part
    from gongkai.flows.pipeline import ARCHIVE_DIR
    from gongkai.flows.warehouse import warehouse

    files = _expand(paths).files
    directory = _data_dir(data_dir)
    archive = RawArchive(directory / ARCHIVE_DIR)
    err = Console(stderr=True)
    with warehouse(directory) as con, Progress(
            TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, disable=not err.is_terminal, transient=True) as progress:
        task = progress.add_task("load", total=len(files))
        loader, summary, batch = Loader(con), LoadSummary(), []
        real = [str(path.resolve()) for path in files]  # one file, one identity, however it was typed

        def flush() -> None:
            summary.add(loader.load_part(concat_parts(batch)))
            batch.clear()

        parsed = zip(files, real, parse_many(files, real, render=file_part))
        for n, (path, name, (part, sha)) in enumerate(parsed, 1):
            if sha:
                try:
                    archive.put(path.read_bytes())
                    archive.record([IndexEntry(sha256=sha, url=name, kind="file",
                                               fetched_at=datetime.now(UTC).replace(tzinfo=None).isoformat())])
                except (OSError, ArchiveError) as exc:
                    typer.echo(f"warning: {name} not archived: {exc}", err=True)
            batch.append(part)
            if len(batch) >= LOAD_FILES:
                flush()
                progress.update(task, completed=n)
        if batch:
            flush()
    typer.echo(f"loaded {len(files)} file(s): {summary.new} new, {summary.changed} changed, "
               f"{summary.unchanged} unchanged, {summary.failed_parse} failed to parse, "
               f"{summary.cells} cells written")
    for e in summary.errors:
        typer.echo(f"not loaded: {e}", err=True)
    if summary.errors:
        raise typer.Exit(1)


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    xlsx = "xlsx"


@app.command(name="export")
def export_cmd(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="parquet (for pandas, R, Stata), csv (UTF-8 with BOM, for Excel) or xlsx (one workbook: a sheet per year of cells, reports, agencies, checks, codebook).")] = ExportFormat.parquet,
    out: Annotated[Path | None, typer.Option("--out", help="Export folder (default: DATA_DIR/export).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export the current cells, reports, agencies, checks and codebook (with a data dictionary).

    Example: gongkai export --format parquet --out ./export

    Cells are partitioned by year (cells/year=2023/…). The export replaces only a missing folder, an empty one or a previous gongkai export, and only once the new one is complete; any other folder is refused and left as it is.
    """
    from gongkai.flows.exporter import export
    from gongkai.flows.warehouse import warehouse

    directory = _data_dir(data_dir)
    with warehouse(directory, read_only=True) as con:
        summary = export(con, out if out is not None else export_dir(directory), fmt.value, data_dir=directory)
    typer.echo(f"exported {summary.cells} cells in {summary.files} files to {summary.out}")


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command(context_settings={"ignore_unknown_options": True})
def query(
    sql: Annotated[str, typer.Argument(help="One SQL SELECT statement against the warehouse.")],
    fmt: Annotated[QueryFormat, typer.Option("--format", help="table, csv or json.")] = QueryFormat.table,
    data_dir: DataDir = None,
) -> None:
    """Run one read-only SQL query against the warehouse.

    Example: gongkai query "SELECT agency, year, applications_received FROM v_summary ORDER BY year"

    Example: gongkai query "SELECT * FROM v_cells WHERE row_code = 'new_received'" --format csv

    The query reads the warehouse and nothing else: no files, no network, no changes (one SELECT, WITH, DESCRIBE, SHOW or EXPLAIN statement per call).
    """
    from gongkai.flows.output import print_rows
    from gongkai.flows.query import reader, run_query

    with reader(_data_dir(data_dir)) as con:
        result = run_query(con, sql)
    print_rows(result.columns, result.rows, fmt.value)


@app.command()
def stats(data_dir: DataDir = None) -> None:
    """Counts of current reports and cells per year, layout and status, and the warehouse checks.

    Example: gongkai stats --data-dir ./data
    """
    from gongkai.flows.output import print_rows
    from gongkai.flows.warehouse import run_checks, warehouse

    with warehouse(_data_dir(data_dir), read_only=True) as con:
        cur = con.execute((SQL_DIR / "reports" / "stats.sql").read_text(encoding="utf-8"))
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchall()
        checks = run_checks(con)
    print_rows(columns, rows, "table")
    bad = {k: v for k, v in checks.items() if v}
    typer.echo("warehouse checks: " + ("all pass" if not bad else ", ".join(f"{k}: {v} rows" for k, v in bad.items())))


SourcesFile = Annotated[
    Path | None,
    typer.Option("--sources", help="Sources registry (default: data/sources.toml of the project)."),
]


def _sources_file(value: Path | None) -> Path:
    from gongkai.extract.sources import SourceError, load_sources

    path = value if value is not None else DATA_DIR / "sources.toml"
    try:
        sources = load_sources(path)
    except SourceError as exc:
        _fail(str(exc), 2)
    if not any(s.enabled for s in sources):
        _fail(f"{path} has no enabled source (set enabled = true on an entry)", 2)
    return path


TaskRunner = Annotated[str, typer.Option("--task-runner", help="Where the parse tasks run: local (a pool on this machine's cores) or dask (a Dask cluster, with gongkai[dask]).")]
DaskAddress = Annotated[str | None, typer.Option("--dask-address", help="An existing Dask scheduler (tcp://HOST:PORT) for --task-runner dask; default: a local cluster on this machine's cores.")]
PartsUrl = Annotated[str | None, typer.Option("--parts-url", help="Where parse workers write their Parquet parts for the writer: default DATA_DIR/parts; a folder or fsspec URL both the workers and this machine reach.")]


def _flow_with_runner(flow_obj: Any, task_runner: str, dask_address: str | None) -> tuple[Any, str]:
    from gongkai.flows.nightly import TaskRunnerError, with_task_runner

    try:
        return with_task_runner(flow_obj, task_runner, dask_address)
    except TaskRunnerError as exc:
        _fail(str(exc), 2)


@app.command()
def crawl(
    sources: SourcesFile = None,
    data_dir: DataDir = None,
    no_export: Annotated[bool, typer.Option("--no-export", help="Skip the Parquet export at the end.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per network operation before a request is retried.")] = 15.0,
    max_minutes: Annotated[float, typer.Option("--max-minutes", min=0.1, help="End the crawl cleanly after this many minutes, keeping what was fetched (it is parsed, loaded and reported).")] = 360.0,
    task_runner: TaskRunner = "local",
    dask_address: DaskAddress = None,
    parts_url: PartsUrl = None,
) -> None:
    """Run the nightly flow once: discover, fetch, parse, load, export.

    Example: gongkai crawl --sources data/sources.toml --data-dir ./data

    Example: gongkai crawl --task-runner dask --dask-address tcp://10.0.0.5:8786 --parts-url s3://bucket/parts

    Runs as a Prefect flow (a temporary local Prefect server starts when PREFECT_API_URL is not set). An interrupted run can simply be run again: everything already archived or loaded is reused.
    """
    from gongkai.extract.http import FetchOptions

    path = _sources_file(sources)
    directory = _data_dir(data_dir).resolve()
    prefect_env(directory)
    from gongkai.flows.nightly import nightly_flow, run_flow  # Prefect is imported only when a flow runs

    chosen, parsers = _flow_with_runner(nightly_flow, task_runner, dask_address)
    show_progress()
    outcome = run_flow(chosen(str(path.resolve()), str(directory), not no_export, FetchOptions(timeout=timeout),
                              parsers=parsers, deadline=max_minutes * 60, parts_url=parts_url, return_state=True))
    for line in summary_lines(outcome.summary):
        typer.echo(line)
    if not outcome.ok:
        _fail(f"the nightly run failed: {outcome.message}")


@app.command(name="reparse")
def reparse_cmd(
    data_dir: DataDir = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build a fresh warehouse from the raw archive (e.g. when the warehouse is damaged); the old file is kept beside it.")] = False,
    task_runner: TaskRunner = "local",
    dask_address: DaskAddress = None,
    parts_url: PartsUrl = None,
) -> None:
    """Re-parse every archived report with the current parser (no network); changed output becomes a new report version.

    Example: gongkai reparse --data-dir ./data

    Example: gongkai reparse --rebuild --data-dir ./data   (a damaged warehouse: start again from the archive)

    Example: gongkai reparse --task-runner dask --data-dir ./data   (parse on a local Dask cluster)
    """
    directory = _data_dir(data_dir).resolve()
    prefect_env(directory)
    from gongkai.flows.nightly import reparse_flow, run_flow

    chosen, parsers = _flow_with_runner(reparse_flow, task_runner, dask_address)
    show_progress()
    result = run_flow(chosen(str(directory), rebuild, parsers=parsers, parts_url=parts_url,
                             return_state=True)).summary
    for line in summary_lines(result):
        typer.echo(line)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("overview.html"),
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency, with a section on its history.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Only agencies whose 行政区划代码 starts with this (e.g. 410106).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write an overview of the warehouse as one HTML file that opens offline: charts and tables.

    Example: gongkai report --out overview.html --data-dir ./data

    Example: gongkai report --agency "郑州市上街区科学技术和工业信息化局" --out shangjie.html

    Reports per year and layout, applications and how they were answered, denial and correction rates by agency (small counts flagged), year-over-year change, data quality, and coverage by region and level. The file holds no script and loads nothing from anywhere. An existing file is replaced only if it is an earlier overview.
    """
    from gongkai.flows.overview import GENERATOR, build_overview
    from gongkai.flows.query import reader

    target = out.expanduser()
    if target.is_dir():
        _fail(f"{target} is a folder: give a file name, e.g. {target / 'overview.html'}", 2)
    if target.exists() and GENERATOR not in target.read_text(encoding="utf-8", errors="replace")[:2000]:
        _fail(f"{target} exists and is not an overview written by gongkai: it is left as it is (choose another --out)", 2)
    if region is not None and not region.isdigit():
        _fail(f"--region must be the digits of a 行政区划代码 (e.g. 410106), not {region!r}", 2)
    directory = _data_dir(data_dir).resolve()
    say = (lambda m: Console(stderr=True).print(m, highlight=False))
    with reader(directory) as con:
        if agency is not None and not con.execute("SELECT 1 FROM v_current_report WHERE agency = ? LIMIT 1",
                                                  [agency]).fetchone():
            _fail(f"no current report of an agency named {agency!r} in the warehouse", 2)
        page = build_overview(con, agency=agency, region=region, progress=say)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    typer.echo(f"wrote {target} ({len(page.encode('utf-8')):,} bytes)")


sources_app = typer.Typer(help="Work with the sources registry.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@sources_app.command("discover")
def sources_discover(
    url: Annotated[str, typer.Argument(help="A portal's home page or its 政府信息公开 page.")],
    max_pages: Annotated[int, typer.Option("--max-pages", min=1, max=500, help="Pages read at most.")] = 60,
    depth: Annotated[int, typer.Option("--depth", min=1, max=6, help="Links followed from the start page at most.")] = 3,
    delay: Annotated[float, typer.Option("--delay", min=0.0, help="Seconds between requests to the host.")] = 1.0,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="Allow a host on a private or loopback address (an intranet, a test portal).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Find a portal's annual-report columns and print ready-to-paste [[source]] entries.

    Example: gongkai sources discover https://www.xx.gov.cn/ >> data/sources.toml

    Walks the portal's own host (robots.txt honoured, politely, at most --depth links deep and --max-pages pages) to the columns named like 年报 / 年度报告 (department and township sub-columns too), tells each one's family and counts the reports its first page lists. The pages read are kept in the raw archive of the data directory.
    """
    import asyncio

    from gongkai.extract.archive import RawArchive
    from gongkai.extract.discover import discover
    from gongkai.extract.http import Fetcher, FetchOptions
    from gongkai.flows.pipeline import ARCHIVE_DIR
    from gongkai.extract.netguard import AddressPolicy
    from gongkai.extract.urls import BadURL, host_of, split_checked

    try:
        split_checked(url)
    except BadURL as exc:
        _fail(str(exc), 2)
    directory = _data_dir(data_dir).resolve()
    host = host_of(url)
    policy = AddressPolicy([host] if allow_private else [])

    async def run():  # noqa: ANN202
        async with Fetcher(RawArchive(directory / ARCHIVE_DIR), FetchOptions(timeout=15.0), policy=policy) as f:
            f.configure_host(host, 1, delay)
            return await discover(url, f, max_depth=depth, max_pages=max_pages,
                                  progress=lambda m: Console(stderr=True).print(m, highlight=False))

    columns = asyncio.run(run())
    if not columns:
        _fail(f"no annual-report column found from {url} within {depth} links and {max_pages} pages "
              "(try the portal's 政府信息公开 page, or a larger --depth)")
    labels = [part for part in host.split(".") if part not in ("www", "gov", "cn", "com", "org", "net")]
    stem = "portal" if not labels or labels[0].isdigit() else re.sub(r"[^a-z0-9]+", "-", labels[-1]).strip("-")
    for n, column in enumerate(columns, 1):
        typer.echo(column.toml(f"{stem}-nb{n if len(columns) > 1 else ''}"))


@app.command()
def serve(
    sources: SourcesFile = None,
    data_dir: DataDir = None,
    cron: Annotated[str, typer.Option("--cron", help="When to run (cron, Asia/Shanghai time).")] = "0 2 * * *",
) -> None:
    """Register and serve the nightly deployment (cron 0 2 * * *, Asia/Shanghai) until stopped.

    Example: gongkai serve --sources data/sources.toml --data-dir /srv/gongkai/data

    Schedules need a running Prefect server: start one with `prefect server start` and set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api), or point PREFECT_API_URL at an existing server.
    """
    path = _sources_file(sources)
    directory = _data_dir(data_dir).resolve()
    prefect_env(directory)
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.schedules import Cron

    try:
        CronSchedule(cron=cron, timezone="Asia/Shanghai")
    except ValueError:
        _fail(f"--cron {cron!r} is not a cron expression (five fields, e.g. '0 2 * * *')", 2)
    api = load_settings().prefect_api_url
    if not api:
        _fail("serve needs a running Prefect server: start one with `prefect server start` and set "
              "PREFECT_API_URL=http://127.0.0.1:4200/api")
    _require_server(api)

    from gongkai.flows.nightly import nightly_flow

    nightly_flow.serve(
        name="gongkai-nightly",
        schedules=[Cron(cron, timezone="Asia/Shanghai")],
        parameters={"sources_file": str(path.resolve()), "data_dir": str(directory)},
    )


def _require_server(api: str) -> None:
    import httpx

    try:
        httpx.get(api.rstrip("/") + "/health", timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:
        _fail(f"no Prefect server answers at PREFECT_API_URL={api} ({type(exc).__name__}): start one with "
              "`prefect server start`, or point PREFECT_API_URL at a running one")


@app.command()
def demo(data_dir: DataDir = None) -> None:
    """Crawl the bundled simulated portal into the data directory and show what came out.

    Example: gongkai demo --data-dir ./data

    Starts the simulated portal on 127.0.0.1, runs the nightly flow against it, prints the run summary and three example queries, and stops the portal.
    """
    directory = _data_dir(data_dir).resolve()
    prefect_env(directory)
    from gongkai.devtools.simportal import SimPortal
    from gongkai.extract.http import FetchOptions
    from gongkai.flows.nightly import nightly_flow, run_flow
    from gongkai.flows.output import print_rows
    from gongkai.flows.query import reader, run_query
    from gongkai.flows.warehouse import warehouse_path

    with SimPortal() as portal, tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.toml"
        sources.write_text(portal.sources_toml(delay_s=0.05), encoding="utf-8")
        typer.echo(f"simulated portal at {portal.url('/')}; crawling into {directory}")
        show_progress()
        result = run_flow(nightly_flow(str(sources), str(directory), True, FetchOptions(timeout=2.0),
                                       return_state=True)).summary
    for line in summary_lines(result):
        typer.echo(line)
    with reader(directory) as con:
        for title, sql in DEMO_QUERIES:
            typer.echo(f"\n{title}\n  {sql}")
            got = run_query(con, sql)
            print_rows(got.columns, got.rows, "table")
    typer.echo(f"\nwarehouse: {warehouse_path(directory)}")
    if result.get("exported_to"):
        typer.echo(f"export:    {result['exported_to']}")
    typer.echo("try next:")
    for command in (f'gongkai query "SELECT * FROM v_data_quality" --data-dir {directory}',
                    f"gongkai report --out overview.html --data-dir {directory}",
                    f"gongkai export --format csv --out ./export-csv --data-dir {directory}"):
        typer.echo(f"  {command}")


DEMO_QUERIES = (
    ("Applications received per agency and year:",
     "SELECT agency, year, applications_received, denied, reviews FROM v_summary ORDER BY agency, year LIMIT 12"),
    ("Reports per layout and status:",
     "SELECT layout, status, count(*) AS reports FROM v_current_report GROUP BY ALL ORDER BY ALL"),
    ("Where the numbers came from (table 三 totals, with the page they were read from):",
     "SELECT agency, row_code, col_code, value, raw, source_url FROM v_cells "
     "WHERE table_code = 't3' AND col_code = 'total' AND value > 0 ORDER BY agency, row_code LIMIT 8"),
)


def summary_lines(result: dict[str, object]) -> list[str]:
    from gongkai.flows.summary import RunSummary

    return RunSummary.from_dict(result).lines()


@app.command()
def alias(
    old: Annotated[str, typer.Argument(help="The agency's former name.")],
    new: Annotated[str, typer.Argument(help="Its current name (already in the warehouse).")],
    note: Annotated[str, typer.Option("--note", help="Why (e.g. 2019 机构改革).")] = "",
    data_dir: DataDir = None,
) -> None:
    """Record that an agency was renamed: its reports under the old name join the new one.

    Example: gongkai alias "某某县环境保护局" "某某县生态环境局" --note "2019 机构改革"
    """
    from gongkai.flows.aliases import AliasError, add_alias, record_alias
    from gongkai.flows.warehouse import warehouse

    directory = _data_dir(data_dir)
    with warehouse(directory) as con:
        try:
            moved = add_alias(con, old, new, note)
        except AliasError as exc:
            _fail(str(exc), 2)
    record_alias(directory, old, new, note)
    typer.echo(f"{old} → {new}: {moved} report version(s) moved")
