"""Every real report of the dev corpus (except glued-digit texts) parses exactly."""

from __future__ import annotations

import math

import pytest

from gongkai.transform.parse import parse_report
from tests.conftest import REAL, cells_of, corpus, parse_expected

NOT_GLUED = corpus(glued=False)


def test_corpus_is_there():
    assert len(NOT_GLUED) >= 8


@pytest.mark.parametrize("expected_path", NOT_GLUED, ids=lambda p: p.name.split(".")[0])
def test_real_report(expected_path):
    exp, result = parse_expected(expected_path)
    assert result.status == exp["status"], result.warnings
    got = cells_of(result)
    uncertain = set(exp.get("uncertain", []))
    wrong = []
    for table, rows in exp["cells"].items():
        for row, cols in rows.items():
            for col, want in cols.items():
                if f"{table}.{row}.{col}" in uncertain:
                    continue
                value = got.get((table, row, col))
                if value is None or not math.isclose(value, want, abs_tol=1e-9):
                    wrong.append(f"{table}.{row}.{col}: got {value}, want {want}")
    assert not wrong, wrong
    expected_keys = {(t, r, c) for t, rows in exp["cells"].items() for r, cols in rows.items() for c in cols}
    extra = set(got) - expected_keys
    assert not extra, f"cells the report does not print: {sorted(extra)[:5]}"


def test_source_errors_are_flagged_not_fixed():
    """001 prints blank 总计 cells: the rule fails and the value stays as printed (0)."""
    source = REAL / "001.html"
    result = parse_report(source.read_bytes(), str(source))
    failing = {(c.rule, c.where) for c in result.failing_rules()}
    assert ("t3_row_total", "granted") in failing
    assert ("t3_results_sum", "total") in failing
    assert cells_of(result)[("t3", "granted", "total")] == 0
    granted_total = next(c for c in result.cells if (c.table, c.row, c.col) == ("t3", "granted", "total"))
    assert granted_total.empty and granted_total.raw == ""


def test_provenance_points_into_the_grid():
    source = REAL / "047.html"
    result = parse_report(source.read_bytes(), str(source))
    cell = next(c for c in result.cells if (c.table, c.row, c.col) == ("t3", "new_received", "natural_person"))
    assert cell.value == 2 and cell.raw == "2"
    assert cell.origin is not None and cell.origin.table is not None and cell.origin.col > 0
