"""Printing query results (CLI output) as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from rich.console import Console
from rich.table import Table


# columns whose numbers are fractions by nature (rates, shares, amounts), whatever their values
FRACTION_NAME = re.compile(r"rate|share|ratio|amount|pct|percent", re.IGNORECASE)


def _plain(value: object, column: str = "") -> object:
    """A value as printed: dates in ISO form; a whole-number DOUBLE (the warehouse stores counts
    as DOUBLE beside amounts) as an integer, except in rate/share/amount columns."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and not FRACTION_NAME.search(column):
        return int(value)
    return value


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: str) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_plain(v, c) for c, v in zip(columns, row)] for row in rows])
        return
    if fmt == "json":
        for row in rows:
            sys.stdout.write(json.dumps({c: _plain(v, c) for c, v in zip(columns, row)}, ensure_ascii=False) + "\n")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*["" if v is None else str(_plain(v, c)) for c, v in zip(columns, row)])
    out = Console()
    (out if out.is_terminal else Console(width=250)).print(table)
