"""A PDF page's characters and ruling lines as PDFium reads them, in the shapes pdfplumber's
table finder and text-line builder take (``x0``, ``top``, ``x1``, ``bottom`` in points from
the page's top left). PDFium parses a page about ten times faster than pdfminer, which is where
reading a PDF spent nearly all its time; pdfplumber still finds the tables and the lines.

Ruling lines are every axis-parallel segment of every path drawn on the page, inside forms
too (a line, each side of a rectangle, the straight pieces of an outline), as pdfplumber
counts them; curves' slanted pieces are no ruling.

>>> import pypdfium2
>>> from pathlib import Path
>>> doc = pypdfium2.PdfDocument(Path("tests/fixtures/real/101.pdf").read_bytes())  # doctest: +SKIP
>>> page = LayerPage.read(doc[0])                                                 # doctest: +SKIP
>>> page.chars[0]["text"], len(page.find_tables())  # the page number's dash; one ruled table  # doctest: +SKIP
('-', 1)
"""

from __future__ import annotations

import ctypes
import math
import threading
from typing import Any

import pypdfium2.raw as pdfium_c

# PDFium is not thread-safe: every use of it in this process (text layers, scans' pages) holds this
PDFIUM_LOCK = threading.RLock()

Matrix = tuple[float, float, float, float, float, float]  # a, b, c, d, e, f as PDF writes them
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
MAX_FORM_DEPTH = 8  # forms inside forms: deeper nesting than any real report's is not read
ASCENT = 0.88  # the share of a character's size above its baseline (the rest below)
SPACE_GAP = 0.25  # where PDFium saw a space, a gap of a quarter of the size or more (a printed space) is one
MAX_SEGMENTS = 200_000  # a page's drawing of more path pieces than this is art, not a table


class LayerPage:
    """One page: ``chars`` and ``edges`` as pdfplumber's own page objects list them."""

    def __init__(self, width: float, height: float, chars: list[dict[str, Any]], edges: list[dict[str, Any]]):
        self.width = width
        self.height = height
        self.bbox = (0.0, 0.0, width, height)
        self.chars = chars
        self.edges = edges

    @classmethod
    def read(cls, page: Any) -> LayerPage:
        """A pypdfium2 page's characters and ruling lines."""
        left, bottom, right, top = page.get_mediabox()
        width, height = float(right - left), float(top - bottom)

        def flip(x: float, y: float) -> tuple[float, float]:
            return x - left, top - y

        textpage = page.get_textpage()
        try:
            chars = _chars(textpage, flip)
        finally:
            textpage.close()
        edges: list[dict[str, Any]] = []
        _walk(page.raw, IDENTITY, 0, flip, edges, is_form=False)
        return cls(width, height, chars, edges)

    def find_tables(self) -> list[Any]:
        """pdfplumber's tables on this page (its default settings: ruling lines on both axes)."""
        from pdfplumber.table import TableFinder, TableSettings

        return TableFinder(self, TableSettings.resolve(None)).tables  # type: ignore[arg-type]

    def extract_table(self, table: Any) -> list[list[str | None]]:
        """A table's cell texts, each row's characters looked for among the table's own (not
        among the whole page's, as pdfplumber would: that was a third of a PDF's reading)."""
        x0, top, x1, bottom = table.bbox
        inside = [c for c in self.chars
                  if x0 <= (c["x0"] + c["x1"]) / 2 < x1 and top <= (c["top"] + c["bottom"]) / 2 < bottom]
        table.page = LayerPage(self.width, self.height, inside, self.edges)
        try:
            return table.extract()
        finally:
            table.page = self

    def extract_text_lines(self) -> list[dict[str, Any]]:
        """The page's text lines (pdfplumber's text map of these characters)."""
        from pdfplumber import utils

        textmap = utils.chars_to_textmap(self.chars, layout_bbox=self.bbox, layout_width=self.width,
                                         layout_height=self.height)
        return textmap.extract_text_lines(strip=True, return_chars=False)


