"""One current version per report, by a stated rule (ok beats partial beats failed; among
equals the latest content seen), whatever order and batches the versions arrive in."""

from __future__ import annotations

import dataclasses

import pytest

from gongkai.devtools.reportgen import Options, generate
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import open_warehouse, run_checks, warehouse_path
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


def _named(seed: int, agency: str, year: int = YEAR, source: str | None = None):
    gen = generate(seed, Options(form="html"), "2021", agency=agency, year=year)
    result = parse_report(gen.data, source or f"https://portal.example/{agency}/{seed}.html")
    assert result.agency == agency
    return result


def _reports(con) -> list[tuple]:
    return con.execute("SELECT a.name, r.year, r.is_current FROM report r JOIN agency a USING (agency_id) "
                       "ORDER BY r.report_id").fetchall()


def test_a_parser_that_names_the_agency_with_its_city_keeps_one_agency(con):
    """上街区… then 郑州市上街区… (a parser change reads more of the title): one agency, one
    current report for the year — the same place and the same name without its places."""
    Loader(con).load([Incoming(_named(1, "上街区科学技术和工业信息化局"))])
    Loader(con).load([Incoming(_named(2, "郑州市上街区科学技术和工业信息化局"))])
    assert con.execute("SELECT count(*) FROM agency").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM report WHERE is_current").fetchone() == (1,)
    assert run_checks(con) == dict.fromkeys(run_checks(con), 0)


def test_the_same_bytes_read_under_another_name_are_one_report(con):
    """A parser change that names the agency differently (not only by its places): the newer
    reading of the same bytes is current, the older one is not current under its old name."""
    first = _named(1, "某某县交通运输局")
    renamed = dataclasses.replace(first, agency="某某县交通运输局办公室", output_sha256=None)
    Loader(con).load([Incoming(first)])
    Loader(con).load([Incoming(renamed)])
    assert con.execute("SELECT count(*) FROM report WHERE is_current").fetchone() == (1,)
    assert con.execute("SELECT a.name FROM report r JOIN agency a USING (agency_id) WHERE r.is_current"
                       ).fetchone() == ("某某县交通运输局办公室",)
    assert run_checks(con) == dict.fromkeys(run_checks(con), 0)


def test_namesakes_of_two_districts_are_two_agencies(con):
    """Two districts' 区科工信局, told apart by their sources' owners: the second never
    replaces the first."""
    a = _named(1, "区科工信局", 2022, "https://a.example/1.html")
    b = _named(2, "区科工信局", 2022, "https://b.example/2.html")
    Loader(con).load([Incoming(a, place="郑州市上街区人民政府"), Incoming(b, place="郑州市中原区人民政府")])
    rows = con.execute("SELECT a.county, r.is_current FROM report r JOIN agency a USING (agency_id) "
                       "ORDER BY r.report_id").fetchall()
    assert rows == [("上街区", True), ("中原区", True)]
    assert run_checks(con) == dict.fromkeys(run_checks(con), 0)


def test_an_alias_leaves_one_current_report_per_year(con):
    """After `gongkai alias OLD NEW`, the old name's report and the new name's report of one
    year are one report: one current (before, 70 and 23 applications were both current)."""
    from gongkai.flows.aliases import add_alias

    Loader(con).load([Incoming(_named(1, "某某县科技局")), Incoming(_named(2, "某某县科学技术局"))])
    assert con.execute("SELECT count(*) FROM report WHERE is_current").fetchone() == (2,)
    assert add_alias(con, "某某县科技局", "某某县科学技术局") == 1
    assert con.execute("SELECT count(*) FROM report WHERE is_current").fetchone() == (1,)
    assert con.execute("SELECT count(DISTINCT agency_id) FROM report").fetchone() == (1,)
    # a later report under the old name goes to the new agency
    Loader(con).load([Incoming(_named(3, "某某县科技局", YEAR + 1))])
    assert con.execute("SELECT count(DISTINCT agency_id) FROM report").fetchone() == (1,)
    assert run_checks(con) == dict.fromkeys(run_checks(con), 0)


def test_an_alias_between_namesakes_is_refused(con):
    from gongkai.flows.aliases import AliasError, add_alias

    Loader(con).load([Incoming(_named(1, "区科工信局"), place="郑州市上街区人民政府"),
                      Incoming(_named(2, "区科工信局"), place="郑州市中原区人民政府"),
                      Incoming(_named(3, "某某县科学技术局"))])
    with pytest.raises(AliasError, match="2 agencies are named"):
        add_alias(con, "区科工信局", "某某县科学技术局")


