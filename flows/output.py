"""Printing query results (CLI output) as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from rich.console import Console
from rich.table import Table


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: str) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return
    if fmt == "json":
        for row in rows:
            sys.stdout.write(json.dumps({c: _plain(v) for c, v in zip(columns, row)}, ensure_ascii=False) + "\n")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*["" if v is None else str(_plain(v)) for v in row])
    out = Console()
    (out if out.is_terminal else Console(width=250)).print(table)
