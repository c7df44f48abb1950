"""PDF reports with a text layer (the real 101.pdf), recognised by content, not by name; a
scan or a damaged PDF is a named failure, never an exception or a made-up number."""

from __future__ import annotations

import io
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gongkai.transform.parse import parse_report
from gongkai.transform.pdf_reader import read_pdf
from tests.conftest import REAL, cells_of, parse_expected

PDF = (REAL / "101.pdf").read_bytes()


def test_101_pdf_parses_with_every_expected_cell_exact():
    exp, result = parse_expected(REAL / "101.expected.json")  # agency, year and layout checked there
    assert result.form == "pdf" and result.status == exp["status"]
    want = {(t, r, c): v for t, rows in exp["cells"].items() for r, cols in rows.items() for c, v in cols.items()}
    assert cells_of(result) == want
    failing = {(c.rule, c.where) for c in result.failing_rules()}
    assert failing == {("t4_total", "review"), ("t4_total", "suit_after_review")}  # the source's own errors


def test_pdfium_reads_the_characters_and_ruling_lines_pdfminer_reads():
    """The layer PDFium reads (ten times faster) gives pdfplumber's table finder what its own
    pdfminer page would: the same ruling lines, and the same characters at the same places
    across, up and down within a few points (every font's box is put on its baseline alike)."""
    import pdfplumber
    import pypdfium2

    from gongkai.transform.pdf_layer import LayerPage

    def edge(e: dict) -> tuple:
        return e["orientation"], round(e["x0"]), round(e["top"]), round(e["x1"]), round(e["bottom"])

    doc = pypdfium2.PdfDocument(PDF)
    with pdfplumber.open(io.BytesIO(PDF)) as pdf:
        for number, page in enumerate(pdf.pages):
            layer = LayerPage.read(doc[number])
            drawn = [e for e in page.edges if e["orientation"] in ("h", "v") and e["width"] + e["height"] > 0.01]
            assert sorted(map(edge, layer.edges)) == sorted(map(edge, drawn)) and layer.edges
            theirs = [c for c in page.chars if c["text"].strip()]
            ours = [c for c in layer.chars if c["text"].strip()]
            assert [c["text"] for c in ours] == [c["text"] for c in theirs]
            for a, b in zip(ours, theirs):
                assert abs(a["x0"] - b["x0"]) < 0.5 and abs(a["x1"] - b["x1"]) < 1.0, (a, b)
                assert abs((a["top"] + a["bottom"]) / 2 - (b["top"] + b["bottom"]) / 2) < 3.5, (a, b)
    doc.close()


def test_page_numbers_are_dropped_and_cells_know_their_page():
    pdf = read_pdf(PDF)
    assert pdf.pages == 5 and pdf.dropped == 5
    assert not any(line.text.startswith("- ") and line.text.endswith(" -") for line in pdf.lines)
    result = parse_report(PDF, "101.pdf")
    page = {(c.table, c.row, c.col): c.origin.page for c in result.cells if c.origin}
    assert page[("t2", "licensing", "decisions")] == 2
    assert page[("t2", "penalty", "decisions")] == 3  # table 二 goes on over the page break
    assert page[("t3", "rejected_petition", "total")] == 4  # so does table 三
    assert result.as_dict()["cells"][0]["source_pos"]["page"] in (2, 3)


def test_a_pdf_is_read_by_its_content_whatever_its_name():
    as_html = parse_report(PDF, "https://example.gov.cn/art/2024/1/1/art_1_1.html")
    assert as_html.form == "pdf" and as_html.status == "ok"
    page = (REAL / "047.html").read_bytes()
    assert parse_report(page, "report.pdf").form == "html"  # an HTML page served as .pdf


def test_a_scan_is_a_named_failure():
    buf = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buf, format="PDF")
    result = parse_report(buf.getvalue(), "scan.pdf")
    assert result.status == "failed" and any("image-only" in w for w in result.warnings)


def test_a_damaged_pdf_is_a_named_failure():
    for data in (PDF[: len(PDF) // 3], b"%PDF-1.7\n" + b"\x00garbage" * 100):
        result = parse_report(data, "broken.pdf")
        assert result.status in ("failed", "partial")
        assert result.warnings


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(PDF) - 1), st.integers(0, 255)), min_size=1, max_size=20),
       st.integers(100, len(PDF)))
