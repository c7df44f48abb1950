"""Faults and hostile input, against real local servers: every run completes, the rest of the
portal is crawled, each failure is in the fetch log with its reason, and nothing already
loaded is lost."""

from __future__ import annotations

import asyncio
import time
import zlib
from http.server import BaseHTTPRequestHandler

import pytest

from gongkai.extract.archive import RawArchive
from gongkai.extract.http import FetchOptions, Fetcher
from gongkai.extract.netguard import AddressPolicy, normalize_host, refusal
from gongkai.extract.sources import parse_sources
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.pipeline import nightly
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from gongkai.transform.parse import parse_report
from tests.conftest import REAL
from tests.servers import TestServer, reset, send

FAST = FetchOptions(timeout=1.0, attempts=2, backoff=0.05, backoff_max=0.1, retry_after_max=1.0, deadline=2.0,
                    max_bytes=2 * 1024 * 1024)
GOOD_1 = (REAL / "047.html").read_bytes()
GOOD_2 = (REAL / "001.html").read_bytes()


def _bomb() -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    return b"".join(z.compress(zeros) for _ in range(64)) + z.flush()  # 64 MB of zeros in ~64 kB


BOMB = _bomb()


def reset_mid_body(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(len(GOOD_1)))
    h.end_headers()
    h.wfile.write(GOOD_1[:3000])
    h.wfile.flush()
    reset(h)


def short_body(h: BaseHTTPRequestHandler) -> None:
    send(h, 200, GOOD_1[:5000], length=len(GOOD_1))
    h.close_connection = True


def trickle(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "10000")
    h.end_headers()
    for _ in range(40):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.25)


def huge_declared(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(2 * 1024 ** 3))  # 2 GB
    h.end_headers()
    h.wfile.write(b"<html>" + b" " * 1000)


