"""The ``gongkai`` command line."""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gongkai import __version__
from gongkai.extract.sources import SourceError, load_sources
from gongkai.flows.exporter import ExportError, export
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.output import print_rows
from gongkai.flows.parse_files import expand_paths, parse_path
from gongkai.flows.pipeline import FetchOptions, RunSummary
from gongkai.flows.settings import configure_logging, load_settings, prefect_defaults, show_progress
from gongkai.flows.warehouse import WarehouseError, open_warehouse, run_checks, warehouse_path
from gongkai.paths import DATA_DIR, SQL_DIR
from gongkai.transform.models import ParseResult

app = typer.Typer(
    help="gongkai: 政府信息公开工作年度报告 → canonical cells, a DuckDB warehouse and Parquet.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    settings = load_settings()
    configure_logging(settings)
    prefect_defaults(settings)
    if version:
        typer.echo(__version__)
        raise typer.Exit()


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


@app.command()
def parse(
    paths: Annotated[list[Path], typer.Argument(help="Report files (HTML, text, Markdown) or folders.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per report (JSON Lines).")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any report is not ok.")] = False,
) -> None:
    """Parse reports into canonical cells, checks and warnings.

    Example:

        gongkai parse data/samples/000.txt --json

        gongkai parse data/samples/          # a readable summary table
    """
    files = expand_paths(paths)
    if not files:
        raise typer.BadParameter("no files to parse", param_hint="PATHS")
    results: list[ParseResult] = []
    err = Console(stderr=True)
    show_progress = err.is_terminal and len(files) > 20
    with Progress(
        TextColumn("parsing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=not show_progress, transient=True,
    ) as progress:
        task = progress.add_task("parse", total=len(files))
        for path in files:
            result = parse_path(path)
            if as_json:
                sys.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
                sys.stdout.flush()
            results.append(result)
            progress.advance(task)
    if not as_json:
        out = Console()
        console = out if out.is_terminal else Console(width=200)  # no wrapping inside a pipe
        console.print(_summary_table(results))
        for r in results:
            for w in r.warnings:
                console.print(f"[dim]{Path(r.source).name}:[/dim] {w}")
    if strict and any(r.status != "ok" for r in results):
        raise typer.Exit(1)


DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder of the warehouse, archive and exports (default: $GONGKAI_DATA_DIR or ./data)."),
]


def _data_dir(value: Path | None) -> Path:
    return value if value is not None else load_settings().data_dir


def _fail(message: str) -> NoReturn:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders to parse and load.")],
    data_dir: DataDir = None,
) -> None:
    """Parse local reports and load them into the warehouse (idempotent, versioned).

    Example:

        gongkai load data/samples/ --data-dir ./data

    Loading the same files again changes nothing; a changed report becomes a new version.
    A report that fails to parse is recorded with its reason and loading goes on.
    """
    files = expand_paths(paths)
    if not files:
        raise typer.BadParameter("no files to load", param_hint="PATHS")
    try:
        con = open_warehouse(warehouse_path(_data_dir(data_dir)))
    except WarehouseError as exc:
        _fail(str(exc))
    err = Console(stderr=True)
    with Progress(TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not err.is_terminal, transient=True) as progress:
        task = progress.add_task("load", total=len(files))
        items = (Incoming(parse_path(path)) for path in files)
        summary = Loader(con).load(items, progress=lambda n: progress.update(task, completed=n))
    con.close()
    typer.echo(f"loaded {len(files)} file(s): {summary.new} new, {summary.changed} changed, "
               f"{summary.unchanged} unchanged, {summary.failed_parse} failed to parse, "
               f"{summary.cells} cells written")
    for e in summary.errors:
        typer.echo(f"not loaded: {e}", err=True)
    if summary.errors:
        raise typer.Exit(1)


@app.command(name="export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    out: Annotated[Path | None, typer.Option("--out", help="Export folder (default: DATA_DIR/export).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export the current cells, reports, agencies, checks and codebook (with a data dictionary).

    Example:

        gongkai export --format parquet --out ./export

    Cells are partitioned by year (cells/year=2023/…); a previous export at --out is replaced
    only once the new one is complete.
    """
    directory = _data_dir(data_dir)
    try:
        con = open_warehouse(warehouse_path(directory), read_only=True)
        summary = export(con, out if out is not None else directory / "export", fmt)
    except (WarehouseError, ExportError) as exc:
        _fail(str(exc))
    con.close()
    typer.echo(f"exported {summary.cells} cells in {summary.files} files to {summary.out}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A SQL query (read-only) against the warehouse.")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    data_dir: DataDir = None,
) -> None:
    """Run a read-only SQL query against the warehouse.

    Example:

        gongkai query "SELECT agency, year, applications_received FROM v_summary ORDER BY year"

        gongkai query "SELECT * FROM v_cells WHERE row_code = 'new_received'" --format csv
    """
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json", param_hint="--format")
    try:
        con = open_warehouse(warehouse_path(_data_dir(data_dir)), read_only=True)
    except WarehouseError as exc:
        _fail(str(exc))
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchall()
    except duckdb.Error as exc:
        _fail(f"query failed: {exc}")
    finally:
        con.close()
    print_rows(columns, rows, fmt)


@app.command()
def stats(data_dir: DataDir = None) -> None:
    """Counts of current reports and cells per year, layout and status.

    Example:

        gongkai stats --data-dir ./data
    """
    try:
        con = open_warehouse(warehouse_path(_data_dir(data_dir)), read_only=True)
    except WarehouseError as exc:
        _fail(str(exc))
    cur = con.execute((SQL_DIR / "reports" / "stats.sql").read_text(encoding="utf-8"))
    columns = [d[0] for d in cur.description or []]
    rows = cur.fetchall()
    checks = run_checks(con)
    con.close()
    print_rows(columns, rows, "table")
    bad = {k: v for k, v in checks.items() if v}
    typer.echo("warehouse checks: " + ("all pass" if not bad else ", ".join(f"{k}: {v} rows" for k, v in bad.items())))


SourcesFile = Annotated[
    Path | None,
    typer.Option("--sources", help="Sources registry (default: data/sources.toml of the project)."),
]


def _sources_file(value: Path | None) -> Path:
    path = value if value is not None else DATA_DIR / "sources.toml"
    try:
        sources = load_sources(path)
    except SourceError as exc:
        _fail(str(exc))
    if not any(s.enabled for s in sources):
        _fail(f"{path} has no enabled source (set enabled = true on an entry)")
    return path


@app.command()
def crawl(
    sources: SourcesFile = None,
    data_dir: DataDir = None,
    no_export: Annotated[bool, typer.Option("--no-export", help="Skip the Parquet export at the end.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per request before it is retried.")] = 15.0,
) -> None:
    """Run the nightly flow once: discover → fetch → parse → load → export.

    Example:

        gongkai crawl --sources data/sources.toml --data-dir ./data

    Runs as a Prefect flow (a temporary local Prefect server starts when no PREFECT_API_URL is set).
    Interrupted runs can simply be run again: everything already archived or loaded is reused.
    """
    from gongkai.flows.nightly import nightly_flow  # Prefect is imported only when a flow runs

    path = _sources_file(sources)
    directory = _data_dir(data_dir)
    show_progress()
    try:
        result = nightly_flow(str(path.resolve()), str(directory.resolve()), not no_export,
                              FetchOptions(timeout=timeout))
    except (WarehouseError, ExportError, SourceError) as exc:
        _fail(str(exc))
    for line in summary_lines(result):
        typer.echo(line)


@app.command(name="reparse")
def reparse_cmd(data_dir: DataDir = None) -> None:
    """Re-parse every archived report page with the current parser (no network); changed output
    becomes a new report version.

    Example:

        gongkai reparse --data-dir ./data
    """
    from gongkai.flows.nightly import reparse_flow

    show_progress()
    try:
        result = reparse_flow(str(_data_dir(data_dir).resolve()))
    except WarehouseError as exc:
        _fail(str(exc))
    for line in summary_lines(result):
        typer.echo(line)


@app.command()
def serve(
    sources: SourcesFile = None,
    data_dir: DataDir = None,
    cron: Annotated[str, typer.Option("--cron", help="When to run (cron, Asia/Shanghai time).")] = "0 2 * * *",
) -> None:
    """Register and serve the nightly deployment (cron 0 2 * * *, Asia/Shanghai) until stopped.

    Example:

        prefect server start &                       # or: export PREFECT_API_URL=http://host:4200/api
        gongkai serve --sources data/sources.toml --data-dir /srv/gongkai/data

    Schedules need a running Prefect server: start one with `prefect server start`, or point
    PREFECT_API_URL at an existing one.
    """
    from prefect.schedules import Cron

    from gongkai.flows.nightly import nightly_flow

    path = _sources_file(sources)
    nightly_flow.serve(
        name="gongkai-nightly",
        schedules=[Cron(cron, timezone="Asia/Shanghai")],
        parameters={"sources_file": str(path.resolve()), "data_dir": str(_data_dir(data_dir).resolve())},
    )


@app.command()
def demo(data_dir: DataDir = None) -> None:
    """Crawl the bundled simulated portal into the data directory and show what came out.

    Example:

        gongkai demo --data-dir ./data

    Starts the simulated portal on 127.0.0.1, runs the nightly flow against it, prints the run
    summary and three example queries, and stops the portal.
    """
    from gongkai.devtools.simportal import SimPortal
    from gongkai.flows.nightly import nightly_flow

    directory = _data_dir(data_dir)
    with SimPortal() as portal, tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.toml"
        sources.write_text(portal.sources_toml(delay_s=0.05), encoding="utf-8")
        typer.echo(f"simulated portal at {portal.url('/')}; crawling into {directory}")
        show_progress()
        try:
            result = nightly_flow(str(sources), str(directory.resolve()), True, FetchOptions(timeout=2.0))
        except (WarehouseError, ExportError) as exc:
            _fail(str(exc))
    for line in summary_lines(result):
        typer.echo(line)
    con = open_warehouse(warehouse_path(directory), read_only=True)
    try:
        for title, sql in DEMO_QUERIES:
            typer.echo(f"\n{title}\n  {sql}")
            cur = con.execute(sql)
            print_rows([d[0] for d in cur.description or []], cur.fetchall(), "table")
    finally:
        con.close()


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
    return RunSummary.from_dict(result).lines()


@app.command()
def alias(
    old: Annotated[str, typer.Argument(help="The agency's former name.")],
    new: Annotated[str, typer.Argument(help="Its current name (already in the warehouse).")],
    note: Annotated[str, typer.Option("--note", help="Why (e.g. 2019 机构改革).")] = "",
    data_dir: DataDir = None,
) -> None:
    """Record that an agency was renamed: its reports under the old name join the new one.

    Example:

        gongkai alias "某某县环境保护局" "某某县生态环境局" --note "2019 机构改革"
    """
    from gongkai.flows.aliases import AliasError, add_alias

    try:
        con = open_warehouse(warehouse_path(_data_dir(data_dir)))
    except WarehouseError as exc:
        _fail(str(exc))
    try:
        moved = add_alias(con, old, new, note)
    except AliasError as exc:
        _fail(str(exc))
    finally:
        con.close()
    typer.echo(f"{old} → {new}: {moved} report version(s) moved")
