"""Scale benchmark (``make bench-scale``): stats, checks and export of a national-size warehouse.

A warehouse of ``--cells`` synthetic cells (default 200 million: about a million reports of
about 200 cells, seven years) is built directly in SQL — the loader is benchmarked elsewhere —
and then, each step in a process of its own so that its peak memory is its own:

- ``gongkai stats``'s queries (counts per year/layout/status, then every zero-row check);
- a full export (Parquet), then an export after one year changed (incremental: the other
  years' files are taken over).

Targets: stats < 10 s and < 4 GB; an export after one changed year < 60 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
YEARS = list(range(2019, 2026))

STEP = r"""
import json, sys, time
from pathlib import Path
step, data = sys.argv[1], Path(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from bench.memory import peak_mb
from gongkai.flows.warehouse import run_checks, warehouse
from gongkai.flows.exporter import export
from gongkai.paths import SQL_DIR
t = time.perf_counter()
out = {}
if step == "stats":
    with warehouse(data, read_only=True) as con:
        out["rows"] = len(con.execute((SQL_DIR / "reports" / "stats.sql").read_text(encoding="utf-8")).fetchall())
        out["checks"] = run_checks(con)
elif step == "export":
    with warehouse(data, read_only=True) as con:
        s = export(con, data / "export", data_dir=data)
        out.update(written=s.years_written, reused=s.years_reused, cells=s.cells)
out["seconds"] = time.perf_counter() - t
out["peak_mb"] = peak_mb()
print("RESULT " + json.dumps(out))
"""


def build(data: Path, cells: int) -> int:
    """A warehouse of about ``cells`` current cells, made in SQL. Returns the report count."""
    import pyarrow as pa

    from gongkai.flows.figures import fill_figures
    from gongkai.flows.warehouse import open_warehouse, warehouse_path
    from gongkai.transform.codebook import load_codebook

    book = load_codebook()
    codes = [(layout, t, r, c) for layout in ("2019", "2021") for t, r, c in book.cells(layout)]
    per_report = len(codes) / 2
    n_codes = {layout: sum(1 for c in codes if c[0] == layout) for layout in ("2019", "2021")}
    reports = max(len(YEARS), int(cells / per_report))
    agencies = -(-reports // len(YEARS))  # every report's agency exists
    con = open_warehouse(warehouse_path(data))
    try:
        con.register("_codes", pa.table({"layout": [c[0] for c in codes], "table_code": [c[1] for c in codes],
                                         "row_code": [c[2] for c in codes], "col_code": [c[3] for c in codes],
                                         "k": list(range(len(codes)))}))
        con.execute(f"""
            INSERT INTO agency (agency_id, identity, name, name_norm, province_code, county_code, level)
            SELECT i, lpad(CAST(110000 + i % 3000 AS VARCHAR), 6, '0') || '|第' || i || '局', '第' || i || '局',
                   '第' || i || '局', '110000', CAST(110000 + i % 3000 AS VARCHAR), 'department'
            FROM range({agencies}) t(i)""")
        con.execute(f"""
            INSERT INTO report (report_id, report_key, version, is_current, agency_id, year, layout, title,
                                source_url, content_sha256, output_sha256, parser_version, status, warnings,
                                uncertain, loaded_at, n_cells)
            SELECT i + 1, 'agency:' || (i // {len(YEARS)}) || '|' || ({YEARS[0]} + i % {len(YEARS)}), 1, true,
                   i // {len(YEARS)}, {YEARS[0]} + i % {len(YEARS)},
                   CASE WHEN {YEARS[0]} + i % {len(YEARS)} < 2021 THEN '2019' ELSE '2021' END,
                   'report ' || i, 'https://portal.example/' || i || '.html', md5(CAST(i AS VARCHAR)),
                   md5(CAST(-i AS VARCHAR)), 'bench', 'ok', [], [], now()::TIMESTAMP,
                   CASE WHEN {YEARS[0]} + i % {len(YEARS)} < 2021 THEN {n_codes['2019']} ELSE {n_codes['2021']} END
            FROM range({reports}) t(i)""")
        con.execute("""
            INSERT INTO cell (report_id, agency_id, year, table_code, row_code, col_code, value, empty, raw)
            SELECT r.report_id, r.agency_id, r.year, c.table_code, c.row_code, c.col_code,
                   CAST(hash(r.report_id, c.k) % 40 AS DOUBLE), false, '0'
            FROM report r JOIN _codes c ON c.layout = r.layout""")
        fill_figures(con, 1, reports)
        con.execute("CHECKPOINT")
        return reports
    finally:
        con.close()


def change_one_year(data: Path, year: int) -> None:
    """A new version of one report of ``year`` (what a nightly crawl typically changes)."""
    from gongkai.flows.figures import fill_figures
    from gongkai.flows.warehouse import open_warehouse, warehouse_path

    con = open_warehouse(warehouse_path(data))
    try:
        rid = con.execute("SELECT max(report_id) FROM report").fetchone()[0]
        old = con.execute("SELECT min(report_id) FROM report WHERE year = ?", [year]).fetchone()[0]
        con.execute("BEGIN TRANSACTION")
        con.execute("UPDATE report SET is_current = false WHERE report_id = ?", [old])
        con.execute("INSERT INTO report SELECT * REPLACE (? AS report_id, 2 AS version, true AS is_current, "
                    "md5('changed ' || ?) AS content_sha256) FROM report WHERE report_id = ?", [rid + 1, rid + 1, old])
        con.execute("INSERT INTO cell SELECT * REPLACE (? AS report_id, value + 1 AS value) FROM cell "
                    "WHERE report_id = ?", [rid + 1, old])
        fill_figures(con, rid + 1, rid + 1)
        con.execute("COMMIT")
    finally:
        con.close()


def step(name: str, data: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", STEP, name, str(data), str(ROOT)], capture_output=True, text=True,
                         check=True)
    return json.loads(next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))[7:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=200_000_000)
    parser.add_argument("--keep", type=Path, help="build the warehouse here and keep it")
    args = parser.parse_args()
    data = args.keep or Path(tempfile.mkdtemp(prefix="gongkai-scale-"))
    try:
        t = time.perf_counter()
        reports = build(data, args.cells)
        print(f"built {reports:,} reports, about {args.cells:,} cells, in {time.perf_counter() - t:.0f} s")
        stats = step("stats", data)
        bad = {k: v for k, v in stats["checks"].items() if v}  # type: ignore[union-attr]
        print(f"stats + checks: {stats['seconds']:.1f} s, peak {stats['peak_mb']:.0f} MB "
              f"(targets < 10 s, < 4096 MB){'; failing: ' + str(bad) if bad else ''}")
        full = step("export", data)
        print(f"export, full: {full['seconds']:.1f} s, peak {full['peak_mb']:.0f} MB, years written {full['written']}")
        change_one_year(data, 2023)
        again = step("export", data)
        print(f"export after one changed year: {again['seconds']:.1f} s, peak {again['peak_mb']:.0f} MB "
              f"(target < 60 s), written {again['written']}, reused {len(again['reused'])} years")  # type: ignore[arg-type]
    finally:
        if args.keep is None:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
