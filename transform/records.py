"""Lines → records: a label followed by the values printed after it.

A record is the unit the table mapper works with. In an HTML row
``三、本年度办理结果 | （三）不予公开 | 1.属于国家秘密 | 0 | 0 | …`` the label is the three
text cells joined and the values are the numbers after them. A line of space-separated text
can hold several records (``规章 0 0 0 规范性文件 5 5 5``).

>>> from gongkai.transform.text_reader import read_text
>>> recs = segment(read_text("规章 0 0 0 行政规范性文件 5 5 5").lines[0], 0)
>>> [(r.label, [v.number.value for v in r.values]) for r in recs]
[('规章', [0, 0, 0]), ('行政规范性文件', [5, 5, 5])]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from gongkai.transform.document import Line, Origin, TextCell
from gongkai.transform.numbers import BLANK, Number, nfkc, parse_number

_NUMBER_RUN_RE = re.compile(r"^[0-9０-９.,]+(?: [0-9０-９.,]+)+$")


class Value(NamedTuple):
    """A value cell and its number (a NamedTuple: a report makes hundreds of them)."""

    cell: TextCell
    number: Number

    @property
    def blank(self) -> bool:
        return not self.cell.text


@dataclass
class Record:
    label: str  # normalised for matching: NFKC, no whitespace
    label_raw: str  # as printed
    values: list[Value]
    line_index: int
    in_table: bool
    grid: bool = False
    last_label: str = ""  # the last label cell alone, normalised
    origin: Origin | None = None  # where the label (or the first value) was printed

    @property
    def has_numbers(self) -> bool:
        return any(not v.blank for v in self.values)


@lru_cache(maxsize=8192)
def normalize_label(text: str) -> str:
    """NFKC, without whitespace: ``（三） 不予公开`` → ``(三)不予公开``."""
    return "".join(nfkc(text).split())


def _split_number_runs(cells: list[TextCell]) -> list[TextCell]:
    """A cell holding several space-separated numbers ("10 2") holds several values."""
    out: list[TextCell] = []
    for cell in cells:
        if " " in cell.text and _NUMBER_RUN_RE.match(cell.text):
            out.extend(TextCell(part, cell.origin) for part in cell.text.split(" "))
        else:
            out.append(cell)
    return out


def _close(label_cells: list[TextCell], values: list[Value], line_index: int, line: Line) -> Record:
    raw = " ".join(c.text for c in label_cells if c.text)
    last = normalize_label(label_cells[-1].text) if label_cells else ""
    first = label_cells[0] if label_cells else (values[0].cell if values else None)
    origin = first.origin if first is not None else None
    return Record(normalize_label(raw), raw, values, line_index, line.in_table, line.grid, last, origin)


def segment(line: Line, line_index: int) -> list[Record]:
    """Split a line into records (label cells, then the value cells that follow)."""
    records: list[Record] = []
    label: list[TextCell] = []
    values: list[Value] = []
    printed = False  # whether one of ``values`` is printed (not blank)
    for cell in _split_number_runs(line.cells):
        if cell.text:
            number = parse_number(cell.text)
            if number is None:
                if printed:
                    records.append(_close(label, values, line_index, line))
                    label = []
                # Blank cells between two labels (or before the first) are empty label columns.
                values, printed = [], False
                label.append(cell)
                continue
            printed = True
        elif not line.in_table:
            continue
        else:
            number = BLANK
        values.append(Value(cell, number))
    if label or printed or (line.grid and values):
        records.append(_close(label, values, line_index, line))
    return records


def records_of(lines: list[Line]) -> list[Record]:
    out: list[Record] = []
    for i, line in enumerate(lines):
        out.extend(segment(line, i))
    return out
