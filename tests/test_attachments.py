"""Reports published as files, made by a real tool: LibreOffice converts real corpus pages and
generated reports of both layouts (HTML → DOCX, DOC, PDF in Writer, XLSX in Calc); each file,
read by its content, gives every cell exactly. Without LibreOffice a .doc is a named failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gongkai.devtools.reportgen import Options, generate
from gongkai.transform import filekinds
from gongkai.transform.parse import parse_report
from tests.conftest import REAL, cells_of, libreoffice_convert

CORPUS = ["047", "001", "046", "051"]
FORMATS = {"docx": "docx:MS Word 2007 XML", "doc": "doc:MS Word 97", "pdf": "pdf:writer_pdf_Export",
           "xlsx": "xlsx:Calc MS Excel 2007 XML"}
IMPORTED_BY = {"xlsx": "HTML (StarCalc)"}  # the page opened in Calc (its tables laid on one sheet's grid)


def _expected(name: str) -> tuple[dict, str, int]:
    exp = json.loads((REAL / f"{name}.expected.json").read_text(encoding="utf-8"))
    cells = {(t, r, c): v for t, rows in exp["cells"].items() for r, cols in rows.items() for c, v in cols.items()}
    return cells, exp["agency"], exp["year"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, tuple[dict, str, int, dict[str, Path]]]:
    """Each report as every format, converted by LibreOffice (one call per format)."""
    folder = tmp_path_factory.mktemp("attachments")
    reports: dict[str, tuple[dict, str, int]] = {}
    for name in CORPUS:
        (folder / f"{name}.html").write_bytes((REAL / f"{name}.html").read_bytes())
        reports[name] = _expected(name)
    for seed, layout in ((11, "2019"), (12, "2021")):
        gen = generate(seed, Options(form="html"), layout)
        (folder / f"gen{seed}.html").write_bytes(gen.data)
        reports[f"gen{seed}"] = (dict(gen.values), gen.agency, gen.year)
    inputs = sorted(folder.glob("*.html"))
    for fmt, target in FORMATS.items():
        libreoffice_convert(inputs, target, folder / fmt, folder / "profile",
                            infilter=IMPORTED_BY.get(fmt, "HTML (StarWriter)"))
    return {name: (*exp, {fmt: folder / fmt / f"{name}.{fmt}" for fmt in FORMATS}) for name, exp in reports.items()}


# LibreOffice lays 001's wide table 三 out wider than an A4 page: the PDF itself lacks the cut
# columns, so there the reader must leave those cells out (partial) and give no wrong number.
CUT_BY_THE_CONVERTER = {("001", "pdf")}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("name", [*CORPUS, "gen11", "gen12"])
def test_every_cell_of_a_converted_report_is_exact(converted, name, fmt):
    cells, agency, year = converted[name][:3]
    path = converted[name][3][fmt]
    result = parse_report(path.read_bytes(), f"https://portal.example/files/{name}.bin")  # a name that says nothing
    assert result.form == fmt and result.year == year and agency in (result.agency or "")
    got = cells_of(result)
    if (name, fmt) in CUT_BY_THE_CONVERTER:
        assert result.status == "partial" and got and all(cells[k] == v for k, v in got.items())
        return
    assert result.status == "ok", result.warnings
    assert {k: got.get(k) for k in cells} == cells


def test_a_doc_without_libreoffice_is_a_named_failure(converted, monkeypatch):
    monkeypatch.setattr(filekinds, "soffice", lambda: None)  # the edge: a machine without LibreOffice
    result = parse_report(converted["047"][3]["doc"].read_bytes(), "report.doc")
    assert result.status == "failed" and any("needs LibreOffice" in w for w in result.warnings)


@pytest.mark.parametrize("data,words", [
    (b"PK\x03\x04" + b"\0" * 100, "ZIP archive"), (b"Rar!\x1a\x07\x00" + b"\0" * 50, "RAR"),
])
def test_other_files_are_named_failures(data, words):
    result = parse_report(data, "attachment.bin")
    assert result.status == "failed" and any(words.lower() in w.lower() for w in result.warnings), result.warnings


TEXT_REPORTS = ["004", "010", "018", "028", "036", "040"]  # glued digits, spaced digits, one line or many


@pytest.fixture(scope="module")
def text_pdfs(tmp_path_factory) -> dict[str, bytes]:
    """Text reports of the corpus printed as PDFs by LibreOffice: the page's width wraps their
    long lines, cutting labels and runs of digits at the right margin."""
    folder = tmp_path_factory.mktemp("text-pdfs")
    for name in TEXT_REPORTS:
        (folder / f"{name}.txt").write_bytes((REAL / f"{name}.txt").read_bytes())
    libreoffice_convert(sorted(folder.glob("*.txt")), "pdf:writer_pdf_Export", folder / "pdf", folder / "profile",
                        infilter=None)
    return {name: (folder / "pdf" / f"{name}.pdf").read_bytes() for name in TEXT_REPORTS}


@pytest.mark.parametrize("name", TEXT_REPORTS)
def test_a_text_report_printed_as_a_pdf_reads_as_the_text_itself(text_pdfs, name):
    """Before the wrapped lines were put back together, these gave 4–12 wrong numbers each."""
    text = parse_report((REAL / f"{name}.txt").read_bytes(), f"{name}.txt")
    pdf = parse_report(text_pdfs[name], f"https://portal.example/files/{name}.bin")
    assert pdf.form == "pdf" and (pdf.agency, pdf.year) == (text.agency, text.year)
    assert cells_of(pdf) == cells_of(text) and len(cells_of(text)) > 150
