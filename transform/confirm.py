"""What OCR read counts only where the tables' rules confirm it.

A cell of table 三 or 四 read from a scan is kept when every rule it takes part in passes (its
row's total, and for table 三 its column's balance or sum of results); a cell of table 二, which
no rule can confirm, is kept unless the recognizer was unsure of it. The rest go to
``uncertain``, so a misread digit is a gap, never a wrong number.

>>> from gongkai.transform.models import CellValue, Check
>>> cells = [CellValue("t4", "review", c, v, str(v), False) for c, v in
...          (("upheld", 1), ("corrected", 0), ("other", 0), ("pending", 0), ("total", 7))]
>>> kept, left = confirmed(cells, [Check("t4_total", "review", "fail")], set())
>>> kept, left[:2]
([], ['t4.review.upheld', 't4.review.corrected'])
"""

from __future__ import annotations

from gongkai.transform.models import CellValue, Check

_COLUMN_RULES = ("t3_balance", "t3_results_sum")
_BALANCE_ROWS = frozenset({"new_received", "carried_over", "results_total", "carried_forward"})


def _rules_of(cell: CellValue) -> list[tuple[str, str]]:
    """The (rule, where) of every check a cell takes part in."""
    if cell.table == "t4":
        return [("t4_total", cell.row)]
    if cell.table != "t3":
        return []
    return _rules_of_t3(cell.row, cell.col)


def _rules_of_t3(row: str, col: str) -> list[tuple[str, str]]:
    """Its row's total first, then its column's rules."""
    rules = [("t3_row_total", row)]
    if row in _BALANCE_ROWS:
        rules.append(("t3_balance", col))
    if row not in ("new_received", "carried_over", "carried_forward"):
        rules.append(("t3_results_sum", col))
    return rules


def confirmed(cells: list[CellValue], checks: list[Check], unsure: set[tuple[int, int]]
              ) -> tuple[list[CellValue], list[str]]:
    """The cells the rules confirm, and the codes of the others (``unsure``: the (line,
    cell) places OCR was unsure of).

    A misread cell of table 三 fails both its row's total and its column's rule, so when every
    failing row meets a failing column (and every failing column a failing row), only the
    cells where they cross are in doubt. Otherwise errors cancel somewhere (two values
    swapped in a row), and every cell with a failing rule is left out."""
    status = {(c.rule, c.where): c.status for c in checks}
    failing = {key for key, st in status.items() if st == "fail"}
    crossings = {(row, col) for row, col in ((c.row, c.col) for c in cells if c.table == "t3")
                 if ("t3_row_total", row) in failing and any(r in failing for r in _rules_of_t3(row, col)[1:])}
    rows_met = {row for row, _ in crossings}
    cols_met = {rule for row, col in crossings for rule in _rules_of_t3(row, col)[1:] if rule in failing}
    explained = all(where in rows_met for rule, where in failing if rule == "t3_row_total") and \
        all(key in cols_met for key in failing if key[0] in _COLUMN_RULES)
    kept: list[CellValue] = []
    left: list[str] = []
    for cell in cells:
        rules = _rules_of(cell)
        if not rules:
            ok = cell.origin is None or (cell.origin.row, cell.origin.col) not in unsure
        elif not any(status.get(rule) == "pass" for rule in rules):
            ok = False
        elif cell.table == "t3" and explained:
            ok = (cell.row, cell.col) not in crossings
        else:
            ok = not any(rule in failing for rule in rules)
        if ok:
            kept.append(cell)
        else:
            left.append(f"{cell.table}.{cell.row}.{cell.col}")
    return kept, left
