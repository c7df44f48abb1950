"""Excel reports (XLSX with openpyxl, the older XLS with xlrd): each sheet as an HTML table,
merged ranges as rowspan/colspan, read by the same HTML reader and table mapping as a web page.

>>> html = xlsx_to_html(Path("report.xlsx").read_bytes())  # doctest: +SKIP
"""

from __future__ import annotations

import html
import io

from gongkai.transform.errors import ParseFailure
from gongkai.transform.filekinds import check_unpacked

MAX_CELLS = 200_000  # a report's workbook has a few thousand cells


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


Merge = tuple[int, int, int, int]  # first row, last row, first column, last column (0-based, inclusive)


def sheet_table(rows: list[list[object]], merges: list[Merge]) -> str:
    """One sheet's cells as an HTML table, merged ranges as rowspan/colspan; empty rows dropped."""
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for r0, r1, c0, c1 in merges:
        spans[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0))
    out = []
    for r, row in enumerate(rows):
        if all(v is None or v == "" for v in row):
            continue
        tds = []
        for c, value in enumerate(row):
            if (r, c) in covered:
                continue
            rowspan, colspan = spans.get((r, c), (1, 1))
            attrs = (f" rowspan={rowspan}" if rowspan > 1 else "") + (f" colspan={colspan}" if colspan > 1 else "")
            tds.append(f"<td{attrs}>{html.escape(_text(value))}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table>{''.join(out)}</table>" if out else ""  # sheet names ("Sheet1") are not text


def book_html(tables: list[str]) -> str:
    return "<html><head><meta charset=\"utf-8\"></head><body>" + "".join(tables) + "</body></html>"


def _count(cells: int, more: int) -> int:
    cells += more
    if cells > MAX_CELLS:
        raise ParseFailure(f"a workbook of more than {MAX_CELLS:,} cells is not a single annual report")
    return cells


def xlsx_to_html(data: bytes) -> str:
    """Every sheet of the workbook as a table (values as shown: formulas by their cached values)."""
    import openpyxl

    try:
        check_unpacked(data, "XLSX")
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except ParseFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for broken files
        raise ParseFailure(f"damaged XLSX: {type(exc).__name__}: {exc}") from exc
    tables = []
    cells = 0
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows(values_only=True):
            cells = _count(cells, len(row))
            rows.append(list(row))
        merges = [(m.min_row - 1, m.max_row - 1, m.min_col - 1, m.max_col - 1) for m in sheet.merged_cells.ranges]
        tables.append(sheet_table(rows, merges))
    return book_html(tables)


def xls_to_html(data: bytes) -> str:
    """An Excel 97–2003 workbook (.xls, read with xlrd) the same way: every sheet as a table."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds for broken files
        raise ParseFailure(f"damaged XLS: {type(exc).__name__}: {exc}") from exc
    tables = []
    cells = 0
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            cells = _count(cells, sheet.nrows * sheet.ncols)
            rows = [[None if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) else cell.value
                     for cell in sheet.row(r)] for r in range(sheet.nrows)]
            merges = [(r0, r1 - 1, c0, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells]
            tables.append(sheet_table(rows, merges))
    except ParseFailure:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ParseFailure(f"damaged XLS: {type(exc).__name__}: {exc}") from exc
    finally:
        book.release_resources()
    return book_html(tables)
