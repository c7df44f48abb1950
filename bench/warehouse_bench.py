"""Warehouse benchmark: the writer's load throughput for generated reports handed over as
Parquet parts (as parse workers write them), then five typical analyst queries."""

from __future__ import annotations

import gc
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.parts import PartFiles, part_of, write_part
from gongkai.flows.pipeline import LOAD_REPORTS, load_groups
from gongkai.transform.agency import resolve_regions
from gongkai.flows.warehouse import open_warehouse
from gongkai.transform.codebook import load_codebook
from gongkai.devtools.reportgen import random_values
from gongkai.transform.document import Origin
from gongkai.transform.models import CellValue, ParseResult, output_sha256
from gongkai.transform.rules import run_rules

COUNTIES = ["北京市朝阳区", "郑州市上街区", "上海市浦东新区", "广州市天河区", "成都市武侯区", "杭州市西湖区",
            "武汉市洪山区", "南京市鼓楼区", "福州市鼓楼区", "西安市雁塔区"]
DEPARTMENTS = ["人民政府", "教育局", "公安局", "财政局", "交通运输局", "卫生健康委员会", "市场监督管理局",
               "自然资源局", "生态环境局", "住房和城乡建设局", "农业农村局", "应急管理局", "民政局", "司法局"]
YEARS = list(range(2019, 2026))


MISPRINTS = (0, 1, 2, 4, 8)  # how many numbers of table 三 a report misprints: one of these


