"""Excel (XLSX) reports: each sheet as an HTML table, merged ranges as rowspan/colspan, read by
the same HTML reader and table mapping as a web page.

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
    parts = ["<html><head><meta charset=\"utf-8\"></head><body>"]
    cells = 0
    for sheet in book.worksheets:
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        covered: set[tuple[int, int]] = set()
        for merged in sheet.merged_cells.ranges:
            spans[(merged.min_row, merged.min_col)] = (merged.max_row - merged.min_row + 1,
                                                       merged.max_col - merged.min_col + 1)
            covered.update((r, c) for r in range(merged.min_row, merged.max_row + 1)
                           for c in range(merged.min_col, merged.max_col + 1)
                           if (r, c) != (merged.min_row, merged.min_col))
        rows = []
        for r, row in enumerate(sheet.iter_rows(values_only=True), 1):
            cells += len(row)
            if cells > MAX_CELLS:
                raise ParseFailure(f"a workbook of more than {MAX_CELLS:,} cells is not a single annual report")
            tds = []
            for c, value in enumerate(row, 1):
                if (r, c) in covered:
                    continue
                rowspan, colspan = spans.get((r, c), (1, 1))
                attrs = (f" rowspan={rowspan}" if rowspan > 1 else "") + (f" colspan={colspan}" if colspan > 1 else "")
                tds.append(f"<td{attrs}>{html.escape(_text(value))}</td>")
            if any(v is not None for v in row):
                rows.append("<tr>" + "".join(tds) + "</tr>")
        if rows:
            parts.append(f"<table>{''.join(rows)}</table>")  # sheet names ("Sheet1") are not text
    parts.append("</body></html>")
    return "".join(parts)
