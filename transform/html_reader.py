"""HTML pages and fragments → :class:`Document`.

Tables become grids with rowspan/colspan resolved; the text around them becomes lines split
like plain text (tables flattened into paragraphs are common). A table that contains other
tables is a layout container: its inner tables are read and its own text flows as text.

Uses lxml's HTML parser directly (the parser BeautifulSoup would use underneath), which keeps
a full parse faster than ``pandas.read_html`` on the same bytes; a page whose reading is
incomplete is read again from html5lib's browser-exact tree (``browser=True``).

>>> doc = read_html('<table><tr><td rowspan="2">a</td><td>1</td></tr><tr><td>2</td></tr></table>')
>>> doc.grids[0].rows
[['a', '1'], ['a', '2']]
"""

from __future__ import annotations

import re

from lxml import etree

from gongkai.transform.document import Document, Grid, Line, Origin, TextCell
from gongkai.transform.errors import ParseFailure
from gongkai.transform.glued import unglue_lines
from gongkai.transform.numbers import collapse_space, parse_number
from gongkai.transform.text_reader import cut_long_lines, line_to_cells

_BLOCK_TAGS = (
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table", "section", "article", "header", "footer", "dd", "dt", "dl", "blockquote", "pre", "center", "form", "caption", "hr",
)
_SKIP_TAGS = ("script", "style", "noscript", "template", "iframe", "select", "option", "button", "svg", "object")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_MAX_SPAN = 100
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, huge_tree=True, encoding="utf-8")
_STAT_RE = re.compile(r"申请|复议|第二十条|信息内容|规范性文件|行政许可")
_MARK = "\ue000"  # a private-use character as the table placeholder
_CONTROL_TABLE = bytes(0x20 if b in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F) else b for b in range(256))


def _span(value: str) -> int:
    """A rowspan or colspan attribute's count (1 unless it is a whole number; at most _MAX_SPAN)."""
    value = value.strip()
    if not value.isdigit():
        return 1
    return max(1, min(_MAX_SPAN, int(value)))


def _cell_text(el: etree._Element) -> str:
    return " ".join(etree.tostring(el, method="text", encoding="unicode", with_tail=False).split())


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
    grid: list[list[tuple[int, int, str] | None]] = []
    for r, tr in enumerate(_direct_rows(table)):
        if len(grid) <= r:
            grid.append([])
        row = grid[r]
        c = 0
        for td in tr.iterchildren("td", "th"):
            while c < len(row) and row[c] is not None:
                c += 1
            text = _cell_text(td)
            rowspan, colspan = td.get("rowspan"), td.get("colspan")
            rs = 1 if rowspan is None else _span(rowspan)
            cs = 1 if colspan is None else _span(colspan)
            if rs == 1 and cs == 1:  # the common cell: one place
                if c < len(row):
                    row[c] = (r, c, text)
                else:
                    if c > len(row):
                        row.extend([None] * (c - len(row)))
                    row.append((r, c, text))
                c += 1
                continue
            slot = (r, c, text)
            for dr in range(rs):
                while len(grid) <= r + dr:
                    grid.append([])
                target = grid[r + dr]
                if len(target) < c + cs:
                    target.extend([None] * (c + cs - len(target)))
                for dc in range(cs):
                    if target[c + dc] is None:
                        target[c + dc] = slot
            c += cs
    n_cols = max((len(row) for row in grid), default=0)
    grid_rows: list[list[str]] = []
    lines: list[Line] = []
    origins: dict[tuple[int, int], Origin] = {}
    for r, row in enumerate(grid):
        texts = [slot[2] if slot is not None else "" for slot in row]
        cells: list[TextCell] = []
        last: tuple[int, int, str] | None = None
        for slot in row:
            if slot is None or slot is last:
                continue  # nothing there, or the same cell spanning columns
            last = slot
            r0, c0, text = slot
            if r0 == r:  # the cell's own row: its origin is new
                origin = origins[(r0, c0)] = Origin(index, r0, c0)
            elif not text or parse_number(text) is not None:
                continue  # a number (or blank) spanning rows belongs to its first row only
            else:
                origin = origins[(r0, c0)]
            cells.append(TextCell(text, origin))
        if len(texts) < n_cols:
            texts.extend([""] * (n_cols - len(texts)))
        grid_rows.append(texts)
        # A row of blank cells is a row of zeros (table 四 printed empty); a short one is a spacer.
        if len(cells) >= 5 or any(cell.text for cell in cells):
            lines.append(Line(cells, in_table=True, grid=True))
    return Grid(index, grid_rows), lines


def browser_markup(text: str) -> str:
    """The markup as a browser would build it (html5lib through BeautifulSoup), serialised: for
    broken Word/WPS markup that lxml's parser reads differently (cells outside rows, …)."""
    from bs4 import BeautifulSoup  # only for the pages that need it

    return str(BeautifulSoup(text, "html5lib"))


