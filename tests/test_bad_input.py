"""Bad input gets a clear result with a reason, never a traceback."""

from __future__ import annotations

import time

from tests.conftest import REAL


def test_empty_file(parse):
    r = parse(b"", "empty.html")
    assert r.status == "failed" and r.warnings == ["empty document"]


def test_whitespace_only(parse):
    assert parse(b"  \n\t ", "blank.txt").status == "failed"


def test_not_a_report(parse):
    r = parse("<html><body><h1>通知公告</h1><p>今天天气很好。</p></body></html>", "news.html")
    assert r.status == "failed"
    assert r.warnings[0].startswith("not a report")


def test_attachment_only_page(parse):
    r = parse((REAL / "045.html").read_bytes(), "045.html")
    assert r.status == "failed"
    assert "no report content" in r.warnings[0]
    assert r.cells == [] and r.agency == "平潭综合实验区公安局"


def test_table_three_missing(parse):
    text = (REAL / "000.txt").read_text(encoding="utf-8")
    start = text.index("三、收到和处理政府信息公开申请情况")
    end = text.index("四、政府信息公开行政复议")
    r = parse(text[:start] + text[end:], "no-t3.txt")
    assert r.status == "partial"
    assert any("table 三 not found" in w for w in r.warnings)
    assert {c.table for c in r.cells} == {"t2", "t4"}
    # rules on table 三 are skipped, never computed from missing cells
    assert all(c.status == "skip" for c in r.checks if c.rule.startswith("t3_"))


def test_binary_file(parse):
    r = parse(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "report.pdf")
    assert r.status == "failed" and "PDF" in r.warnings[0]


def test_random_bytes(parse):
    r = parse(bytes(range(256)) * 40, "noise.bin")
    assert r.status == "failed"


def test_fifty_megabyte_page(parse):
    filler = "<p>" + "政务公开工作持续推进。" * 40 + "</p>\n"
    body = filler * (50 * 1024 * 1024 // len(filler.encode()))
    data = f"<html><head><title>某单位2023年政府信息公开工作年度报告</title></head><body>{body}</body></html>".encode()
    assert len(data) >= 50 * 1024 * 1024 - 2048
    t0 = time.perf_counter()
    r = parse(data, "huge.html")
    assert r.status == "failed" and "no statistical tables" in r.warnings[0]
    assert time.perf_counter() - t0 < 120  # a sanity bound against a hang, not a speed goal


def test_unknown_row_label_is_a_warning(parse):
    text = (REAL / "000.txt").read_text(encoding="utf-8").replace("行政许可\t0", "行政许可\t甲")
    r = parse(text, "bad-cell.txt")
    assert r.status == "partial"
    assert any("licensing" in w for w in r.warnings)


def test_year_in_chinese_numerals(parse):
    text = (REAL / "000.txt").read_text(encoding="utf-8").replace("2022年政府信息公开", "二〇二二年政府信息公开", 1)
    r = parse(text, "cn-year.txt")
    assert (r.agency, r.year, r.status) == ("郑州市上街区科学技术和工业信息化局", 2022, "ok")
    assert "二〇二二年" in r.title
