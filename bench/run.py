"""Benchmarks (``make bench``): ratios against a baseline measured in the same run.

Each benchmark runs in a Python process of its own, as each gongkai command does, so that one
that ran before (the OCR models, a large parse heap) does not weigh on the next one's figures;
``--only NAME`` runs one of them in this process.

Warehouse: load throughput (cells/s, target ≥ 1 million) for 100,000 generated reports
(about 20 million cells), file size (target < 1 GB), and the median time of five typical
analyst queries (target < 0.5 s each).

Crawl: pages per second against the simulated portal with delay 0, parse included (target
≥ 200), and bytes of an unchanged re-crawl as a fraction of the first crawl (target ≤ 5%).

Parse CLI: ``gongkai parse --json`` over 400 real pages (the dev corpus's HTML pages, copied)
and 400 generated ones, end to end with process start, against ``pandas.read_html`` alone in
a Python process of its own on the same files (target ≤ 1.0).

Glued: median and worst time per glued-digit text (targets: median < 50 ms, worst < 1 s).

Files: time per PDF page with a text layer (target < 50 ms) and an XLSX report against an HTML page.

Scans: time per scanned page read by OCR (101.pdf as an image-only PDF; target < 2 s on 2 cores)
against the same pages read from the text layer, and the peak memory of a process reading it.

Parse: for the HTML pages of the dev corpus and a set of generated pages, the median time per
report of gongkai's full parse (grid + mapping + validation) and of ``pandas.read_html`` alone
on the same bytes, and their ratio (target ≤ 1.0), plus peak memory (target < 300 MB).
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crawl_bench import bench_crawl
from bench.warehouse_bench import bench_warehouse
from gongkai.transform.parse import parse_report
from gongkai.devtools.reportgen import Options, generate


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def html_inputs(n_generated: int) -> list[tuple[str, bytes]]:
    inputs = [(p.name, p.read_bytes()) for p in sorted((ROOT / "tests/fixtures/real").glob("*.html"))]
    variants = [
        Options(), Options(word_spans=True), Options(split_t3=True, header_apart=True),
        Options(blank_style="mixed", subtotal=True), Options(gbk=True, meta_charset=True, br_in_labels=True),
    ]
    for i in range(n_generated):
        gen = generate(1000 + i, variants[i % len(variants)])
        inputs.append((f"generated-{i}", gen.data))
    return inputs


_PEAK_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench.memory import peak_mb
from bench.run import html_inputs
from gongkai.transform.parse import parse_report
for name, data in html_inputs(int(sys.argv[2])):
    parse_report(data, name + ".html")
print(peak_mb())
"""


def bench_parse(n_generated: int, repeat: int) -> None:
    import pandas as pd

    inputs = html_inputs(n_generated)

    def theirs_once(d: bytes) -> object:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pd.read_html(io.BytesIO(d), flavor="lxml")
        except ValueError:  # "No tables found"
            return None

    ours: dict[str, float] = {}
    theirs: dict[str, float] = {}
    for name, data in inputs:  # interleaved, so that both see the same machine
        parse_report(data, name + ".html")
        theirs_once(data)
        a, b = [], []
        for _ in range(repeat):
            a.append(best_of(lambda d=data, n=name: parse_report(d, n + ".html"), 1))
            b.append(best_of(lambda d=data: theirs_once(d), 1))
        ours[name], theirs[name] = min(a), min(b)
    gc.collect()
    peak = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(ROOT), str(n_generated)],
                          capture_output=True, text=True, check=True).stdout.strip()

    def report(label: str, names: list[str]) -> None:
        a = statistics.median(ours[n] for n in names) * 1000
        b = statistics.median(theirs[n] for n in names) * 1000
        print(f"{label:<28} {len(names):>5} {a:>12.2f} {b:>16.2f} {a / b:>8.2f}")

    print("\n== parse: gongkai full parse vs pandas.read_html (median ms per report, best of "
          f"{repeat}, interleaved) ==")
    print(f"{'set':<28} {'n':>5} {'gongkai ms':>12} {'read_html ms':>16} {'ratio':>8}")
    real = [n for n, _ in inputs if not n.startswith("generated")]
    gen = [n for n, _ in inputs if n.startswith("generated")]
    report("dev corpus HTML pages", real)
    report("generated HTML pages", gen)
    report("all", real + gen)
    print(f"peak memory of a process parsing all of them: {float(peak):.0f} MB (target < 300 MB)")


