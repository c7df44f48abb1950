"""Parse one report: bytes in, a :class:`ParseResult` out. Never raises on bad input.

>>> r = parse_report("规章".encode(), "x.txt")
>>> r.status, r.warnings[0]
('failed', 'not a report: no title naming a 政府信息公开工作年度报告 and no statistical tables')
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from gongkai import PARSER_VERSION
from gongkai.transform.codebook import has_one_other, load_codebook
from gongkai.transform.decode import decode_bytes
from gongkai.transform.document import Document, TextCell
from gongkai.transform.errors import ParseFailure
from gongkai.transform.glued import looks_glued
from gongkai.transform.html_reader import read_html
from gongkai.transform.mapping import detect_layout, locate_sections, map_tables
from gongkai.transform.metadata import Metadata, extract_metadata
from gongkai.transform.models import STATUS_RANK, CellValue, ParseResult, output_sha256
from gongkai.transform.narrative import stated_counts
from gongkai.transform.docx_reader import docx_to_html
from gongkai.transform.filekinds import UNREAD_KINDS, doc_to_docx, sniff_binary
from gongkai.transform.confirm import confirmed
from gongkai.transform.pdf_reader import NoTextLayer, PdfText, read_pdf
from gongkai.transform.scan_reader import RENDER_SCALE, images_of_file, images_of_pdf, read_scan
from gongkai.transform.records import Record, records_of
from gongkai.transform.xlsx_reader import xls_to_html, xlsx_to_html
from gongkai.transform.rules import run_rules
from gongkai.transform.text_reader import read_text

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024 * 1024
_HTML_SNIFF_RE = re.compile(r"<\s*(html|body|table|p|div|span|tr|td|br|meta|head)\b", re.IGNORECASE)
_DATA_URI_RE = re.compile(r"data:[a-zA-Z]+/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/=\s]{200,}")


def detect_form(text: str, source: str) -> str:
    """"html", "markdown" or "text", from the file name and the content."""
    suffix = PurePath(source).suffix.lower()
    if suffix in (".html", ".htm", ".shtml", ".xhtml", ".jhtml") or _HTML_SNIFF_RE.search(text[:20000]):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    return "text"


def read_document(text: str, form: str, *, unglue: bool = False, browser: bool = False,
                  pages: list[int] | None = None) -> Document:
    """``pages``: the page of each text line (forms "pdf" and "scan"), kept in the cells' origins."""
    if form in ("pdf", "scan"):
        doc = read_text(text, form, unglue=unglue)
        if pages:
            for line in doc.lines:
                line.cells = [TextCell(c.text, c.origin._replace(page=pages[c.origin.row]))
                              if c.origin.row < len(pages) else c for c in line.cells]
        return doc
    if form in ("html", "docx", "doc", "xlsx", "xls"):
        if "base64," in text:  # inline images: megabytes of text nobody reads
            text = _DATA_URI_RE.sub("data:,", text)
        return read_html(text, unglue=unglue, browser=browser)
    return read_text(text, form, unglue=unglue)


def parse_report(data: bytes, source: str, *, charset: str | None = None) -> ParseResult:
    """Parse one report's bytes. ``source`` is its path or URL (also used to guess the form);
    ``charset``: what the server declared in Content-Type (tried before ``<meta>``)."""
    result = ParseResult(source=source, parser_version=PARSER_VERSION)
    result.sha256 = hashlib.sha256(data).hexdigest()
    try:
        kind = sniff_binary(data)
        if kind == "pdf":
            try:
                _read_pages(read_pdf(data), "pdf", result)
            except NoTextLayer:
                _read_pages(read_scan(images_of_pdf(data), scale=RENDER_SCALE), "scan", result)
        elif kind == "image":
            _read_pages(read_scan(images_of_file(data)), "scan", result)
        elif kind == "docx":
            result.form, result.encoding = "docx", None
            _apply(_read_best(docx_to_html(data), result), result)
        elif kind == "doc":
            result.form, result.encoding = "doc", None
            _apply(_read_best(docx_to_html(doc_to_docx(data)), result), result)
        elif kind == "xlsx":
            result.form, result.encoding = "xlsx", None
            _apply(_read_best(xlsx_to_html(data), result), result)
        elif kind == "xls":
            result.form, result.encoding = "xls", None
            _apply(_read_best(xls_to_html(data), result), result)
        elif kind == "zip":
            return _best_member(data, source, result)
        elif kind is not None:
            raise ParseFailure(UNREAD_KINDS[kind])
        else:
            text = _decode_into(data, source, result, charset)
            _apply(_read_best(text, result), result)
    except ParseFailure as exc:
        result.status = "failed"
        result.warnings.append(str(exc))
    except Exception as exc:
        log.exception("unexpected error parsing %s", source)
        result.status = "failed"
        result.warnings.append(f"internal error: {type(exc).__name__}: {exc}")
    result.output_sha256 = output_sha256(result)
    return result