def read_html(text: str, *, unglue: bool = False, browser: bool = False) -> Document:
    """Read an HTML page or fragment (``browser``: from html5lib's tree of it)."""
    text = _XML_DECL_RE.sub("", text)
    if browser:
        text = browser_markup(text)
    if not text.strip():
        raise ParseFailure("empty document")
    # as UTF-8 bytes, control characters (not allowed in lxml's text) become spaces in one C pass
    data = text.encode("utf-8", "surrogatepass").translate(_CONTROL_TABLE)
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseFailure(f"unparseable HTML: {exc}") from exc
    if root is None:
        raise ParseFailure("empty document")
    doc = Document(form="html")
    for meta in root.iter("meta"):
        name = meta.get("name") or meta.get("property")
        content = meta.get("content")
        if name and content:
            doc.meta[name] = collapse_space(content)
    title = root.find(".//title")
    if title is not None and title.text:
        doc.meta["html_title"] = collapse_space(title.text)
    body = root.find("body")
    read_body(body if body is not None else root, doc, unglue=unglue)
    return doc


def _drop(el: etree._Element) -> None:
    """Remove an element (and its content) but keep the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _common_ancestor(elements: list[etree._Element]) -> etree._Element:
    paths = [[el, *el.iterancestors()][::-1] for el in elements]
    common = paths[0][0]
    for level in zip(*paths):
        if all(x is level[0] for x in level):
            common = level[0]
        else:
            break
    return common


def content_root(body: etree._Element, tables: list[etree._Element]) -> etree._Element:
    """The smallest element holding every statistical table: navigation, footers and the
    rest of the portal's page around the report are left out. Without such tables (a
    report flattened into paragraphs), the whole body."""
    stat = [t for t in tables if _STAT_RE.search(etree.tostring(t, method="text", encoding="unicode"))]
    if not stat:
        return body
    root = _common_ancestor(stat)
    # Tables are never the content itself: the text before and after them belongs to it.
    while root.tag in ("table", "tbody", "tr", "td", "th") and root.getparent() is not None:
        root = root.getparent()
    return root


def _page_text_lines(body: etree._Element, content: etree._Element, limit: int = 60,
                     visit: int = 3000) -> list[str]:
    """The first text lines of the page before the report's content element (innermost blocks:
    cells, paragraphs), for the title and metadata the portal prints around the report."""
    out: list[str] = []
    around = set(content.iterancestors())
    for n, el in enumerate(body.iter(*_BLOCK_TAGS)):
        if el is content or n >= visit or len(out) >= limit:
            break
        if el in around or next(el.iterchildren(*_BLOCK_TAGS), None) is not None:
            continue  # an ancestor of the report, or a block holding blocks: its children speak
        text = collapse_space(etree.tostring(el, method="text", encoding="unicode", with_tail=False))
        if text and len(text) < 300 and text not in out:
            out.append(text)
    return out


def read_body(body: etree._Element, doc: Document, *, unglue: bool = False) -> None:
    """Fill ``doc`` with the lines of ``body`` in reading order.

    Data tables (tables without nested tables) become grids and are replaced by a marker;
    block elements get line breaks; then lxml serialises the rest as text in one pass.
    """
    for el in list(body.iter(*_SKIP_TAGS)):
        _drop(el)
    for el in body.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        heading = _cell_text(el)
        if heading:
            doc.headings.append(heading)
    for br in body.iter("br"):
        br.tail = "\n" + (br.tail or "")
    data_tables = [t for t in body.iter("table") if t.find(".//table") is None]
    content = content_root(body, data_tables)
    if content is not body:  # what the page prints around the report: its title may sit there
        doc.page_lines = _page_text_lines(body, content)
    table_lines: list[list[Line]] = []
    for table in data_tables:
        parent = table.getparent()
        if parent is None or not (content is body or content in table.iterancestors()):
            continue
        grid, lines = build_grid(table, len(doc.grids))
        doc.grids.append(grid)
        marker = etree.Element("div")
        marker.text = f"\n{_MARK}{len(table_lines)}{_MARK}\n"
        marker.tail = table.tail
        table_lines.append(lines)
        parent.replace(table, marker)
    for el in content.iter(*_BLOCK_TAGS):
        el.text = "\n" + (el.text or "")
        el.tail = "\n" + (el.tail or "")
    text = etree.tostring(content, method="text", encoding="unicode", with_tail=False)
    raw_lines = cut_long_lines(text.split("\n"), doc)
    if unglue:
        raw_lines = unglue_lines(raw_lines)
    for lineno, raw in enumerate(raw_lines):
        if not raw or raw.isspace():
            continue
        if raw.startswith(_MARK) and raw.endswith(_MARK):
            doc.lines.extend(table_lines[int(raw.strip(_MARK))])
            continue
        line = line_to_cells(raw, lineno)
        if line is not None:
            doc.lines.append(line)
