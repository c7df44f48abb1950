"""Excel reports: workbooks written by openpyxl from generated reports of both layouts (each
table on a sheet, header cells merged as Word and WPS users merge them) parse back exactly."""

from __future__ import annotations

import io

import lxml.html
import openpyxl
import pytest

from gongkai.devtools.reportgen import Options, generate
from gongkai.transform.parse import parse_report
from tests.conftest import cells_of


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
