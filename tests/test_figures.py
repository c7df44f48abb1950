"""A report's headline figures (transform/figures.py): computed where it is parsed, carried in
its part, and the same when the migration computes them in SQL from the stored cells
(sql/figures.sql: the two definitions are kept equal here)."""

from __future__ import annotations

import random

from gongkai.devtools.reportgen import random_values
from gongkai.flows.figures import fill_figures
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import open_warehouse
from gongkai.transform.codebook import load_codebook
from gongkai.transform.figures import FIGURES, figures_of
from gongkai.transform.models import CellValue, ParseResult
from gongkai.transform.parse import parse_report
from gongkai.transform.rules import run_rules
from tests.conftest import REAL


def _cells(layout: str, seed: int, change=None) -> list[CellValue]:  # noqa: ANN001
    values = random_values(random.Random(seed), layout)
    cells = [CellValue(t, r, c, values[t, r, c], str(values[t, r, c]), False) for t, r, c in load_codebook().cells(layout)]
    return [change(c) for c in cells] if change else cells


def test_figures_of_a_generated_report_of_each_layout():
    for layout, other_rows in (("2019", ("other",)), ("2021", ("other_misc", "other_no_correction", "other_no_fee"))):
        cells = _cells(layout, 3)
        f = figures_of(cells, [])
        total = {(c.row, c.col): c.value for c in cells if c.table == "t3" and c.col == "total"}
        assert f["applications_received"] == total["new_received", "total"]
        assert f["denied"] == sum(v for (row, _), v in total.items() if row.startswith("denied_"))
        assert f["other_handling"] == sum(total[row, "total"] for row in other_rows)
        assert f["reviews"] == next(c.value for c in cells if (c.table, c.row, c.col) == ("t4", "review", "total"))
        assert f["failing_rules"] is None and list(f) == list(FIGURES)


def test_what_makes_a_figure_null():
    def blank_total(c: CellValue) -> CellValue:  # 总计 printed blank over numbers
        return c._replace(value=0, raw="", empty=True) if (c.table, c.row, c.col) == ("t3", "granted", "total") else c

    cells = _cells("2021", 4, blank_total)
    assert any(c.row == "granted" and c.col != "total" and c.value > 0 for c in cells)
    assert figures_of(cells, [])["granted"] is None
    # a group with a row missing (left out as uncertain) has no sum; the other figures stay
    cells = [c for c in _cells("2021", 5) if (c.table, c.row, c.col) != ("t3", "denied_secret", "total")]
    f = figures_of(cells, [])
    assert f["denied"] is None and f["unable"] is not None
    # two 总计 cells in one row: neither is the row's figure
    cells = _cells("2021", 6)
    twice = [*cells, next(c for c in cells if (c.table, c.row, c.col) == ("t3", "granted", "total"))]
    assert figures_of(twice, [])["granted"] is None
    # a fraction is no count; of repeated table 四 cells the largest whole one counts
    half = [*cells[:1], CellValue("t3", "granted", "total", 2.5, "2.5", False)]
    assert figures_of(half, [])["granted"] is None
    t4 = [CellValue("t4", "review", "upheld", v, str(v), False) for v in (3, 7.5, 5)]
    assert figures_of(t4, [])["review_upheld"] == 5
    assert figures_of([], ["t3_balance", "t4_total", "t3_balance"])["failing_rules"] == ["t3_balance", "t4_total"]


def test_the_migration_computes_the_figures_the_load_brought(tmp_path):
    results = [parse_report((REAL / f).read_bytes(), str(REAL / f)) for f in ("000.txt", "047.html", "101.pdf")]
    for seed in range(12):  # generated reports, some with numbers that do not add up
        layout = "2019" if seed % 2 else "2021"
        cells = _cells(layout, seed, lambda c, s=seed: c._replace(value=c.value + 1)
                       if s % 3 == 0 and c.table == "t3" and c.row == "granted" else c)
        r = ParseResult(source=f"g{seed}.html", agency=f"某区第{seed}局", year=2020 + seed % 5, layout=layout,
                        status="ok", cells=cells, sha256=f"{seed:064x}")
        r.checks = run_rules(cells, layout)
        results.append(r)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        Loader(con).load([Incoming(r) for r in results])
        loaded = con.execute("SELECT * FROM report_figures ORDER BY report_id").fetchall()
        assert len(loaded) == len(results) and any(row[-1] for row in loaded)  # some fail a rule
        con.execute("DELETE FROM report_figures")
        fill_figures(con, 1, 10_000)
        assert con.execute("SELECT * FROM report_figures ORDER BY report_id").fetchall() == loaded