def _better(a: _Tables | None, b: _Tables | None) -> _Tables | None:
    """The reading that accounts for more cells (a complete one first)."""
    if a is None or b is None:
        return a or b
    if (a.status == "ok") != (b.status == "ok"):
        return a if a.status == "ok" else b
    return b if len(b.cells) + len(b.uncertain) > len(a.cells) + len(a.uncertain) else a


_TABLE_LABELS = ("本年新收", "予以公开", "第二十条", "结果维持")  # the tables are there, in some markup
_ANY_TABLE_LABELS = (*_TABLE_LABELS, "主动公开", "依申请", "行政复议", "行政诉讼", "申请人")


def _mentions_tables(text: str) -> bool:
    """Whether the text names any of the tables' labels (spaces between characters ignored)."""
    if any(label in text for label in _ANY_TABLE_LABELS):
        return True
    squeezed = "".join(text.split())
    return any(label in squeezed for label in _ANY_TABLE_LABELS)


BROWSER_MAX_CHARS = 3_000_000  # the browser-exact re-read is slow: only for pages of a plausible size
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>")
_VOID_TAGS = frozenset({"br", "img", "meta", "input", "hr", "link", "area", "base", "col", "embed", "param",
                        "source", "track", "wbr", "o:p"})
_DEPTH_MAX = 300  # real report pages nest about 25 deep


def _browser_safe(text: str) -> bool:
    """html5lib takes time proportional to the nesting depth for every tag (and far more for
    misnested formatting tags): markup nested deeper than any real page is not re-read."""
    depth = deepest = 0
    for m in _TAG_RE.finditer(text):
        if m.group(3) or m.group(2).lower() in _VOID_TAGS:
            continue
        depth = max(0, depth - 1) if m.group(1) else depth + 1
        deepest = max(deepest, depth)
        if deepest > _DEPTH_MAX:
            return False
    return True


def _read_best(text: str, result: ParseResult, pages: list[int] | None = None) -> _Tables:
    """Read the tables as printed; if that is not a complete report, read again with digit
    runs split by the table's rules (after separating labels from runs when the text is
    glued), and — for HTML — from a browser-exact tree (html5lib) of the markup, and keep the
    reading that accounts for more cells."""
    failure: ParseFailure | None = None
    best: _Tables | None = None
    read: list[_Reading] = []  # the document as read, for a second reading of the same lines
    try:
        best = _read_tables(text, result, glued=False, pages=pages, keep=read)
    except ParseFailure as exc:
        failure = exc
    if best is None and not _mentions_tables(text):
        raise failure  # type: ignore[misc]  # no table label anywhere: a second reading finds none either
    if best is None or best.status != "ok":
        # cells may have run together (a glued text, or "102" in one HTML cell): read again
        # with digit runs split by the table's rules (the same lines unless labels and runs
        # are to be separated first)
        unglue = looks_glued(text)
        with contextlib.suppress(ParseFailure):
            best = _better(best, _read_tables(text, result, glued=True, unglue=unglue, pages=pages,
                                              reading=None if unglue or not read else read[0]))
    if (best is None or best.status != "ok") and result.form == "html" and len(text) <= BROWSER_MAX_CHARS \
            and "<td" in text.lower() and any(label in text for label in _TABLE_LABELS) and _browser_safe(text):
        # broken Word/WPS markup that lxml's parser reads differently from a browser
        for glued in (False, True):
            with contextlib.suppress(ParseFailure):
                best = _better(best, _read_tables(text, result, glued=glued, browser=True))
            if best is not None and best.status == "ok":
                break
    if best is None:
        assert failure is not None
        raise failure
    return best


ZIP_MAX_MEMBERS = 50
ZIP_MAX_BYTES = 200 * 1024 * 1024


