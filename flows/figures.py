"""Each report version's headline figures (``report_figures``), computed once when it is loaded.

A report's cells and rule outcomes never change after its load, so its figures (applications
received, how they were answered, reviews and suits per forum, failing rules) are computed in
the transaction that loads it, by ``sql/figures.sql``; ``v_summary`` and ``v_yoy`` then read one
row per report instead of aggregating every cell of a national warehouse.

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
    """Compute the figures of the reports ``lo``..``hi`` (their cells and checks are stored)."""
    con.execute("INSERT INTO report_figures BY NAME " + _figures_sql(), {"lo": lo, "hi": hi}).fetchall()
