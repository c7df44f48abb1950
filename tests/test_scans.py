"""Scanned reports read by OCR (RapidOCR, models inside its wheel). The scans are made here:
generated reports of both layouts converted to PDF by LibreOffice, then every page rendered to
an image and saved as an image-only PDF or a TIFF (nothing of the text layer is left); and the
real 101.pdf scanned the same way. Every value read is exact or left out, never wrong; and
what OCR reads counts only where the tables' rules confirm it."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai.devtools.reportgen import Options, generate
from gongkai.devtools.scans import image_only_pdf, page_images, skewed_pdf, tiff_of
from gongkai.transform import scan_reader
from gongkai.transform.codebook import T3_COLUMNS, T4_COLUMNS, t3_rows
from gongkai.transform.confirm import confirmed
from gongkai.transform.document import Origin
from gongkai.transform.models import CellValue
from gongkai.transform.parse import parse_report
from gongkai.transform.rules import run_rules
from tests.conftest import REAL, cells_of, libreoffice_convert

SEEDS = {31: "2019", 32: "2021"}


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, tuple[dict, str, int, bytes]]:
    """Generated reports as LibreOffice PDFs, scanned; and 101.pdf scanned."""
    folder = tmp_path_factory.mktemp("scans")
    values: dict[str, tuple[dict, str, int]] = {}
    for seed, layout in SEEDS.items():
        gen = generate(seed, Options(form="html"), layout)
        (folder / f"gen{seed}.html").write_bytes(gen.data)
        values[f"gen{seed}"] = (dict(gen.values), gen.agency, gen.year)
    libreoffice_convert(sorted(folder.glob("*.html")), "pdf:writer_pdf_Export", folder, folder / "profile")
    out = {name: (*vals, image_only_pdf((folder / f"{name}.pdf").read_bytes())) for name, vals in values.items()}
    exp = json.loads((REAL / "101.expected.json").read_text(encoding="utf-8"))
    cells = {(t, r, c): v for t, rows in exp["cells"].items() for r, cols in rows.items() for c, v in cols.items()}
    out["101"] = (cells, exp["agency"], exp["year"], image_only_pdf((REAL / "101.pdf").read_bytes()))
    out["gen32.tiff"] = (*values["gen32"], tiff_of((folder / "gen32.pdf").read_bytes()))
    out["gen31.skewed"] = (*values["gen31"], skewed_pdf((folder / "gen31.pdf").read_bytes(), (1.5, -2.0)))
    return out


@pytest.fixture(scope="module")
def read(scans) -> dict[str, object]:
    return {name: parse_report(scan[3], f"https://portal.example/files/{name}.bin") for name, scan in scans.items()}


def test_generated_scans_are_read_exactly_or_left_out_never_wrong(scans, read):
    exact = total = 0
    for name in ("gen31", "gen32", "gen32.tiff", "gen31.skewed"):
        cells, agency, year = scans[name][:3]
        result = read[name]
        assert result.form == "scan" and result.year == year and agency in (result.agency or ""), result.warnings
        got = cells_of(result)
        assert {k: v for k, v in got.items() if cells.get(k) != v} == {}  # none wrong
        assert set(got) | {tuple(u.split(".")) for u in result.uncertain} >= set(cells)  # none lost silently
        exact += sum(1 for k in cells if got.get(k) == cells[k])
        total += len(cells)
        assert all(c["ocr"] is True for c in result.as_dict()["cells"])
    assert exact >= 0.95 * total, f"{exact} of {total} cells exact"


@pytest.mark.parametrize("angle", [0.4, -1.0, 2.5, -4.5])
def test_the_skew_of_a_page_laid_askew_is_found(angle):
    """Pages of the real 101.pdf, turned as on a scanner's glass: the skew is measured within
    0.15°, and the page put straight measures as straight (a page already straight is left)."""
    import numpy as np
    from PIL import Image

    for page in page_images((REAL / "101.pdf").read_bytes())[1:3]:
        assert scan_reader.skew_of(np.asarray(page)) == 0.0
        turned = np.asarray(page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255))
        assert abs(scan_reader.skew_of(turned) - angle) <= 0.15
        assert abs(scan_reader.skew_of(scan_reader.straightened(turned))) <= 0.1


def test_the_real_pdf_scanned_gives_no_wrong_number(scans, read):
    """101.pdf prints table 四 totals that do not add up (10 + 1 + 0 + 0 ≠ 0): OCR cannot be
    confirmed there, so those rows are left out; every other cell is confirmed and exact."""
    cells, agency, year = scans["101"][:3]
    result = read["101"]
    assert result.form == "scan" and result.agency == agency and result.year == year
    got = cells_of(result)
    assert {k: v for k, v in got.items() if cells.get(k) != v} == {}
    confirmable = {k for k in cells if k[0] != "t4" or k[1] not in ("review", "suit_after_review")}
    assert sum(1 for k in confirmable if got.get(k) == cells[k]) >= 0.95 * len(confirmable)
    assert any("rules do not confirm" in w for w in result.warnings)
    pages = {c.origin.page for c in result.cells if c.origin is not None}
    assert pages >= {2, 3, 4}  # provenance: the page each value was read on


def test_a_scan_without_the_ocr_extra_is_a_named_failure(scans, monkeypatch):
    monkeypatch.setattr(scan_reader, "ocr_available", lambda: False)  # the edge: gongkai without [ocr]
    result = parse_report(scans["gen31"][3], "scan.pdf")
    assert result.status == "failed" and result.warnings == [scan_reader.NOT_INSTALLED]
    assert "install gongkai[ocr]" in scan_reader.NOT_INSTALLED


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + b"\0" * 50, b"\xff\xd8\xff" + b"\x01" * 80])
def test_a_damaged_image_is_a_named_failure(data):
    result = parse_report(data, "scan.png")
    assert result.status == "failed" and any("damaged image" in w for w in result.warnings), result.warnings


def test_a_blank_page_is_a_named_failure():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (600, 800), 255).save(buf, "PNG")
    result = parse_report(buf.getvalue(), "blank.png")
    assert result.status == "failed" and any("OCR found no text" in w for w in result.warnings), result.warnings


# --- confirmation by the rules, as a plain function ------------------------------------------

def _report_cells(seed: int, layout: str) -> list[CellValue]:
    gen = generate(seed, Options(form="html"), layout)
    return [CellValue(t, r, c, v, str(v), False) for (t, r, c), v in gen.values.items()]


def _misread(cells: list[CellValue], where: list[int], by: list[int]) -> list[CellValue]:
    out = list(cells)
    for i, delta in zip(where, by):
        out[i] = out[i]._replace(value=out[i].value + delta)
    return out


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), layout=st.sampled_from(["2019", "2021"]), data=st.data())
def test_up_to_two_misread_cells_of_table_three_are_never_kept(seed, layout, data):
    cells = _report_cells(seed, layout)
    assert not [c for c in run_rules(cells, layout) if c.status == "fail"]  # a consistent report to start from
    t3 = [i for i, c in enumerate(cells) if c.table == "t3"]
    k = data.draw(st.integers(1, 2))
    where = data.draw(st.lists(st.sampled_from(t3), min_size=k, max_size=k, unique=True))
    by = data.draw(st.lists(st.integers(-50, 50).filter(bool), min_size=k, max_size=k))
    seen = _misread(cells, where, by)
    kept, left = confirmed(seen, run_rules(seen, layout), set())
    wrong = {(c.table, c.row, c.col) for i, c in enumerate(seen) if i in where}
    assert not wrong & {(c.table, c.row, c.col) for c in kept}
    assert len(kept) + len(left) == len(seen)
    assert len(left) <= k * (len(T3_COLUMNS) + len(t3_rows(layout, False)))  # at most its row and its column


def test_one_misread_cell_costs_only_where_its_row_and_column_cross():
    cells = _report_cells(7, "2021")
    i = next(k for k, c in enumerate(cells) if (c.table, c.row, c.col) == ("t3", "granted", "commercial"))
    seen = _misread(cells, [i], [3])
    kept, left = confirmed(seen, run_rules(seen, "2021"), set())
    assert left == ["t3.granted.commercial"]
    assert len(kept) == len(cells) - 1


def test_a_misread_in_table_four_costs_its_row_and_table_two_keeps_only_sure_cells():
    cells = _report_cells(8, "2021")
    i = next(k for k, c in enumerate(cells) if (c.table, c.row, c.col) == ("t4", "review", "upheld"))
    cells = [c._replace(origin=Origin(None, n, 1)) for n, c in enumerate(cells)]
    t2 = next(k for k, c in enumerate(cells) if c.table == "t2")
    seen = _misread(cells, [i], [1])
    kept, left = confirmed(seen, run_rules(seen, "2021"), {(t2, 1)})
    assert sorted(left) == sorted([f"t4.review.{c}" for c in T4_COLUMNS] + [f"t2.{cells[t2].row}.{cells[t2].col}"])


def test_number_lookalikes_are_read_as_digits_and_marked_unsure():
    assert scan_reader._as_number("1o") == "10" and scan_reader._as_number("l2") == "12"
    assert scan_reader._as_number("25") is None and scan_reader._as_number("予以公开") is None


def test_the_warehouse_marks_what_ocr_read(tmp_path, read):
    from gongkai.flows.loader import Incoming, Loader
    from gongkai.flows.warehouse import open_warehouse, warehouse_path

    con = open_warehouse(warehouse_path(tmp_path))
    try:
        Loader(con).load([Incoming(read["gen31"]), Incoming(parse_report((REAL / "101.pdf").read_bytes(), "101.pdf"))])
        counts = {agency: (ocr, n) for agency, ocr, n in con.execute(
            "SELECT agency, count(*) FILTER (ocr), count(*) FROM v_cells GROUP BY agency").fetchall()}
    finally:
        con.close()
    scanned, text_layer = counts[read["gen31"].agency], counts["洪泽区人民政府"]
    assert scanned[0] == scanned[1] > 0 and text_layer[0] == 0 < text_layer[1]
