"""Word (DOCX) reports: the body in reading order as HTML — paragraphs as ``<p>``, tables as
``<table>`` with ``gridSpan`` as colspan and ``vMerge`` as rowspan — read by the same HTML
reader and table mapping as a web page (every rule and the solver apply unchanged).

>>> html = docx_to_html(Path("report.docx").read_bytes())  # doctest: +SKIP
>>> "<table" in html                                       # doctest: +SKIP
True
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

from gongkai.transform.errors import ParseFailure
from gongkai.transform.filekinds import check_unpacked

@dataclass
class _Cell:
    text: str
    colspan: int
    rowspan: int = 1
    merged: bool = False  # a vMerge continuation: covered by the cell above


def docx_to_html(data: bytes) -> str:
    """The document body as HTML; raises ParseFailure for a damaged file."""
    import docx
    from docx.oxml.ns import qn

    try:
        check_unpacked(data, "DOCX")
        document = docx.Document(io.BytesIO(data))
    except ParseFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - python-docx and lxml raise many kinds for broken files
        raise ParseFailure(f"damaged DOCX: {type(exc).__name__}: {exc}") from exc
    title = (document.core_properties.title or "").strip()
    out = ["<html><head>", f"<title>{html.escape(title)}</title>" if title else "", "</head><body>"]

    def text_of(element: object) -> str:
        parts = []
        for p in element.iter(qn("w:p")):  # type: ignore[attr-defined]
            parts.append("".join(t.text or "" for t in p.iter(qn("w:t"))))
        return "\n".join(x for x in parts if x)

    def table(tbl: object) -> str:
        rows: list[list[_Cell]] = []
        for tr in tbl.iterchildren(qn("w:tr")):  # type: ignore[attr-defined]
            cells = []
            for tc in tr.iterchildren(qn("w:tc")):
                props = tc.find(qn("w:tcPr"))
                span, merge = 1, None
                if props is not None:
                    grid = props.find(qn("w:gridSpan"))
                    if grid is not None and str(grid.get(qn("w:val")) or "1").isdigit():
                        span = max(1, int(grid.get(qn("w:val"))))
                    vm = props.find(qn("w:vMerge"))
                    if vm is not None:
                        merge = vm.get(qn("w:val")) or "continue"
                cells.append(_Cell(text_of(tc), span, merged=merge == "continue"))
            rows.append(cells)
        _resolve_vertical_merges(rows)
        body = []
        for cells in rows:
            tds = "".join(
                f'<td{f" colspan={c.colspan}" if c.colspan > 1 else ""}{f" rowspan={c.rowspan}" if c.rowspan > 1 else ""}>'
                + "<br>".join(html.escape(line) for line in c.text.split("\n")) + "</td>"
                for c in cells if not c.merged)
            body.append(f"<tr>{tds}</tr>")
        return "<table>" + "".join(body) + "</table>"

    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            text = text_of(child)
            if text.strip():
                out.append(f"<p>{html.escape(text)}</p>")
        elif child.tag == qn("w:tbl"):
            out.append(table(child))
    out.append("</body></html>")
    return "".join(out)


def _resolve_vertical_merges(rows: list[list[_Cell]]) -> None:
    """A vMerge continuation adds a row to the span of the cell above it in the same grid column."""
    starts: dict[int, _Cell] = {}
    for cells in rows:
        col = 0
        for cell in cells:
            if cell.merged and col in starts:
                starts[col].rowspan += 1
            elif cell.merged:
                cell.merged = False  # a continuation with nothing above: keep it as a cell
                starts[col] = cell
            else:
                starts[col] = cell
            col += cell.colspan