def test_flipped_and_truncated_pdfs_never_raise(flips, keep):
    data = bytearray(PDF[:keep])
    for at, value in flips:
        if at < len(data):
            data[at] = value
    t0 = time.monotonic()
    result = parse_report(bytes(data), "fuzzed.pdf")  # never raises: a result, whatever the bytes
    assert time.monotonic() - t0 < 30
    assert result.status in ("ok", "partial", "failed") and (result.status == "ok" or result.warnings)


def test_a_page_without_tables_becomes_its_pdfs_report_and_a_page_with_tables_stays_one(tmp_path):
    from gongkai.extract.http import FetchOptions
    from gongkai.extract.sources import parse_sources
    from gongkai.flows.pipeline import nightly
    from gongkai.flows.warehouse import open_warehouse, warehouse_path
    from tests.servers import TestServer

    shell = ('<html><head><title>洪泽区人民政府2023年政府信息公开工作年度报告</title></head><body>'
             '<h1>洪泽区人民政府2023年政府信息公开工作年度报告</h1>'
             '<p>附件：<a href="/f/P020240131.pdf">洪泽区人民政府2023年政府信息公开工作年度报告.pdf</a></p>'
             '</body></html>').encode()
    with_tables = (REAL / "047.html").read_bytes().replace(b"</body>", b'<a href="/f/copy.pdf">report.pdf</a></body>')
    listing = ('<ul><li><a href="/r/hz.html">洪泽区人民政府2023年政府信息公开工作年度报告</a></li>'
               '<li><a href="/r/sp.html">平潭综合实验区苏平片区管理局2024年政府信息公开工作年度报告</a></li></ul>')
    routes = {"/robots.txt": b"", "/index.html": listing.encode(), "/r/hz.html": shell, "/r/sp.html": with_tables,
              "/f/P020240131.pdf": PDF, "/f/copy.pdf": PDF}
    with TestServer(routes) as s:
        sources = parse_sources(f'[[source]]\nname = "pdf"\nfamily = "generic"\nstart_urls = ["{s.url("/index.html")}"]\n'
                                "delay_s = 0\nallow_private = true\n")
        summary = nightly(sources, tmp_path, options=FetchOptions(timeout=2.0, attempts=2), do_export=False)
    assert summary.new == 2 and summary.attachments == 2
    con = open_warehouse(warehouse_path(tmp_path), read_only=True)
    try:
        rows = con.execute("SELECT agency, year, status, source_url FROM v_current_report ORDER BY year").fetchall()
        t3 = con.execute("SELECT value FROM v_cells WHERE agency = '洪泽区人民政府' AND table_code = 't3' "
                         "AND row_code = 'new_received' AND col_code = 'total'").fetchall()
    finally:
        con.close()
    assert [r[:3] for r in rows] == [("洪泽区人民政府", 2023, "ok"), ("平潭综合实验区苏平片区管理局", 2024, "ok")]
    assert rows[0][3].endswith("/r/hz.html") and t3 == [(21.0,)]


def test_a_zip_attachment_is_read_by_its_best_report_file():
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("说明.txt", "附件为年度报告。")
        z.writestr("洪泽区2023年报.pdf", PDF)
    result = parse_report(buf.getvalue(), "https://hz.example/files/nb.zip")
    assert result.status == "ok" and result.form == "pdf" and result.agency == "洪泽区人民政府"
    assert result.source == "https://hz.example/files/nb.zip" and any("inside the ZIP" in w for w in result.warnings)
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("说明.txt", "无")
    assert parse_report(empty.getvalue(), "nb.zip").status == "failed"


def test_pdfs_read_in_threads_at_once_read_as_one_at_a_time():
    """PDFium is not thread-safe; a Dask worker with several threads parses PDFs side by side."""
    from concurrent.futures import ThreadPoolExecutor

    alone = [line.text for line in read_pdf(PDF).lines]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: [line.text for line in read_pdf(PDF).lines], range(8)))
    assert all(r == alone for r in results)
