"""v_summary on hand-computed examples: the real 101.pdf, the same report with an uncertain
cell (a figure made of it is NULL, never a sum that reads it as 0), and with a 总计 printed
blank over applicant columns that hold numbers."""

from __future__ import annotations

import dataclasses

import pytest

from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from gongkai.transform.parse import parse_report
from tests.conftest import REAL

BASE = parse_report((REAL / "101.pdf").read_bytes(), "https://hz.example/101.pdf")
COLUMNS = ("applications_received, granted, partly_granted, denied, unable, rejected, other_handling, results_total, "
           "reviews, suits_direct, suits_after_review, lawsuits, review_corrected_rate, review_concluded, "
           "suit_after_review_corrected_rate, denial_rate, complete, status, failing_rules")


def _summary(tmp_path, result):
    con = open_warehouse(warehouse_path(tmp_path))
    try:
        Loader(con).load([Incoming(result)])
        names = [c.strip() for c in COLUMNS.split(",")]
        row = con.execute(f"SELECT {COLUMNS} FROM v_summary").fetchall()
    finally:
        con.close()
    assert len(row) == 1
    return dict(zip(names, row[0]))


def test_the_headline_figures_of_101(tmp_path):
    got = _summary(tmp_path, BASE)
    assert {k: got[k] for k in ("applications_received", "granted", "partly_granted", "denied", "unable", "rejected",
                                "other_handling", "results_total")} == {
        "applications_received": 21, "granted": 0, "partly_granted": 4, "denied": 3,  # 国家秘密 1 + 过程性 1 + 执法案卷 1
        "unable": 13, "rejected": 1, "other_handling": 0, "results_total": 21}
    assert got["denial_rate"] == pytest.approx(3 / 21)
    # table 四 per forum: 行政复议 prints 10 1 0 0 and a 总计 of 0 (the source's own error, kept as printed)
    assert got["reviews"] == 0 and got["review_concluded"] == 11
    assert got["review_corrected_rate"] == pytest.approx(1 / 11)
    assert got["suits_after_review"] == 0 and got["suit_after_review_corrected_rate"] == 0
    assert got["lawsuits"] == 0 and got["complete"] is True and got["status"] == "ok"
    assert got["failing_rules"] == ["t4_total"]


def test_an_uncertain_cell_makes_its_figures_null(tmp_path):
    cells = [c for c in BASE.cells if (c.table, c.row, c.col) != ("t3", "denied_process", "total")]
    result = dataclasses.replace(BASE, cells=cells, status="partial", uncertain=["t3.denied_process.total"],
                                 output_sha256=None)
    got = _summary(tmp_path, result)
    assert got["denied"] is None and got["denial_rate"] is None and got["complete"] is False  # not 2
    assert got["applications_received"] == 21 and got["unable"] == 13  # the rest stays


def test_a_blank_total_over_numbers_is_null_not_zero(tmp_path):
    def blank(c):
        if (c.table, c.row, c.col) == ("t3", "partly_granted", "total"):
            return c._replace(value=0, raw="", empty=True)
        return c

    result = dataclasses.replace(BASE, cells=[blank(c) for c in BASE.cells], output_sha256=None)
    got = _summary(tmp_path, result)
    assert got["partly_granted"] is None and got["complete"] is False  # its applicant columns hold 4
    assert got["granted"] == 0  # a blank total over zeros is a zero
