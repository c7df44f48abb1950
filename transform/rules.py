"""Consistency rules within one report (../shared/spec/rules.md).

Each rule yields pass, fail (with expected and actual) or skip (an operand is missing; a
missing cell is never taken as 0). Values are never changed to satisfy a rule.
"""

from __future__ import annotations

from gongkai.transform.codebook import (
    AMOUNT_COLUMNS,
    T2_COLUMNS,
    T3_APPLICANT_COLUMNS,
    T3_COLUMNS,
    has_one_other,
    t3_result_rows,
    t3_rows,
    T4_COLUMNS,
    T4_ROWS,
)
from gongkai.transform.models import CellValue, Check

_TOL = 1e-6


def _sum_check(rule: str, where: str, total: float | None, parts: list[float | None], detail: str) -> Check:
    if total is None or any(p is None for p in parts):
        return Check(rule, where, "skip", detail="operand missing")
    actual = sum(p for p in parts if p is not None)
    if abs(actual - total) <= _TOL:
        return Check(rule, where, "pass")
    return Check(rule, where, "fail", expected=total, actual=actual, detail=detail)


def run_rules(cells: list[CellValue], layout: str | None) -> list[Check]:
    """Every within-report rule that applies to the layout."""
    if layout is None:
        return []
    v: dict[tuple[str, str, str], float] = {(c.table, c.row, c.col): c.value for c in cells}
    checks: list[Check] = []
    one_other = has_one_other(((c.table, c.row) for c in cells), layout)
    results = t3_result_rows(layout, one_other)
    for col in T3_COLUMNS:
        new, carried = v.get(("t3", "new_received", col)), v.get(("t3", "carried_over", col))
        total, forward = v.get(("t3", "results_total", col)), v.get(("t3", "carried_forward", col))
        if None in (new, carried, total, forward):
            checks.append(Check("t3_balance", col, "skip", detail="operand missing"))
        else:
            lhs, rhs = new + carried, total + forward
            status = "pass" if abs(lhs - rhs) <= _TOL else "fail"
            checks.append(Check("t3_balance", col, status, expected=lhs, actual=rhs,
                                detail=f"{new} + {carried} != {total} + {forward}" if status == "fail" else ""))
        parts = [v.get(("t3", r, col)) for r in results]
        checks.append(_sum_check("t3_results_sum", col, total, parts,
                                 f"results_total {total} != sum of results {sum(p or 0 for p in parts)}"))
    for row in t3_rows(layout, one_other):
        parts = [v.get(("t3", row, c)) for c in T3_APPLICANT_COLUMNS]
        total = v.get(("t3", row, "total"))
        checks.append(_sum_check("t3_row_total", row, total, parts,
                                 f"total {total} != " + " + ".join(str(p) for p in parts)))
    for row in T4_ROWS:
        parts = [v.get(("t4", row, c)) for c in T4_COLUMNS[:-1]]
        total = v.get(("t4", row, "total"))
        checks.append(_sum_check("t4_total", row, total, parts,
                                 f"total {total} != " + " + ".join(str(p) for p in parts)))
    for row, cols in T2_COLUMNS[layout].items():
        for col in cols:
            val = v.get(("t2", row, col))
            where = f"{row}.{col}"
            if val is None:
                checks.append(Check("t2_nonnegative", where, "skip", detail="cell missing"))
                continue
            ok = val >= 0 or col == "change"
            checks.append(Check("t2_nonnegative", where, "pass" if ok else "fail", expected=0, actual=val))
            if col not in AMOUNT_COLUMNS:
                whole = float(val).is_integer()
                checks.append(Check("t2_integer", where, "pass" if whole else "fail", expected=round(val), actual=val))
    return checks
