"""PDF reports with a text layer: the characters PDFium finds (:mod:`gongkai.transform.pdf_layer`),
in reading order, as lines of text that the text reader and the table mapping read like any
other text — every rule and the glued-digit solver apply unchanged. Where the PDF draws a
table (ruling lines and rectangles), each of its rows becomes one tab-separated line, so a
cell printed blank stays a blank cell; elsewhere words are apart by their x-gaps.

Page numbers (``- 3 -``, ``第 3 页``, ``3 / 5``) and running headers or footers (the same line
at the top or bottom of most pages) are dropped, and pages are joined, so a table that goes
on over a page break is read as one. A line the page's width wrapped is put back together
with its rest (a label or a run of digits cut at the right margin reads whole), on a page and
over a page break. Each kept line remembers its page and box.

A PDF without a text layer (a scan) is read by OCR instead (:mod:`gongkai.transform.scan_reader`).

>>> from pathlib import Path
>>> pdf = read_pdf(Path("tests/fixtures/real/101.pdf").read_bytes())  # doctest: +SKIP
>>> pdf.pages, pdf.lines[0].text                                      # doctest: +SKIP
(5, '洪泽区人民政府')
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gongkai.transform.errors import ParseFailure
from gongkai.transform.pdf_layer import PDFIUM_LOCK, LayerPage

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"


class NoTextLayer(ParseFailure):
    """A PDF whose pages are images (a scan): to be read by OCR."""


MAX_PAGES = 200  # a report is a few pages; a 2,000-page PDF is something else
_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4})\s*$")  # a bare number is never dropped: it may be a row's values


@dataclass(frozen=True)
class PdfLine:
    text: str
    page: int  # 1-based
    box: tuple[float, float, float, float]  # x0, top, x1, bottom (PDF points from the page's top left)
    unsure: frozenset[int] = frozenset()  # cells (tab-separated, 0-based) that OCR read unsurely


@dataclass
class PdfText:
    pages: int
    lines: list[PdfLine] = field(default_factory=list)
    title: str | None = None  # the document's Title property, if any
    dropped: int = 0  # page numbers, headers and footers left out

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def is_pdf(data: bytes) -> bool:
    """By content, not by name: a PDF starts with ``%PDF-`` (some servers prepend a few bytes)."""
    return PDF_MAGIC in data[:1024]


def read_pdf(data: bytes) -> PdfText:
    """The text lines of a PDF's text layer; raises ParseFailure for a damaged or image-only PDF."""
    import pypdfium2 as pdfium

    layers: list[LayerPage | None] = []
    with PDFIUM_LOCK:  # PDFium is one library state for the whole process: one caller at a time
        try:
            pdf = pdfium.PdfDocument(data)
        except Exception as exc:  # noqa: BLE001 - PDFium names few error kinds
            raise ParseFailure(f"damaged PDF: {exc}") from exc
        try:
            count = len(pdf)
            if count > MAX_PAGES:
                raise ParseFailure(f"PDF of {count} pages: more than {MAX_PAGES}, not a single annual report")
            title = _title(pdf)
            for number in range(1, count + 1):
                try:
                    page = pdf[number - 1]
                    try:
                        layers.append(LayerPage.read(page))
                    finally:
                        page.close()
                except Exception as exc:  # noqa: BLE001 - one broken page: the others are still read
                    log.warning("PDF page %d cannot be read: %s", number, exc)
                    layers.append(None)
        finally:
            pdf.close()
    if not any(layer and layer.chars for layer in layers):
        raise NoTextLayer("image-only PDF (a scan): it has no text layer")
    pages: list[list[PdfLine]] = []
    for number, layer in enumerate(layers, 1):
        try:
            pages.append(_page_lines(layer, number) if layer else [])
        except Exception as exc:  # noqa: BLE001 - one page whose tables cannot be found: the others are still read
            log.warning("PDF page %d cannot be read: %s", number, exc)
            pages.append([])
    return join_pages(pages, count, title, wrapped=True)


def _margins(lines: list[PdfLine]) -> tuple[float, float] | None:
    """The left and right edges of a page's text (its lines that are not table rows)."""
    text = [ln for ln in lines if "\t" not in ln.text]
    if len(text) < 3:
        return None
    return min(ln.box[0] for ln in text), max(ln.box[2] for ln in text)


def _wraps_into(line: PdfLine, after: PdfLine, margins: tuple[float, float], next_margins: tuple[float, float],
                same_page: bool) -> bool:
    """Whether ``after`` goes on with ``line``'s text, the page's width having wrapped it:
    neither is a table's row (no tab); ``after`` starts no further right than ``line`` did
    (a new paragraph's first line is indented) and right below it (or atop the next page);
    and its first word would not have fitted on ``line`` before the right margin."""
    if "\t" in line.text or "\t" in after.text or not after.text:
        return False
    size = line.box[3] - line.box[1]
    if size <= 0 or after.box[0] > max(line.box[0], next_margins[0]) + 0.5 * size:
        return False
    if same_page and not 0 <= after.box[1] - line.box[3] < 0.8 * size:
        return False
    width = (after.box[2] - after.box[0]) / max(1, len(after.text))  # one character of ``after``, on average
    first_word = len(after.text.split(" ", 1)[0])
    return line.box[2] + (first_word + 1) * width >= margins[1]