def endless(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b" " * 65536
    for _ in range(2 * 1024 ** 3 // len(chunk)):  # up to 2 GB, until the client hangs up
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def bomb(h: BaseHTTPRequestHandler) -> None:
    send(h, 200, BOMB, headers={"Content-Encoding": "gzip"})


def octet(h: BaseHTTPRequestHandler) -> None:
    send(h, 200, GOOD_2, ctype="application/octet-stream")


GZIPPED = (REAL / "046.html").read_bytes()


def gzipped(h: BaseHTTPRequestHandler) -> None:
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    send(h, 200, z.compress(GZIPPED) + z.flush(), headers={"Content-Encoding": "gzip"})


def redirect(to: str):
    return lambda h: send(h, 302, b"", headers={"Location": to})


def endless_pages(h: BaseHTTPRequestHandler) -> None:
    n = int(h.path.rsplit("/", 1)[1].split(".")[0])
    send(h, 200, f'<html><body><a href="/nb/page/{n + 1}.html">下一页</a></body></html>'.encode())


def report_link(path: str, label: str, year: int = 2023) -> str:
    return f'<li><a href="{path}">某某镇{year}年政府信息公开工作年度报告（{label}）</a></li>'


FAULTS = {  # path → what the fetch log must say
    "/nb/reset.html": "gave up after 2 attempts",
    "/nb/short.html": "RemoteProtocolError",
    "/nb/loop-a.html": "redirect loop",
    "/nb/trickle.html": "deadline",
    "/nb/huge.html": "exceeds the cap",
    "/nb/endless.html": "exceeds the cap",
    "/nb/bomb.html": "decompressed body exceeds the cap",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    data = tmp_path_factory.mktemp("hostile")
    page = (REAL / "051.html").read_bytes()
    body = page.index(b"<body")
    bad_bytes = page[:body] + b"<p>\xff\xfe\x80\xc3\x28 \xed\xa0\x80</p>" + page[body:]  # invalid UTF-8
    links = "".join(report_link(p, p.rsplit("/", 1)[1]) for p in FAULTS)
    links += report_link("/nb/good-1.html", "good") + report_link("/nb/octet.html", "octet-stream", 2019)
    links += report_link("/nb/badbytes.html", "bad bytes", 2022) + report_link("/nb/gz.html", "gzip", 2019)
    routes = {
        "/robots.txt": b"User-agent: *\nAllow: /\n",
        "/nb/good-1.html": GOOD_1, "/nb/octet.html": octet, "/nb/badbytes.html": bad_bytes, "/nb/gz.html": gzipped,
        "/nb/reset.html": reset_mid_body, "/nb/short.html": short_body, "/nb/trickle.html": trickle,
        "/nb/loop-a.html": redirect("/nb/loop-b.html"), "/nb/loop-b.html": redirect("/nb/loop-a.html"),
        "/nb/huge.html": huge_declared, "/nb/endless.html": endless, "/nb/bomb.html": bomb,
    }
    routes.update({f"/nb/page/{n}.html": endless_pages for n in range(1, 100)})
    with TestServer(routes) as server:
        page = (f"<html><body><ul>{links}"
                f'<li><a href="http://127.0.0.1:99999/nb/x.html">某某镇2021年政府信息公开工作年度报告（坏端口）</a></li>'
                f'</ul><a href="/nb/index.html">1</a><a href="/nb/page/1.html">下一页</a></body></html>')
        server.routes["/nb/index.html"] = page.encode()
        sources = parse_sources(f'[[source]]\nname = "hostile"\nfamily = "generic"\n'
                                f'start_urls = ["{server.url("/nb/index.html")}"]\ndelay_s = 0\nconcurrency = 4\n'
                                "max_pages = 6\nallow_private = true\n")
        con = open_warehouse(warehouse_path(data))  # something loaded before the hostile run
        Loader(con).load([Incoming(parse_report((REAL / "000.txt").read_bytes(), str(REAL / "000.txt")))])
        con.close()
        t0 = time.monotonic()
        summary = nightly(sources, data, options=FAST, do_export=False)
        elapsed = time.monotonic() - t0
        again = nightly(sources, data, options=FAST, do_export=False)
        yield {"server": server, "data": data, "summary": summary, "again": again, "elapsed": elapsed}


def _rows(data, sql):
    con = open_warehouse(warehouse_path(data), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_run_completes_and_the_rest_is_crawled(hostile):
    summary = hostile["summary"]
    assert summary.new == 4  # good-1, the octet-stream report, the gzipped one and the one with bad bytes
    assert hostile["elapsed"] < 60  # bounded: no fetch waits for a server that never finishes
    finished = _rows(hostile["data"], "SELECT count(*) FROM crawl_run WHERE finished_at IS NOT NULL")
    assert finished == [(2,)]
    assert hostile["again"].new == 0 and hostile["again"].unchanged == 4


@pytest.mark.parametrize("path,reason", sorted(FAULTS.items()))
def test_each_fault_is_in_the_fetch_log_with_its_reason(hostile, path, reason):
    url = hostile["server"].url(path)
    errors = [e for (e,) in _rows(hostile["data"], f"SELECT error FROM fetch_log WHERE url = '{url}'")]
    assert errors and all(e and reason in e for e in errors), errors


def test_a_bad_port_is_refused_not_fatal(hostile):
    errors = _rows(hostile["data"], "SELECT error FROM fetch_log WHERE url LIKE '%:99999/%'")
    assert errors and "bad URL" in errors[0][0]


def test_endless_pagination_stops_at_max_pages_and_says_so(hostile):
    source = hostile["summary"].sources["hostile"]
    assert source.max_pages_reached and source.list_pages == 6
    assert hostile["server"].count("/nb/index.html") == 2  # a page linking to itself is read once per run
    assert any("stopped at max_pages" in line for line in hostile["summary"].lines())


def test_nothing_already_loaded_is_lost(hostile):
    rows = _rows(hostile["data"], "SELECT agency, year, status FROM v_current_report ORDER BY agency")
    assert ("郑州市上街区科学技术和工业信息化局", 2022, "ok") in rows
    assert len(rows) == 5


def test_wrong_content_type_and_invalid_bytes_are_still_read(hostile):
    rows = dict(_rows(hostile["data"], "SELECT source_url, status FROM v_current_report"))
    assert rows[hostile["server"].url("/nb/octet.html")] == "ok"
    assert rows[hostile["server"].url("/nb/badbytes.html")] in ("ok", "partial")


def test_bytes_on_the_wire_and_decoded_are_counted_apart(hostile):
    rows = _rows(hostile["data"], "SELECT wire_bytes, bytes FROM fetch_log WHERE url LIKE '%/nb/gz.html'")
    assert rows and all(decoded == len(GZIPPED) and wire < decoded / 3 for wire, decoded in rows)
    rows = _rows(hostile["data"], "SELECT wire_bytes, bytes FROM fetch_log WHERE url LIKE '%good-1.html'")
    assert rows and all(wire == decoded == len(GOOD_1) for wire, decoded in rows)  # identity: the same
    summary = hostile["summary"]
    assert summary.bytes_transferred < summary.bytes_decoded


# -- where the crawler may connect -----------------------------------------------------------------------


@pytest.mark.parametrize("host,canonical", [("0x7f000001", "127.0.0.1"), ("2130706433", "127.0.0.1"),
                                            ("127.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
                                            ("[::ffff:7f00:1]", "::ffff:7f00:1"), ("Portal.GOV.cn.", "portal.gov.cn")])
def test_numeric_host_spellings_are_normalised(host, canonical):
    assert normalize_host(host) == canonical


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1", "127.0.0.1",
                                     "0.0.0.0", "224.0.0.1", "100.64.0.1", "::1", "fe80::1", "::ffff:10.0.0.1"])
def test_private_and_special_ranges_are_refused(address):
    assert refusal(address) is not None


def test_the_crawler_refuses_private_addresses_unless_a_source_opts_in(tmp_path):
    async def go(policy, urls):
        async with Fetcher(RawArchive(tmp_path), FAST, policy=policy) as f:
            return [await f.fetch(u, "report") for u in urls]

    with TestServer({"/robots.txt": b"", "/a.html": b"<html>a</html>",
                     "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/")}) as server:
        spellings = [server.url("/a.html"), f"http://0x7f000001:{server.port}/a.html",
                     f"http://2130706433:{server.port}/a.html", f"http://localhost:{server.port}/a.html",
                     "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"]
        refused = asyncio.run(go(AddressPolicy(), spellings))
        assert all(r.error and r.error.startswith("refused:") and "address" in r.error for r in refused), \
            [r.error for r in refused]
        assert server.hits == []  # not one connection was made
        allowed = asyncio.run(go(AddressPolicy(["127.0.0.1"]), [server.url("/a.html"), server.url("/to-metadata")]))
        assert allowed[0].ok
        assert "169.254.169.254 is a link-local address" in (allowed[1].error or "")  # per redirect hop


def test_robots_txt_redirects_are_checked_too(tmp_path):
    async def go(url):
        async with Fetcher(RawArchive(tmp_path), FAST, policy=AddressPolicy(["127.0.0.1"])) as f:
            rec = await f.fetch(url, "report")
            return rec, f.robots

    with TestServer({"/robots.txt": redirect("http://10.1.2.3/robots.txt"), "/a.html": b"<html>a</html>"}) as server:
        rec, robots = asyncio.run(go(server.url("/a.html")))
    assert rec.error and "robots.txt" in rec.error and "unreachable" in rec.error
    assert "10.1.2.3 is a private address" in next(iter(robots.values())).reason
