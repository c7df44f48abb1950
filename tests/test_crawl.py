"""The crawl against the simulated portal (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from gongkai.devtools.simportal import SimPortal
from gongkai.extract.archive import RawArchive
from gongkai.extract.http import Fetcher, parse_retry_after
from gongkai.extract.netguard import AddressPolicy
from gongkai.extract.sources import parse_sources
from gongkai.flows.pipeline import FetchOptions, nightly, reparse
from gongkai.flows.warehouse import WarehouseError, open_warehouse, run_checks, warehouse_path

FAST = FetchOptions(timeout=1.0, attempts=4, backoff=0.05, backoff_max=0.2, retry_after_max=1.5)


def cells(data_dir: Path) -> list[tuple]:
    con = open_warehouse(warehouse_path(data_dir), read_only=True)
    try:
        return con.execute("SELECT agency, year, table_code, row_code, col_code, value, empty, raw "
                           "FROM v_cells ORDER BY ALL").fetchall()
    finally:
        con.close()


def query(data_dir: Path, sql: str) -> list[tuple]:
    con = open_warehouse(warehouse_path(data_dir), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    data = tmp_path_factory.mktemp("crawl")
    with SimPortal() as portal:
        sources = parse_sources(portal.sources_toml())
        first = nightly(sources, data, options=FAST)
        first_requests = portal.paths_requested()
        first_cells = cells(data)
        second = nightly(sources, data, options=FAST)
        second_requests = portal.paths_requested()[len(first_requests):]
        second_cells = cells(data)
        yield {"portal": portal, "data": data, "sources": sources, "first": first, "second": second,
               "first_requests": first_requests, "second_requests": second_requests,
               "first_cells": first_cells, "second_cells": second_cells}


def test_every_report_found_fetched_parsed_loaded_once(crawled):
    portal, data = crawled["portal"], crawled["data"]
    expected = len(portal.report_paths())
    first = crawled["first"]
    assert first.new == expected and first.changed == 0 and first.failed_parse == 0
    rows = query(data, "SELECT count(*), count(DISTINCT report_key), count(*) FILTER (status = 'ok') "
                       "FROM v_current_report")
    assert rows == [(expected, expected, expected)]
    urls = {r[0] for r in query(data, "SELECT source_url FROM v_current_report")}
    assert {portal.url(p) for p in portal.report_paths()} == urls
    assert run_checks(duckdb.connect(str(warehouse_path(data)), read_only=True)) == \
        dict.fromkeys(run_checks(duckdb.connect(str(warehouse_path(data)), read_only=True)), 0)


def test_generated_values_arrive_in_the_warehouse(crawled):
    portal, data = crawled["portal"], crawled["data"]
    report = portal.reports["hanweb"][2]
    got = query(data, f"SELECT count(*) FROM v_cells WHERE agency = '{report.agency}' AND year = {report.year}")
    assert got[0][0] in (198, 200)


def test_faults_are_retried_and_survived(crawled):
    portal, requests = crawled["portal"], crawled["first_requests"]
    assert requests.count(portal.reports["hanweb"][1].path) == 2  # 429 with Retry-After, then 200
    assert requests.count(portal.reports["trs"][3].path) == 3  # 503, 500, then 200
    assert requests.count(portal.reports["gkmlpt"][2].path) == 2  # connection reset, then 200
    assert requests.count(portal.reports["jhtml"][1].path) == 2  # too slow, then 200
    attempts = query(crawled["data"], "SELECT max(attempts) FROM fetch_log")
    assert attempts[0][0] >= 3


def test_robots_and_offsite_are_respected(crawled):
    requests = crawled["first_requests"] + crawled["second_requests"]
    assert not any(p.startswith("/generic/private/") for p in requests)
    assert requests.count("/robots.txt") == 2  # once per run
    errors = dict(query(crawled["data"], "SELECT url, error FROM fetch_log WHERE error IS NOT NULL AND run_id = "
                                         "(SELECT min(run_id) FROM crawl_run)"))
    offsite = [e for u, e in errors.items() if u.endswith("/generic/redirect-offsite")]
    assert offsite and "off-site host offsite.example" in offsite[0]
    assert any("robots.txt" in e for u, e in errors.items() if "/generic/private/" in u)
    assert any(u.endswith("missing.html") and "404" in e for u, e in errors.items())


def test_second_run_is_conditional_and_changes_nothing(crawled):
    first, second = crawled["first"], crawled["second"]
    assert second.new == 0 and second.changed == 0 and second.unchanged == first.new
    posts = query(crawled["data"], "SELECT count(*) FROM fetch_log WHERE method = 'POST' AND status_code = 200 "
                                   "AND run_id = (SELECT max(run_id) FROM crawl_run)")[0][0]
    assert posts >= 1  # Hanweb's data proxy is POSTed: no conditional request for those
    assert second.not_modified >= first.pages_fetched - posts - 1 and second.pages_fetched <= posts + 1
    assert second.bytes_transferred <= 0.05 * first.bytes_transferred
    assert crawled["second_cells"] == crawled["first_cells"]
    headers = [h for _, p, h in crawled["portal"].requests[len(crawled["first_requests"]):]
               if p in crawled["portal"].report_paths()]
    assert headers and all("If-None-Match" in h for h in headers)


def test_changed_report_becomes_a_new_version(crawled, tmp_path):
    portal, data, sources = crawled["portal"], crawled["data"], crawled["sources"]
    report = portal.reports["trs"][1]
    portal.change(report.path, lambda page: page.replace("</h1>", "</h1><p>（修订版）</p>", 1)
                  .replace("<td>0</td>", "<td>7</td>", 1))
    summary = nightly(sources, data, options=FAST, do_export=False)
    assert summary.changed == 1 and summary.new == 0
    versions = query(data, f"SELECT version, is_current FROM report WHERE source_url = '{portal.url(report.path)}' "
                           "ORDER BY version")
    assert versions == [(1, False), (2, True)]


def test_reparse_uses_the_archive_only(crawled):
    before = len(crawled["portal"].requests)
    summary = reparse(crawled["data"])
    assert len(crawled["portal"].requests) == before  # no network
    assert summary.reports_found >= len(crawled["portal"].report_paths())
    assert summary.new == summary.changed == 0


KILL_SCRIPT = """
import sys
from pathlib import Path
from gongkai.extract.sources import load_sources
from gongkai.flows.pipeline import FetchOptions, nightly
nightly(load_sources(Path(sys.argv[1])), Path(sys.argv[2]),
        options=FetchOptions(timeout=1.0, backoff=0.05, backoff_max=0.2, retry_after_max=1.5))
