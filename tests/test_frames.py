"""The pandas API: parse_frame over local reports and read_view over the warehouse, with
integer counts (nullable Int64), float amounts and rates, and clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

import gongkai
from gongkai.flows.frames import ViewError
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from gongkai.transform.parse import parse_report
import json

from tests.conftest import REAL

FILES = ["047.html", "001.html", "000.txt"]


@pytest.fixture(scope="module")
def warehouse_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("frames")
    con = open_warehouse(warehouse_path(data))
    Loader(con).load([Incoming(parse_report((REAL / f).read_bytes(), str(REAL / f))) for f in FILES])
    con.close()
    return data


def test_parse_frame_gives_tidy_typed_cells_of_local_reports(tmp_path):
    frame = gongkai.parse_frame([REAL / f for f in FILES])
    assert list(frame.columns) == ["agency", "year", "layout", "table_code", "row_code", "col_code", "value",
                                   "empty", "raw", "source", "status"]
    assert str(frame["year"].dtype) == "Int64"
    one = frame[frame["source"] == str(REAL / "047.html")]
    expected = json.loads((REAL / "047.expected.json").read_text(encoding="utf-8"))["cells"]
    got = {(t, r, c): v for t, r, c, v in one[["table_code", "row_code", "col_code", "value"]].itertuples(
        index=False)}
    want = {(t, r, c): v for t, rows in expected.items() for r, cols in rows.items() for c, v in cols.items()}
    assert got == want
    assert set(frame["status"]) <= {"ok", "partial"}


def test_whole_numbers_are_integers_and_a_fractional_amount_keeps_floats():
    frame = gongkai.parse_frame(REAL / "047.html")
    assert str(frame["value"].dtype) == "Int64"
    frames = [gongkai.parse_frame(REAL / f) for f in sorted(p.name for p in REAL.iterdir() if p.suffix == ".html")]
    fractional = [f for f in frames if str(f["value"].dtype) == "float64"]
    for f in fractional:  # only a 万元 amount with a fraction turns a frame to floats
        whole = f["value"].dropna() == f["value"].dropna().round()
        assert set(f.loc[f["value"].notna()][~whole.values]["col_code"]) <= {"amount", "procurement_amount"}


def test_parse_frame_keeps_a_report_that_could_not_be_read(tmp_path):
    bad = tmp_path / "notes.html"
    bad.write_text("<html><body>no report here</body></html>", encoding="utf-8")
    frame = gongkai.parse_frame([bad])
    assert len(frame) == 1 and frame["status"].iloc[0] == "failed" and pd.isna(frame["table_code"].iloc[0])


def test_read_view_filters_and_types(warehouse_dir):
    cells = gongkai.read_view("v_cells", data_dir=warehouse_dir, table_code="t3", col_code="total")
    assert len(cells) and set(cells["table_code"]) == {"t3"}
    assert str(cells["value"].dtype) == "Int64" and str(cells["year"].dtype) == "Int64"
    summary = gongkai.read_view("v_summary", data_dir=warehouse_dir, year=[2019, 2020, 2021, 2022, 2023])
    assert str(summary["applications_received"].dtype) == "Int64"
    rates = [c for c in summary.columns if "rate" in c]
    assert rates and all(pd.api.types.is_float_dtype(summary[c]) for c in rates)


def test_read_view_says_what_exists(warehouse_dir):
    with pytest.raises(ViewError, match="v_cells"):
        gongkai.read_view("cell; DROP TABLE cell", data_dir=warehouse_dir)
    with pytest.raises(ViewError, match="columns are: agency"):
        gongkai.read_view("v_cells", data_dir=warehouse_dir, **{"1=1 OR year": 2})
