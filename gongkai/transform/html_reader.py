"""HTML pages and fragments → :class:`Document`.

Tables become grids with rowspan/colspan resolved; the text around them becomes lines split
like plain text (tables flattened into paragraphs are common). A table that contains other
tables is a layout container: its inner tables are read and its own text flows as text.

Uses lxml's HTML parser directly (the parser BeautifulSoup would use underneath), which keeps
a full parse faster than ``pandas.read_html`` on the same bytes.

>>> doc = read_html('<table><tr><td rowspan="2">a</td><td>1</td></tr><tr><td>2</td></tr></table>')
>>> doc.grids[0].rows
[['a', '1'], ['a', '2']]
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from gongkai.transform.document import Document, Grid, Line, Origin, TextCell
from gongkai.transform.errors import ParseFailure
from gongkai.transform.numbers import collapse_space, parse_number
from gongkai.transform.text_reader import line_to_cells

_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr section article header footer dd dt dl blockquote pre "
    "center form caption hr".split()
)
_SKIP_TAGS = frozenset("script style noscript template iframe select option button svg object".split())
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_MAX_SPAN = 100


def _span(el: etree._Element, name: str) -> int:
    try:
        return max(1, min(_MAX_SPAN, int(str(el.get(name, "1")).strip() or 1)))
    except ValueError:
        return 1


def _cell_text(el: etree._Element) -> str:
    return collapse_space("".join(el.itertext()))


def _direct_rows(table: etree._Element) -> list[etree._Element]:
    rows: list[etree._Element] = []
    for child in table:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(r for r in child if isinstance(r.tag, str) and r.tag == "tr")
    return rows


def build_grid(table: etree._Element, index: int) -> tuple[Grid, list[Line]]:
    """Resolve spans into a grid, and give one :class:`Line` per grid row.

    A cell spanning several columns appears once in its line; a label spanning several rows
    is repeated in each of them (it is the context of every row), a number only in its first.
    """
    occupied: dict[tuple[int, int], tuple[int, int, str]] = {}
    rows = _direct_rows(table)
    for r, tr in enumerate(rows):
        c = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag not in ("td", "th"):
                continue
            while (r, c) in occupied:
                c += 1
            text = _cell_text(td)
            rs, cs = _span(td, "rowspan"), _span(td, "colspan")
            for dr in range(rs):
                for dc in range(cs):
                    occupied.setdefault((r + dr, c + dc), (r, c, text))
            c += cs
    n_rows = max((k[0] for k in occupied), default=-1) + 1
    n_cols = max((k[1] for k in occupied), default=-1) + 1
    grid_rows: list[list[str]] = []
    lines: list[Line] = []
    for r in range(n_rows):
        texts: list[str] = []
        cells: list[TextCell] = []
        last_origin: tuple[int, int] | None = None
        for c in range(n_cols):
            slot = occupied.get((r, c))
            if slot is None:
                texts.append("")
                continue
            r0, c0, text = slot
            texts.append(text)
            if (r0, c0) == last_origin:
                continue  # same cell spanning columns
            last_origin = (r0, c0)
            if r0 != r and (not text or parse_number(text) is not None):
                continue  # a number (or blank) spanning rows belongs to its first row only
            cells.append(TextCell(text, Origin(index, r0, c0)))
        grid_rows.append(texts)
        # A row of blank cells is a row of zeros (table 四 printed empty); a short one is a spacer.
        if any(cell.text for cell in cells) or len(cells) >= 5:
            lines.append(Line(cells, in_table=True, grid=True))
    return Grid(index, grid_rows), lines


class _Walker:
    """Walks the tree in reading order, emitting text lines and table lines."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.buf: list[str] = []
        self.lineno = 0

    def flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        for raw in text.split("\n"):
            line = line_to_cells(raw, self.lineno)
            self.lineno += 1
            if line is not None:
                self.doc.lines.append(line)

    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS or not isinstance(el.tag, str):
            if el.tail:
                self.buf.append(el.tail)
            return
        if tag == "table" and not el.xpath(".//table"):
            self.flush()
            grid, lines = build_grid(el, len(self.doc.grids))
            self.doc.grids.append(grid)
            self.doc.lines.extend(lines)
        else:
            block = tag in _BLOCK_TAGS or tag in ("td", "th", "table")
            if block:
                self.buf.append("\n")
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                heading = _cell_text(el)
                if heading:
                    self.doc.headings.append(heading)
            if el.text:
                self.buf.append(el.text)
            for child in el:
                self.walk(child)
            if block:
                self.buf.append("\n")
        if el.tail:
            self.buf.append(el.tail)


def read_html(text: str) -> Document:
    """Read an HTML page or fragment."""
    text = _XML_DECL_RE.sub("", text)
    if not text.strip():
        raise ParseFailure("empty document")
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ParseFailure(f"unparseable HTML: {exc}") from exc
    doc = Document(form="html")
    for meta in root.iter("meta"):
        name = meta.get("name") or meta.get("property")
        content = meta.get("content")
        if name and content:
            doc.meta[name] = collapse_space(content)
    title = root.find(".//title")
    if title is not None and title.text:
        doc.meta["html_title"] = collapse_space(title.text)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    body = root.find("body")
    walker = _Walker(doc)
    walker.walk(body if body is not None else root)
    walker.flush()
    return doc