def _best_member(data: bytes, source: str, outer: ParseResult) -> ParseResult:
    """A ZIP attachment: the best reading among the report files inside it (one level deep)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [i for i in z.infolist() if not i.is_dir() and not PurePath(i.filename).name.startswith(".")]
            if len(members) > ZIP_MAX_MEMBERS or sum(i.file_size for i in members) > ZIP_MAX_BYTES:
                raise ParseFailure(f"ZIP archive of {len(members)} files: more than a report's attachment")
            best: ParseResult | None = None
            for info in members:
                inner = z.read(info)
                if sniff_binary(inner) == "zip":
                    continue  # archives inside archives are not opened
                got = parse_report(inner, f"{source}!/{info.filename}")
                if best is None or (STATUS_RANK[got.status], len(got.cells)) > (STATUS_RANK[best.status], len(best.cells)):
                    best = got
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:  # RuntimeError: encrypted
        raise ParseFailure(f"ZIP archive cannot be opened: {exc}") from exc
    if best is None:
        raise ParseFailure("ZIP archive holds no file that could be a report")
    best.warnings.append(f"read from {best.source} inside the ZIP archive")
    best.source, best.sha256 = source, outer.sha256
    best.output_sha256 = output_sha256(best)
    return best


def _decode_into(data: bytes, source: str, result: ParseResult, charset: str | None = None) -> str:
    if not data.strip():
        raise ParseFailure("empty document")
    if len(data) > MAX_BYTES:
        raise ParseFailure(f"document too large: {len(data)} bytes (limit {MAX_BYTES})")
    decoded = decode_bytes(data, charset)
    result.encoding = decoded.encoding
    result.form = detect_form(decoded.text, source)
    return decoded.text


@dataclass
class _Tables:
    status: str
    layout: str | None
    cells: list[CellValue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    meta: Metadata | None = None


@dataclass
class _Reading:
    """A document as read, with its metadata and records (neither depends on how digit runs
    are split later, so a second reading of the same lines reuses them)."""

    doc: Document
    meta: Metadata
    records: list[Record]


def _read_tables(text: str, result: ParseResult, *, glued: bool, unglue: bool | None = None,
                 browser: bool = False, pages: list[int] | None = None, reading: _Reading | None = None,
                 keep: list[_Reading] | None = None) -> _Tables:
    """Read the tables (``reading``: the document already read from ``text``; ``keep`` gets the
    reading made here)."""
    unglue = glued if unglue is None else unglue
    if reading is None:
        doc = read_document(text, result.form or "text", unglue=unglue, browser=browser, pages=pages)
        reading = _Reading(doc, extract_metadata(doc), records_of(doc.lines))
    if keep is not None:
        keep.append(reading)
    doc, meta, records = reading.doc, reading.meta, reading.records
    result.title, result.agency, result.year = meta.title, meta.agency, meta.year
    result.publication_date = meta.publication_date
    sections = locate_sections(records, split_runs=glued)
    if sections.t3 is None and sections.t2 is None:
        if meta.title is None:
            raise ParseFailure("not a report: no title naming a 政府信息公开工作年度报告 and no statistical tables")
        raise ParseFailure("no report content: no statistical tables (二, 三, 四) in the document"
                           + (" (the report may be an attachment or an image)" if result.form == "html" else ""))
    layout = detect_layout(records, sections)
    stated = stated_counts(doc.text_lines()) if glued else None
    tables = map_tables(records, layout or "2021", sections, split_runs=glued, glued_text=unglue, stated=stated,
                        grids={g.index: g.rows for g in doc.grids})
    out = _Tables(status="failed", layout=layout, cells=tables.cells, uncertain=tables.uncertain, meta=meta)
    out.warnings.extend(doc.warnings)
    out.warnings.extend(meta.warnings)
    if layout is None:
        out.warnings.append("layout not detected from the labels; read as 2021")
    out.warnings.extend(tables.warnings)
    if not tables.found:
        out.warnings.append("no table rows could be read")
        return out
    one_other = has_one_other(((c.table, c.row) for c in tables.cells), layout)
    expected = len(load_codebook().cells(layout or "2021", one_other))
    complete = layout and len(tables.cells) == expected and len(tables.found) == 3
    out.status = "ok" if complete else "partial"
    if meta.agency is None or meta.year is None:
        out.warnings.append("title, agency or year not found")
    return out


def _read_pages(pages: PdfText, form: str, result: ParseResult) -> None:
    """The lines of a PDF's text layer or of a scan's OCR, read like text; a scan's cells count
    where the rules confirm them, and the others become uncertain."""
    result.form, result.encoding = form, None
    _apply(_read_best(pages.text, result, pages=[line.page for line in pages.lines]), result)
    if form == "scan":
        _confirm(result, pages)


def _confirm(result: ParseResult, scan: PdfText) -> None:
    unsure = {(row, col) for row, line in enumerate(scan.lines) for col in line.unsure}
    kept, left = confirmed(result.cells, result.checks, unsure)
    if not left:
        return
    result.cells = kept
    result.uncertain.extend(left)
    result.checks = run_rules(kept, result.layout)
    result.warnings.append(f"OCR: {len(left)} cells that the tables' rules do not confirm are left out")
    if result.status == "ok":
        result.status = "partial"


def _apply(tables: _Tables, result: ParseResult) -> None:
    meta = tables.meta
    if meta is not None:
        result.title, result.agency, result.year = meta.title, meta.agency, meta.year
        result.publication_date = meta.publication_date
    result.layout = tables.layout
    result.cells = tables.cells
    result.uncertain = tables.uncertain
    result.warnings.extend(tables.warnings)
    result.checks = run_rules(tables.cells, tables.layout)
    result.status = tables.status
