"""`gongkai report`: one HTML file that opens offline (no script, no outside reference), with a
chart and a table per section, Chinese labels with English beside them, its figures from the
analyst views; it never overwrites a file it did not write. Headless Chromium renders every chart
with no console message and no request (read from its net log)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from gongkai.transform.parse import parse_report
from tests.conftest import REAL

FILES = ["047.html", "001.html", "046.html", "051.html", "101.pdf", "000.txt", "002.txt"]
SECTIONS = ["Reports per year and layout", "Applications received and how they were answered",
            "Denial and correction rates by agency", "Year-over-year change", "Data quality",
            "Coverage by region and level"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("overview")
    con = open_warehouse(warehouse_path(data))
    Loader(con).load([Incoming(parse_report((REAL / f).read_bytes(), str(REAL / f))) for f in FILES])
    con.close()
    return data


def _report(data_dir, out, *extra):
    return subprocess.run([sys.executable, "-m", "gongkai", "report", "--out", str(out), "--data-dir", str(data_dir),
                           *extra], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def overview(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "overview.html"
    run = _report(data_dir, out, "--agency", "洪泽区人民政府")
    assert run.returncode == 0, run.stderr
    assert "report: data quality" in run.stderr  # progress while it builds
    return out, out.read_text(encoding="utf-8")


def test_every_section_has_its_chart_and_table(overview):
    _, page = overview
    for title in SECTIONS:
        assert title in page
    assert page.count("<svg") >= 6 and page.count("<table>") >= 7
    assert "每年报告数" in page and "版式 Layout" in page  # Chinese labels, English beside them


def test_it_opens_offline(overview):
    _, page = overview
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    references = re.findall(r"""(?:src|href|xlink:href)\\s*=\\s*["']([^"']+)""", page)
    assert references == [], references[:5]


def test_the_agency_history_shows_its_own_numbers(overview):
    _, page = overview
    history = page.split("洪泽区人民政府 · History", 1)[1]
    row = re.search(r"<tr><td>2023</td><td class=\"l\">2021</td><td class=\"l\">ok</td><td>21</td>", history)
    assert row, history[:600]  # 101.pdf: 21 applications received in 2023


def test_it_never_overwrites_a_file_it_did_not_write(data_dir, tmp_path, overview):
    mine = tmp_path / "notes.html"
    mine.write_text("<html>my notes</html>", encoding="utf-8")
    run = _report(data_dir, mine)
    assert run.returncode == 2 and "not an overview written by gongkai" in run.stderr
    assert mine.read_text(encoding="utf-8") == "<html>my notes</html>"
    again = tmp_path / "again.html"
    shutil.copyfile(overview[0], again)
    assert _report(data_dir, again).returncode == 0  # an earlier overview is replaced
    unknown = _report(data_dir, tmp_path / "x.html", "--agency", "没有这个机关")
    assert unknown.returncode == 2 and "no current report" in unknown.stderr


def _open_in_chromium(page: Path, profile: Path, *extra: str) -> tuple[str, list[str], list[str]]:
    """Open a page in headless Chromium with every host unreachable: its DOM as rendered, the
    console messages it printed, and the URLs requested on its behalf (from Chromium's net log;
    the browser's own background requests carry no page origin and are left out)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is needed for this test (.ci/run installs it)"
    netlog = profile.with_suffix(".netlog.json")
    run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
                          "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking",
                          "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}", *extra, page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = [e["params"]["url"] for e in log["events"]
                if e["type"] == start_job and e.get("params", {}).get("network_isolation_key", "").startswith("file:")]
    return run.stdout, console, requests


def test_the_browser_check_sees_requests_and_console_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<img src="http://example.com/x.png"><script>console.error("boom")</script>', encoding="utf-8")
    _, console, requests = _open_in_chromium(bad, tmp_path / "profile", "--dump-dom")
    assert requests == ["http://example.com/x.png"] and len(console) == 1 and "boom" in console[0]


def test_a_real_browser_renders_it_without_a_network(overview, tmp_path):
    out, _ = overview
    dom, console, requests = _open_in_chromium(out, tmp_path / "profile", "--dump-dom")
    assert console == [] and requests == []
    assert dom.count("<svg") >= 6 and "Data quality" in dom
    shot = tmp_path / "overview.png"
    _, console, requests = _open_in_chromium(out, tmp_path / "profile", "--hide-scrollbars", "--window-size=1200,2400",
                                             f"--screenshot={shot}")
    assert console == [] and requests == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # drawn, not blank
