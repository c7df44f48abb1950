"""Column headers of tables 三 and 四, read from the grid (spans resolved) above a row of values.

A table is read by its labels: the applicant columns of 三 and the forum/result columns of 四
may be printed in any order, and the header says which. Every function here answers None when
the header does not name each value's column exactly once; the caller then falls back to the
template's order and says so.

>>> top = ["申请人情况"] * 7
>>> names = ["总计", "自然人", "其他", "商业企业", "科研机构", "社会公益组织", "法律服务机构"]
>>> list(t3_columns({0: [top, names, ["1"] * 7]}, 0, 2, list(range(7))).values())[:3]
['total', 'natural_person', 'other_org']
"""

from __future__ import annotations

import re

from gongkai.transform.codebook import T3_APPLICANT_COLUMNS, T4_COLUMNS, T4_ROWS
from gongkai.transform.labels import T3_COL_KEYWORDS, match_last

Grids = dict[int, list[list[str]]]

MAX_HEADER_ROWS = 5

_T4_FORUMS = (("复议后起诉", "suit_after_review"), ("直接起诉", "suit_direct"), ("未经复议", "suit_direct"),
              ("复议", "review"))
_T4_RESULTS = (("维持", "upheld"), ("纠正", "corrected"), ("其他", "other"), ("审结", "pending"), ("尚未", "pending"),
               ("总计", "total"), ("合计", "total"))

# Table 四's fifteen places in the template's order: the forums' rows, each with its five results.
T4_TEMPLATE = [(row, col) for row in T4_ROWS for col in T4_COLUMNS]

# The group heading above the organisations' columns: it names no column of its own.
_T3_GROUP_WORDS = ("法人或其他组织", "法人或者其他组织", "法人及其他组织", "申请人情况")


_DIGIT_RE = re.compile(r"\d")


def _is_value_row(row: list[str]) -> bool:
    text = "".join(row)
    return _DIGIT_RE.search(text) is not None and "第" not in text


def header_rows(grids: Grids, table: int, at: int) -> list[list[str]]:
    """The header rows right above row ``at`` of grid ``table`` (up to a row of numbers), top
    first. A table whose first row holds numbers takes the header rows closing the grid before
    it (a header printed in its own ``<table>``)."""
    grid = grids.get(table)
    if grid is None:
        return []
    rows: list[list[str]] = []
    for r in range(at - 1, max(-1, at - 1 - MAX_HEADER_ROWS), -1):
        if _is_value_row(grid[r]):
            return rows
        rows.insert(0, grid[r])
    if at == 0 and table - 1 in grids:
        before = grids[table - 1]
        for r in range(len(before) - 1, max(-1, len(before) - 1 - MAX_HEADER_ROWS), -1):
            if _is_value_row(before[r]):
                break
            rows.insert(0, before[r])
        if rows and len(before[0]) != len(grid[0]):
            return []  # columns that do not line up cannot be read across tables
    return rows


def _t3_code(text: str) -> str | None:
    label = "".join(text.split())
    for word in _T3_GROUP_WORDS:
        if label == word:
            return None
    return match_last(label, T3_COL_KEYWORDS)


def t3_columns(grids: Grids, table: int, at: int, cols: list[int]) -> dict[int, str] | None:
    """Grid column → table 三 column code (``subtotal`` for a 小计 column) for the value columns
    ``cols`` of row ``at``: the lowest header cell above each column that names one. None unless
    the seven columns of the codebook are each named exactly once."""
    header = header_rows(grids, table, at)
    if not header:
        return None
    out: dict[int, str] = {}
    for col in cols:
        code = next((c for row in reversed(header) if col < len(row) and (c := _t3_code(row[col]))), None)
        if code is not None:
            out[col] = code  # an unnamed column (padding) may hold only blanks: the caller checks
    named = [c for c in out.values() if c != "subtotal"]
    if len(set(named)) != len(named) or set(named) != set(T3_COL_KEYWORDS) - {"subtotal"}:
        return None
    return out


