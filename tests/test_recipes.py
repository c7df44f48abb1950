"""docs/recipes.md: every query runs on a warehouse of the dev corpus and generated multi-year
reports, returns the columns it says, and the integer columns come back as integers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gongkai.devtools.reportgen import Options, generate
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.query import reader, run_query
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from gongkai.transform.parse import parse_report
from tests.conftest import REAL

RECIPES = (Path(__file__).resolve().parents[1] / "docs" / "recipes.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"### (.+?)\n\n```sql\n-- columns: (.+?)\n(.+?)```", RECIPES, re.DOTALL)
AGENCY = "某某县某某局"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("recipes")
    results = [parse_report((REAL / f).read_bytes(), str(REAL / f))
               for f in ("047.html", "001.html", "046.html", "051.html", "101.pdf", "000.txt")]
    for n, year in enumerate(range(2019, 2024)):
        gen = generate(100 + n, Options(form="html"), "2019" if year < 2021 else "2021", agency=AGENCY, year=year)
        results.append(parse_report(gen.data, f"https://portal.example/{year}.html"))
    con = open_warehouse(warehouse_path(data))
    Loader(con).load([Incoming(r) for r in results])
    con.close()
    return data


def test_the_recipes_are_there():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("title,columns,sql", BLOCKS, ids=[b[0][:40] for b in BLOCKS])
def test_each_recipe_runs_and_returns_its_columns(data_dir, title, columns, sql):
    with reader(data_dir) as con:
        got = run_query(con, sql)
    assert got.columns == [c.strip() for c in columns.split(",")]
    assert got.rows, f"{title}: no rows on the test warehouse"


def test_one_agencys_history_has_every_year_and_integer_counts(data_dir):
    sql = next(s for t, _, s in BLOCKS if t.startswith("One agency"))
    with reader(data_dir) as con:
        got = run_query(con, sql)
    assert [r[0] for r in got.rows] == [2019, 2020, 2021, 2022, 2023]
    assert all(isinstance(r[1], int) for r in got.rows)  # BIGINT, not 859.0
    run = subprocess.run([sys.executable, "-m", "gongkai", "query", sql.replace("\n", " "), "--format", "csv",
                          "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and ".0," not in run.stdout.split("\n", 1)[1]