def _joined(text: str, more: str) -> str:
    """Two pieces of a wrapped line: a space between two words of Latin letters or digits
    (a line is wrapped there at a space), none where CJK text was cut."""
    if text and more and text[-1].isascii() and text[-1].isalnum() and more[0].isascii() and more[0].isalnum():
        return f"{text} {more}"
    return text + more


def _title(pdf: Any) -> str | None:
    """The document's Title property, if it has one."""
    try:
        value = pdf.get_metadata_value("Title")
    except Exception:  # noqa: BLE001 - damaged metadata is no title
        return None
    return str(value or "").strip() or None


def join_pages(pages: list[list[PdfLine]], count: int, title: str | None, *, wrapped: bool = False) -> PdfText:
    """Pages' lines as one text: page numbers and running headers or footers dropped, and a
    row cut by a page break joined again; ``wrapped`` (a text layer): also a line that the
    page's width wrapped, on a page or over a page break, put back together with its rest, so
    that a label or a run of digits cut at the right margin reads whole again."""
    out = PdfText(pages=count, title=title)
    running = _running_lines(pages)
    tail: tuple[PdfLine, tuple[float, float]] | None = None  # the last line kept as printed, its page's margins
    for lines in pages:
        first = True
        margins = _margins(lines) if wrapped else None
        for i, line in enumerate(lines):
            edge = i < 2 or i >= len(lines) - 2
            if edge and (_PAGE_NUMBER_RE.match(line.text) or line.text in running):
                out.dropped += 1
                continue
            if margins and tail is not None and _wraps_into(tail[0], line, tail[1], margins,
                                                             same_page=tail[0].page == line.page):
                last = out.lines[-1]
                box = last.box if last.page != line.page else (
                    min(last.box[0], line.box[0]), last.box[1], max(last.box[2], line.box[2]), line.box[3])
                out.lines[-1] = PdfLine(_joined(last.text, line.text), last.page, box, last.unsure)
                tail, first = (line, margins), False
                continue
            if first and out.lines and _continues_label(out.lines[-1], line):
                previous = out.lines[-1]
                head, _, rest = previous.text.partition("\t")
                out.lines[-1] = PdfLine(head + line.text.split("\t", 1)[0] + ("\t" + rest if rest else ""),
                                        previous.page, previous.box, previous.unsure)
                first = False
                tail = None
                continue
            first = False
            out.lines.append(line)
            tail = (line, margins) if margins else None
    return out


_ITEM_START_RE = re.compile(r"^(?:[（(][一二三四五六七八九十]+[）)]|\d+\s*[.、．]|[一二三四五六七八九十]+\s*[、.．])")


def _continues_label(previous: PdfLine, line: PdfLine) -> bool:
    """A table row cut by a page break: the new page starts with the rest of the previous
    row's label (``情形）``) and no values of its own."""
    if "\t" not in previous.text or "\t" not in line.text:
        return False
    label, *values = line.text.split("\t")
    return bool(label) and not any(v.strip() for v in values) and not _ITEM_START_RE.match(label)


def _page_lines(page: LayerPage, number: int) -> list[PdfLine]:
    """A page's lines from top to bottom: drawn tables as one tab-separated line per row, the
    rest as text lines."""
    tables = []
    for table in page.find_tables():
        rows = page.extract_table(table)
        if any(sum(1 for c in row if c is not None) >= 2 for row in rows):  # a real grid, not a text frame
            tables.append((table, rows))
    out: list[PdfLine] = []
    for table, rows in tables:
        for row, texts in zip(table.rows, rows):
            cells = [cell_text(t) for t in texts if t is not None]
            while cells and not cells[0]:
                cells.pop(0)  # the blank corner left of a label: not a cell of the row
            if any(cells):
                x0, top, x1, bottom = row.bbox
                out.append(PdfLine("\t".join(cells), number, (float(x0), float(top), float(x1), float(bottom))))
    boxes = [t.bbox for t, _ in tables]
    for ln in page.extract_text_lines():
        text = " ".join(str(ln["text"]).split())
        if not text:
            continue
        middle = (float(ln["top"]) + float(ln["bottom"])) / 2
        if any(b[1] <= middle <= b[3] and float(ln["x0"]) < b[2] and float(ln["x1"]) > b[0] for b in boxes):
            continue  # read with its table
        out.append(PdfLine(text, number, (float(ln["x0"]), float(ln["top"]), float(ln["x1"]), float(ln["bottom"]))))
    out.sort(key=lambda line: (round(line.box[1], 1), line.box[0]))
    return out


def cell_text(text: str) -> str:
    """A table cell's text on one line: lines of a CJK cell joined without a space."""
    parts = [" ".join(p.split()) for p in text.split("\n")]
    joined = ""
    for part in parts:
        if joined and part and (joined[-1].isascii() and joined[-1].isalnum()) and (part[0].isascii() and part[0].isalnum()):
            joined += " "
        joined += part
    return joined.replace("\t", " ")


def _running_lines(pages: list[list[PdfLine]]) -> set[str]:
    """Lines printed at the top or bottom of most pages (a running header or footer)."""
    if len(pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        edges = {ln.text for ln in lines[:2] + lines[-2:]}
        seen.update(edges)
    return {text for text, n in seen.items() if n >= max(3, (len(pages) + 1) // 2) and len(text) < 60}
