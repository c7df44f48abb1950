"""Filling ``report_figures`` for reports already stored without figures (migration 006, and
benchmarks that build a warehouse in SQL).

A report loaded from a part brings its figures with it: transform/figures.py computes them
where the report is parsed, and the loader copies them. Reports loaded before schema version 6
had none; the migration computes theirs in bulk with ``sql/figures.sql`` (the same figures, in
SQL: a Python pass over every stored cell would take minutes where the query takes seconds).
``tests/test_figures.py`` checks that both give the same figures.

>>> fill_figures(con, first_report_id, last_report_id)  # doctest: +SKIP
"""

from __future__ import annotations

from functools import cache

import duckdb

from gongkai.paths import SQL_DIR

FIGURES_VERSION = 6  # the migration that added report_figures (filled for older reports then)


@cache
def _figures_sql() -> str:
    return (SQL_DIR / "figures.sql").read_text(encoding="utf-8")


def fill_figures(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> None:
    """Compute the figures of the stored reports ``lo``..``hi`` (their cells and checks are stored)."""
    con.execute("INSERT INTO report_figures BY NAME " + _figures_sql(), {"lo": lo, "hi": hi}).fetchall()