def t3_text_order(header: str) -> list[str] | None:
    """The order of the organisations' columns named in a flattened header of table 三 (its text
    form), when it names each once and not in the template's order; None otherwise. 自然人 and
    总计 sit in the header row above and keep their places (first and last)."""
    text = "".join(header.split())
    for word in _T3_GROUP_WORDS:
        text = text.replace(word, "")
    orgs = T3_APPLICANT_COLUMNS[1:]  # the organisations (natural_person is not one)
    at: list[tuple[int, str]] = []
    for code in orgs:
        hits = [(text.find(w), w) for w in T3_COL_KEYWORDS[code] if w in text]
        if len(hits) != 1 or text.count(hits[0][1]) != 1:
            return None
        at.append((hits[0][0], code))
    order = [code for _, code in sorted(at)]
    if tuple(order) == orgs:
        return None
    return ["natural_person", *order, "total"]


def _column_text(header: list[list[str]], col: int) -> str:
    """The header cells above one column, top to bottom, as one text without whitespace."""
    return "".join("".join(r[col].split()) for r in header if col < len(r))


def _forum(text: str) -> str | None:
    return next((code for word, code in _T4_FORUMS if word in text), None)


def t4_forums(grids: Grids, table: int, at: int, cols: list[int]) -> list[str] | None:
    """Table 四 printed transposed (results as rows): the forum of each value column of row
    ``at`` — 行政复议, 未经复议直接起诉, 复议后起诉 — from the header cells above, each once."""
    header = header_rows(grids, table, at)
    forums: list[str] = []
    for col in cols:
        forum = _forum(_column_text(header, col))
        if forum is None:
            return None
        forums.append(forum)
    return forums if len(set(forums)) == len(forums) == 3 else None


def t4_text_forums(header: str) -> list[str] | None:
    """The forums' order named by a flattened header of a transposed table 四 (the last naming
    of each counts: a section title before it may name 行政复议 too)."""
    text = "".join(header.split())
    at: list[tuple[int, str]] = []
    for code, words in (("suit_after_review", ("复议后起诉", "复议后")), ("suit_direct", ("未经复议", "直接起诉")),
                        ("review", ("行政复议",))):
        pos = max((text.rfind(w) for w in words), default=-1)
        if pos < 0:
            return None
        at.append((pos, code))
    return [code for _, code in sorted(at)]


def t4_places(grids: Grids, table: int, at: int, cols: list[int],
              row: str | None = None) -> list[tuple[str, str]] | None:
    """The (row, col) code of each value column of table 四's row ``at``, read from the header
    cells above it: 行政复议 / 未经复议直接起诉 / 复议后起诉 and 结果维持 … 总计 in any order.
    ``row`` gives the row code when the values are one labelled row of five. None when the
    header does not name every value's place exactly once."""
    header = header_rows(grids, table, at)
    if not header:
        return None
    places: list[tuple[str, str]] = []
    for col in cols:
        text = _column_text(header, col)
        forum = row or _forum(text)
        result = next((code for word, code in _T4_RESULTS if word in text), None)
        if forum is None or result is None:
            return None
        places.append((forum, result))
    if len(set(places)) != len(places):
        return None
    return places


def t4_text_places(header: str) -> list[tuple[str, str]] | None:
    """The (row, col) place of each of table 四's fifteen values named by a flattened header:
    the forums in the order they are named (the last naming of 行政复议 counts, a section title
    may name it before), each forum's five results in the order the header first names them.
    None unless every name is there, or when the order is the template's."""
    text = "".join(header.split())
    start = text.rfind("行政复议")
    if start < 0:
        return None
    text = text[start:]
    forums = t4_text_forums(text)
    if forums is None:
        return None
    results: list[tuple[int, str]] = []
    for words, code in (("结果维持", "upheld"), ("结果纠正", "corrected"), ("其他结果", "other"),
                        ("尚未审结", "pending"), ("总计", "total")):
        pos = text.find(words)
        if pos < 0:
            return None
        results.append((pos, code))
    order = [code for _, code in sorted(results)]
    places = [(forum, result) for forum in forums for result in order]
    return None if places == T4_TEMPLATE else places