_READ_HTML_SCRIPT = """
import sys, warnings
from pathlib import Path
import pandas as pd
for path in sorted(Path(sys.argv[1]).iterdir()):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.read_html(path, flavor="lxml")
    except ValueError:  # "No tables found"
        pass
"""


def bench_parse_cli(copies: int, n_generated: int, repeat: int = 3) -> None:
    """End to end, process start included: ``gongkai parse --json`` over a folder of pages
    against a Python process that imports pandas and runs ``read_html`` on the same files."""
    import shutil
    import tempfile

    gongkai = [str(Path(sys.executable).parent / "gongkai")]
    real = sorted((ROOT / "tests/fixtures/real").glob("*.html"))
    print("\n== parse CLI end to end: gongkai parse --json vs pandas.read_html alone (wall clock, process "
          f"start included, best of {repeat}) ==")
    print(f"{'set':<40} {'files':>6} {'gongkai s':>10} {'read_html s':>12} {'ratio':>7}")
    sets = {f"dev corpus HTML pages ×{copies}": [(f"{i:04d}-{p.name}", p.read_bytes()) for i in range(copies)
                                               for p in real],
            "generated HTML pages": [(f"{name}.html", data) for name, data in html_inputs(n_generated)
                                     if name.startswith("generated")]}
    for label, files in sets.items():
        tmp = Path(tempfile.mkdtemp(prefix="gongkai-bench-cli-"))
        try:
            for name, data in files:
                (tmp / name).write_bytes(data)

            def run(cmd: list[str]) -> float:
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return time.perf_counter() - t0

            ours = min(run([*gongkai, "parse", str(tmp), "--json"]) for _ in range(repeat))
            theirs = min(run([sys.executable, "-c", _READ_HTML_SCRIPT, str(tmp)]) for _ in range(repeat))
            print(f"{label:<40} {len(files):>6} {ours:>10.2f} {theirs:>12.2f} {ours / theirs:>7.2f}   (target ≤ 1.0)")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def bench_glued(n_generated: int) -> None:
    """Glued-digit texts: median and worst time per report, and the cells left out as ambiguous."""
    import json

    inputs: list[tuple[str, bytes, int]] = []
    for exp_path in sorted((ROOT / "tests/fixtures/real").glob("*.expected.json")):
        exp = json.loads(exp_path.read_text(encoding="utf-8"))
        if exp["source_form"] == "text-glued":
            n = sum(len(cols) for rows in exp["cells"].values() for cols in rows.values())
            inputs.append((exp["file"], (exp_path.parent / exp["file"]).read_bytes(), n))
    for i in range(n_generated):
        gen = generate(5000 + i, Options(form="glued", stray_spaces=i % 2 == 0))
        inputs.append((f"generated-{i}", gen.data, len(gen.values)))
    print("\n== glued-digit texts: time per report (targets: median < 50 ms, worst < 1 s) ==")
    print(f"{'set':<28} {'n':>5} {'median ms':>10} {'worst ms':>10} {'cells left out':>16}")
    for label, subset in (("dev corpus glued texts", [x for x in inputs if not x[0].startswith("generated")]),
                          ("generated glued texts", [x for x in inputs if x[0].startswith("generated")])):
        times, left_out, total = [], 0, 0
        for name, data, n_cells in subset:
            t0 = time.perf_counter()
            result = parse_report(data, name + ".txt")
            times.append(time.perf_counter() - t0)
            left_out += len(result.uncertain)
            total += n_cells
        print(f"{label:<28} {len(subset):>5} {statistics.median(times) * 1000:>10.1f} {max(times) * 1000:>10.1f} "
              f"{left_out:>7} of {total:<7}")


