"""Scanned reports (an image-only PDF, or PNG/JPEG/TIFF pages) read by OCR into the same lines
a PDF's text layer gives, so the text reader, the table mapping and every rule apply unchanged.

The engine is RapidOCR (PaddleOCR's detection and recognition models on onnxruntime), whose
models ship inside the ``rapidocr-onnxruntime`` wheel: nothing is downloaded at run time. It is
the optional extra ``gongkai[ocr]``; without it a scan is a named failure.

A page is first put straight: a page laid askew on the scanner's glass (up to ``MAX_SKEW``
degrees) is turned back by the angle at which its ink falls into the sharpest rows
(:func:`skew_of`) — a page turned by one degree, read as it was, put digits in the wrong
cells. Then it is read in three steps:

1. **Ruled tables** are found in the image (OpenCV: horizontal and vertical strokes longer than
   any character), and their cells are the white regions the rules enclose — a merged cell is
   one region, as in a PDF's drawn table.
2. **Text boxes** come from the detector; a box that runs over a cell's border is cut at it, so
   two neighbouring numbers are never read as one.
3. **Recognition** reads every box. A table row becomes one tab-separated line (a cell printed
   blank stays a blank cell); other boxes are joined into lines by their height on the page.

A table cell the recognizer is unsure of (its score under ``MIN_SCORE``, or letters taken for
the digits they look like) is named in its line's ``unsure``. What OCR reads counts only where
the tables' rules confirm it (:func:`gongkai.transform.confirm.confirm_by_rules`); an unsure
cell of table 二, which no rule can confirm, is left out.

>>> from pathlib import Path
>>> pages = read_scan([Path("scan-page-1.png").read_bytes()])  # doctest: +SKIP
>>> pages.lines[0].text                                        # doctest: +SKIP
'洪泽区人民政府'
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from collections.abc import Iterable, Iterator
from typing import Any

from gongkai.transform.errors import ParseFailure
from gongkai.transform.pdf_layer import PDFIUM_LOCK
from gongkai.transform.pdf_reader import PdfLine, PdfText, cell_text, join_pages

log = logging.getLogger(__name__)

RENDER_SCALE = 2.0  # an image-only PDF page is rendered at 144 dpi before OCR
DETECT_SIDE = 1280  # pixels of the longer side the text detector looks at
MIN_SCORE = 0.9  # a table cell read less surely than this is unsure
MAX_SKEW = 5.0  # degrees a scanned page may be turned and still be put straight
MIN_SKEW = 0.05  # degrees: less is read as it is
SKEW_SIDE = 1000  # pixels of the longer side the skew is measured at
MAX_SCAN_PAGES = 60  # OCR takes about 2 s a page; a report is a few pages
MAX_PIXELS = 40_000_000  # one page image; a larger one is reduced first
NOT_INSTALLED = "image-only document (a scan): install gongkai[ocr] to read scans"
_LOOKALIKES = str.maketrans({"o": "0", "O": "0", "○": "0", "〇": "0", "О": "0", "l": "1", "I": "1", "|": "1",
                            "０": "0", "１": "1", "２": "2", "３": "3", "４": "4", "５": "5", "６": "6", "７": "7",
                            "８": "8", "９": "9", "．": "."})
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")


def _as_number(text: str) -> str | None:
    """A table cell that is a number once OCR's look-alike letters are taken for digits (``o``
    for 0, ``l`` for 1); None if it reads as a number already, or is not one even so.

    >>> _as_number("1o"), _as_number("10"), _as_number("其他")
    ('10', None, None)
    """
    squeezed = text.replace(" ", "")
    if _NUMBER_RE.match(squeezed.replace(",", "")):
        return None
    swapped = squeezed.translate(_LOOKALIKES)
    return swapped if _NUMBER_RE.match(swapped.replace(",", "")) else None


def ocr_available() -> bool:
    """Whether the OCR extra (rapidocr-onnxruntime) is installed."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    # text boxes are recognised at their own width (a narrow number is not padded to 320 px)
    return RapidOCR(rec_img_shape=[3, 48, 48], rec_batch_num=1, text_score=0.0)


@dataclass(frozen=True)
class _Box:
    x0: int
    y0: int
    x1: int
    y1: int
    cell: int | None = None  # the table cell it lies in (an index into _Page.cells)


@dataclass
class _Table:
    cells: list[tuple[int, int, int, int]]  # x0, y0, x1, y1 of each cell, in the page's pixels


