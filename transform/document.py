"""The document model shared by every input form (HTML page or fragment, text, Markdown).

A report becomes a sequence of :class:`Line` in reading order. A line is a row of cells: a
row of an HTML table (rowspan/colspan resolved), or a line of text split at tabs, pipes
and spaces. Every cell keeps where it came from, so a value can be traced to its table and
grid position (HTML) or line and token (text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Origin(NamedTuple):
    """Where a cell was printed: ``table`` is the index of the HTML ``<table>`` (None for text),
    ``row``/``col`` its grid position, or line number and token index in text; ``page`` the
    PDF page (1-based) the line is on."""

    table: int | None
    row: int
    col: int
    page: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        d = {"table_index": self.table, "grid_row": self.row, "grid_col": self.col}
        if self.page is not None:
            d["page"] = self.page
        return d


class TextCell(NamedTuple):
    text: str  # printed text, whitespace collapsed
    origin: Origin


@dataclass
class Line:
    cells: list[TextCell]
    in_table: bool  # split at tabs/pipes or an HTML row: blank cells between values are cells
    grid: bool = False  # an HTML or pipe-table row: even trailing blank cells are real cells


@dataclass
class Grid:
    """One HTML table with spans resolved: ``rows[r][c]`` is the text of the cell covering (r, c)."""

    index: int
    rows: list[list[str]]


@dataclass
class Document:
    form: str  # "html", "text" or "markdown"
    lines: list[Line] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # e.g. ArticleTitle, PubDate, <title>
    headings: list[str] = field(default_factory=list)
    page_lines: list[str] = field(default_factory=list)  # the page's text before the report's own (title, metadata)
    warnings: list[str] = field(default_factory=list)  # what the reader left out, and why

    def text_lines(self) -> list[str]:
        """Each line's cells joined by spaces (for metadata search)."""
        return [" ".join(c.text for c in line.cells if c.text) for line in self.lines]
