"""Records → canonical cells of tables 二, 三 and 四, and layout detection.

The mapper walks the records of a report in reading order. It does not need the tables to be
whole ``<table>`` elements: a table split over several elements, header rows in one table
and data rows in another, or a table flattened into text all give the same record stream.

- Table 三 rows are matched by label; a row whose label is lost or unrecognised takes the
  next row of the template (rows always appear in template order).
- Table 二 rows are matched by label; their columns come from the nearest header naming
  them (the 2019 template orders them differently in different reports), else the template.
- Table 四's fifteen numbers are taken in template order, from one row or several.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gongkai.transform.codebook import (
    AMOUNT_COLUMNS,
    load_codebook,
    T2_COLUMNS,
    T3_COLUMNS,
    t3_result_rows,
    t3_rows,
    T4_COLUMNS,
    T4_ROWS,
)
from gongkai.transform.document import TextCell
from gongkai.transform.glued import MAX_BLANKS, digit_groups, solve_row, solve_t3, solve_t4, solve_t4_transposed
from gongkai.transform.headers import (
    T4_TEMPLATE,
    Grids,
    header_rows,
    t3_columns,
    t3_text_order,
    t4_forums,
    t4_places,
    t4_text_forums,
    t4_text_places,
)
from gongkai.transform.labels import (
    LAYOUT_MARKERS,
    T2_COL_KEYWORDS,
    T2_ROW_KEYWORDS,
    T3_ROW_KEYWORDS,
    T4_COL_KEYWORDS,
    T4_ROW_KEYWORDS,
    find_all,
    match_last,
    nearest,
    starts_with_ordinal,
)
from gongkai.transform.models import CellValue
from gongkai.transform.numbers import BLANK, to_10k_yuan
from gongkai.transform.records import Record, Value
from gongkai.transform.rules import run_rules

_T2_ANCHORS = ("第二十条", "主动公开政府信息情况")
_T3_HEADER_WORDS = ("勾稽关系", "申请人情况")
_END_WORDS = ("存在的主要问题", "主要问题及改进")
_TABLE_ZH = {"t2": "二", "t3": "三", "t4": "四"}
_YUAN_UNIT_RE = re.compile(r"单位[:：]?元|\(元\)|（元）")


# A value printed with a note (``22（其中修订16件）``) that lost its row in a PDF-extracted table
# is placed in the column its note speaks of.
_NOTE_COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "repealed": ("废止", "失效", "修订", "修改", "清理"),
    "issued": ("制发", "制定", "印发", "出台"),
}


@dataclass
class TableResult:
    cells: list[CellValue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    found: set[str] = field(default_factory=set)  # tables with at least one row
    uncertain: list[str] = field(default_factory=list)
    split_runs: bool = False  # cells may have run together: split digit runs by the table's rules
    glued_text: bool = False  # the whole text lost its separators (table 二, which has no rules, too)
    stated: dict[tuple[str, str, str], int] = field(default_factory=dict)


def lstrip_blanks(values: list[Value]) -> list[Value]:
    i = 0
    while i < len(values) and values[i].blank:
        i += 1
    return values[i:]


def take_values(
    values: list[Value], n: int, *, drop_index: int | None = None, grid: bool = False
) -> list[Value] | None:
    """Pick the ``n`` values of a row: surplus blank cells at either end are dropped, padding
    at the end first in an HTML grid (narrow sub-tables), empty label columns at the start
    first in text; an extra 小计 column is dropped when ``drop_index`` names it."""
    width = n if drop_index is None else n + 1
    vals = list(values)
    ends = (-1, 0) if grid else (0, -1)
    for end in ends:
        while len(vals) > width and vals[end].blank:
            vals.pop(end)
    if drop_index is not None and len(vals) == width:
        vals.pop(drop_index)
    if len(vals) != n:
        return None  # too few, or more values than cells: never drop one silently (the caller warns)
    return vals


def row_values(
    records: list[Record], i: int, stop: int, n: int, keywords: dict[str, tuple[str, ...]],
    drop_index: int | None = None,
) -> tuple[list[Value] | None, int, list[Value]]:
    """The ``n`` values of the labelled record ``i``: its own, those of the label-less record
    right after it (a row wrapped onto the next line), or its blank cells (a row printed
    empty, when the blanks directly follow a cell naming the row). Returns the values (None
    when there are not enough), the next index to read, and the cells looked at."""
    rec = records[i]
    if rec.has_numbers:
        return take_values(rec.values, n, drop_index=drop_index, grid=rec.grid), i + 1, rec.values
    nxt = records[i + 1] if i + 1 < stop else None
    tail = nxt is not None and (not nxt.label or _label_tail(nxt.label, keywords))
    if rec.label and nxt is not None and tail and (nxt.has_numbers or (nxt.label and nxt.in_table and len(nxt.values) >= n)):
        return take_values(nxt.values, n, drop_index=drop_index, grid=nxt.grid), i + 2, nxt.values
    own_row = match_last(rec.last_label, keywords)
    if rec.in_table and own_row is not None and own_row == match_last(rec.label, keywords) and len(rec.values) >= n:
        return take_values(rec.values, n, drop_index=drop_index, grid=rec.grid), i + 1, rec.values
    return None, i + 1, []


_TAIL_MAX = 6


def _label_tail(label: str, keywords: dict[str, tuple[str, ...]], longest: int = _TAIL_MAX) -> bool:
    """Whether a label may be the end of the label before it, wrapped onto the next line
    (``事项``, ``收费``): short, no ordinal or digit, and naming no row of its own."""
    return len(label) <= longest and not any(ch.isdigit() for ch in label) and "、" not in label \
        and match_last(label, keywords) is None


def runs_of(values: list[Value], cells: int, signed: bool = False) -> list[str] | None:
    """The digit runs of a row whose cells ran together, if there are digits enough for
    ``cells`` cells (a few may have been printed blank). A run with a minus sign is taken only
    where a cell may be negative (``signed``: 2019's 本年增/减)."""
    groups = digit_groups([v.cell.text for v in values])
    if not groups or sum(len(g.replace(".", "").replace("-", "")) for g in groups) < cells - MAX_BLANKS:
        return None
    if not signed and any(g.startswith("-") for g in groups):
        return None
    return groups


def _glued_cells(table: str, row: str, cols: Sequence[str], src: list[Value], solved: list[int | float | None],
                 out: TableResult, header_unit: str = "") -> None:
    run = " ".join(v.cell.text for v in src if v.cell.text)
    origin = src[0].cell.origin if src else None
    unknown = []
    for col, value in zip(cols, solved):
        if value is None:
            unknown.append(col)
            out.uncertain.append(f"{table}.{row}.{col}")
            continue
        if col in AMOUNT_COLUMNS and header_unit == "元":
            value = round(float(value) / 10000, 6)
        out.cells.append(CellValue(table, row, col, value, str(value), False, origin, run))
    if unknown:
        out.warnings.append(f"table {_TABLE_ZH[table]}: row {row}: the digits {run!r} split in several ways that "
                            f"satisfy the rules equally; left out: {', '.join(unknown)}")


def _cell(table: str, row: str, col: str, v: Value, header_unit: str = "") -> CellValue:
    value: int | float = v.number.value
    if col in AMOUNT_COLUMNS:
        value = to_10k_yuan(v.number, header_unit)
    return CellValue(table, row, col, value, v.cell.text, v.number.empty, v.cell.origin)


def _first(records: list[Record], pred, start: int = 0, stop: int | None = None) -> int | None:
    for i in range(start, len(records) if stop is None else min(stop, len(records))):
        if pred(records[i]):
            return i
    return None


@dataclass
class Sections:
    t2: int | None
    t3: int | None
    end: int


def locate_sections(records: list[Record], *, split_runs: bool = False) -> Sections:
    """Find where tables 二 and 三 start, and where the statistical part ends."""

    def is_t3_row(i: int) -> bool:
        code = match_last(records[i].label, T3_ROW_KEYWORDS)
        if code not in ("new_received", "carried_over"):
            return False
        vals, _, src = row_values(records, i, len(records), len(T3_COLUMNS), T3_ROW_KEYWORDS)
        return vals is not None or (split_runs and runs_of(src, len(T3_COLUMNS)) is not None)

    t3 = _first(records, lambda r: any(w in r.label for w in _T3_HEADER_WORDS))
    first_row = next((i for i in range(len(records)) if is_t3_row(i)), None)
    if t3 is None or (first_row is not None and first_row < t3):
        t3 = first_row
    def is_t2_start(i: int) -> bool:
        r = records[i]
        if not (any(w in r.label for w in _T2_ANCHORS) or find_all(r.label, T2_COL_KEYWORDS)):
            return False
        return any(match_last(x.label, T2_ROW_KEYWORDS) and (x.has_numbers or (x.in_table and x.values))
                   for x in records[i:i + 16])

    t2 = next((i for i in range(len(records) if t3 is None else t3) if is_t2_start(i)), None)
    end = _first(records, lambda r: any(w in r.label for w in _END_WORDS) and len(r.label) < 40, t3 or 0)
    return Sections(t2=t2, t3=t3, end=len(records) if end is None else end)


def detect_layout(records: list[Record], sections: Sections) -> str | None:
    """Decide 2019 vs 2021 from the labels printed in the tables (never from the year)."""
    start = sections.t2 if sections.t2 is not None else (sections.t3 or 0)
    text = "".join(r.label for r in records[start:sections.end])
    score = {layout: sum(text.count(m) for m in marks) for layout, marks in LAYOUT_MARKERS.items()}
    if sections.t3 is not None:
        for r in records[sections.t3:sections.end]:
            if match_last(r.label, T3_ROW_KEYWORDS) == "other" and r.has_numbers:
                score["2019"] += 1
    if score["2019"] == score["2021"]:
        return None
    return "2019" if score["2019"] > score["2021"] else "2021"


def _with_orphan(
    values: list[Value], order: list[str], orphans: list[Value], warnings: list[str], row: str
) -> list[Value] | None:
    """Complete a row missing one value with the next loose value whose note names a column."""
    note = orphans[0].number.note
    col = next((c for c, words in _NOTE_COLUMN_WORDS.items() if c in order and any(w in note for w in words)), None)
    if col is None:
        return None
    orphan = orphans.pop(0)
    warnings.append(f"table 二: row {row} column {col} read from the loose cell {orphan.cell.text!r}")
    vals = list(values)
    vals.insert(order.index(col), orphan)
    return vals


def map_t2(records: list[Record], sections: Sections, layout: str, out: TableResult) -> None:
    if sections.t2 is None:
        out.warnings.append("table 二 not found (no 第二十条 header or column labels)")
        return
    stop = sections.t3 if sections.t3 is not None else sections.end
    columns = T2_COLUMNS[layout]
    header: list[str] = []
    unit = ""
    done: set[str] = set()
    orphans: list[Value] = []
    i = sections.t2
    while i < stop:
        rec = records[i]
        # the header of a sub-table starts at 第二十条…/信息内容 (a flattened label may carry text before it)
        head = rec.label[max(rec.label.rfind("信息内容"), rec.label.rfind("第二十条"), 0):]
        cols = find_all(head, T2_COL_KEYWORDS)
        if cols:
            header = cols
            unit = "元" if _YUAN_UNIT_RE.search(rec.label) else ""
        row = match_last(rec.label, T2_ROW_KEYWORDS)
        wrapped = False
        if row is None and (rec.has_numbers or (rec.in_table and rec.values)) and i > sections.t2 \
                and _label_tail(rec.label, T2_ROW_KEYWORDS, 2 * _TAIL_MAX):
            before = records[i - 1]  # a label wrapped onto two lines: 行政事业性 / 收费 0.5
            if not before.values and match_last(before.label, T2_ROW_KEYWORDS) is None:
                row = match_last(before.last_label + rec.label, T2_ROW_KEYWORDS)
                wrapped = row is not None
        if row is None:
            if not rec.label and len(rec.values) == 1 and rec.values[0].number.note:
                orphans.append(rec.values[0])
            i += 1
            continue
        if row not in columns:
            out.warnings.append(f"table 二: row {rec.label_raw!r} is not part of the {layout} layout")
            i += 1
            continue
        valid = columns[row]
        order = [c for c in header if c in valid]
        if sorted(order) != sorted(valid):
            order = list(valid)
        if wrapped:  # the values are this record's own, printed or blank
            vals, nxt, src = take_values(rec.values, len(order), grid=rec.grid), i + 1, rec.values
        else:
            vals, nxt, src = row_values(records, i, stop, len(order), T2_ROW_KEYWORDS)
        if vals is None and orphans and len(rec.values) == len(order) - 1:
            vals = _with_orphan(rec.values, order, orphans, out.warnings, row)
        # Table 二 has no arithmetic to check a split against: only a text that lost every
        # separator forces one; cells printed apart are never cut.
        runs = runs_of(src, len(order), signed="change" in order) \
            if out.glued_text and vals is None and row not in done else None
        if runs is not None:
            decimal = frozenset(k for k, c in enumerate(order) if c in AMOUNT_COLUMNS)
            unit = "元" if any(v.cell.text.endswith("元") and not v.cell.text.endswith("万元") for v in src) else unit
            hints = {k: out.stated[("t2", row, c)] for k, c in enumerate(order) if ("t2", row, c) in out.stated}
            signed = frozenset(k for k, c in enumerate(order) if c == "change")
            solved = solve_row(runs, len(order), decimal, hints, signed).values["row"]
            _glued_cells("t2", row, order, src, solved, out, unit)
            done.add(row)
            i = nxt
            continue
        if vals is None:
            if rec.has_numbers:
                got = [v.cell.text for v in rec.values]
                out.warnings.append(f"table 二: row {row} has {len(got)} values {got} for {len(order)} columns")
            i = nxt
            continue
        i = nxt
        if row in done:
            out.warnings.append(f"table 二: row {row} printed twice; the first is kept")
            continue
        done.add(row)
        out.cells.extend(_cell("t2", row, col, v, unit) for col, v in zip(order, vals))
    if done:
        out.found.add("t2")
    missing = [r for r in columns if r not in done]
    if missing:
        out.warnings.append(f"table 二: rows not found: {', '.join(missing)}")


def map_t3(records: list[Record], sections: Sections, layout: str, out: TableResult,
           grids: Grids | None = None) -> int:
    """Map table 三; returns the index of the record after its last row. Its applicant columns
    are read by the header: the grid's (spans resolved) or, in text, the order in which the
    organisations' columns are named."""
    if sections.t3 is None:
        out.warnings.append("table 三 not found (no 本年新收/上年结转 rows)")
        return sections.t2 or 0
    one_other = _one_other_row(records, sections) if layout == "2021" else False
    if one_other:
        out.warnings.append("table 三: （六）其他处理 is printed as one row without its three 2021 sub-rows: "
                            "coded other")
    expected = t3_rows(layout, one_other)
    header = ""
    for r in records[sections.t3:sections.t3 + 8]:  # header rows, up to the first row of numbers
        header += r.label
        if r.has_numbers:
            break
    drop = 6 if "小计" in header else None
    by_header = _T3Header(grids, out)
    unsure: set[str] = set()  # rows read by a header not their own, or by position under one unreadable
    printed = t3_text_order(header)  # text: the order the header names the columns in
    told = False  # whether a row was read in that order
    done: set[str] = set()
    guessed: set[str] = set()  # rows read in turn from a blank row whose label names none
    fixed: dict[str, list[Value]] = {}
    glued: dict[str, tuple[list[str], list[Value]]] = {}
    nxt = 0
    last = sections.t3
    i = sections.t3
    while i < sections.end:
        rec = records[i]
        code = match_last(rec.label, T3_ROW_KEYWORDS)
        if done and "复议" in rec.label and code is None:
            break
        if code is None and rec.has_numbers and rec.label:
            code = _nearest_t3_row(rec, [r for r in expected if r not in done], out)
        if code is not None and code not in expected:
            code = None  # e.g. a 2019-style （六）其他处理 heading above 2021 sub-rows
        if code == "results_total" and len(done) < 3:
            code = None  # the 总计 of the column header
        src: list[Value] = []
        if code is None and not rec.has_numbers:
            # a row printed blank under a label naming no row (a merged cell, characters lost) is read in
            # turn; a row named later by its own label takes that place back (the blank row was the
            # rest of the label above it, wrapped over a page break)
            if done and rec.in_table and len(rec.values) >= len(T3_COLUMNS):
                vals, after, src = take_values(rec.values, len(T3_COLUMNS), drop_index=drop, grid=rec.grid), i + 1, \
                    rec.values
            else:
                i += 1
                continue
        else:
            vals, after, src = row_values(records, i, sections.end, len(T3_COLUMNS), T3_ROW_KEYWORDS, drop_index=drop)
        i = after
        read, in_order, row_unsure = by_header.values(src)
        if read:
            vals = in_order
        elif printed is not None and vals is not None:
            vals = [dict(zip(printed, vals))[c] for c in T3_COLUMNS]
            told = True
        if out.split_runs and vals is not None and not _adds_up(vals) and runs_of(src, len(T3_COLUMNS)) is not None:
            vals = None  # in glued text a space may fall inside a number: split the row by the rules instead
        runs = runs_of(src, len(T3_COLUMNS)) if out.split_runs and vals is None else None
        if out.split_runs and vals is None and not src and code and code not in done and _next_is_row(records, i):
            vals = [Value(TextCell("", rec.origin), BLANK)] * len(T3_COLUMNS)  # printed blank
        if vals is None and runs is None:
            if code and rec.has_numbers:
                got = [v.cell.text for v in rec.values]
                out.warnings.append(f"table 三: row {code} has {len(got)} values {got} for 7 columns")
            continue
        if code in done and not rec.has_numbers and not starts_with_ordinal(rec.last_label or rec.label):
            continue  # no numbers under an unnumbered label naming a row already read: the rest of its label
        if code in guessed:  # named by its label: the blank row read in its place was not it
            guessed.discard(code)
            done.discard(code)
            fixed.pop(code, None)
            unsure.discard(code)
        in_turn = code is None or code in done
        if in_turn:
            code = next((r for r in expected[nxt:] if r not in done), None)
            if code is None:
                continue
        if in_turn and not rec.has_numbers:
            guessed.add(code)
        done.add(code)
        if row_unsure:
            unsure.add(code)
        nxt = expected.index(code) + 1
        last = i
        if vals is not None:
            fixed[code] = vals
        elif runs is not None:
            glued[code] = (runs, src)
        if code == "carried_forward":
            break
    if printed is not None and (told or glued):
        out.warnings.append(f"table 三: the header names the applicant columns in the order {', '.join(printed)}; "
                            "read so")
    order = printed or by_header.order() or list(T3_COLUMNS)  # the printed order the glued digits run in
    if order[-1] != "total":  # the solver needs the row total last
        out.warnings.append("table 三: rows printed without separators under a header that does not end with 总计 "
                            "are left out")
        solved = {code: [None] * len(order) for code in glued}
    else:
        solved = _solve_glued_t3(fixed, glued, layout, out, one_other, order)
    first_cell = len(out.cells)
    for code in expected:
        if code in fixed:
            out.cells.extend(_cell("t3", code, col, v) for col, v in zip(T3_COLUMNS, fixed[code]))
        elif code in glued:
            # the table's rules treat the organisations alike: a split in printed order is reordered
            _glued_cells("t3", code, order, glued[code][1], solved[code], out)
    if unsure:
        _certain_by_rules(out, first_cell, unsure & set(fixed), layout)
    if done:
        out.found.add("t3")
    missing = [r for r in expected if r not in done]
    if missing:
        out.warnings.append(f"table 三: rows not found: {', '.join(missing)}")
    return last


def _certain_by_rules(out: TableResult, first_cell: int, rows: set[str], layout: str) -> None:
    """Rows of table 三 whose columns were not read from their own header count only when the
    table's rules pass; else their cells are left out (uncertain), with a warning."""
    if not rows:
        return
    cells = out.cells[first_cell:]
    failing = [c for c in run_rules(cells, layout) if c.status == "fail" and c.rule.startswith("t3")]
    if not failing:
        return
    out.cells[first_cell:] = [c for c in cells if c.row not in rows]
    out.uncertain.extend(f"t3.{c.row}.{c.col}" for c in cells if c.row in rows)
    out.warnings.append(f"table 三: rows {', '.join(sorted(rows))} were not read by a header of their own and "
                        f"the table's rules fail ({failing[0].rule} {failing[0].where}): left out")


_ORDINAL_TAIL_RE = re.compile(r"(?=[0-9]+[.、．])")


def _nearest_t3_row(rec: Record, rows: list[str], out: TableResult) -> str | None:
    """A row label that matches no keyword (characters dropped or added by a text layer) read
    as the nearest codebook label of the rows still to come, when that is unambiguous."""
    book = load_codebook()
    labels = {r: book.label("t3", "row", r) for r in rows}
    label = rec.last_label or _ORDINAL_TAIL_RE.split(rec.label)[-1]
    code, note = nearest(label, labels)
    if note:
        out.warnings.append(f"table 三: {note}")
    return code


def _adds_up(vals: list[Value]) -> bool:
    """Whether a row prints its total (the last value) as the sum of the others."""
    numbers = [v.number.value for v in vals]
    return abs(sum(numbers[:-1]) - numbers[-1]) < 1e-9


def _t4_adds_up(values: list[Value]) -> bool:
    """Whether table 四's fifteen values print each row's total as the sum of its results."""
    return all(_adds_up(values[i:i + len(T4_COLUMNS)]) for i in range(0, len(values), len(T4_COLUMNS)))


def _one_other_row(records: list[Record], sections: Sections) -> bool:
    """Whether a 2021-layout table 三 prints （六）其他处理 as one row of numbers and none of
    its sub-rows (逾期不补正…, 收费通知…, 3.其他)."""
    assert sections.t3 is not None
    rows = records[sections.t3:sections.end]
    codes = [match_last(r.label, T3_ROW_KEYWORDS) for r in rows]
    if any(c in ("other_no_correction", "other_no_fee", "other_misc") for c in codes):
        return False
    return any(c == "other" and r.has_numbers for c, r in zip(codes, rows))


def _next_is_row(records: list[Record], i: int) -> bool:
    """Whether the record at ``i`` is a labelled row of table 三 (so the one before it printed nothing)."""
    return i < len(records) and match_last(records[i].label, T3_ROW_KEYWORDS) is not None


def _solve_glued_t3(
    fixed: dict[str, list[Value]], glued: dict[str, tuple[list[str], list[Value]]], layout: str, out: TableResult,
    one_other: bool = False, order: Sequence[str] = T3_COLUMNS,
) -> dict[str, list[int | float | None]]:
    """Split the glued rows; the fixed rows (in codebook order) are given to the solver in the
    ``order`` the glued digits were printed in, and the splits come back in that order."""
    if not glued:
        return {}
    at = [T3_COLUMNS.index(c) for c in order]
    known = {code: tuple(vals[k].number.value for k in at) for code, vals in fixed.items()}
    sol = solve_t3(known, {c: runs for c, (runs, _) in glued.items()}, t3_result_rows(layout, one_other))
    out.warnings.append(
        f"table 三: {len(glued)} row(s) printed without separators were split to satisfy the table's rules"
        + (f" (best split still breaks {sol.violations} rule(s))" if sol.violations else "")
        + (f"; {sol.note}" if sol.note else "")
    )
    return sol.values


def _grid_row(values: list[Value]) -> tuple[int, int, list[int]] | None:
    """(table, row, columns) of values printed in one row of one grid, else None."""
    if not values:
        return None
    origins = [v.cell.origin for v in values]
    first = origins[0]
    if first is None or first.table is None or any(o.table != first.table or o.row != first.row for o in origins):
        return None
    return first.table, first.row, [o.col for o in origins]


def _t4_by_header(values: list[Value], grids: Grids | None, row: str | None = None) -> list[tuple[str, str]] | None:
    where = _grid_row(values) if grids else None
    if where is None or grids is None:
        return None
    return t4_places(grids, *where, row)


class _T3Header:
    """Table 三's value columns, per grid, as its header names them (the applicant columns may
    come in any order); a grid without a header of its own continues the one before it."""

    def __init__(self, grids: Grids | None, out: TableResult) -> None:
        self.grids, self.out = grids or {}, out
        self.maps: dict[int, dict[int, str] | None] = {}
        self.last: dict[int, str] | None = None
        self.unsure: set[int] = set()  # grids whose columns were not read from their own header

    def order(self) -> list[str] | None:
        """The printed order of the columns of the last header read (None if none was)."""
        return None if self.last is None else [c for c in self.last.values() if c != "subtotal"]

    def values(self, src: list[Value]) -> tuple[bool, list[Value] | None, bool]:
        """(read by header, the row's seven values in codebook order or None when the row does
        not fit its header, whether its grid's columns were not read from its own header).
        (False, None, …) when there is no header to read."""
        where = _grid_row(src) if self.grids else None
        if where is None:
            return False, None, False
        table, row, cols = where
        if table not in self.maps:
            found = t3_columns(self.grids, table, row, cols)
            if found is None and self.last is not None:
                found = self.last  # a continuation (its header, if any, unreadable): the columns go on
                if header_rows(self.grids, table, row):
                    self.out.warnings.append(f"table 三: the header of grid {table} does not name the applicant "
                                             "columns; read as the columns of the grid before it")
                self.unsure.add(table)
            elif found is None:
                if header_rows(self.grids, table, row):
                    self.out.warnings.append(f"table 三: the header of grid {table} does not name the seven applicant "
                                             "columns; its columns are taken in the template's order")
                    self.unsure.add(table)
            elif [c for c in found.values() if c != "subtotal"] != list(T3_COLUMNS):
                order = ", ".join(c for c in found.values() if c != "subtotal")
                self.out.warnings.append(f"table 三 read by its header, whose columns are not in the template's "
                                         f"order: {order}")
            self.maps[table] = found
            self.last = found or self.last
        colmap, unsure = self.maps[table], table in self.unsure
        if colmap is None:
            return False, None, unsure
        by_code: dict[str, Value] = {}
        for v, col in zip(src, cols):
            code = colmap.get(col)
            if code is None and v.blank:
                continue  # padding
            if code is None or code in by_code:
                return True, None, unsure
            by_code[code] = v
        if any(c not in by_code for c in T3_COLUMNS):
            return True, None, unsure
        return True, [by_code[c] for c in T3_COLUMNS], unsure


def _map_t4_transposed(records: list[Record], begin: int, end: int, out: TableResult, grids: Grids | None) -> bool:
    """Table 四 printed with the results as rows (结果维持 | 复议 | 直接起诉 | 复议后起诉 …): five
    rows of three, labelled by result; the forums' order from the header. Rows whose digits ran
    together are split by the table's rules. False when the table is not printed so."""
    rows: dict[str, tuple[int, list[Value] | None, list[str] | None, list[Value]]] = {}
    for i in range(begin, end):
        rec = records[i]
        if not rec.has_numbers and not (rec.grid and len(rec.values) == len(T4_ROWS)):
            continue  # (a grid row of three blank cells is a row printed empty)
        result = match_last(rec.last_label, T4_COL_KEYWORDS)
        three = take_values(rec.values, len(T4_ROWS), grid=rec.grid)
        runs = runs_of(rec.values, len(T4_ROWS)) if out.split_runs and three is None else None
        if result is None or (three is None and runs is None) or result in rows:
            if rows:
                break
            continue
        rows[result] = (i, three, runs, rec.values)
        if len(rows) == len(T4_COLUMNS):
            break
    if len(rows) != len(T4_COLUMNS):
        return False
    first, vals, _, src = min(rows.values(), key=lambda r: r[0])
    where = _grid_row(vals) if grids and vals else None
    if where is not None and grids is not None:
        forums = t4_forums(grids, *where)
    else:
        rec, result = records[first], min(rows, key=lambda r: rows[r][0])
        cut = max(rec.label.rfind(w) for w in T4_COL_KEYWORDS[result])  # the header ends where the row's label starts
        forums = t4_text_forums("".join(r.label for r in records[begin:first]) + rec.label[:cut])
    if forums is None:
        forums = list(T4_ROWS)
        out.warnings.append("table 四 is printed with its results as rows and its header does not name the forums' "
                            "columns: taken in the template's order")
    else:
        out.warnings.append(f"table 四 is printed with its results as rows; columns read by the header: "
                            f"{', '.join(forums)}")
    solved: dict[str, list[int | float | None]] = {}
    if any(three is None for _, three, _, _ in rows.values()):  # rows whose digits ran together
        given = {r: [tuple(v.number.value for v in three)] if three is not None else (runs or [])
                 for r, (_, three, runs, _) in rows.items()}
        solved = solve_t4_transposed(given).values  # type: ignore[arg-type]
    for result, (_, three, _, src) in rows.items():
        if three is None:
            for forum, value in zip(forums, solved[result]):
                _glued_cells("t4", forum, [result], src, [value], out)
        else:
            out.cells.extend(_cell("t4", forum, result, v) for forum, v in zip(forums, three))
    out.found.add("t4")
    return True


def _t4_header_text(records: list[Record], begin: int, values: list[Value]) -> str:
    """The labels printed from table 四's start up to its first value."""
    first = values[0].cell
    text = ""
    for rec in records[begin:]:
        if any(v.cell is first for v in rec.values):
            return text + rec.label
        text += rec.label
    return text


_T4_HEADER_WORDS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


def _t4_blank_row(label: str) -> bool:
    """Whether a row of table 四 with no numbers, only empty cells, is one of its rows printed
    blank: it has no label (the values under the header), or one naming one forum and no
    result. A header row is not (行政复议 | 行政诉讼 over the forums, 结果维持 … 总计 over the
    results), though a grid pads it with empty cells."""
    text = "".join(label.split())
    if not text:
        return True  # the row of fifteen values under the header, printed blank
    if any(word in text for word in _T4_HEADER_WORDS) or ("行政复议" in text and "行政诉讼" in text):
        return False
    return len(find_all(label, T4_ROW_KEYWORDS)) == 1


def map_t4(records: list[Record], start: int, end: int, out: TableResult,
           grids: Grids | None = None) -> None:
    begin = _first(records, lambda r: "复议" in r.label, start, end)
    if begin is None:
        out.warnings.append("table 四 not found (no 行政复议 header after table 三)")
        return
    if _map_t4_transposed(records, begin, end, out, grids):
        return
    need = len(T4_ROWS) * len(T4_COLUMNS)
    stream: list[Value] = []
    by_row: dict[str, list[Value]] = {}
    for rec in records[begin:end]:
        if not rec.has_numbers and not (rec.grid and len(rec.values) >= len(T4_COLUMNS) and _t4_blank_row(rec.label)):
            continue
        vals = take_values(rec.values, need, grid=rec.grid)
        if vals is not None and not stream and not by_row:
            stream = vals
            break
        row = match_last(rec.label, T4_ROW_KEYWORDS)
        five = take_values(rec.values, len(T4_COLUMNS), grid=rec.grid)
        if row and five is not None and row not in by_row and len(find_all(rec.label, T4_ROW_KEYWORDS)) == 1:
            by_row[row] = five
            if len(by_row) == len(T4_ROWS):
                break
            continue
        stream.extend(rec.values if rec.label or rec.grid else lstrip_blanks(rec.values))
        if len(stream) >= need:
            break
    if by_row:
        for row, vals in by_row.items():
            places = _t4_by_header(vals, grids, row)
            cols = [c for _, c in places] if places and {c for _, c in places} == set(T4_COLUMNS) else T4_COLUMNS
            if cols != T4_COLUMNS:
                out.warnings.append(f"table 四: row {row} read by its header: {', '.join(cols)}")
            out.cells.extend(_cell("t4", row, col, v) for col, v in zip(cols, vals))
        out.found.add("t4")
        missing = [r for r in T4_ROWS if r not in by_row]
        if missing:
            out.warnings.append(f"table 四: rows not found: {', '.join(missing)}")
        return
    resplit = out.split_runs and len(stream) >= need and not _t4_adds_up(stream[:need])
    if len(stream) < need or resplit:  # (in glued text a space may fall inside a number)
        runs = runs_of(stream, need) if out.split_runs else None
        if runs is not None:
            # the header's order of the columns, if it names one (the digits run in that order)
            named = t4_text_places(_t4_header_text(records, begin, stream)) if stream else None
            places = named or T4_TEMPLATE
            results = [c for _, c in places[:len(T4_COLUMNS)]]
            if named is not None:
                out.warnings.append("table 四: the header names its columns in another order than the template's; "
                                    "the digits are split in that order")
            solved = solve_t4(runs, results.index("total")).values["t4"]
            for i in range(len(T4_ROWS)):
                part = places[i * len(T4_COLUMNS):(i + 1) * len(T4_COLUMNS)]
                _glued_cells("t4", part[0][0], [c for _, c in part], stream,
                             solved[i * len(T4_COLUMNS):(i + 1) * len(T4_COLUMNS)], out)
            out.found.add("t4")
            return
        got = [v.cell.text for v in stream]
        out.warnings.append(f"table 四: found {len(got)} values {got}, need 15")
        return
    values = stream[:need]
    places = _t4_by_header(values, grids)
    if places is not None and set(places) == set(T4_TEMPLATE):
        if places != T4_TEMPLATE:
            out.warnings.append("table 四 read by its header, whose columns are not in the template's order")
    elif _grid_row(values) is None and (named := t4_text_places(_t4_header_text(records, begin, values))):
        places = named
        out.warnings.append("table 四: the header names its columns in another order than the template's: "
                            + ", ".join(f"{r}.{c}" for r, c in named[:5]) + " …; read so")
    else:
        places = T4_TEMPLATE
    for (row, col), value in zip(places, values):
        out.cells.append(_cell("t4", row, col, value))
    out.found.add("t4")


def map_tables(
    records: list[Record], layout: str, sections: Sections, *, split_runs: bool = False,
    glued_text: bool = False, stated: dict[tuple[str, str, str], int] | None = None,
    grids: Grids | None = None,
) -> TableResult:
    """Map the records to cells. ``split_runs``: cells may have run together, split digit
    runs by the tables' rules; ``glued_text``: the text lost its separators altogether;
    ``stated``: numbers the narrative states (tie-breaks only)."""
    out = TableResult(split_runs=split_runs, glued_text=glued_text, stated=stated or {})
    map_t2(records, sections, layout, out)
    after_t3 = map_t3(records, sections, layout, out, grids)
    map_t4(records, after_t3, sections.end, out, grids)
    return out
