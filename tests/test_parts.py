"""Parse results as columnar parts: built where parsing ran, written as Parquet, loaded by the writer."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.parse_files import PARALLEL_FROM, json_line, parse_many, parse_path
from gongkai.flows.parts import concat_parts, part_of, read_reports, remove_part, write_part
from gongkai.flows.warehouse import open_warehouse
from gongkai.transform.parse import parse_report
from tests.conftest import REAL

PAGES = sorted(REAL.glob("*.html")) + sorted(REAL.glob("*.txt"))[:6]  # (one page reads as a failure)


def _results():
    return [parse_report(p.read_bytes(), str(p)) for p in PAGES]


def _warehouse_rows(con):
    cells = con.execute("SELECT r.report_key, c.table_code, c.row_code, c.col_code, c.value, c.empty, c.raw, "
                        "c.table_index, c.grid_row, c.grid_col, c.glued_run FROM cell c JOIN report r USING (report_id) "
                        "ORDER BY ALL").fetchall()
    checks = con.execute("SELECT r.report_key, k.rule, k.scope, k.status, k.expected, k.actual, k.detail "
                         "FROM check_result k JOIN report r USING (report_id) ORDER BY ALL").fetchall()
    reports = con.execute("SELECT report_key, status, layout, title, output_sha256, warnings, uncertain, source_url "
                          "FROM report ORDER BY ALL").fetchall()
    return reports, cells, checks


def test_a_part_holds_every_cell_and_check_of_its_reports():
    results = _results()
    part = part_of(Incoming(r) for r in results)
    assert part.reports.num_rows == len(results)
    assert part.cells.num_rows == sum(len(r.cells) for r in results) > 1000
    assert part.checks.num_rows == sum(len(r.checks) for r in results)
    assert part.reports.column("n_cells").to_pylist() == [len(r.cells) for r in results]
    first = results[0]
    mine = part.cells.filter(part.cells.column("item").to_numpy() == 0)
    assert mine.column("value").to_pylist() == [float(c.value) for c in first.cells]
    assert mine.column("raw").to_pylist() == [c.raw for c in first.cells]
    heads = part.heads()
    assert [h[1].result.output_sha256 for h in heads] == [r.output_sha256 for r in results]
    assert all(h[1].result.cells == [] for h in heads)  # the writer never sees cell objects


def test_written_parts_load_as_the_in_memory_route_does(tmp_path):
    results = _results()
    items = [Incoming(r, source_url=r.source, source_name="s") for r in results]
    half = len(items) // 2
    files = [write_part(part_of(items[:half]), str(tmp_path / "parts")),
             write_part(part_of(items[half:]), str(tmp_path / "parts"))]
    assert [f.reports for f in files] == [half, len(items) - half]
    assert not list((tmp_path / "parts").glob(".*"))  # no half-written part is left behind
    assert pq.read_table(files[0].path("cells")).num_rows == files[0].cells
    with open_warehouse(tmp_path / "a.duckdb") as a, open_warehouse(tmp_path / "b.duckdb") as b:
        loaded = Loader(a).load_part(files)  # two parts, one transaction
        Loader(b).load_batch(items)
        assert loaded.new + loaded.failed_parse == len(results) and loaded.new >= len(results) - 1
        assert loaded.cells == sum(len(r.cells) for r in results)
        assert _warehouse_rows(a) == _warehouse_rows(b)
        again = Loader(a).load_part(files)
        assert again.unchanged == len(results) and again.cells == 0
    for f in files:
        remove_part(f)
    assert not any((tmp_path / "parts").iterdir())


def test_a_part_at_an_fsspec_url_is_read_by_duckdb_through_fsspec(tmp_path):
    results = [r for r in _results() if r.status != "failed"][:3]
    url = f"memory://gongkai-test-{tmp_path.name}"
    files = write_part(part_of(Incoming(r) for r in results), url)
    assert files.url.startswith("memory://") and read_reports(files).num_rows == 3
    with open_warehouse(tmp_path / "w.duckdb") as con:
        got = Loader(con).load_part(files)
        assert got.new == 3 and got.cells == sum(len(r.cells) for r in results)
        assert con.execute("SELECT count(*) FROM cell").fetchone()[0] == got.cells
    remove_part(files)


def test_only_the_kept_reports_of_a_part_are_loaded(tmp_path):
    results = _results()
    files = write_part(part_of(Incoming(r) for r in results), str(tmp_path))
    with open_warehouse(tmp_path / "w.duckdb") as con:
        chosen = next(r for r in results[1:] if r.status == "ok")
        got = Loader(con).load_part(files, keep=lambda it: it.result.source == chosen.source)
        assert got.new == 1 and got.cells == len(chosen.cells) > 0
        assert con.execute("SELECT count(DISTINCT report_id) FROM cell").fetchone()[0] == 1


def test_concatenated_parts_number_their_items_on():
    results = [r for r in _results() if r.status == "ok"]
    a, b = part_of([Incoming(results[0])]), part_of([Incoming(r) for r in results[1:3]])
    both = concat_parts([a, b])
    assert both.reports.column("item").to_pylist() == [0, 1, 2]
    assert set(both.cells.column("item").to_pylist()) == {0, 1, 2}
    assert both.cells.num_rows == a.cells.num_rows + b.cells.num_rows


def test_many_files_are_parsed_on_every_core_in_the_order_given(tmp_path):
    files = []
    for i in range(PARALLEL_FROM + 4):  # enough for the pool
        src = PAGES[i % len(PAGES)]
        files.append(tmp_path / f"{i:02d}{src.suffix}")
        shutil.copyfile(src, files[-1])
    lines = list(parse_many(files, render=json_line, workers=2))
    assert [line for line, _ in lines] == [json_line(parse_path(f))[0] for f in files]
    assert [status for _, status in lines] == [parse_path(f).status for f in files]


@pytest.mark.parametrize("count", [0, 1])
def test_few_files_are_parsed_here(tmp_path, count):
    files = [tmp_path / f"{i}.html" for i in range(count)]
    for f in files:
        shutil.copyfile(PAGES[0], f)
    assert [r.status for r in parse_many(files)] == ["ok"] * count


_WORKER_SCRIPT = """
import gc, sys
from gongkai.flows.parsing import LocalParsers, ParseJob, parse_to_part

