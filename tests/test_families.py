"""Each portal family reads the list pages captured from real portals (tests/fixtures/portals/real/)
and finds exactly the links and further pages they hold."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest

from gongkai.extract.families import FAMILIES
from gongkai.extract.families.base import ListingError, looks_like_report
from gongkai.extract.pagemeta import attachments_of, read_page
from gongkai.extract.sources import SourceError, load_sources, parse_sources
from gongkai.paths import DATA_DIR
from tests.conftest import FIXTURES

PORTALS = FIXTURES / "portals"
REAL = PORTALS / "real"
BASE = "http://portal.test"


def listing(family: str, fixture: str, url: str, data: bytes | None = None):
    return FAMILIES[family].parse_listing(url, data if data is not None else (PORTALS / fixture).read_bytes())


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# -- Hanweb -------------------------------------------------------------------------------------------

DINGXI = "http://www.dingxi.gov.cn/col/col12377/index.html"
DINGXI_FORM = {"col": "1", "appid": "1", "webid": "110", "path": "/", "columnid": "12377", "unitid": "38486",
               "webname": "定西市政府信息公开平台", "permissiontype": "0"}


def test_hanweb_column_page_without_a_config_asks_the_proxy_for_the_total():
    raw = (REAL / "hanweb-datastore-dingxi.xml").read_text(encoding="utf-8")
    out = listing("hanweb", "real/hanweb-datastore-dingxi.xml", DINGXI)
    records = re.findall(r'<a target="_blank" href="([^"]+)" title="([^"]+)">[^<]*</a>\s*<b>([\d-]+)</b>', raw)
    assert len(records) == 45
    assert [(i.url, i.title, i.date) for i in out.items] == [(urljoin(DINGXI, h), t, d) for h, t, d in records]
    cut = next(i for i in out.items if i.url.endswith("art_12377_1486583.html"))
    assert cut.title == "定西市工信局关于对省级第二轮环保督察反馈第四项第十三项问题整改完成情况的公示"  # not the text cut with …
    assert {urlsplit(i.url).hostname for i in out.items} == {"www.dingxi.gov.cn", "zwgk.dingxi.gov.cn"}
    (first,) = out.pages
    assert first.method == "POST" and dict(first.form) == DINGXI_FORM  # webname was percent-encoded twice
    assert urlsplit(first.url).path == "/module/web/jpage/dataproxy.jsp"
    assert query_of(first.url) == {"startrecord": "1", "endrecord": "45", "perpage": "15", **DINGXI_FORM}
    by_get = first.fallback
    assert by_get is not None and by_get.method == "GET" and by_get.url == first.url
    by_page = by_get.fallback
    assert by_page is not None and query_of(by_page.url) == {"page": "1", **DINGXI_FORM}
    assert out.reports == []  # a news column: no annual report among the items


def test_hanweb_jpage_config_announces_every_group_in_any_letter_case():
    raw = (REAL / "hanweb-datastore-dingxi.xml").read_text(encoding="utf-8")
    for config in ("totalRecord:100, perPage:15, groupSize:3", "TOTALRECORD: '100', PERPAGE: 15, groupsize:3"):
        page = (f'<html><body><div id="div12377"><script type="text/xml">{raw}</script></div><script>'
                f"$('#div12377').jpage({{ dataStore: dataStore, {config} }});</script></body></html>")
        out = listing("hanweb", "", DINGXI, page.encode())
        assert out.total == 100
        assert [(query_of(p.url)["startrecord"], query_of(p.url)["endrecord"]) for p in out.pages] == \
            [("46", "90"), ("91", "100")]
        assert all(p.method == "POST" and dict(p.form) == DINGXI_FORM for p in out.pages)


def test_hanweb_proxy_replies_give_the_rest_and_an_empty_one_ends_the_list():
    raw = (REAL / "hanweb-datastore-dingxi.xml").read_text(encoding="utf-8")
    first = f"{DINGXI.rsplit('/col/', 1)[0]}/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15" \
            "&col=1&appid=1&webid=110&path=%2F&columnid=12377&unitid=38486&permissiontype=0"
    reply = raw.replace("</recordset>", "</recordset><totalrecord>100</totalrecord><totalpage>7</totalpage>")
    out = listing("hanweb", "", first, reply.encode())
    assert len(out.items) == 45 and out.total == 100
    assert [(query_of(p.url)["startrecord"], query_of(p.url)["endrecord"]) for p in out.pages] == \
        [("46", "90"), ("91", "100")]
    empty = "<datastore><recordset></recordset><totalrecord>100</totalrecord></datastore>"
    assert listing("hanweb", "", first.replace("startrecord=1&endrecord=45", "startrecord=91&endrecord=135"),
                   empty.encode()).pages == []
    by_page = first.split("?")[0] + "?page=2&columnid=12377&unitid=38486"
    paged = listing("hanweb", "", by_page, reply.encode())
    assert [query_of(p.url)["page"] for p in paged.pages] == ["3"]


def test_hanweb_older_sites_with_table_rows_and_quoted_values():
    url = "http://zfcg.nantong.gov.cn/col/col31685/index.html"
    out = listing("hanweb", "real/hanweb-old-tr-nantong.xml", url)
    assert [(i.url.rsplit("/", 1)[1], i.date) for i in out.items] == [
        ("art_31685_2451995.html", "2017-04-24"), ("art_31685_2451309.html", "2017-04-20"),
        ("art_31685_2450790.html", "2017-04-19"), ("art_31685_2432948.html", "2017-02-27")]
    assert out.items[2].title == "南通市城市照明管理处市政道路及维护项目控制箱 2017XJ2002第三次"
    (first,) = out.pages
    assert urlsplit(first.url).path == "/module/jslib/jquery/jpage/dataproxy.jsp"
    assert dict(first.form) == {"col": "1", "appid": "1", "webid": "60", "path": "/", "columnid": "31685",
                                    "unitid": "80325", "webname": "南通市政府采购网", "permissiontype": "0"}


# -- TRS -----------------------------------------------------------------------------------------------

def test_trs_countpage_column_mixing_reports_and_news():
    url = "http://egb.ordos.gov.cn/xxgk/xxgknb/index.html"
    raw = (REAL / "trs-countpage-ordos.html").read_text(encoding="utf-8")
    out = listing("trs", "real/trs-countpage-ordos.html", url)
    hrefs = list(dict.fromkeys(re.findall(r'href="(\./\d{6}/t\d{8}_\d+\.html)"', raw)))
    assert len(hrefs) == 10 and [i.url for i in out.items] == [urljoin(url, h) for h in hrefs]
    assert [i.title for i in out.reports] == ["鄂尔多斯市2019年政府信息公开工作年度报告",
                                              "鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告",
                                              "鄂尔多斯市2018年政府信息公开年度报告", "内蒙古自治区2018年政府信息公开工作年度报告"]
    assert out.items[8].date == "2017-03-22"  # the date printed in the row, not the one in the URL
    assert [p.url for p in out.pages] == [urljoin(url, "index.html"), urljoin(url, "index_1.html")]


def test_trs_avalon_template_column_reads_its_static_list():
    url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.htm"
    out = listing("trs", "real/trs-avalon-pingtan.html", url)
    assert [(i.url.rsplit("/", 2)[-2:], i.date) for i in out.items][:2] == [
        (["202603", "t20260313_105587.htm"], "2026-03-10"), (["202503", "t20250310_97791.htm"], "2025-03-10")]
    assert len(out.items) == len(out.reports) == 10  # the first link's unterminated </a is read too
    assert [i.year for i in out.reports] == list(range(2025, 2015, -1))


def test_trs_json_list_of_a_templated_column():
    body = '{"docs": [{"chnldocurl": "./202403/t20240308_87885.htm", "doctitle": "平潭综合实验区2023年度政府信息公开' \
           '工作年度报告", "docreltime": "2024-03-08 10:00:00"}, {"chnldocurl": "./x.htm", "doctitle": "通知"}]}'
    out = listing("trs", "", "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/list.json", body.encode())
    assert [(i.url, i.date) for i in out.reports] == [
        ("https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202403/t20240308_87885.htm", "2024-03-08")]
    assert len(out.items) == 2


def test_trs_createpagehtml_pager_and_upper_case_rows():
    url = "http://www.yzq.gov.cn/xxgk/gzdt/index.html"
    out = listing("trs", "real/trs-createpagehtml-yuanzhou.html", url)
    assert [i.url.rsplit("/", 1)[1] for i in out.items] == ["t20171013_397991.html", "t20171013_397885.html",
                                                            "t20171010_397448.html"]
    assert all(i.date for i in out.items)
    pages = [p.url for p in out.pages]
    assert len(pages) == 120 and pages[0] == urljoin(url, "index.html") and pages[-1] == urljoin(url, "index_119.html")


# -- generic, on every captured page -----------------------------------------------------------------------

@pytest.mark.parametrize("fixture,family,url", [
    ("real/hanweb-datastore-dingxi.xml", "hanweb", DINGXI),
    ("real/hanweb-old-tr-nantong.xml", "hanweb", "http://zfcg.nantong.gov.cn/col/col31685/index.html"),
    ("real/trs-countpage-ordos.html", "trs", "http://egb.ordos.gov.cn/xxgk/xxgknb/index.html"),
    ("real/trs-avalon-pingtan.html", "trs", "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.htm"),
    ("real/trs-createpagehtml-yuanzhou.html", "trs", "http://www.yzq.gov.cn/xxgk/gzdt/index.html"),
])
def test_generic_finds_the_same_reports_on_every_captured_page(fixture, family, url):
    own = listing(family, fixture, url)
    generic = listing("generic", fixture, url)
    assert [r.url for r in generic.reports] == [r.url for r in own.reports]
    own_pages = {p.url for p in own.pages if p.method == "GET" and "dataproxy" not in p.url}
    assert own_pages <= {p.url for p in generic.pages}


def test_generic_follows_titles_not_decoys():
    out = listing("generic", "generic_index.html", f"{BASE}/generic/zfxxgknb/index.html")
    titles = [r.title for r in out.reports]
    assert not any("通知" in t for t in titles)  # the decoy is not a report
    assert len(out.reports) == 5  # 3 reports + the robots-disallowed and off-site ones (refused later)
    assert f"{BASE}/generic/zfxxgknb/index_2.html" in [p.url for p in out.pages]


# -- gkmlpt and .jhtml (written from portals.md) --------------------------------------------------------------

def test_gkmlpt_shell_then_api():
    page = listing("gkmlpt", "gkmlpt_annualreport.html", f"{BASE}/gkmlpt/annualreport")
    assert [p.url for p in page.pages] == [f"{BASE}/gkmlpt/api/all/5?page=1&sid=757"]
    api = listing("gkmlpt", "gkmlpt_api_page1.json", page.pages[0].url)
    assert len(api.reports) == 3 and [p.url for p in api.pages] == [f"{BASE}/gkmlpt/api/all/5?page=2&sid=757"]


@pytest.mark.parametrize("body,message", [
    (b'{"code": 400, "msg": "sid error"}', "refused the request"),
    (b"null", "refused the request"),
    (b"[]", "refused the request"),
    (b"<html>502 Bad Gateway</html>", "not JSON"),
])
def test_gkmlpt_error_replies_are_reported_as_such(body, message):
    with pytest.raises(ListingError, match=message):
        listing("gkmlpt", "", f"{BASE}/gkmlpt/api/all/5?page=1&sid=0", body)


def test_gkmlpt_total_that_is_not_a_number():
    body = '{"total": "n/a", "articles": [{"title": "某区2023年政府信息公开工作年度报告", "url": "/a.html"}]}'
    out = listing("gkmlpt", "", f"{BASE}/gkmlpt/api/all/5?page=1&sid=1", body.encode())
    assert len(out.reports) == 1 and out.pages == [] and "not a number" in out.warnings[0]


def test_jhtml_list():
    out = listing("jhtml", "jhtml_list.html", f"{BASE}/jhtml/?a=path&d=1&p=D42Y&page=1")
    assert len(out.reports) == 4 and all(r.url.endswith(".jhtml") and r.date for r in out.reports)
    assert any("page=2" in p.url for p in out.pages)


def test_a_family_whose_selectors_find_nothing_says_so():
    out = listing("jhtml", "", f"{BASE}/jhtml/?page=1", b"<html><body><div class='new-layout'></div></body></html>")
    assert out.items == [] and "no list items found" in out.warnings[0]
    out = listing("hanweb", "", f"{BASE}/col/col1/index.html", b"<html><body>redesigned</body></html>")
    assert "no <record> items" in out.warnings[0]


# -- report pages -------------------------------------------------------------------------------------------

def test_report_titles():
    assert looks_like_report("平潭综合实验区2021年度政府信息公开工作年度报告")
    assert looks_like_report("某县2019年政务公开工作年度报告")
    assert not looks_like_report("关于开展2024年安全生产月活动的通知")
    assert not looks_like_report("政府信息公开指南")


def test_attachments_and_metadata_of_a_report_page():
    page = ('<html><head><meta name="ArticleTitle" content="某局2023年政府信息公开工作年度报告"></head><body>'
            '<table><tr><td>索引号：</td><td>11410100MB1234567X/2024-00012</td><td>发布机构：</td><td>某某县某局</td>'
            '</tr><tr><td>成文日期：</td><td>2024年1月20日</td></tr></table>'
            '<a href="./P020.pdf">report.pdf</a><a href="/pdfjs/viewer.html?file=/files/a.docx">view</a>'
            '<iframe src="/x/viewer.html?file=/files/b.pdf"></iframe><a href="/other.html">x</a></body></html>')
    url = f"{BASE}/nb/t1.html"
    assert attachments_of(url, page.encode()) == [f"{BASE}/nb/P020.pdf", f"{BASE}/files/a.docx", f"{BASE}/files/b.pdf"]
    meta = read_page(url, page.encode())
    assert (meta.publisher, meta.index_no, meta.written) == ("某某县某局", "11410100MB1234567X/2024-00012", "2024-01-20")
    assert attachments_of(url, b"%PDF-1.4 binary \x00\x01 .pdf") == []  # a PDF served as a page: no links, no error


def test_the_crawls_reading_of_attachments_finds_what_the_whole_tree_does():
    """attachments_of builds only <a>, <iframe>, <embed> and <object>: on the real pages it
    finds the same files, in the same order, as a reading of the whole page."""
    url = "https://www.example.gov.cn/zwgk/nb/t20240120_1.html"
    pages = [p.read_bytes() for p in sorted((FIXTURES / "real").glob("*.htm*"))]
    pages.append('<html><body><table><tr><td><p>附件：<a href="a.pdf"><span>年报</span>.pdf</a></p></td></tr></table>'
                 '<object data="/f/b.ofd"></object><embed src="/v/viewer.html?file=%2Ff%2Fc.pdf">'
                 '<a href="a.pdf">again</a></body></html>'.encode())
    with_files = 0
    for data in pages:
        whole = [link.url for link in read_page(url, data).attachments]
        assert attachments_of(url, data) == whole
        with_files += bool(whole)
    assert with_files >= 2  # 045.html links its report as a file


# -- the sources file ---------------------------------------------------------------------------------------

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
    out = listing("trs", "real/trs-avalon-pingtan.html", "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.htm")
    assert all(link.year is not None for link in out.reports)
