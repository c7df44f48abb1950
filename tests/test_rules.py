from __future__ import annotations

from gongkai.transform.codebook import load_codebook
from gongkai.transform.models import CellValue
from gongkai.transform.rules import run_rules


def full_cells(layout: str, value: int = 0) -> list[CellValue]:
    return [CellValue(t, r, c, value, str(value), False) for t, r, c in load_codebook().cells(layout)]


def status(checks, rule, where):
    return next(c for c in checks if c.rule == rule and c.where == where)


def test_all_zero_passes():
    checks = run_rules(full_cells("2021"), "2021")
    assert checks and all(c.status == "pass" for c in checks)


def test_missing_operand_skips():
    cells = [c for c in full_cells("2019") if not (c.row == "carried_over" and c.col == "total")]
    checks = run_rules(cells, "2019")
    assert status(checks, "t3_balance", "total").status == "skip"
    assert status(checks, "t3_row_total", "carried_over").status == "skip"
    assert status(checks, "t3_balance", "natural_person").status == "pass"


def test_failures_report_expected_and_actual_without_changing_values():
    cells = full_cells("2021")
    cells = [CellValue(c.table, c.row, c.col, 5, "5", False) if (c.table, c.row, c.col) == ("t4", "review", "upheld")
             else c for c in cells]
    checks = run_rules(cells, "2021")
    fail = status(checks, "t4_total", "review")
    assert fail.status == "fail" and fail.expected == 0 and fail.actual == 5
    assert next(c for c in cells if (c.table, c.row, c.col) == ("t4", "review", "upheld")).value == 5


def test_t2_rules():
    cells = full_cells("2019")
    cells = [CellValue(c.table, c.row, c.col, -2, "-2", False) if c.table == "t2" and c.col in ("change", "decisions")
             and c.row == "licensing" else c for c in cells]
    checks = run_rules(cells, "2019")
    assert status(checks, "t2_nonnegative", "licensing.change").status == "pass"
    assert status(checks, "t2_nonnegative", "licensing.decisions").status == "fail"
    cells = [CellValue("t2", "rules", "made", 1.5, "1.5", False)]
    assert status(run_rules(cells, "2019"), "t2_integer", "rules.made").status == "fail"


def test_codebook_layout_sizes():
    cb = load_codebook()
    assert len(cb.cells("2019")) == 198 and len(cb.cells("2021")) == 200
    assert cb.valid("2019", "t3", "other", "total") and not cb.valid("2019", "t3", "other_misc", "total")
    # a 2021-layout report may print （六）其他处理 as one row (codebook.csv allows t3.other there)
    assert cb.valid("2021", "t3", "other", "total") and len(cb.cells("2021", one_other=True)) == 186