def bench_files(repeat: int) -> None:
    """Reports published as files: time per PDF page (text layer) and per DOCX/XLSX report,
    against reading the same page as HTML (baseline: the real 047.html page)."""
    import io

    import lxml.html
    import openpyxl

    from gongkai.transform.pdf_reader import read_pdf

    pdf = (ROOT / "tests/fixtures/real/101.pdf").read_bytes()
    pages = read_pdf(pdf).pages
    html_page = (ROOT / "tests/fixtures/real/047.html").read_bytes()
    gen = generate(22, Options(form="html"), "2021")
    book = openpyxl.Workbook()
    sheet = book.active
    row = 1
    for table in lxml.html.fromstring(gen.data.decode("utf-8")).iter("table"):
        for tr in table.findall(".//tr"):
            for c, td in enumerate(tr.findall("td"), 1):
                sheet.cell(row, c, " ".join(td.text_content().split()) or None)
            row += 1
        row += 1
    buf = io.BytesIO()
    book.save(buf)
    print(f"\n== files: parse time (best of {repeat}) ==")
    t_pdf = best_of(lambda: parse_report(pdf, "101.pdf"), repeat)
    t_html = best_of(lambda: parse_report(html_page, "047.html"), repeat)
    t_xlsx = best_of(lambda: parse_report(buf.getvalue(), "generated.xlsx"), repeat)
    print(f"PDF with a text layer (101.pdf, {pages} pages): {t_pdf * 1000:.0f} ms, "
          f"{t_pdf * 1000 / pages:.0f} ms per page (target < 50)")
    print(f"XLSX (a generated report): {t_xlsx * 1000:.0f} ms; the same kind of report as an HTML page: "
          f"{t_html * 1000:.0f} ms (ratio {t_xlsx / t_html:.1f})")


_SCAN_PEAK_SCRIPT = """
import sys
from pathlib import Path
from bench.memory import peak_mb
from gongkai.devtools.scans import image_only_pdf
from gongkai.transform.parse import parse_report
parse_report(image_only_pdf(Path(sys.argv[1]).read_bytes()), "scan.pdf")
print(peak_mb())
"""


def bench_scans(repeat: int) -> None:
    """Scans read by OCR: time per page of 101.pdf rendered to an image-only PDF (144 dpi),
    against the same PDF read from its text layer; and the peak memory of a process reading it."""
    from gongkai.devtools.scans import image_only_pdf
    from gongkai.transform.pdf_reader import read_pdf
    from gongkai.transform.scan_reader import ocr_available

    if not ocr_available():
        print("\n== scans: skipped (the extra gongkai[ocr] is not installed) ==")
        return
    pdf = (ROOT / "tests/fixtures/real/101.pdf").read_bytes()
    pages = read_pdf(pdf).pages
    scan = image_only_pdf(pdf)
    parse_report(scan, "scan.pdf")  # the models load once per process
    t_scan = best_of(lambda: parse_report(scan, "scan.pdf"), max(1, repeat // 2))
    t_text = best_of(lambda: parse_report(pdf, "101.pdf"), repeat)
    peak = subprocess.run([sys.executable, "-c", _SCAN_PEAK_SCRIPT, str(ROOT / "tests/fixtures/real/101.pdf")],
                          capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    print(f"\n== scans: OCR (best of {max(1, repeat // 2)}) ==")
    print(f"101.pdf as a scan ({pages} pages at 144 dpi): {t_scan:.2f} s, {t_scan / pages:.2f} s per page "
          f"(target < 2 s on 2 cores); from its text layer {t_text / pages * 1000:.0f} ms per page "
          f"(ratio {t_scan / t_text:.0f})")
    print(f"peak memory of a process reading the scan: {float(peak):.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--generated", type=int, default=100, help="generated reports per set (default 100)")
    ap.add_argument("--repeat", type=int, default=5, help="timing repeats per report (best is kept)")
    ap.add_argument("--reports", type=int, default=100_000,
                    help="generated reports loaded into the warehouse benchmark (default 100000 ≈ 20 million cells)")
    ap.add_argument("--only", choices=tuple(_SECTIONS), help="run one benchmark in this process")
    args = ap.parse_args()
    if args.only is not None:
        _SECTIONS[args.only](args)
        return
    # each benchmark in a process of its own, as each gongkai command is: one that ran before
    # (the OCR models, a parse's heap) must not weigh on the next one's figures
    for name in _SECTIONS:
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, "--only", name, "--generated", str(args.generated),
                        "--repeat", str(args.repeat), "--reports", str(args.reports)], check=True)


_SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "parse": lambda a: bench_parse(a.generated, a.repeat),
    "parse-cli": lambda a: bench_parse_cli(80, 4 * a.generated),
    "glued": lambda a: bench_glued(a.generated),
    "files": lambda a: bench_files(a.repeat),
    "scans": lambda a: bench_scans(a.repeat),
    "crawl": lambda a: bench_crawl(),
    "warehouse": lambda a: bench_warehouse(a.reports),
}

if __name__ == "__main__":
    main()