def images_of_pdf(data: bytes) -> Iterator[Any]:
    """An image-only PDF's pages as RGB arrays, rendered at ``RENDER_SCALE`` one at a time (a
    page image is megabytes)."""
    import numpy as np
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:  # one PDFium caller at a time in a process
        try:
            pdf = pdfium.PdfDocument(data)
        except Exception as exc:  # noqa: BLE001 - pdfium names few error kinds
            raise ParseFailure(f"damaged PDF: {exc}") from exc
        count = len(pdf)
    try:
        if count > MAX_SCAN_PAGES:
            raise ParseFailure(f"scanned PDF of {count} pages: more than {MAX_SCAN_PAGES}, "
                               "not a single annual report")
        for index in range(count):
            with PDFIUM_LOCK:
                page = pdf[index]
                image = page.render(scale=RENDER_SCALE).to_pil().convert("RGB")
                page.close()
            yield np.asarray(image)
    finally:
        with PDFIUM_LOCK:
            pdf.close()


def images_of_file(data: bytes) -> list[Any]:
    """The pages of a PNG, JPEG, GIF, BMP or (multi-page) TIFF image as RGB arrays."""
    import numpy as np
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = []
        for frame in ImageSequence.Iterator(image):
            if len(frames) >= MAX_SCAN_PAGES:
                raise ParseFailure(f"an image of more than {MAX_SCAN_PAGES} pages, not a single annual report")
            rgb = frame.convert("RGB")
            if rgb.width * rgb.height > MAX_PIXELS:
                factor = (MAX_PIXELS / (rgb.width * rgb.height)) ** 0.5
                rgb = rgb.resize((int(rgb.width * factor), int(rgb.height * factor)))
            frames.append(np.asarray(rgb))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ParseFailure(f"damaged image: {exc}") from exc
    return frames


def read_scan(images: Iterable[Any], *, scale: float = 1.0) -> PdfText:
    """OCR of page images (``scale``: pixels per PDF point, for the lines' boxes)."""
    if not ocr_available():
        raise ParseFailure(NOT_INSTALLED)
    pages = []
    for number, image in enumerate(images, 1):
        try:
            pages.append(_page_lines(image, number, scale))
        except Exception as exc:  # noqa: BLE001 - one unreadable page: the others are still read
            log.warning("scanned page %d cannot be read: %s", number, exc)
            pages.append([])
    if not any(pages):
        raise ParseFailure("image-only document (a scan): OCR found no text in it")
    return join_pages(pages, len(pages), None)


def skew_of(image: Any) -> float:
    """How many degrees a page image is turned (positive: counter-clockwise), between
    ``-MAX_SKEW`` and ``MAX_SKEW``: the angle at which the page's ink falls into the sharpest
    rows (printed lines and table rules run level on a page put straight)."""
    import cv2
    import numpy as np

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    factor = min(1.0, SKEW_SIDE / max(gray.shape))
    small = gray if factor == 1.0 else cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    ys, xs = np.nonzero(ink)
    if len(xs) < 500:
        return 0.0  # (next to) blank: nothing to go by
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64)

    def sharpness(degrees: float) -> float:
        # rows of the page turned back by ``degrees``: the sum of squared row counts is largest
        # when the ink's lines lie in as few rows as they can
        t = np.radians(degrees)
        rows = np.round(ys * np.cos(t) - xs * np.sin(t)).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.dot(counts, counts))

    best = 0.0
    for step, reach in ((0.5, MAX_SKEW), (0.1, 0.5), (0.02, 0.1)):
        candidates = np.arange(best - reach, best + reach + step / 2, step)
        scores = np.array([sharpness(c) for c in candidates])
        best = float(np.median(candidates[scores == scores.max()]))  # angles too close to tell apart: the middle
    turned = -best  # the rows were read turned clockwise (the image's y runs down)
    return turned if abs(turned) >= MIN_SKEW else 0.0


def straightened(image: Any) -> Any:
    """A page image turned back by its skew (the corners it uncovers white); as it was when it
    lies straight."""
    import cv2

    angle = skew_of(image)
    if angle == 0.0:
        return image
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)
    white = (255, 255, 255) if image.ndim == 3 else 255
    return cv2.warpAffine(image, turn, (width, height), flags=cv2.INTER_CUBIC, borderValue=white)


