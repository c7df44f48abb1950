"""PDF reports with a text layer: the characters pdfplumber finds, in reading order, as lines
of text (words apart by their x-gaps) that the text reader and the table mapping read like
any other text — every rule and the glued-digit solver apply unchanged.

Page numbers (``- 3 -``, ``第 3 页``, ``3 / 5``) and running headers or footers (the same line
at the top or bottom of most pages) are dropped, and pages are joined, so a table that goes
on over a page break is read as one. Each kept line remembers its page and box.

A PDF without a text layer (a scan) is a named failure: this version has no OCR.

>>> from pathlib import Path
>>> pdf = read_pdf(Path("tests/fixtures/real/101.pdf").read_bytes())  # doctest: +SKIP
>>> pdf.pages, pdf.lines[0].text                                      # doctest: +SKIP
(5, '洪泽区人民政府')
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from gongkai.transform.errors import ParseFailure

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
MAX_PAGES = 200  # a report is a few pages; a 2,000-page PDF is something else
_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4})\s*$")  # a bare number is never dropped: it may be a row's values


@dataclass(frozen=True)
class PdfLine:
    text: str
    page: int  # 1-based
    box: tuple[float, float, float, float]  # x0, top, x1, bottom (PDF points from the page's top left)


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
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PDFSyntaxError, ValueError, TypeError, KeyError) as exc:
        raise ParseFailure(f"damaged PDF: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for broken files
        raise ParseFailure(f"damaged PDF: {type(exc).__name__}: {exc}") from exc
    with pdf:
        count = len(pdf.pages)
        if count > MAX_PAGES:
            raise ParseFailure(f"PDF of {count} pages: more than {MAX_PAGES}, not a single annual report")
        title = str((pdf.metadata or {}).get("Title") or "").strip() or None
        pages: list[list[PdfLine]] = []
        chars = 0
        for number, page in enumerate(pdf.pages, 1):
            try:
                found = page.extract_text_lines(return_chars=False)
                chars += len(page.chars)
            except Exception as exc:  # noqa: BLE001 - one broken page: the others are still read
                log.warning("PDF page %d cannot be read: %s", number, exc)
                found = []
            pages.append([PdfLine(" ".join(str(ln["text"]).split()), number,
                                  (float(ln["x0"]), float(ln["top"]), float(ln["x1"]), float(ln["bottom"])))
                          for ln in found if str(ln["text"]).strip()])
    if chars == 0:
        raise ParseFailure("image-only PDF (a scan): it has no text layer, and this version has no OCR to read it")
    out = PdfText(pages=count, title=title)
    running = _running_lines(pages)
    for lines in pages:
        for i, line in enumerate(lines):
            edge = i < 2 or i >= len(lines) - 2
            if edge and (_PAGE_NUMBER_RE.match(line.text) or line.text in running):
                out.dropped += 1
                continue
            out.lines.append(line)
    return out


def _running_lines(pages: list[list[PdfLine]]) -> set[str]:
    """Lines printed at the top or bottom of most pages (a running header or footer)."""
    if len(pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        edges = {ln.text for ln in lines[:2] + lines[-2:]}
        seen.update(edges)
    return {text for text, n in seen.items() if n >= max(3, (len(pages) + 1) // 2) and len(text) < 60}
