"""The summary an operator acts on: per source what was found and loaded, the change against
the last run (a portal that suddenly lists nothing is called out), and a run-wide deadline that
ends a stuck crawl with what it has."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

from gongkai.extract.http import FetchOptions
from gongkai.extract.sources import parse_sources
from gongkai.flows.pipeline import nightly
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from tests.conftest import REAL
from tests.servers import TestServer

FAST = FetchOptions(timeout=1.0, attempts=2, backoff=0.05, backoff_max=0.1, retry_after_max=1.0)
REPORTS = {"/r/a.html": (REAL / "047.html").read_bytes(), "/r/b.html": (REAL / "001.html").read_bytes()}


def _listing(paths) -> bytes:
    items = "".join(f'<li><a href="{p}">某某镇2023年政府信息公开工作年度报告（{p}）</a></li>' for p in paths)
    return f"<html><body><ul>{items}</ul></body></html>".encode()


def _sources(url: str) -> list:
    return parse_sources(f'[[source]]\nname = "town"\nfamily = "generic"\nstart_urls = ["{url}"]\n'
                         "delay_s = 0\nallow_private = true\n")


def test_per_source_counts_and_a_portal_that_suddenly_lists_nothing(tmp_path):
    with TestServer({"/robots.txt": b"", "/index.html": _listing(REPORTS), **REPORTS}) as s:
        sources = _sources(s.url("/index.html"))
        first = nightly(sources, tmp_path, options=FAST, do_export=False)
        town = first.sources["town"]
        assert (town.reports_found, town.new, town.changed, town.unchanged) == (2, 2, 0, 0)
        assert town.last_run_reports is None and town.change_note() is None
        again = nightly(sources, tmp_path, options=FAST, do_export=False)
        assert (again.sources["town"].unchanged, again.sources["town"].change_note()) == (2, None)
        s.routes["/index.html"] = b"<html><body><p>new layout, links drawn by a script</p></body></html>"
        empty = nightly(sources, tmp_path, options=FAST, do_export=False)
    line = next(line for line in empty.lines() if line.startswith("  town:"))
    assert "no report found (the last run found 2)" in line and "layout" in line


def test_the_run_wide_deadline_ends_a_stuck_crawl_with_what_it_has(tmp_path):
    def stuck(h: BaseHTTPRequestHandler) -> None:
        time.sleep(30)

    routes = {"/robots.txt": b"", "/index.html": _listing([*REPORTS, "/r/stuck.html"]), "/r/stuck.html": stuck,
              **REPORTS}
    with TestServer(routes) as s:
        t0 = time.monotonic()
        summary = nightly(_sources(s.url("/index.html")), tmp_path, do_export=False, deadline=3.0,
                          options=FetchOptions(timeout=20.0, attempts=1))
        elapsed = time.monotonic() - t0
    assert summary.deadline_reached and elapsed < 20
    assert summary.new == 2  # what was fetched before the deadline is parsed and loaded
    assert any("deadline was reached" in line for line in summary.lines())
    con = open_warehouse(warehouse_path(tmp_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM crawl_run WHERE finished_at IS NOT NULL").fetchone() == (1,)
    finally:
        con.close()
