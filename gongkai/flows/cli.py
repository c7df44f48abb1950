"""The ``gongkai`` command line."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gongkai import __version__
from gongkai.flows.exporter import ExportError, export
from gongkai.flows.loader import Incoming, Loader, LoadSummary
from gongkai.flows.output import print_rows
from gongkai.flows.parse_files import expand_paths, parse_path
from gongkai.flows.settings import configure_logging, load_settings
from gongkai.flows.warehouse import WarehouseError, open_warehouse, run_checks, warehouse_path
from gongkai.paths import SQL_DIR
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
    configure_logging(load_settings())
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
    summary = LoadSummary()
    loader = Loader(con)
    with Progress(TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not err.is_terminal, transient=True) as progress:
        task = progress.add_task("load", total=len(files))
        batch: list[Incoming] = []
        for path in files:
            batch.append(Incoming(parse_path(path)))
            progress.advance(task)
            if len(batch) >= 200:
                summary.add(loader.load_batch(batch))
                batch = []
        if batch:
            summary.add(loader.load_batch(batch))
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
