"""`gongkai sources discover`: from a portal's home page to its annual-report columns, each with
its family and what it lists — on the simulated portal, whose columns have the real shapes."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from gongkai.devtools.simportal import SimPortal
from gongkai.extract.archive import RawArchive
from gongkai.extract.discover import discover, family_of, is_column_link
from gongkai.extract.http import FetchOptions, Fetcher
from gongkai.extract.netguard import AddressPolicy
from gongkai.extract.sources import parse_sources


@pytest.fixture(scope="module")
def portal():
    with SimPortal() as p:
        yield p


def test_every_family_column_is_found_from_the_home_page(portal, tmp_path):
    async def go():
        async with Fetcher(RawArchive(tmp_path), FetchOptions(timeout=2.0), policy=AddressPolicy(["127.0.0.1"])) as f:
            f.configure_host("127.0.0.1", 1, 0.0)
            return await discover(portal.url("/"), f)

    columns = asyncio.run(go())
    found = {c.url: c for c in columns}
    for key, family in portal.PORTALS.items():
        column = found.get(portal.url(portal.START_PATHS[key]))
        assert column is not None, key
        assert column.family == family and column.reports > 0 and column.years, (key, column)
    assert len(columns) == len(portal.PORTALS)  # 通知公告 and the news are not report columns
    requested = portal.paths_requested()
    assert "/robots.txt" in requested and not any(p.startswith("/generic/private/") for p in requested)


@pytest.mark.parametrize("text,url,expected", [
    ("政府信息公开年报", "https://x.gov.cn/col/col1/index.html", True),
    ("年度报告", "https://x.gov.cn/a/index.html", True),
    ("更多", "https://x.gov.cn/zwgk/zfxxgknb/index.htm", True),
    ("某区2023年政府信息公开工作年度报告", "https://x.gov.cn/art/2024/1/1/art_1.html", False),  # one report
    ("通知公告", "https://x.gov.cn/tzgg/index.html", False),
])
def test_column_links(text, url, expected):
    assert is_column_link(text, url) is expected


def test_families_are_told_from_the_markup():
    assert family_of("https://x.gov.cn/col/col1/index.html", b"<script>dataproxy.jsp</script><datastore>") == "hanweb"
    assert family_of("https://x.gov.cn/nb/index.htm", b"createPageHTML(5, 0, 'index', 'htm');") == "trs"
    assert family_of("https://x.gov.cn/gkmlpt/annualreport", b"window._CONFIG = {}") == "gkmlpt"
    assert family_of("https://x.gov.cn/?a=path&d=1&page=1", b"<ul></ul>") == "jhtml"
    assert family_of("https://x.gov.cn/nb/", b"<ul></ul>") == "generic"


def test_the_command_prints_entries_that_load(portal, tmp_path):
    run = subprocess.run([sys.executable, "-m", "gongkai", "sources", "discover", portal.url("/"), "--delay", "0",
                          "--allow-private", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    sources = parse_sources(run.stdout)
    assert len(sources) == len(portal.PORTALS) and len({s.name for s in sources}) == len(sources)
    assert {s.family for s in sources} == set(portal.PORTALS.values())
    nothing = subprocess.run([sys.executable, "-m", "gongkai", "sources", "discover", portal.url("/news/"),
                              "--delay", "0", "--allow-private", "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=120)
    assert nothing.returncode == 1 and "no annual-report column found" in nothing.stderr