def _page_lines(image: Any, number: int, scale: float) -> list[PdfLine]:
    import numpy as np

    engine = _engine()
    image = straightened(image)
    tables, ink = _tables(image)
    cells = [cell for table in tables for cell in table.cells]
    boxes: list[_Box] = []
    for quad in _detect(engine, image):
        xs, ys = np.asarray(quad)[:, 0], np.asarray(quad)[:, 1]
        boxes.extend(_cut_at_cells(_Box(int(xs.min()), int(ys.min()), int(np.ceil(xs.max())), int(np.ceil(ys.max()))),
                                   cells))
    boxes.extend(_missed(ink, cells, {b.cell for b in boxes}))
    crops = [image[max(b.y0, 0):b.y1, max(b.x0, 0):b.x1] for b in boxes]
    keep = [i for i, c in enumerate(crops) if c.shape[0] >= 4 and c.shape[1] >= 4]
    read = _recognise(engine, [crops[i] for i in keep])
    texts: dict[int, tuple[str, bool]] = {}
    for i, (text, score) in zip(keep, read):
        text = " ".join(str(text).split())
        if not text:
            if boxes[i].cell is not None:
                texts[i] = ("", True)  # ink in a cell that reads as nothing
            continue
        unsure = score < MIN_SCORE
        if boxes[i].cell is not None and (digits := _as_number(text)) is not None:
            text, unsure = digits, True
        texts[i] = (text, unsure)
    out: list[PdfLine] = []
    for t_index, table in enumerate(tables):
        out.extend(_table_lines(table, t_index, tables, boxes, texts, number, scale))
    loose = [(boxes[i], texts[i][0]) for i in texts if boxes[i].cell is None]
    out.extend(_text_lines(loose, number, scale))
    out.sort(key=lambda line: (round(line.box[1], 1), line.box[0]))
    return out


def _recognise(engine: Any, crops: list[Any]) -> list[tuple[str, float]]:
    """Each crop's text and score. Crops are read at their own width; those read unsurely are
    read again padded to the width the model was trained at, and the surer reading is kept."""
    if not crops:
        return []
    read, _ = engine.text_rec(crops)
    again = [i for i, (_, score) in enumerate(read) if score < MIN_SCORE]
    if again:
        rec = engine.text_rec
        shape, rec.rec_image_shape = rec.rec_image_shape, [3, 48, 320]
        try:
            second, _ = rec([crops[i] for i in again])
        finally:
            rec.rec_image_shape = shape
        read = list(read)
        for i, reading in zip(again, second):
            if reading[1] > read[i][1]:
                read[i] = reading
    return [(str(text), float(score)) for text, score in read]


def _detect(engine: Any, image: Any) -> list[Any]:
    """The text boxes (quadrilaterals, in the image's pixels) the detector finds; it looks at
    the page at most ``DETECT_SIDE`` pixels high or wide, which is enough for printed text."""
    import cv2

    side = max(image.shape[:2])
    factor = min(1.0, DETECT_SIDE / side)
    small = image if factor == 1.0 else cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    found, _ = engine.text_det(small)
    return [] if found is None else [quad / factor for quad in found]


def _missed(ink: Any, cells: list[tuple[int, int, int, int]], covered: set[int | None]) -> list[_Box]:
    """A box round the ink of each table cell the detector found no text in (a lone digit
    is easily missed)."""
    import numpy as np

    out = []
    for index, (x0, y0, x1, y1) in enumerate(cells):
        if index in covered:
            continue
        inner = ink[y0 + 3:y1 - 3, x0 + 3:x1 - 3]
        if np.count_nonzero(inner) <= 20:
            continue
        ys, xs = np.nonzero(inner)  # (inside the 3-pixel margin; the box keeps 3 pixels round the ink)
        out.append(_Box(x0 + int(xs.min()), y0 + int(ys.min()),
                        min(x1, x0 + int(xs.max()) + 7), min(y1, y0 + int(ys.max()) + 7), index))
    return out


def _cut_at_cells(box: _Box, cells: list[tuple[int, int, int, int]]) -> list[_Box]:
    """A detected box inside a table, cut into one box per cell it covers."""
    cy = (box.y0 + box.y1) / 2
    parts = []
    for index, (x0, y0, x1, y1) in enumerate(cells):
        if not (y0 <= cy <= y1) or box.x1 <= x0 or box.x0 >= x1:
            continue
        left, right = max(box.x0, x0), min(box.x1, x1)
        if right - left >= 4:
            parts.append(_Box(left, max(box.y0, y0), right, min(box.y1, y1), index))
    return parts or [box]


