"""Excel reports: workbooks written by openpyxl from generated reports of both layouts (each
table on a sheet, header cells merged as Word and WPS users merge them) parse back exactly."""

from __future__ import annotations

import io

import lxml.html
import openpyxl
import pytest

from gongkai.devtools.reportgen import Options, generate
from gongkai.transform.parse import parse_report
from tests.conftest import cells_of, libreoffice_convert


def _workbook(gen) -> bytes:
    """The report's tables on one sheet, each HTML cell at its place, its spans merged."""
    root = lxml.html.fromstring(gen.data.decode("utf-8"))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.cell(1, 1, f"{gen.agency}{gen.year}年政府信息公开工作年度报告")
    at = 3
    for table in root.iter("table"):
        taken: set[tuple[int, int]] = set()
        rows = table.findall(".//tr")
        for r, tr in enumerate(rows):
            c = 0
            for td in tr.findall("td"):
                while (r, c) in taken:
                    c += 1
                rs, cs = int(td.get("rowspan", 1)), int(td.get("colspan", 1))
                text = " ".join(td.text_content().split())
                if text:
                    sheet.cell(at + r, c + 1, int(text) if text.lstrip("-").isdigit() else text)
                if rs > 1 or cs > 1:
                    sheet.merge_cells(start_row=at + r, start_column=c + 1, end_row=at + r + rs - 1,
                                      end_column=c + cs)
                taken.update((r + i, c + j) for i in range(rs) for j in range(cs))
                c += cs
        at += len(rows) + 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("seed,layout", [(21, "2019"), (22, "2021"), (23, "2021")])
def test_a_workbook_parses_back_exactly(seed, layout):
    gen = generate(seed, Options(form="html"), layout)
    result = parse_report(_workbook(gen), "https://portal.example/files/report")  # no extension
    assert result.form == "xlsx" and result.status == "ok", result.warnings
    assert result.agency == gen.agency and result.year == gen.year and result.layout == layout
    got = cells_of(result)
    assert {k: got.get(k) for k in gen.values} == {k: pytest.approx(v) for k, v in gen.values.items()}


def test_a_damaged_workbook_is_a_named_failure():
    gen = generate(21, Options(form="html"), "2019")
    data = _workbook(gen)
    result = parse_report(data[: len(data) // 2], "report.xlsx")
    assert result.status == "failed" and result.warnings


def _as_xls(xlsx: bytes, tmp_path) -> bytes:
    """The workbook saved as Excel 97–2003 by LibreOffice Calc (a real tool's .xls)."""

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "report.xlsx").write_bytes(xlsx)
    libreoffice_convert([tmp_path / "in" / "report.xlsx"], "xls", tmp_path / "out", tmp_path / "profile",
                        infilter=None, timeout=180)
    return (tmp_path / "out" / "report.xls").read_bytes()


@pytest.mark.parametrize("seed,layout", [(31, "2019"), (32, "2021")])
def test_an_excel_97_workbook_parses_back_exactly(seed, layout, tmp_path):
    """.xls (OLE2, as LibreOffice Calc writes it, merged header cells kept) is told from a .doc
    by its streams and read like a page."""
    gen = generate(seed, Options(form="html"), layout)
    data = _as_xls(_workbook(gen), tmp_path)
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    result = parse_report(data, "https://portal.example/files/report.xls")
    assert result.form == "xls" and result.status == "ok", result.warnings
    assert result.agency == gen.agency and result.year == gen.year and result.layout == layout
    got = cells_of(result)
    assert {k: got.get(k) for k in gen.values} == {k: pytest.approx(v) for k, v in gen.values.items()}
    damaged = parse_report(data[: len(data) // 3], "report.xls")
    assert damaged.status == "failed" and damaged.warnings
