"""One current version per report, by a stated rule (ok beats partial beats failed; among
equals the latest content seen), whatever order and batches the versions arrive in."""

from __future__ import annotations

import dataclasses

import pytest

from gongkai.devtools.reportgen import Options, generate
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from gongkai.transform.parse import parse_report

AGENCY, YEAR = "某某县某某局", 2023


def _report(seed: int, status: str | None = None):
    gen = generate(seed, Options(form="html"), "2021", agency=AGENCY, year=YEAR)
    result = parse_report(gen.data, f"https://portal.example/{seed}.html")
    assert result.status == "ok" and result.agency == AGENCY
    if status is not None:
        result = dataclasses.replace(result, status=status, output_sha256=None)
    return result


@pytest.fixture
def con(tmp_path):
    con = open_warehouse(warehouse_path(tmp_path))
    yield con
    con.close()


def _current(con) -> list[tuple[str, str]]:
    return con.execute("SELECT content_sha256, status FROM report WHERE is_current ORDER BY report_id").fetchall()


def test_two_versions_in_one_batch_leave_one_current(con):
    a, b = _report(1), _report(2)
    Loader(con).load([Incoming(a), Incoming(b)])
    assert _current(con) == [(b.sha256, "ok")]  # the later of the two
    assert con.execute("SELECT count(*) FROM report").fetchone() == (2,)


def test_content_a_then_b_then_a_leaves_a_current(con):
    a, b = _report(1), _report(2)
    for result in (a, b, a):
        Loader(con).load([Incoming(result)])
    assert _current(con) == [(a.sha256, "ok")]
    assert con.execute("SELECT count(*) FROM report").fetchone() == (2,)  # A is not stored twice


def test_a_partial_reading_never_replaces_an_ok_one(con):
    ok, partial = _report(1), _report(2, status="partial")
    Loader(con).load([Incoming(ok)])
    Loader(con).load([Incoming(partial)])
    assert _current(con) == [(ok.sha256, "ok")]
    better = _report(3)
    Loader(con).load([Incoming(better)])
    assert _current(con) == [(better.sha256, "ok")]


def test_a_failure_is_no_longer_current_once_the_source_parses(con):
    source = "https://portal.example/report.html"
    broken = parse_report(b"<html><body>502 Bad Gateway</body></html>", source)
    assert broken.status == "failed"
    Loader(con).load([Incoming(broken)])
    fixed = dataclasses.replace(_report(1), source=source)
    Loader(con).load([Incoming(fixed)])
    assert _current(con) == [(fixed.sha256, "ok")]
    quality = con.execute("SELECT count(*) FROM v_data_quality WHERE status = 'failed'").fetchone()
    assert quality == (0,)


def test_every_order_and_batching_gives_the_same_current(tmp_path):
    a, b, partial = _report(1), _report(2), _report(3, status="partial")
    outcomes = set()
    for n, batches in enumerate(([[a, b, partial]], [[a], [b], [partial]], [[partial, a], [b]], [[a, partial, b]])):
        c = open_warehouse(warehouse_path(tmp_path / str(n)))
        try:
            for batch in batches:
                Loader(c).load([Incoming(r) for r in batch])
            outcomes.add(tuple(_current(c)))
        finally:
            c.close()
    assert outcomes == {((b.sha256, "ok"),)}