def _table_lines(table: _Table, t_index: int, tables: list[_Table], boxes: list[_Box],
                 texts: dict[int, tuple[str, bool]], number: int, scale: float) -> list[PdfLine]:
    """A table's rows, each one tab-separated line of its cells' texts; a cell spanning rows
    (a merged label) belongs to the row it starts in."""
    first = sum(len(t.cells) for t in tables[:t_index])
    inside: dict[int, list[tuple[_Box, str]]] = {}
    doubtful: set[int] = set()
    for i, (text, unsure) in texts.items():
        cell = boxes[i].cell
        if cell is not None and first <= cell < first + len(table.cells):
            inside.setdefault(cell - first, []).append((boxes[i], text))
            if unsure:
                doubtful.add(cell - first)
    tops = sorted({c[1] for c in table.cells})
    rows: list[list[int]] = []
    row_tops: list[int] = []
    for top in tops:
        if row_tops and top - row_tops[-1] <= 6:
            continue
        row_tops.append(top)
    for top in row_tops:
        rows.append(sorted((i for i, c in enumerate(table.cells) if abs(c[1] - top) <= 6), key=lambda i: table.cells[i][0]))
    out = []
    for members in rows:
        texts_of = [_cell_of(inside.get(i, [])) for i in members]
        while texts_of and not texts_of[0]:
            texts_of.pop(0)
            members = members[1:]
        if not any(texts_of):
            continue
        x0 = min(table.cells[i][0] for i in members)
        x1 = max(table.cells[i][2] for i in members)
        y0 = min(table.cells[i][1] for i in members)
        y1 = max(table.cells[i][3] for i in members)
        unsure = frozenset(k for k, i in enumerate(members) if i in doubtful)
        out.append(PdfLine("\t".join(texts_of), number, (x0 / scale, y0 / scale, x1 / scale, y1 / scale), unsure))
    return out


def _cell_of(parts: list[tuple[_Box, str]]) -> str:
    """The text of one cell: its boxes in reading order (lines top to bottom); a box lying
    mostly inside a larger one is the detector seeing the same text twice."""
    parts = [p for p in parts if not any(q is not p and _area(q[0]) > _area(p[0]) and _inside(p[0], q[0]) >= 0.5
                                         for q in parts)]
    lines = _group_lines(parts)
    return cell_text("\n".join(" ".join(text for _, text in line) for line in lines))


def _area(box: _Box) -> int:
    return max(0, box.x1 - box.x0) * max(0, box.y1 - box.y0)


def _inside(box: _Box, other: _Box) -> float:
    """The share of ``box`` that lies inside ``other``."""
    w = min(box.x1, other.x1) - max(box.x0, other.x0)
    h = min(box.y1, other.y1) - max(box.y0, other.y0)
    return max(0, w) * max(0, h) / max(1, _area(box))


def _group_lines(parts: list[tuple[_Box, str]]) -> list[list[tuple[_Box, str]]]:
    """Boxes grouped into lines: a box joins a line it overlaps by half its height."""
    lines: list[list[tuple[_Box, str]]] = []
    for part in sorted(parts, key=lambda p: (p[0].y0 + p[0].y1) / 2):
        box = part[0]
        if lines:
            last = lines[-1]
            top, bottom = min(b.y0 for b, _ in last), max(b.y1 for b, _ in last)
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap >= 0.5 * min(box.y1 - box.y0, bottom - top):
                last.append(part)
                continue
        lines.append([part])
    return [sorted(line, key=lambda p: p[0].x0) for line in lines]


def _text_lines(parts: list[tuple[_Box, str]], number: int, scale: float) -> list[PdfLine]:
    out = []
    for line in _group_lines(parts):
        text = " ".join(t for _, t in line)
        x0, y0 = min(b.x0 for b, _ in line), min(b.y0 for b, _ in line)
        x1, y1 = max(b.x1 for b, _ in line), max(b.y1 for b, _ in line)
        out.append(PdfLine(text, number, (x0 / scale, y0 / scale, x1 / scale, y1 / scale)))
    return out


def _tables(image: Any) -> tuple[list[_Table], Any]:
    """The ruled tables of a page image and the cells their rules enclose; and the page's ink
    (the dark pixels, 255)."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    faint = cv2.threshold(gray, 224, 255, cv2.THRESH_BINARY_INV)[1]  # a hairline rule prints light grey
    height, width = ink.shape
    reach = max(24, min(height, width) // 30)  # longer than any character's stroke
    across = cv2.morphologyEx(faint, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (reach, 1)))
    down = cv2.morphologyEx(faint, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, reach)))
    rules = cv2.dilate(across | down, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
    tables = []
    for k in range(1, count):
        x, y, w, h, _ = stats[k]
        if w < width // 5 or h < 2 * reach:
            continue
        region = rules[y:y + h, x:x + w]
        if not (down[y:y + h, x:x + w].any() and across[y:y + h, x:x + w].any()):
            continue
        n, _, cstats, _ = cv2.connectedComponentsWithStats(cv2.bitwise_not(region), connectivity=4)
        cells = []
        for j in range(1, n):
            cx, cy, cw, ch, _ = cstats[j]
            touches_edge = cx == 0 or cy == 0 or cx + cw >= w or cy + ch >= h
            if cw >= 8 and ch >= 8 and not touches_edge:
                cells.append((int(x + cx), int(y + cy), int(x + cx + cw), int(y + cy + ch)))
        if len(cells) >= 2:
            tables.append(_Table(cells))
    return tables, ink