def printed(value: float) -> str:
    """A value as a report prints it ("12", "3.5")."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def html_origins(cells: list[tuple[str, str, str]]) -> list[Origin]:
    """Where each cell of a layout sits in an HTML page of three tables (a row per row code
    under two header rows, a column per column code after the label)."""
    rows: dict[str, dict[str, int]] = {}
    cols: dict[str, dict[str, int]] = {}
    tables = {t: i for i, t in enumerate(dict.fromkeys(t for t, _, _ in cells))}
    for t, row, col in cells:
        rows.setdefault(t, {}).setdefault(row, len(rows[t]) + 2)
        cols.setdefault(t, {}).setdefault(col, len(cols[t]) + 1)
    return [Origin(tables[t], rows[t][row], cols[t][col]) for t, row, col in cells]


def synthetic_results(n_reports: int, seed: int = 1, *, consistent: bool = True):
    """Parse results as the parser would make them (the parse itself is benchmarked elsewhere).

    ``consistent``: the values of a generated report (its totals add up), with up to eight
    numbers of table 三 misprinted, so that about 8 % of the checks fail, each with its detail
    (of the dev corpus's reports' checks, 6 % fail or are skipped with a detail); else random
    numbers, which fail about half of their checks."""
    rng = random.Random(seed)
    cb = load_codebook()
    layouts = {layout: cb.cells(layout) for layout in ("2019", "2021")}
    t3_cells = {layout: [k for k in cells if k[0] == "t3"] for layout, cells in layouts.items()}
    origins = {layout: list(zip(cells, html_origins(cells))) for layout, cells in layouts.items()}
    n_agencies = max(1, n_reports // len(YEARS))
    for i in range(n_reports):
        agency_no, year = divmod(i, len(YEARS))
        county = COUNTIES[agency_no % len(COUNTIES)]
        dept = DEPARTMENTS[agency_no % len(DEPARTMENTS)]
        agency = f"{county}{dept}" if agency_no < len(COUNTIES) * len(DEPARTMENTS) else \
            f"{county}第{agency_no}{dept}"
        year = YEARS[year]
        layout = "2019" if year < 2021 else "2021"
        r = ParseResult(source=f"https://portal.example/{agency_no % n_agencies}/{year}.html", agency=agency,
                        year=year, layout=layout, title=f"{agency}{year}年政府信息公开工作年度报告", status="ok",
                        sha256=f"{i:064x}", parser_version="bench")
        if consistent:
            values = random_values(rng, layout)
            for key in rng.sample(t3_cells[layout], rng.choice(MISPRINTS)):
                values[key] += rng.randint(1, 9)
            blank = rng.random() < 0.5  # zeros printed blank, as many reports print them
            r.cells = [CellValue(t, row, col, v, "" if blank and v == 0 else printed(v), blank and v == 0, origin)
                       for (t, row, col), origin in origins[layout] for v in (values[t, row, col],)]
        else:
            r.cells = [CellValue(t, row, col, rng.choice((0, 0, 0, rng.randint(0, 40))), "0", False)
                       for t, row, col in layouts[layout]]
        r.checks = run_rules(r.cells, layout)
        r.output_sha256 = output_sha256(r)  # part of parsing, like the checks
        yield r


QUERIES = {
    "applications by year, one county": (
        "SELECT year, sum(value) FROM v_cells WHERE county_code = '410106' AND table_code = 't3' "
        "AND row_code = 'new_received' AND col_code = 'total' GROUP BY year ORDER BY year"),
    "top 20 agencies by denial rate": (
        "SELECT agency, denial_rate FROM v_summary WHERE year = 2023 AND results_total >= 10 "
        "ORDER BY denial_rate DESC, agency LIMIT 20"),
    "year-over-year change": (
        "SELECT agency, applications_change FROM v_yoy WHERE year = 2024 "
        "ORDER BY applications_change DESC NULLS LAST LIMIT 20"),
    "one agency's history": (
        "SELECT year, row_code, total FROM v_t3_wide WHERE agency = '郑州市上街区教育局' ORDER BY year, row_code"),
    "reports failing t3_balance": (
        "SELECT r.agency, r.year FROM check_result k JOIN v_current_report r USING (report_id) "
        "WHERE k.rule = 't3_balance' AND k.status = 'fail' ORDER BY r.agency, r.year LIMIT 100"),
}


def query_times(con, repeat: int) -> dict[str, float]:  # noqa: ANN001
    """The median seconds of each analyst query over ``repeat`` runs."""
    medians = {}
    for name, sql in QUERIES.items():
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - t0)
        medians[name] = statistics.median(times)
    return medians


def make_parts(n_reports: int, per_part: int, root: Path) -> tuple[list[PartFiles], float, int]:
    """Generated results as Parquet parts, the way parse workers hand them over; returns the
    parts, the seconds spent building and writing them, and the cells they hold."""
    gen = synthetic_results(n_reports)
    parts: list[PartFiles] = []
    spent, cells = 0.0, 0
    while True:
        items = [Incoming(r) for _, r in zip(range(per_part), gen)]
        if not items:
            break
        t0 = time.perf_counter()
        files = write_part(part_of(items), str(root))
        spent += time.perf_counter() - t0
        parts.append(files)
        cells += files.cells
        del items
    gc.collect()
    return parts, spent, cells


def ingest(con, parts: list[PartFiles]) -> tuple[float, int]:  # noqa: ANN001
    """The single writer's side: load the parts as the crawl's load task does, several to a
    transaction (up to LOAD_REPORTS reports); (seconds, cells)."""
    loader = Loader(con)
    resolve_regions(["北京市朝阳区教育局"])  # (cpca's tables load once per process, not per load)
    t0 = time.perf_counter()
    cells = sum(loader.load_part(g).cells for g in load_groups(parts))
    return time.perf_counter() - t0, cells


def bench_warehouse(n_reports: int, per_part: int = 5000) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gongkai-bench-"))
    try:
        parts, built, n_cells = make_parts(n_reports, per_part, tmp / "parts")
        con = open_warehouse(tmp / "w.duckdb")
        load_time, cells = ingest(con, parts)
        con.execute("CHECKPOINT")
        size = (tmp / "w.duckdb").stat().st_size
        print(f"\n== warehouse: load {n_reports} generated reports from Parquet parts of {per_part} ==")
        print(f"parts built and written (the parse workers' share, one core): {n_cells / built:,.0f} cells/s")
        print(f"cells loaded: {cells:,} in {load_time:.1f} s = {cells / load_time:,.0f} cells/s (target ≥ 1,000,000)")
        small, _, _ = make_parts(min(n_reports, 10_000), 500, tmp / "small")
        with open_warehouse(tmp / "small.duckdb") as other:
            t_small, c_small = ingest(other, small)
        print(f"  from parts of 500 reports, {LOAD_REPORTS} to a transaction ({min(n_reports, 10_000):,} reports): "
              f"{c_small / t_small:,.0f} cells/s")
        print(f"warehouse file: {size / 2**20:,.0f} MB (target < 1 GB for 20 million cells)")
        print(f"{'query (median of 5)':<40} {'ms':>8}")
        for name, seconds in query_times(con, 5).items():
            print(f"{name:<40} {seconds * 1000:>8.1f}   (target < 500)")
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
