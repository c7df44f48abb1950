"""Layout variants seen in real reports, written from the seed report."""

from __future__ import annotations

from tests.conftest import REAL, cells_of

SEED = (REAL / "000.txt").read_text(encoding="utf-8")


def test_table_four_as_three_labelled_rows(parse):
    start, end = SEED.index("四、政府信息公开行政复议"), SEED.index("五、存在的主要问题")
    t4 = ("四、政府信息公开行政复议、行政诉讼情况\n项目\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计\n"
          "行政复议\t1\t0\t0\t0\t1\n行政诉讼（未经复议直接起诉）\t0\t2\t0\t0\t2\n行政诉讼（复议后起诉）\t0\t0\t0\t1\t1\n")
    r = parse(SEED[:start] + t4 + SEED[end:], "t4-rows.txt")
    got = cells_of(r)
    assert r.status == "ok"
    assert got[("t4", "review", "upheld")] == 1 and got[("t4", "suit_direct", "corrected")] == 2
    assert got[("t4", "suit_after_review", "pending")] == 1


def test_pipes_without_a_leading_pipe(parse):
    r = parse(SEED.replace("规章\t0\t0\t0", "规章 | 0 | 0 | 0").replace("行政许可\t0", "行政许可｜0｜"), "pipes.txt")
    assert r.status == "ok" and not r.warnings


def test_cells_with_notes_and_units(parse):
    text = SEED.replace("行政规范性文件\t0\t0\t4", "行政规范性文件\t0件\t0\t4（含修订1件）")
    r = parse(text, "notes.txt")
    assert cells_of(r)[("t2", "normative", "in_force")] == 4
    cell = next(c for c in r.cells if (c.row, c.col) == ("normative", "in_force"))
    assert cell.raw == "4（含修订1件）"


def test_title_with_the_year_after_the_subject(parse):
    title = "郑州市上街区科学技术和工业信息化局2022年政府信息公开工作年度报告"
    r = parse(SEED.replace(title, "郑州市上街区科学技术和工业信息化局政府信息公开工作2022年度报告", 1), "title.txt")
    assert (r.agency, r.year) == ("郑州市上街区科学技术和工业信息化局", 2022)


def test_broken_markup_is_read_as_a_browser_builds_it():
    """Cells straight under <table> (no <tr>), as broken WPS exports print them: lxml keeps them
    out of any row, html5lib (the browser's algorithm) gives them one; the page is read again."""
    import re

    from gongkai.devtools.reportgen import Options, generate
    from gongkai.transform.html_reader import read_html
    from gongkai.transform.parse import parse_report

    gen = generate(11, Options(), layout="2021")
    page = re.sub(r"</?tr>", "", gen.data.decode("utf-8"))
    fast = read_html(page)
    assert not any(line.grid for line in fast.lines)  # lxml: not one table row
    result = parse_report(page.encode("utf-8"), "broken.html")
    got = cells_of(result)
    assert result.status == "ok" and got == dict(gen.values)
