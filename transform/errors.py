"""Named errors of the parsing core."""

from __future__ import annotations


class ParseFailure(Exception):
    """The input cannot be parsed as a report at all (binary, empty, not a report)."""


class TableNotFound(Exception):
    """One of the statistical tables (二, 三, 四) was not found in the document."""

    def __init__(self, table: str, detail: str = "") -> None:
        self.table = table
        super().__init__(f"table {table} not found" + (f": {detail}" if detail else ""))
