"""The ``gongkai`` command line."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gongkai import __version__
from gongkai.flows.parse_files import expand_paths, parse_path
from gongkai.flows.settings import configure_logging, load_settings
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
