"""The warehouse: schema, versioned idempotent loads, views, checks, export, bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest

from gongkai.flows.exporter import ExportError, export
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import (
    WarehouseError,
    check_files,
    latest_version,
    open_warehouse,
    run_checks,
    schema_version,
)
from gongkai.paths import SQL_DIR
from gongkai.transform.agency import resolve_regions
from gongkai.transform.parse import parse_report
from tests.conftest import REAL

REPORTS = sorted(p for p in REAL.iterdir() if not p.name.endswith(".expected.json"))


@pytest.fixture(scope="module")
def parsed():
    return [parse_report(p.read_bytes(), str(p)) for p in REPORTS]


@pytest.fixture
def warehouse(tmp_path, parsed):
    con = open_warehouse(tmp_path / "w.duckdb")
    Loader(con).load([Incoming(r) for r in parsed])
    yield con
    con.close()


def table_counts(con):
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("agency", "report", "cell", "check_result")}


def test_cells_are_the_expected_values(warehouse):
    got = {}
    for agency, year, t, r, c, v in warehouse.execute(
            "SELECT agency, year, table_code, row_code, col_code, value FROM v_cells").fetchall():
        got[(agency, year, t, r, c)] = v
    checked = 0
    for exp_path in sorted(REAL.glob("*.expected.json")):
        exp = json.loads(exp_path.read_text(encoding="utf-8"))
        skip = set(exp.get("uncertain", []))
        for t, rows in exp["cells"].items():
            for r, cols in rows.items():
                for c, want in cols.items():
                    value = got.get((exp["agency"], exp["year"], t, r, c))
                    if f"{t}.{r}.{c}" in skip or value is None:
                        continue
                    assert math.isclose(value, want, abs_tol=1e-9), (exp_path.name, t, r, c, value, want)
                    checked += 1
    assert checked > 5000


def test_failed_parse_is_recorded_with_its_reason(warehouse):
    rows = warehouse.execute(
        "SELECT status, warnings FROM report WHERE source_url LIKE '%045.html'").fetchall()
    assert rows and rows[0][0] == "failed" and "no report content" in rows[0][1][0]


def test_loading_twice_changes_nothing(warehouse, parsed):
    before = table_counts(warehouse)
    values = warehouse.execute("SELECT sum(value), count(*) FROM v_cells").fetchall()
    summary = Loader(warehouse).load([Incoming(r) for r in parsed])
    assert summary.unchanged == len(parsed) and summary.new == summary.changed == 0
    assert table_counts(warehouse) == before
    assert warehouse.execute("SELECT sum(value), count(*) FROM v_cells").fetchall() == values


def test_changed_report_becomes_a_new_version(warehouse):
    text = (REAL / "000.txt").read_text(encoding="utf-8").replace("行政规范性文件\t0\t0\t4", "行政规范性文件\t0\t0\t5")
    changed = parse_report(text.encode(), str(REAL / "000.txt"))
    summary = Loader(warehouse).load([Incoming(changed)])
    assert summary.changed == 1
    versions = warehouse.execute(
        "SELECT version, is_current FROM report JOIN agency USING (agency_id) "
        "WHERE agency.name = '郑州市上街区科学技术和工业信息化局' AND year = 2022 ORDER BY version").fetchall()
    assert versions == [(1, False), (2, True)]
    value = warehouse.execute(
        "SELECT value FROM v_cells WHERE agency LIKE '郑州市上街区%' AND row_code = 'normative' AND col_code = 'in_force'"
    ).fetchall()
    assert value == [(5.0,)]
    assert run_checks(warehouse) == {f.stem: 0 for f in check_files()}


def test_every_view_and_check_runs(warehouse):
    views = [r[0] for r in warehouse.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()]
    assert {"v_cells", "v_t3_wide", "v_summary", "v_yoy", "v_cross_year_warnings", "v_data_quality"} <= set(views)
    for v in views:
        warehouse.execute(f"SELECT * FROM {v}").fetchall()
    assert run_checks(warehouse) == {f.stem: 0 for f in check_files()}
    cols = [d[0] for d in warehouse.execute("SELECT * FROM v_cells LIMIT 0").description]
    for c in ("agency", "year", "layout", "table_code", "row_code", "col_code", "value", "empty", "raw",
              "label_zh", "source_url", "report_id"):
        assert c in cols
    dq = warehouse.execute("SELECT agency, failing_rules FROM v_data_quality WHERE agency = '上海市人民政府办公厅' "
                           "AND year = 2019").fetchall()
    assert dq and "t3_row_total" in dq[0][1]


def test_checks_catch_a_broken_warehouse(warehouse):
    warehouse.execute("INSERT INTO report SELECT * REPLACE (report_id + 1000 AS report_id, version + 1 AS version, "
                      "0 AS n_cells) FROM report WHERE report_id = 1")
    checks = run_checks(warehouse)
    assert checks["one_current_version"] == 1  # two current versions of one report
    assert checks["one_current_per_agency_year"] == 1 and checks["one_report_per_content"] == 1
    warehouse.execute("UPDATE report SET report_key = 'source:elsewhere', agency_id = NULL WHERE report_id = 1001")
    checks = run_checks(warehouse)
    assert checks["one_current_version"] == 0 and checks["one_current_per_agency_year"] == 0
    assert checks["one_report_per_content"] == 1  # the same bytes current under two reports
    warehouse.execute("INSERT INTO agency_alias VALUES ('某局', 99999, NULL)")
    assert run_checks(warehouse)["agencies_resolve"] == 1
    assert run_checks(warehouse)["cells_sound"] == 0
    warehouse.execute("INSERT INTO cell SELECT * FROM cell WHERE report_id = 2 LIMIT 1")  # printed twice
    warehouse.execute("INSERT INTO cell SELECT * REPLACE ('no_such_row' AS row_code) FROM cell WHERE report_id = 3 "
                      "LIMIT 1")  # a code the codebook does not have
    warehouse.execute("INSERT INTO cell SELECT * REPLACE (999999 AS report_id) FROM cell WHERE report_id = 4 "
                      "LIMIT 1")  # no such report
    old = warehouse.execute("SELECT min(report_id) FROM report WHERE layout = '2019' AND report_id > 4").fetchone()[0]
    warehouse.execute("INSERT INTO cell SELECT * REPLACE ('other_no_fee' AS row_code) FROM cell "
                      "WHERE report_id = ? AND table_code = 't3' LIMIT 1", [old])  # a 2021 code in a 2019 report
    lost = warehouse.execute("SELECT min(report_id) FROM report WHERE n_cells > 0 AND report_id > ?",
                             [old]).fetchone()[0]
    warehouse.execute("DELETE FROM cell WHERE report_id = ? AND row_code = 'granted'", [lost])  # cells lost
    problems = warehouse.execute((SQL_DIR / "checks" / "cells_sound.sql").read_text(encoding="utf-8")).fetchall()
    assert sorted(problems) == sorted([("duplicate", 2), ("not_in_codebook", 3), ("not_in_codebook", old),
                                       ("orphan", 999999), ("miscounted", 2), ("miscounted", 3), ("miscounted", old),
                                       ("miscounted", lost)])
    # the check tells the codebook's codes apart by their hash: no two share one
    assert warehouse.execute("SELECT count(DISTINCT hash(r.table_code, r.code, c.code)) = count(*) FROM codebook r "
                             "JOIN codebook c ON c.table_code = r.table_code AND c.axis = 'col' "
                             "WHERE r.axis = 'row'").fetchone() == (True,)


def test_summary_view(warehouse):
    row = warehouse.execute("SELECT applications_received, granted, reviews, lawsuits FROM v_summary "
                            "WHERE agency = '上海市人民政府办公厅' AND year = 2019").fetchall()[0]
    # 001 prints 予以公开's 总计 blank over 258 + 12 in the applicant columns: unknown, not 0
    assert row == (859.0, None, 7.0, 9.0)


def test_export_round_trip(warehouse, tmp_path):
    out = tmp_path / "export"
    summary = export(warehouse, out)
    assert summary.cells == warehouse.execute("SELECT count(*) FROM v_cells").fetchall()[0][0]
    assert (out / "README.md").exists() and (out / "codebook.csv").exists()
    assert all(p.name.startswith("year=") for p in (out / "cells").iterdir())
    want = warehouse.execute("SELECT report_id, table_code, row_code, col_code, value, empty, raw FROM v_cells "
                             "ORDER BY ALL").fetchall()
    back = duckdb.connect().execute(
        f"SELECT report_id, table_code, row_code, col_code, value, empty, raw "
        f"FROM read_parquet('{out}/cells/**/*.parquet', hive_partitioning = true) ORDER BY ALL").fetchall()
    assert back == want
    frame = ds.dataset(out / "cells", format="parquet", partitioning="hive").to_table().to_pandas()
    assert len(frame) == len(want)
    assert pd.read_parquet(out / "reports.parquet")["status"].isin(["ok", "partial", "failed"]).all()
    manifest = (out / "MANIFEST.sha256").read_text(encoding="utf-8")
    assert "reports.parquet" in manifest and "README.md" in manifest
    # a second export replaces the first, leaving no temporary folders behind
    export(warehouse, out, "csv")
    assert (out / "reports.csv").exists() and not (out / "reports.parquet").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # Excel-ready: every CSV starts with a BOM; the codebook names its columns as the cells do
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in out.rglob("*.csv"))
    cells = pd.read_csv(next((out / "cells").rglob("*.csv")), encoding="utf-8-sig")
    codebook = pd.read_csv(out / "codebook.csv", encoding="utf-8-sig")
    assert {"table_code", "row_code", "col_code"} <= set(cells.columns) and "table_code" in codebook.columns
    assert set(cells["table_code"]) <= set(codebook["table_code"])


def test_export_is_incremental_and_says_what_made_it(warehouse, tmp_path):
    """A second export takes over the years whose reports did not change (their files linked,
    their sums kept) and writes only the changed year; export.json records the versions."""
    import json

    out = tmp_path / "export"
    first = export(warehouse, out)
    info = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert info["schema_version"] >= 4 and info["format"] == "parquet" and info["report_parser_versions"]
    assert set(info["years"]) == set(first.years_written) and not first.years_reused
    assert (out / "cross_year_warnings.parquet").exists()
    before = {p.relative_to(out): p.stat().st_ino for p in (out / "cells").rglob("*.parquet")}
    # nothing changed: every year is taken over
    second = export(warehouse, out)
    assert second.years_written == [] and second.years_reused == sorted(info["years"])
    assert {p.relative_to(out): p.stat().st_ino for p in (out / "cells").rglob("*.parquet")} == before
    # one year changes (a new version of 000, a 2022 report): only it is written again
    text = (REAL / "000.txt").read_text(encoding="utf-8")
    Loader(warehouse).load([Incoming(parse_report(text.replace("行政规范性文件\t0\t0\t4", "行政规范性文件\t0\t0\t6")
                                                  .encode(), str(REAL / "000.txt")))])
    year = "2022"
    third = export(warehouse, out)
    assert third.years_written == [year] and year not in third.years_reused
    after = {p.relative_to(out): p.stat().st_ino for p in (out / "cells").rglob("*.parquet")}
    assert {k for k in after if after[k] != before.get(k)} == {k for k in after if f"year={year}" in str(k)}
    back = duckdb.connect().execute(
        f"SELECT count(*), round(sum(value), 4) FROM read_parquet('{out}/cells/**/*.parquet', hive_partitioning = true)"
    ).fetchone()
    assert back == warehouse.execute("SELECT count(*), round(sum(value), 4) FROM v_cells").fetchone()
    manifest = dict(reversed(line.split("  ", 1)) for line in (out / "MANIFEST.sha256").read_text(
        encoding="utf-8").splitlines()[1:])
    from gongkai.flows.exporter import _sha256
    assert all(_sha256(out / name) == digest for name, digest in manifest.items())


def test_counts_print_as_integers_and_rates_as_fractions(capsys):
    from gongkai.flows.output import print_rows

    print_rows(["applications_received", "denial_rate", "amount"], [(859.0, 1.0, 12.0), (None, 0.25, 3.5)], "csv")
    assert capsys.readouterr().out.splitlines() == ["applications_received,denial_rate,amount", "859,1.0,12.0",
                                                    ",0.25,3.5"]


def test_export_to_a_file_is_refused(warehouse, tmp_path):
    target = tmp_path / "export"
    target.write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportError, match="is a file"):
        export(warehouse, target)
    assert target.read_text(encoding="utf-8") == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export")]  # nothing half-written


def test_corrupt_file(tmp_path):
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"this is not a database" * 1000)
    with pytest.raises(WarehouseError, match="not a DuckDB warehouse file"):
        open_warehouse(path)
    assert path.read_bytes() == b"this is not a database" * 1000


def test_foreign_duckdb_file_is_left_alone(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    with pytest.raises(WarehouseError, match="not a gongkai warehouse"):
        open_warehouse(path)
    con = duckdb.connect(str(path), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    assert tables == {"sales"}


def test_read_only_directory():
    # /sys refuses new files even to root: a read-only place on every Linux machine
    with pytest.raises(WarehouseError, match="cannot"):
        open_warehouse(Path("/sys/gongkai-test/w.duckdb"))
    with pytest.raises(WarehouseError, match="cannot write|cannot open|permission"):
        open_warehouse(Path("/sys/w.duckdb"))


def test_missing_warehouse_for_readers(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse"):
        open_warehouse(tmp_path / "none.duckdb", read_only=True)


def test_migration_from_an_older_schema(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))  # a warehouse as schema version 1 left it
    con.execute((SQL_DIR / "schema_version.sql").read_text(encoding="utf-8"))
    con.execute((SQL_DIR / "migrations" / "001_init.sql").read_text(encoding="utf-8"))
    con.execute("INSERT INTO schema_version (version, name) VALUES (1, '001_init')")
    con.execute("INSERT INTO agency VALUES (1, '某局', '某局', NULL, NULL, NULL, NULL, NULL, NULL, 'department')")
    con.close()
    with pytest.raises(WarehouseError, match="schema version 1"):
        open_warehouse(path, read_only=True)  # readers do not upgrade
    con = open_warehouse(path)
    assert schema_version(con) == latest_version() >= 2
    assert con.execute("SELECT count(*) FROM fetch_log").fetchall() == [(0,)]
    assert con.execute("SELECT name FROM agency").fetchall() == [("某局",)]  # data kept
    con.close()


def test_a_schema_4_warehouse_gets_each_reports_cell_count_and_figures(tmp_path):
    path = tmp_path / "w.duckdb"
    con = open_warehouse(path)
    Loader(con).load([Incoming(parse_report((REAL / f).read_bytes(), str(REAL / f))) for f in ("000.txt", "047.html")])
    summary = con.execute("SELECT * FROM v_summary ORDER BY report_id").fetchall()
    assert len(summary) == 2 and all(row[8] is not None for row in summary)  # applications received
    con.execute("DROP VIEW v_yoy")
    con.execute("DROP VIEW v_summary")
    con.execute("DROP TABLE report_figures")  # as schema 4 left it
    con.execute("ALTER TABLE report DROP COLUMN n_cells")
    con.execute("DELETE FROM schema_version WHERE version >= 5")
    con.close()
    con = open_warehouse(path)
    try:
        assert schema_version(con) == latest_version() >= 6
        assert con.execute("SELECT * FROM v_summary ORDER BY report_id").fetchall() == summary
        counts = con.execute("SELECT r.n_cells, count(c.report_id) FROM report r LEFT JOIN cell c USING (report_id) "
                             "GROUP BY r.report_id, r.n_cells").fetchall()
        assert len(counts) == 2 and all(n == m > 0 for n, m in counts)
        assert run_checks(con)["cells_sound"] == 0
    finally:
        con.close()


def test_region_resolution_for_dev_agencies():
    names = ["郑州市上街区科学技术和工业信息化局", "上海市人民政府办公厅", "平潭综合实验区市场监督管理局", "某某县人民政府"]
    regions = resolve_regions(names)
    assert regions[0].county_code == "410106" and regions[0].city_code == "410100"
    assert regions[1].province_code == "310000" and regions[1].county_code is None
    assert regions[2].county_code == "350128" and regions[2].province == "福建省"
    assert regions[3].province_code is None  # "某某县" names no real county


def test_cli_load_query_export(tmp_path):
    exe = [str(Path(sys.executable).parent / "gongkai")]
    data = tmp_path / "data"
    p = subprocess.run([*exe, "load", str(REAL / "000.txt"), str(REAL / "047.html"), "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr
    assert "2 new" in p.stdout
    p = subprocess.run([*exe, "query", "SELECT count(*) AS n FROM v_cells", "--format", "json",
                        "--data-dir", str(data)], capture_output=True, text=True, timeout=60, check=False)
    assert json.loads(p.stdout) == {"n": 400}
    p = subprocess.run([*exe, "query", "DROP TABLE cell", "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 2 and "only reading statements are run" in p.stderr and "not DROP" in p.stderr
    p = subprocess.run([*exe, "stats", "--data-dir", str(data)], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0 and "all pass" in p.stdout
    p = subprocess.run([*exe, "export", "--format", "csv", "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0 and (data / "export" / "cells").is_dir()


def test_sql_lives_in_files():
    assert (SQL_DIR / "views.sql").exists() and len(check_files()) >= 4


def test_year_over_year_uses_the_previous_year_only(warehouse):
    rows = {y: (cur, prev) for y, cur, prev in warehouse.execute(
        "SELECT year, applications_received, applications_received_prev FROM v_yoy "
        "WHERE agency = '平潭综合实验区'").fetchall()}
    assert rows[2024][1] == rows[2023][0]  # 2023 → 2024
    assert rows[2021][1] is None  # no 2020 report: no previous year, not 2019's number


def test_renamed_agency_alias(warehouse):
    from gongkai.flows.aliases import AliasError, add_alias

    moved = add_alias(warehouse, "平潭综合实验区管委会办公室", "平潭综合实验区", note="test")
    assert moved == 1
    names = {r[0] for r in warehouse.execute("SELECT DISTINCT agency FROM v_cells").fetchall()}
    assert "平潭综合实验区管委会办公室" not in names
    assert run_checks(warehouse) == {f.stem: 0 for f in check_files()}
    # a later report under the old name resolves to the new agency
    text = (REAL / "040.txt").read_text(encoding="utf-8").replace("2021年度", "2022年度")
    Loader(warehouse).load([Incoming(parse_report(text.encode(), "040-2022.txt"))])
    ids = warehouse.execute("SELECT DISTINCT agency_id FROM report WHERE source_url = '040-2022.txt'").fetchall()
    target = warehouse.execute("SELECT agency_id FROM agency WHERE name = '平潭综合实验区'").fetchall()
    assert ids == target
    with pytest.raises(AliasError, match="no agency named"):
        add_alias(warehouse, "甲", "不存在的局")


def test_export_as_one_excel_workbook(warehouse, tmp_path):
    out = tmp_path / "xlsx"
    export(warehouse, out, "xlsx")
    book = pd.read_excel(out / "gongkai.xlsx", sheet_name=None)
    years = [r[0] for r in warehouse.execute("SELECT DISTINCT year FROM v_cells ORDER BY 1").fetchall()]
    assert [f"cells_{y}" for y in years] + ["reports", "agencies", "checks", "cross_year_warnings", "codebook"] \
        == list(book)
    assert sum(len(book[f"cells_{y}"]) for y in years) == warehouse.execute("SELECT count(*) FROM v_cells").fetchone()[0]
    assert "table_code" in book["codebook"].columns and (out / "MANIFEST.sha256").exists()


def test_every_cells_file_carries_its_year(warehouse, tmp_path):
    out = tmp_path / "export"
    export(warehouse, out)
    for part in (out / "cells").iterdir():
        year = int(part.name.split("=")[1])
        frame = pd.read_parquet(next(part.glob("*.parquet")))  # one file, read on its own
        assert set(frame["report_year"]) == {year}
    assert len(pd.read_parquet(out / "cells")) == warehouse.execute("SELECT count(*) FROM v_cells").fetchone()[0]