def made(archive_root, sha256, parts_root):
    files = parse_to_part(archive_root, [ParseJob(sha256, "https://a.example/047.html")], parts_root)
    return files.cells, "pandas" in sys.modules, gc.get_freeze_count() > 10_000

if __name__ == "__main__":
    pool = LocalParsers(1)
    print(*pool.pool.submit(made, *sys.argv[1:]).result(timeout=120))
    pool.close()
"""


def test_a_parse_worker_builds_its_part_without_importing_pandas(tmp_path):
    """pyarrow imports pandas (most of a second) the first time it builds an array; a parse
    worker needs none of it, and its part is the same as one built here. (In a process of its
    own: a worker forked from one that has pandas already shares it for nothing.) The objects
    the worker started with are out of the garbage collector's sight (frozen): full
    collections walking them cost a fifth of a worker's CPU."""
    import subprocess
    import sys

    from gongkai.extract.archive import RawArchive
    from gongkai.flows.parsing import ParseJob, parse_to_part

    archive = RawArchive(tmp_path / "raw")
    sha = archive.put((REAL / "047.html").read_bytes())
    script = tmp_path / "worker.py"
    script.write_text(_WORKER_SCRIPT, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script), str(archive.root), sha, str(tmp_path / "parts")],
                         capture_output=True, text=True, timeout=180, check=True).stdout.split()
    here = parse_to_part(str(archive.root), [ParseJob(sha, "https://a.example/047.html")], str(tmp_path / "here"))
    assert out == [str(here.cells), "False", "True"] and here.cells > 150


def test_a_body_that_kills_its_parse_worker_fails_alone_and_the_run_goes_on(tmp_path, monkeypatch):
    """A reader's native library (PDFium, OpenCV) crashing on a body kills the worker process:
    the batch is parsed again report by report, each in a process of its own; the one body is a
    failed report that says so, the others are read, and the next batch gets a fresh pool. (The
    crash is a real SIGSEGV in the worker, made by the parse of that body here: workers are
    forked, so they run this test's parse.)"""
    import faulthandler
    import os
    import signal

    import gongkai.flows.parsing as parsing
    from gongkai.extract.archive import RawArchive
    from gongkai.flows.parsing import LocalParsers, ParseJob

    real = parsing.parse_report

    def parse_or_crash(data: bytes, source: str, **kw):
        if data.startswith(b"%PDF-1.7 crash"):
            faulthandler.disable()  # (no traceback of the crash in the test's output)
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(data, source, **kw)

    monkeypatch.setattr(parsing, "parse_report", parse_or_crash)
    archive = RawArchive(tmp_path / "raw")
    good = [archive.put((REAL / name).read_bytes()) for name in ("047.html", "046.html")]
    bad = archive.put(b"%PDF-1.7 crash\n")
    jobs = [ParseJob(good[0], "https://a.example/047.html"), ParseJob(bad, "https://a.example/bad.pdf"),
            ParseJob(good[1], "https://a.example/046.html")]
    pool = LocalParsers(2, start_method="fork")
    try:
        part = pool.run(str(archive.root), jobs, str(tmp_path / "parts"))
        after = pool.run(str(archive.root), [jobs[0]], str(tmp_path / "parts"))  # a fresh pool
    finally:
        pool.close()
    reports = read_reports(part).to_pylist()
    assert [r["status"] for r in reports] == ["ok", "failed", "ok"] and part.cells > 300
    assert "the parser's process died reading this body" in reports[1]["warnings"][0]
    assert after.reports == 1 and after.cells == reports[0]["n_cells"] > 150


_CRASH_SCRIPT = """
import faulthandler, os, signal, sys
from pathlib import Path
import gongkai.flows.parse_files as pf

real = pf.parse_report

def parse_or_crash(data, source, **kw):
    if data.startswith(b"%PDF-1.7 crash"):
        faulthandler.disable()
        os.kill(os.getpid(), signal.SIGSEGV)
    return real(data, source, **kw)

pf.parse_report = parse_or_crash  # the workers are forked from here: they run it
for r in pf.parse_many([Path(a) for a in sys.argv[1:]], workers=2):
    print(r.status, "died" if any("process died" in w for w in r.warnings) else "")
"""


def test_a_file_that_kills_its_worker_fails_alone_in_gongkai_parse(tmp_path):
    """``gongkai parse`` over many files: a file whose parse kills the worker (a real SIGSEGV,
    as a native reader's crash) is a failed result saying so; every other file is parsed, in
    the order given."""
    import subprocess
    import sys

    files = []
    for i in range(PARALLEL_FROM + 4):
        files.append(tmp_path / f"{i:02d}.html")
        shutil.copyfile(REAL / "047.html", files[-1])
    (tmp_path / "05.html").write_bytes(b"%PDF-1.7 crash\n")
    script = tmp_path / "crash.py"
    script.write_text(_CRASH_SCRIPT, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script), *map(str, files)], capture_output=True, text=True,
                         timeout=300, check=True).stdout.splitlines()
    assert [line.split() for line in out] == [["ok"]] * 5 + [["failed", "died"]] + [["ok"]] * (len(files) - 6)