def test_a_warehouse_of_name_keys_is_upgraded_to_one_report_per_agency_and_year(tmp_path):
    """A schema-3 warehouse (report keys by name, one agency per printed name) opened by this
    gongkai: keys by agency id, identities filled, agencies that are one merged (their names
    kept as aliases), one current version per report, every check at zero."""
    import duckdb

    from gongkai.flows.warehouse import migrations
    from gongkai.paths import SQL_DIR

    path = warehouse_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = duckdb.connect(str(path))
    old.execute((SQL_DIR / "schema_version.sql").read_text(encoding="utf-8"))
    for version, file in migrations():
        if version <= 3:
            old.execute(file.read_text(encoding="utf-8"))
            old.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, file.stem])
    for aid, name, city in ((1, "上街区科学技术和工业信息化局", None), (2, "郑州市上街区科学技术和工业信息化局", "郑州市")):
        old.execute("INSERT INTO agency (agency_id, name, name_norm, province, city, county, province_code, city_code, "
                    "county_code, level) VALUES (?, ?, ?, '河南省', ?, '上街区', '410000', ?, '410106', 'department')",
                    [aid, name, name, city, city and "410100"])
        old.execute("INSERT INTO report (report_id, report_key, version, is_current, agency_id, year, source_url, "
                    "content_sha256, output_sha256, parser_version, status, loaded_at) VALUES "
                    "(?, ?, 1, true, ?, 2022, ?, ?, ?, '1', 'ok', now()::TIMESTAMP + (? * INTERVAL 1 MINUTE))",
                    [aid, f"{name}|2022", aid, f"u{aid}", f"c{aid}", f"o{aid}", aid])
    # an old warehouse has views over the agency table the upgrade rebuilds
    old.execute("CREATE VIEW v_old AS SELECT a.name, r.year FROM report r JOIN agency a USING (agency_id)")
    old.close()
    con = open_warehouse(path)
    try:
        assert con.execute("SELECT DISTINCT report_key FROM report").fetchall() == [("agency:1|2022",)]
        assert con.execute("SELECT report_id FROM report WHERE is_current").fetchall() == [(2,)]  # the later
        assert con.execute("SELECT agency_id, identity FROM agency").fetchall() == [(1, "410106|科学技术和工业信息化局")]
        assert con.execute("SELECT alias, agency_id FROM agency_alias").fetchall() == [
            ("郑州市上街区科学技术和工业信息化局", 1)]
        assert run_checks(con) == dict.fromkeys(run_checks(con), 0)
    finally:
        con.close()


def test_a_reparse_places_namesakes_where_they_were_loaded(con, tmp_path):
    """Re-parsing knows no sources: the place each report was loaded with (its source's owner)
    comes from the warehouse, so a new reading of two districts' 区科工信局 stays two agencies."""
    from gongkai.flows.parts import part_of, write_part
    from gongkai.flows.pipeline import _Loading, known_places
    from gongkai.flows.summary import RunSummary

    a = _named(1, "区科工信局", 2022, "https://a.example/1.html")
    b = _named(2, "区科工信局", 2022, "https://b.example/2.html")
    Loader(con).load([Incoming(a, source_url=a.source, place="郑州市上街区人民政府"),
                      Incoming(b, source_url=b.source, place="郑州市中原区人民政府")])
    places = known_places(con)
    assert places == {a.source: "郑州市上街区人民政府", b.source: "郑州市中原区人民政府"}
    reread = [dataclasses.replace(r, output_sha256=None, warnings=[*r.warnings, "a newer parser"]) for r in (a, b)]
    loading = _Loading(con, RunSummary(run_id="t", flow="reparse"), None, places=places)
    part = write_part(part_of(Incoming(r, source_url=r.source) for r in reread), str(tmp_path / "parts"))
    assert loading.load(part, 2).changed == 2
    assert not any((tmp_path / "parts").iterdir())  # the loaded part is removed
    rows = con.execute("SELECT a.county, count(*) FILTER (r.is_current) FROM report r JOIN agency a USING "
                       "(agency_id) GROUP BY ALL ORDER BY 1").fetchall()
    assert rows == [("上街区", 1), ("中原区", 1)]
    assert run_checks(con) == dict.fromkeys(run_checks(con), 0)


def test_results_without_a_content_hash_are_not_one_report(con):
    """Results made elsewhere (no sha256 of bytes) are never taken for the same bytes."""
    a = dataclasses.replace(_named(1, "某某县交通运输局"), sha256=None, output_sha256=None)
    b = dataclasses.replace(_named(2, "某某县民政局"), sha256=None, output_sha256=None)
    Loader(con).load([Incoming(a)])
    Loader(con).load([Incoming(b)])
    assert con.execute("SELECT count(*) FROM report WHERE is_current").fetchone() == (2,)
    assert run_checks(con) == dict.fromkeys(run_checks(con), 0)