"""


def cells_hash(data_dir: Path) -> str:
    return query(data_dir, "SELECT md5(string_agg(concat_ws('|', agency, year, table_code, row_code, col_code, "
                           "value, empty, raw), chr(10) ORDER BY agency, year, table_code, row_code, col_code)) "
                           "FROM v_cells")[0][0]


def test_killed_at_random_points_then_rerun_equals_an_uninterrupted_run(tmp_path):
    """SIGKILL the crawl at several seeded random moments, each time resuming the same data
    directory; the final warehouse equals that of one uninterrupted run."""
    import random

    with SimPortal() as portal:
        sources_file = tmp_path / "sources.toml"
        sources_file.write_text(portal.sources_toml(delay_s=0.02, concurrency=1), encoding="utf-8")
        whole = tmp_path / "whole"
        nightly(parse_sources(sources_file.read_text(encoding="utf-8")), whole, options=FAST, do_export=False)
        expected = cells_hash(whole)
        total_requests = len(portal.requests)
        port = portal.server.server_address[1]  # later portals reuse it: the same URLs, so validators apply

    rng = random.Random(20261201)
    points = sorted(rng.sample(range(5, total_requests - 5), 3))
    killed = tmp_path / "killed"
    for point in points:
        with SimPortal(port=port) as portal:
            sources_file.write_text(portal.sources_toml(delay_s=0.02, concurrency=1), encoding="utf-8")
            proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(sources_file), str(killed)],
                                    start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while len(portal.requests) < point and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.005)
            assert proc.poll() is None, "the crawl finished before it could be interrupted"
            os.killpg(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
    with contextlib.suppress(WarehouseError):  # killed before the warehouse was even complete
        assert cells_hash(killed) != expected  # it really was cut short
    with SimPortal(port=port) as portal:
        sources_file.write_text(portal.sources_toml(delay_s=0.02, concurrency=1), encoding="utf-8")
        nightly(parse_sources(sources_file.read_text(encoding="utf-8")), killed, options=FAST, do_export=False)
        rerun_requests = portal.requests
    assert cells_hash(killed) == expected
    # the fetch log written as the crawl went survived the kills: the rerun asked conditionally
    assert sum(1 for _, _, h in rerun_requests if "If-None-Match" in h) > 0
    assert run_checks(duckdb.connect(str(warehouse_path(killed)), read_only=True)) == \
        dict.fromkeys(run_checks(duckdb.connect(str(warehouse_path(killed)), read_only=True)), 0)


def test_a_portal_no_test_saw(tmp_path):
    """A plain site with its own markup: reports in a table, pagination by 下一页, a PDF-only report."""
    pages = {
        "/xxgk/nb/list.htm": '<table><tr><td><a href="2023/a.htm">某某镇2023年政府信息公开工作年度报告</a></td>'
                             '<td>2024-01-20</td></tr><tr><td><a href="/xxgk/nb/files/b.pdf">某某镇2022年政府信息公开'
                             '工作年度报告</a></td></tr></table><a href="list_2.htm">下一页</a>',
        "/xxgk/nb/list_2.htm": '<a href="2021/c.htm" title="某某镇2021年政府信息公开工作年度报告">2021年报</a>',
        "/xxgk/nb/2023/a.htm": (crawled_page := Path(__file__).parent / "fixtures" / "real" / "047.html").read_text(
            encoding="utf-8"),
        "/xxgk/nb/2021/c.htm": (Path(__file__).parent / "fixtures" / "real" / "001.html").read_text(encoding="utf-8"),
        "/xxgk/nb/files/b.pdf": "%PDF-1.4 simulated",
    }
    assert crawled_page.exists()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):  # noqa: ANN002
            pass

        def do_GET(self):  # noqa: N802
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            data = (body or "not found").encode()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sources = parse_sources(f'[[source]]\nname = "town"\nfamily = "generic"\n'
                                f'start_urls = ["{base}/xxgk/nb/list.htm"]\ndelay_s = 0\nallow_private = true\n')
        summary = nightly(sources, tmp_path, options=FAST, do_export=False)
    finally:
        server.shutdown()
    assert summary.new == 2 and summary.attachments == 1 and summary.failed_parse == 1
    rows = query(tmp_path, "SELECT year, status, agency FROM v_current_report ORDER BY year")
    assert [r[:2] for r in rows] == [(2019, "ok"), (2022, "failed"), (2024, "ok")]
    assert rows[1][2] == "某某镇"  # a file that cannot be read keeps the list page's agency and year


def test_fetcher_caps_bodies_and_parses_retry_after(tmp_path):
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None

    async def go():
        with SimPortal() as portal:
            portal.pages["/big.html"] = portal.pages["/"].__class__(b"x" * 5000)
            async with Fetcher(RawArchive(tmp_path), policy=AddressPolicy(["127.0.0.1"]), max_bytes=1000,
                               backoff=0.01) as f:
                f.configure_host(portal.url("/")[7:-1], 2, 0)
                big = await f.fetch(portal.url("/big.html"), "report")
                ok = await f.fetch(portal.url("/"), "report")
            return big, ok

    big, ok = asyncio.run(go())
    assert big.sha256 is None and "exceeds the cap" in (big.error or "")
    assert ok.ok and ok.status_code == 200


def test_attachments_are_archived(crawled):
    portal, data = crawled["portal"], crawled["data"]
    pdf = portal.reports["trs"][2].attachment
    assert pdf and pdf in crawled["first_requests"]
    rows = query(data, f"SELECT kind, sha256 FROM fetch_log WHERE url = '{portal.url(pdf)}' AND sha256 IS NOT NULL")
    assert rows and rows[0][0] == "attachment"
    assert (RawArchive(data / "archive").get(rows[0][1])).startswith(b"%PDF")
    assert crawled["first"].attachments >= 1
