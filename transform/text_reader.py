"""Plain-text and Markdown reports → :class:`Document`.

Tables in text come with tabs, ``|`` pipes, or runs of spaces between cells. Tabs and pipes
keep blank cells (a blank table cell means 0); spaces do not.

>>> doc = read_text("规章\\t0\\t\\t3")
>>> [c.text for c in doc.lines[0].cells]
['规章', '0', '', '3']
"""

from __future__ import annotations

import re

from gongkai.transform.document import Document, Line, Origin, TextCell
from gongkai.transform.glued import unglue_lines
from gongkai.transform.numbers import collapse_space

_MD_RULE_RE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PAGE_FOOTER_RE = re.compile(r"^\s*(?:[—\-–]+\s*\d{1,3}\s*[—\-–]+|第\s*\d{1,3}\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$")
_MD_HEADING_RE = re.compile(r"^#{1,6}\s+")
# A page number run into a line of text: only the 第…页 form (a dash is also how blank cells print).
_INLINE_PAGE_RE = re.compile(r"(?<!\S)第\s*\d{1,3}\s*页(?:\s*共\s*\d{1,3}\s*页)?(?!\S)")


def split_cells(line: str) -> tuple[list[str], str]:
    """Split one line of text into cells; also say how: "pipe", "tab" or "space"."""
    stripped = line.strip().replace("｜", "|")
    if stripped.count("|") >= 2 or (stripped.startswith("|") and stripped.count("|") >= 1):
        parts = stripped.split("|")
        if stripped.startswith("|"):
            parts = parts[1:]
        if stripped.endswith("|"):
            parts = parts[:-1]
        return [collapse_space(p) for p in parts], "pipe"
    if "\t" in line:
        parts = line.rstrip("\r\n").split("\t")
        # Leading tabs stand for the label columns of a table row: keep them as blanks.
        return [collapse_space(p) for p in parts], "tab"
    return [t for t in line.split() if t], "space"


def line_to_cells(line: str, lineno: int, table: int | None = None) -> Line | None:
    """Turn one text line into a :class:`Line`; page footers and Markdown rules give None."""
    if not line.strip() or _MD_RULE_RE.match(line) or _PAGE_FOOTER_RE.match(line.strip().strip("|｜")):
        return None  # (a page number is a footer inside a table's pipes too)
    line = _MD_HEADING_RE.sub("", line)
    parts, how = split_cells(line)
    if how == "space" and "页" in line:
        parts, how = split_cells(_INLINE_PAGE_RE.sub(" ", line))
    keep_blank = how != "space"
    cells: list[TextCell] = []
    for col, part in enumerate(parts):
        tokens = part.split(" ") if part else [""]
        if not keep_blank:
            tokens = [t for t in tokens if t]
        for tok in tokens if len(tokens) > 1 else [part]:
            cells.append(TextCell(tok, Origin(table, lineno, col)))
    if not any(c.text for c in cells) and not (how == "pipe" and len(cells) >= 5):
        return None  # a row of blank pipe cells is a row of zeros; other blank lines are nothing
    return Line(cells, in_table=keep_blank, grid=how == "pipe")


MAX_LINE_CHARS = 50_000  # a whole report printed on one line is under 10,000 characters


def cut_long_lines(lines: list[str], doc: Document) -> list[str]:
    """A line longer than any report could print on one (hostile or broken input: a megabyte
    of digits in one cell) is read up to ``MAX_LINE_CHARS``, cut at a space, with a warning —
    reading it whole costs seconds and no table row is that long.

    >>> doc = Document("text")
    >>> [len(x) for x in cut_long_lines(["规章 1", "1 " * 40_000], doc)], doc.warnings[0][:26]
    ([4, 49999], 'line 2 has 80,000 characte')
    """
    out = lines
    for i, line in enumerate(lines):
        if len(line) <= MAX_LINE_CHARS:
            continue
        if out is lines:
            out = list(lines)
        head = line[:MAX_LINE_CHARS]
        space = head.rfind(" ")
        out[i] = head[:space] if space > MAX_LINE_CHARS // 2 else head
        doc.warnings.append(f"line {i + 1} has {len(line):,} characters, more than any report prints on one: "
                            f"read its first {len(out[i]):,}")
    return out


_BARE_NUMBER_RE = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
_NOTE_LINE_RE = re.compile(r"^\s*[（(][^（）()]*[）)]\s*$")


def join_note_lines(lines: list[str]) -> list[str]:
    """A parenthetical on its own line right after a bare number belongs to that number's cell
    (a two-line cell pulled out of a PDF table: ``22`` / ``（其中修订 16 件）``)."""
    out: list[str] = []
    for line in lines:
        if out and _NOTE_LINE_RE.match(line) and _BARE_NUMBER_RE.match(out[-1]):
            out[-1] = out[-1].strip() + line.strip().replace(" ", "")
            out.append("")  # keep line numbers stable
            continue
        out.append(line)
    return out


def read_text(text: str, form: str = "text", *, unglue: bool = False) -> Document:
    """Read a plain-text or Markdown report; ``unglue`` separates labels from digit runs in
    the tables of a text whose cells ran together (see transform/glued.py)."""
    doc = Document(form=form)
    raw_lines = join_note_lines(cut_long_lines(text.splitlines(), doc))
    if unglue:
        raw_lines = unglue_lines(raw_lines)
    for lineno, raw in enumerate(raw_lines):
        line = line_to_cells(raw, lineno)
        if line is not None:
            doc.lines.append(line)
    return doc
