"""Load at scale (``make bench-scale``): 10 thousand → 100 thousand → a million reports through
Parquet parts, each size in a process of its own (for its peak memory).

Parse results are generated once (4,998 reports of the two layouts, 200 cells each on
average, with their checks) and written as a part, the way parse workers write them; each
further part of the run is that part again under new identities (a new ``reports`` table:
other agencies, sources and hashes; its ``cells`` and ``checks`` files hard-linked), so a
million reports need neither a million parses nor 200 million cell objects. The single writer
loads every part as the crawl's load task does. Reported per size: load time and cells/s,
warehouse size, peak memory of the loading process, and the five analyst queries of the
warehouse benchmark (median of 3).

Targets at a million reports (about 200 million cells): warehouse < 5 GB, each query < 2 s,
memory < 8 GB, load near-linear in the number of reports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATE_REPORTS = 4998  # 714 agencies × 7 years: every agency has all its years in one part
YEARS = 7

STEP = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench.load_scale import load_size
print("RESULT " + json.dumps(load_size(Path(sys.argv[2]), int(sys.argv[3]))))
"""


def template(root: Path) -> Path:
    """The generated part every other part repeats (written once per run)."""
    from bench.warehouse_bench import synthetic_results
    from gongkai.flows.loader import Incoming
    from gongkai.flows.parts import part_of, write_part

    part = part_of(Incoming(r) for r in synthetic_results(TEMPLATE_REPORTS))
    return Path(write_part(part, str(root), "template").url)


def repeat_part(tmpl: Path, out: Path, n: int) -> None:
    """Part ``n``: the template's cells and checks (hard links) under new reports."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from bench.warehouse_bench import COUNTIES, DEPARTMENTS

    out.mkdir(parents=True)
    for name in ("cells", "checks"):
        os.link(tmpl / f"{name}.parquet", out / f"{name}.parquet")
    reports = pq.read_table(tmpl / "reports.parquet")
    items = reports.column("item").to_pylist()
    agency_nos = [n * (TEMPLATE_REPORTS // YEARS) + i // YEARS for i in items]
    names = [f"{COUNTIES[a % len(COUNTIES)]}{DEPARTMENTS[a % len(DEPARTMENTS)]}"
             if a < len(COUNTIES) * len(DEPARTMENTS) else
             f"{COUNTIES[a % len(COUNTIES)]}第{a}{DEPARTMENTS[a % len(DEPARTMENTS)]}" for a in agency_nos]
    sources = [f"https://portal.example/{a}/{y}.html" for a, y in zip(agency_nos, reports.column("year").to_pylist())]
    tag = pa.array([f"{n:08d}"] * len(items))
    for column, values in (("agency", pa.array(names)), ("source", pa.array(sources)),
                           ("sha256", pc.binary_join_element_wise(tag, reports.column("sha256"), "")),
                           ("output_sha256", pc.binary_join_element_wise(tag, reports.column("output_sha256"), ""))):
        reports = reports.set_column(reports.schema.get_field_index(column), column, values)
    pq.write_table(reports, out / "reports.parquet")


def load_size(work: Path, n_reports: int) -> dict[str, object]:
    """Load ``n_reports`` (rounded to whole parts) into a fresh warehouse; runs in its own process."""
    from bench.memory import peak_mb
    from bench.warehouse_bench import query_times
    from gongkai.flows.loader import Loader
    from gongkai.flows.parts import PartFiles
    from gongkai.flows.warehouse import open_warehouse
    from gongkai.transform.agency import resolve_regions

    tmpl = work / "parts" / "template"
    db = work / f"w{n_reports}.duckdb"
    parts = max(1, round(n_reports / TEMPLATE_REPORTS))
    resolve_regions(["北京市朝阳区教育局"])  # cpca's tables load once per process
    con = open_warehouse(db)
    loader = Loader(con)
    loading = cells = 0.0
    for n in range(parts):
        folder = work / "parts" / f"p{n}"
        repeat_part(tmpl, folder, n)
        t0 = time.perf_counter()
        got = loader.load_part(PartFiles(str(folder), TEMPLATE_REPORTS, 0))
        loading += time.perf_counter() - t0
        cells += got.cells
        shutil.rmtree(folder)
        if got.errors:
            raise SystemExit(f"part {n}: {got.errors[:3]}")
    t0 = time.perf_counter()
    con.execute("CHECKPOINT")
    loading += time.perf_counter() - t0
    queries = query_times(con, 3)
    con.close()
    out = {"reports": parts * TEMPLATE_REPORTS, "cells": cells, "load_s": loading, "size_mb": db.stat().st_size / 2**20,
           "peak_mb": peak_mb(), "queries": queries}
    db.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="report counts, comma-separated")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gongkai-load-scale-"))
    try:
        t0 = time.perf_counter()
        template(work / "parts")
        print(f"template part: {TEMPLATE_REPORTS} generated reports in {time.perf_counter() - t0:.0f} s")
        print(f"{'reports':>10} {'cells':>13} {'load s':>8} {'cells/s':>11} {'warehouse MB':>13} {'peak MB':>8} "
              f"{'slowest query s':>16}")
        for size in (int(s) for s in args.sizes.split(",")):
            run = subprocess.run([sys.executable, "-c", STEP, str(ROOT), str(work), str(size)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))[7:])
            slowest = max(r["queries"].items(), key=lambda kv: kv[1])
            print(f"{r['reports']:>10,} {int(r['cells']):>13,} {r['load_s']:>8.1f} {r['cells'] / r['load_s']:>11,.0f} "
                  f"{r['size_mb']:>13,.0f} {r['peak_mb']:>8,.0f} {slowest[1]:>16.2f}  ({slowest[0]})", flush=True)
            for name, seconds in r["queries"].items():
                print(f"{'':>12}{name:<40} {seconds * 1000:>9.1f} ms")
        print("targets at a million reports: warehouse < 5 GB, each query < 2 s, memory < 8 GB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
