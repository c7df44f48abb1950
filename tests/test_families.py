"""Each portal family reads its list pages (fixtures in tests/fixtures/portals/)."""

from __future__ import annotations

import pytest

from gongkai.extract.families import FAMILIES
from gongkai.extract.families.base import attachments_of, looks_like_report
from gongkai.extract.sources import SourceError, load_sources, parse_sources
from gongkai.paths import DATA_DIR
from tests.conftest import FIXTURES

PORTALS = FIXTURES / "portals"
BASE = "http://portal.test"


def listing(family: str, fixture: str, url: str):
    return FAMILIES[family].parse_listing(url, (PORTALS / fixture).read_bytes())


def test_hanweb_index_and_dataproxy():
    first = listing("hanweb", "hanweb_index.html", f"{BASE}/hanweb/col/col1001/index.html")
    assert len(first.reports) == 4 and all("/hanweb/art/" in r.url for r in first.reports)
    assert first.reports[0].date and first.reports[0].year
    assert len(first.pages) == 2 and all("dataproxy.jsp" in p and "columnid=1001" in p and "unitid=5501" in p
                                         for p in first.pages)
    more = listing("hanweb", "hanweb_dataproxy.xml", first.pages[1])
    assert len(more.reports) == 2 and more.pages == []


def test_trs_index_pages():
    out = listing("trs", "trs_index.html", f"{BASE}/trs/zfxxgknb/index.html")
    assert len(out.reports) == 2 and all("/t20" in r.url for r in out.reports)
    assert f"{BASE}/trs/zfxxgknb/index_1.html" in out.pages and f"{BASE}/trs/zfxxgknb/index_2.html" in out.pages


def test_gkmlpt_page_then_api():
    page = listing("gkmlpt", "gkmlpt_annualreport.html", f"{BASE}/gkmlpt/annualreport")
    assert page.pages == [f"{BASE}/gkmlpt/api/all/5?page=1&sid=757"]
    api = listing("gkmlpt", "gkmlpt_api_page1.json", page.pages[0])
    assert len(api.reports) == 3 and api.pages == [f"{BASE}/gkmlpt/api/all/5?page=2&sid=757"]


def test_jhtml_list():
    out = listing("jhtml", "jhtml_list.html", f"{BASE}/jhtml/?a=path&d=1&p=D42Y&page=1")
    assert len(out.reports) == 4 and all(r.url.endswith(".jhtml") and r.date for r in out.reports)
    assert any("page=2" in p for p in out.pages)


def test_generic_follows_titles_not_decoys():
    out = listing("generic", "generic_index.html", f"{BASE}/generic/zfxxgknb/index.html")
    titles = [r.title for r in out.reports]
    assert not any("通知" in t for t in titles)  # the decoy is not a report
    assert len(out.reports) == 5  # 3 reports + the robots-disallowed and off-site ones (refused later)
    assert f"{BASE}/generic/zfxxgknb/index_2.html" in out.pages


def test_report_titles():
    assert looks_like_report("平潭综合实验区2021年度政府信息公开工作年度报告")
    assert looks_like_report("某县2019年政务公开工作年度报告")
    assert not looks_like_report("关于开展2024年安全生产月活动的通知")
    assert not looks_like_report("政府信息公开指南")


def test_attachments_of_a_report_page():
    page = (b'<html><body><a href="./P020.pdf">report.pdf</a><a href="/pdfjs/viewer.html?file=/files/a.docx">view</a>'
            b'<iframe src="/x/viewer.html?file=/files/b.pdf"></iframe><a href="/other.html">x</a></body></html>')
    assert attachments_of(f"{BASE}/nb/t1.html", page) == [f"{BASE}/nb/P020.pdf", f"{BASE}/files/a.docx",
                                                          f"{BASE}/files/b.pdf"]


def test_shipped_sources_file_is_valid():
    sources = load_sources(DATA_DIR / "sources.toml")
    assert {s.family for s in sources} == set(FAMILIES)


@pytest.mark.parametrize("text,message", [
    ('[[source]]\nfamily = "generic"\nstart_urls = ["https://a.gov.cn/"]', "source #1: field 'name'"),
    ('[[source]]\nname = "x"\nfamily = "cms9"\nstart_urls = ["https://a.gov.cn/"]', "('x'): field 'family'"),
    ('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = []', "field 'start_urls'"),
    ('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["ftp://a"]', "not an http(s) URL"),
    ('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["https://a.gov.cn/"]\nmax_pages = 0', "'max_pages'"),
    ('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["https://a.gov.cn/"]\nyears = [2025, 2019]', "'years'"),
    ('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["https://a.gov.cn/"]\ncolour = 1', "'colour'"),
    ('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["https://a.gov.cn/"]\n'
     '[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["https://b.gov.cn/"]', "two entries are named 'x'"),
    ("[[source]\nname =", "not valid TOML"),
])
def test_malformed_sources(text, message):
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        parse_sources(text)


def test_defaults_and_allowed_hosts():
    (s,) = parse_sources('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["https://A.gov.cn/nb/index.html"]')
    assert s.allowed_hosts == ("a.gov.cn",) and s.delay_s == 1.0 and s.concurrency == 2 and s.enabled
    assert s.allows_host("https://a.gov.cn/x") and not s.allows_host("https://b.gov.cn/x")


def test_year_filter():
    (s,) = parse_sources('[[source]]\nname = "x"\nfamily = "trs"\nstart_urls = ["https://a.gov.cn/"]\n'
                         'years = [2021, 2023]')
    assert s.wants_year(2021) and s.wants_year(2023) and not s.wants_year(2020) and not s.wants_year(2024)
    assert s.wants_year(None)  # a title without a year is fetched and judged by its content
    out = listing("trs", "trs_index.html", f"{BASE}/trs/zfxxgknb/index.html")
    assert all(link.year is not None for link in out.reports)