def _chars(textpage: Any, flip: Any) -> list[dict[str, Any]]:
    """The page's characters. An upright character's box is its advance across and, up and
    down, the same share of its size above and below its baseline whatever its font, so
    characters printed on one line line up (PDFium's own boxes follow each font's ascent and
    descent, which differ by several points between a CJK and a Latin font of one size). A
    space PDFium puts between two characters of one line is kept where they are apart by at
    least the width of a narrow space (as a printed space is: pdfminer keeps those), not where
    only the font changes (``2019年``)."""
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    matrix = pdfium_c.FS_MATRIX()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    out: list[dict[str, Any]] = []
    space_at: float | None = None  # x of a space PDFium put after the last character
    for index in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        if pdfium_c.FPDFText_IsGenerated(raw, index) == 1:
            if code == 32 and out and pdfium_c.FPDFText_GetLooseCharBox(raw, index, ctypes.byref(rect)):
                space_at = flip(rect.left, rect.top)[0]
            else:
                space_at = None
            continue
        if code < 32 or 0xD800 <= code < 0xE000 or code > 0x10FFFF:
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(raw, index, ctypes.byref(rect)):
            continue
        x0, top = flip(rect.left, rect.top)
        x1, bottom = flip(rect.right, rect.bottom)
        if x1 < x0:
            x0, x1 = x1, x0
        if bottom < top:
            top, bottom = bottom, top
        size = float(pdfium_c.FPDFText_GetFontSize(raw, index))
        upright = True
        if pdfium_c.FPDFText_GetMatrix(raw, index, ctypes.byref(matrix)):
            # as pdfminer says it: not turned and not mirrored (a slant, as of a synthetic italic, is upright)
            upright = matrix.a * matrix.d > 0 and matrix.b * matrix.c <= 0
            size *= math.hypot(matrix.c, matrix.d)  # the size as printed: the font size times the scale
        if upright and size > 0 and pdfium_c.FPDFText_GetCharOrigin(raw, index, ctypes.byref(ox), ctypes.byref(oy)):
            baseline = flip(ox.value, oy.value)[1]
            top, bottom = baseline - ASCENT * size, baseline + (1 - ASCENT) * size
        if upright and size > 0:
            x1 = min(x1, x0 + size)  # PDFium counts a wide character spacing into the box; no glyph is wider than its size
        if space_at is not None:
            last = out[-1]
            if abs(last["top"] - top) < 0.5 and last["x1"] <= space_at <= x0 and x0 - last["x1"] >= SPACE_GAP * size:
                out.append(_char(" ", space_at, max(space_at, x0), last["top"], last["bottom"], last["size"], True))
            space_at = None
        out.append(_char(chr(code), x0, x1, top, bottom, size, upright))
    return out


def _char(text: str, x0: float, x1: float, top: float, bottom: float, size: float, upright: bool) -> dict[str, Any]:
    return {"object_type": "char", "text": text, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top,
            "width": x1 - x0, "height": bottom - top, "size": size, "upright": upright}


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """``inner`` then ``outer`` (a point is first mapped by inner)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _matrix(obj: Any) -> Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _walk(parent: Any, outer: Matrix, depth: int, flip: Any, edges: list[dict[str, Any]], *, is_form: bool) -> None:
    count = pdfium_c.FPDFFormObj_CountObjects(parent) if is_form else pdfium_c.FPDFPage_CountObjects(parent)
    for i in range(count):
        obj = pdfium_c.FPDFFormObj_GetObject(parent, i) if is_form else pdfium_c.FPDFPage_GetObject(parent, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            _path_edges(obj, _compose(_matrix(obj), outer), flip, edges)
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < MAX_FORM_DEPTH:
            _walk(obj, _compose(_matrix(obj), outer), depth + 1, flip, edges, is_form=True)
        if len(edges) > MAX_SEGMENTS:
            return


def _path_edges(path: Any, matrix: Matrix, flip: Any, edges: list[dict[str, Any]]) -> None:
    a, b, c, d, e, f = matrix
    x, y = ctypes.c_float(), ctypes.c_float()
    start: tuple[float, float] | None = None
    last: tuple[float, float] | None = None
    for k in range(min(pdfium_c.FPDFPath_CountSegments(path), MAX_SEGMENTS)):
        segment = pdfium_c.FPDFPath_GetPathSegment(path, k)
        if not pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y)):
            continue
        point = flip(a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or last is None:
            start = last = point
            continue
        if kind == pdfium_c.FPDF_SEGMENT_LINETO:
            _edge(last, point, edges)
        last = point
        if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
            _edge(point, start, edges)
            last = start


def _edge(p: tuple[float, float], q: tuple[float, float], edges: list[dict[str, Any]]) -> None:
    x0, x1 = sorted((p[0], q[0]))
    top, bottom = sorted((p[1], q[1]))
    width, height = x1 - x0, bottom - top
    if width < 0.01 and height < 0.01:
        return
    if height < 0.01:
        orientation, bottom = "h", top
    elif width < 0.01:
        orientation, x1 = "v", x0
    else:
        return  # slanted: no ruling
    edges.append({"object_type": "line_edge", "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top,
                  "width": x1 - x0, "height": bottom - top, "orientation": orientation})
