"""A simulated government portal: a real HTTP server on 127.0.0.1 for tests, benchmarks and the demo.

One server hosts fake district portals in the shapes real portals serve (the captured pages
of tests/fixtures/portals/real/): Hanweb columns whose datastore inlines the first group and
whose jpage config holds the total, with a ``dataproxy.jsp`` that answers POST only, GET only
(the older ``/module/jslib/jquery/jpage/`` proxy with ``<tr>`` records), or ``page=N`` only;
TRS columns paged by ``createPageHTML`` and by ``var countPage``; a gkmlpt app shell with
``window._CONFIG`` and its JSON API (a wrong sid is refused); a Zhengzhou .jhtml list; a
generic list. Each lists real reports from data/samples/ and generated ones of both layouts,
some GBK-encoded, some with attachments, some with titles in awkward forms, with decoys that
are not reports, a robots.txt, and faults on request (404, transient 500/503, 429 with
Retry-After, a slow page, a connection reset, a redirect off-site). It answers conditional
GETs (ETag / Last-Modified) and records every request.

>>> with SimPortal() as portal:
...     portal.url("/robots.txt").startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from gongkai.devtools.reportgen import Options, generate
from gongkai.paths import SAMPLES_DIR

ROBOTS = "User-agent: *\nDisallow: /generic/private/\n"
PDF_BYTES = b"%PDF-1.4\n% simulated attachment\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _per(reports: list) -> int:
    """Records per Hanweb group: many small groups, yet within a source's max_pages of 50."""
    return max(2, len(reports) // 20)


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    version: int = 1
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified(self) -> str:
        return formatdate(1_700_000_000 + self.version * 86400, usegmt=True)


@dataclass
class Report:
    path: str
    title: str
    agency: str
    year: int
    body_html: str  # the report content (inside the family's article container)
    gbk: bool = False
    attachment: str | None = None
    title_form: str = "plain"  # plain | letter | glued_heading | date_first: how the page prints its title


def _text_report_html(text: str) -> str:
    """A plain-text report as page paragraphs (tabs kept: they separate table cells)."""
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


CONTAINERS = {
    "hanweb": '<div id="zoom">{}</div>',
    "trs": '<div class="TRS_Editor">{}</div>',
    "gkmlpt": '<div class="article-content">{}</div>',
    "jhtml": '<div class="content-wrap">{}</div>',
    "generic": '<div class="article">{}</div>',
}


def _detail_page(report: Report, family: str) -> bytes:
    container = CONTAINERS[family.split("-")[0]]
    attachment = (f'<p>附件：<a href="{report.attachment}">{html.escape(report.title)}.pdf</a></p>'
                  if report.attachment else "")
    charset = "gbk" if report.gbk else "utf-8"
    title = html.escape(report.title)
    article_title, heading = title, f"<h1>{title}</h1>"
    if report.title_form == "letter":  # the page is the cover letter that sends the report
        article_title = html.escape(f"{report.agency}关于报送{report.year}年度政府信息公开工作年度报告的函")
        heading = f"<h1>{article_title}</h1><p>{title}</p>"
    elif report.title_form == "glued_heading":  # a section heading run into the title, no <h1>
        article_title, heading = "", f'<div class="lm">政府信息公开{title}</div>'
    elif report.title_form == "date_first":  # a layout table puts the date before the title
        article_title = ""
        heading = f'<table class="info"><tr><td>{report.year + 1}-01-20{title}</td></tr></table>'
    meta = f'<meta name="ArticleTitle" content="{article_title}">' if article_title else ""
    page = (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"{meta}<title>{title if article_title else '政府信息公开年报'}</title>"
        f'</head><body><div class="nav"><a href="/">首页</a> 政务公开 政府信息公开年报</div>'
        + heading + container.format(report.body_html + attachment)
        + '<div class="footer">主办单位：某某区人民政府办公室</div></body></html>'
    )
    return page.encode("gb18030" if report.gbk else "utf-8")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the connection resets it injects on purpose are not news


def _cut(title: str, n: int = 22) -> str:
    """Link text as Hanweb prints it: cut with … (the title attribute keeps it whole)."""
    return title if len(title) <= n else title[:n] + "..."


class SimPortal:
    """The simulated portal. ``with SimPortal() as p:`` starts it on a free port."""

    # source → family; the variants are the shapes of the captured pages
    PORTALS = {
        "hanweb": "hanweb",  # new jcms: jpage config in the page, dataproxy answers POST only
        "hanweb-old": "hanweb",  # 2017 jcms: /module/jslib/jquery/jpage/, <tr> records, GET only, no config
        "hanweb-page": "hanweb",  # a proxy that pages by page=N only
        "trs": "trs",  # createPageHTML(n, i, "index", "html"), upper-case rows
        "trs-countpage": "trs",  # var countPage = n, the pager rendered beside the script
        "gkmlpt": "gkmlpt",
        "jhtml": "jhtml",
        "generic": "generic",
    }
    FAMILIES = ("hanweb", "trs", "gkmlpt", "jhtml", "generic")
    _COUNTY = {"hanweb": "甲", "hanweb-old": "庚", "hanweb-page": "辛", "trs": "乙", "trs-countpage": "壬",
               "gkmlpt": "丙", "jhtml": "丁", "generic": "戊"}
    _TITLE_FORMS = {("trs", 4): "letter", ("generic", 2): "glued_heading", ("hanweb", 3): "date_first",
                    ("jhtml", 2): "letter"}

    def __init__(self, reports_per_portal: int = 6, seed: int = 7, port: int = 0) -> None:
        self.port = port
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.faults: dict[str, list[str]] = {}
        self.reports: dict[str, list[Report]] = {}
        self.columns: dict[str, dict[str, object]] = {}  # Hanweb columnid → its records and paging rules
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self._build(reports_per_portal, seed)

    # -- content ------------------------------------------------------------------------------
    def _reports_for(self, portal: str, n: int, seed: int) -> list[Report]:
        out: list[Report] = []
        samples = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix in (".html", ".txt"))
        county = self._COUNTY[portal]
        index = list(self.PORTALS).index(portal)
        for i in range(n):
            if i == 0 and portal in ("trs", "generic") and samples:
                sample = samples[self.FAMILIES.index(portal) % len(samples)]
                out.append(self._sample_report(sample))
                continue
            layout = "2019" if i % 3 == 0 else "2021"
            year = 2019 + i % 2 if layout == "2019" else 2021 + i % 4
            agency = f"某某市{county}区人民政府" if i == 2 else f"某某市{county}区第{i}局"
            opts = Options(form="html", gbk=(i % 4 == 1), word_spans=(i % 2 == 0), narrative=True)
            salt = 13 * self.FAMILIES.index(portal) if portal in self.FAMILIES else 101 * index
            gen = generate(seed * 100 + i + salt, opts, layout, agency=agency, year=year)
            body = gen.data.decode("gb18030" if opts.gbk else "utf-8")
            inner = body[body.index("<body>") + 6: body.index("</body>")]
            inner = inner.replace(f"<h1>{html.escape(gen.agency)}{year}年度政府信息公开工作年度报告</h1>", "")
            title = f"{agency}{year}年度政府信息公开工作年度报告"
            out.append(Report("", title, agency, year, inner, gbk=opts.gbk,
                              title_form=self._TITLE_FORMS.get((portal, i), "plain")))
        return out

    def _sample_report(self, sample) -> Report:
        from gongkai.transform.parse import parse_report

        parsed = parse_report(sample.read_bytes(), str(sample))
        if sample.suffix == ".txt":
            inner = _text_report_html(sample.read_text(encoding="utf-8"))
        else:
            text = sample.read_text(encoding="utf-8")
            start = text.find("<body")
            inner = text[text.index(">", start) + 1: text.rindex("</body>")] if start >= 0 else text
        return Report("", parsed.title or sample.stem, parsed.agency or "", parsed.year or 0, inner)

    def _build(self, n: int, seed: int) -> None:
        self.pages["/robots.txt"] = Page(ROBOTS.encode(), "text/plain; charset=utf-8")
        self.pages["/"] = Page("<html><body><h1>某某区人民政府门户网站</h1><ul><li><a href='/news/'>新闻中心</a></li>"
                               "<li><a href='/zwgk/index.html'>政府信息公开</a></li></ul></body></html>".encode())
        self.pages["/news/"] = Page("<html><body><a href='/news/1.html'>区长调研</a></body></html>".encode())
        self.pages["/news/1.html"] = Page("<html><body><p>新闻。</p></body></html>".encode())
        columns = "".join(f"<li><a href='{path}'>{name}</a></li>" for path, name in self.COLUMN_NAMES.items())
        self.pages["/zwgk/index.html"] = Page(
            ("<html><body><h2>政府信息公开</h2><ul><li><a href='/zwgk/tzgg.html'>通知公告</a></li>"
             f"{columns}<li><a href='/zwgk/bm.html'>部门信息公开</a></li></ul></body></html>").encode())
        self.pages["/zwgk/tzgg.html"] = Page("<html><body><a href='/zwgk/t1.html'>关于停水的通知</a></body></html>".encode())
        self.pages["/zwgk/bm.html"] = Page(
            ("<html><body><a href='" + self.START_PATHS["generic"] + "'>区发展改革局 政府信息公开年报</a>"
             "</body></html>").encode())
        for portal in self.PORTALS:
            reports = self._reports_for(portal, n, seed)
            self.reports[portal] = reports
            getattr(self, "_build_" + portal.replace("-", "_"))(reports)
        self._build_decoys()

    def _register(self, family: str, report: Report, path: str) -> None:
        report.path = path
        self.pages[path] = Page(_detail_page(report, family),
                                "text/html; charset=GBK" if report.gbk else "text/html; charset=utf-8")

    def _li(self, href: str, title: str, date: str) -> str:
        return f'<li><a href="{href}" title="{html.escape(title)}">{html.escape(title)}</a><span>{date}</span></li>'

    # -- Hanweb ---------------------------------------------------------------------------------
    def _hanweb_column(self, reports: list[Report], *, column: int, prefix: str, old: bool, methods: str,
                       config: str | None, per: int, group: int) -> None:
        """A column page, its detail pages, and what its data proxy answers."""
        records = []
        for i, r in enumerate(reports):
            y, d = r.year + 1, 10 + i
            path = f"{prefix}/art/{y}/1/{d}/art_{column}_{i + 1}.html"
            self._register("hanweb", r, path)
            if old:
                records.append(
                    "<tr><td width=15 valign=\"middle\"><IMG src=\"/picture/0/dot.gif\" align=absMiddle></td>"
                    f"<td style='border-bottom:1px dashed #999999'><a href='{path}' title='{html.escape(r.title)}'"
                    f" target='_blank'>{html.escape(_cut(r.title))}</a></td>"
                    f"<td width='100' align='right'>[{y}-01-{d}]</td></tr>")
            else:
                records.append(f'<li class="clearfix">    <a target="_blank" href="{path}" title="{html.escape(r.title)}">'
                               f"{html.escape(_cut(r.title))}</a>    <b>{y}-01-{d}</b></li>")
        proxy = "/module/jslib/jquery/jpage/dataproxy.jsp" if old else "/module/web/jpage/dataproxy.jsp"
        webname = "%25E6%259F%2590%25E6%259F%2590%25E5%258C%25BA%25E6%2594%25BF%25E5%25BA%259C"  # 某某区政府, twice
        if old:
            nextgroup = (f"{proxy}?page=1&appid=1&appid=1&webid=60&path='/'&columnid={column}&unitid=80325"
                         f"&webname='某某区政府'&permissiontype=0")
        else:
            nextgroup = (f"{proxy}?page=1&appid=1&appid=1&webid=110&path=/&columnid={column}&unitid=38486"
                         f"&webname={webname}&permissiontype=0")
        first = records[: per * group]
        cdata = "".join(f"<record><![CDATA[\n{rec}]]></record>\n" for rec in first)
        table = "<table cellpadding='0' cellspacing='0' border='0' width='95%'></table>" if old else ""
        script = (f"<script type=\"text/javascript\">$(document).ready(function(){{ $('#div{column}').jpage({{"
                  f"dataStore: dataStore, {config}, proxyUrl: '{proxy}' }}); }});</script>" if config else "")
        page = (f'<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>'
                f'<div id="div{column}"><script type="text/xml"><datastore>\n'
                f"<nextgroup><![CDATA[<a href=\"{nextgroup}\"></a>]]></nextgroup>\n<recordset>\n{table}{cdata}"
                f"</recordset>\n</datastore></script></div>{script}</body></html>")
        self.pages[f"{prefix}/col/col{column}/index.html"] = Page(page.encode())
        self.columns[str(column)] = {"records": records, "methods": methods, "per": per, "proxy": proxy}

    def _build_hanweb(self, reports: list[Report]) -> None:
        self._hanweb_column(reports, column=1001, prefix="/hanweb", old=False, methods="POST",
                            config=f"perPage: {_per(reports)}, totalRecord: {len(reports)}, groupSize: 1",
                            per=_per(reports), group=1)
        self.faults[reports[1].path] = ["429"]  # a transient 429 with Retry-After on one report

    def _build_hanweb_old(self, reports: list[Report]) -> None:
        self._hanweb_column(reports, column=2002, prefix="/hanweb-old", old=True, methods="GET", config=None,
                            per=_per(reports), group=1)

    def _build_hanweb_page(self, reports: list[Report]) -> None:
        per = _per(reports)
        self._hanweb_column(reports, column=3003, prefix="/hanweb-page", old=False, methods="PAGE",
                            config=f"PERPAGE:{per}, TOTALRECORD:{len(reports)}, GROUPSIZE:1", per=per, group=1)

    def _dataproxy(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> Page:
        """What a Hanweb data proxy answers: records startrecord…endrecord (or page N)."""
        params = {**query, **form}
        column = self.columns.get(params.get("columnid", ""))
        if column is None or column["proxy"] != path:
            return Page(b"<datastore><recordset></recordset></datastore>", "text/xml; charset=utf-8")
        records: list[str] = column["records"]  # type: ignore[assignment]
        per = int(column["per"])  # type: ignore[arg-type]
        rule = column["methods"]
        if rule == "POST" and method != "POST":
            return Page(b"method not allowed", "text/plain", status=405)
        if rule == "GET" and method != "GET":
            return Page(b"method not allowed", "text/plain", status=405)
        if rule == "PAGE":
            if "startrecord" in params or "page" not in params:
                return Page(b"bad request", "text/plain", status=400)
            n = int(params["page"])
            chunk = records[(n - 1) * per: n * per]
        else:
            if "startrecord" not in params:
                return Page(b"bad request", "text/plain", status=400)
            start, end = int(params["startrecord"]), int(params.get("endrecord", params["startrecord"]))
            chunk = records[start - 1: end]
        pages = (len(records) + per - 1) // per
        body = ('<?xml version="1.0" encoding="UTF-8"?><datastore><recordset>'
                + "".join(f"<record><![CDATA[\n{rec}]]></record>" for rec in chunk)
                + f"</recordset><totalrecord>{len(records)}</totalrecord><totalpage>{pages}</totalpage></datastore>")
        return Page(body.encode(), "text/xml; charset=utf-8")

    # -- TRS --------------------------------------------------------------------------------------
    def _build_trs(self, reports: list[Report]) -> None:
        per = 2
        pages = (len(reports) + per - 1) // per
        for p in range(pages):
            rows = []
            for i, r in enumerate(reports[p * per:(p + 1) * per], start=p * per):
                path = f"/trs/zfxxgknb/{r.year + 1}01/t{r.year + 1}0120_{900 + i}.html"
                if i == 2:
                    r.attachment = f"/trs/zfxxgknb/{r.year + 1}01/P0{900 + i}.pdf"
                    self.pages[r.attachment] = Page(PDF_BYTES, "application/pdf")
                self._register("trs", r, path)
                rows.append(f'<TR>\n  <TD height=25 align="left"><IMG src="/images/lb-xtb.gif" width=4 height=6 />'
                            f'&nbsp;<A \n   href=".{path.removeprefix("/trs/zfxxgknb")}">{html.escape(r.title)}</A></TD>'
                            f'\n  <TD width="60" align="right">{r.year + 1}-01-20</TD>\n</TR>')
                if i % 5 == 4:
                    rows.append('<TR height=1><TD colspan=2 class="GroupBlankLine"></TD></TR>')
            name = "index.html" if p == 0 else f"index_{p}.html"
            self.pages[f"/trs/zfxxgknb/{name}"] = Page(
                (f"<html><body><TABLE><TBODY>{''.join(rows)}</TBODY></TABLE>"
                 f'<script>createPageHTML({pages}, {p}, "index", "html");</script></body></html>').encode())
        self.faults[reports[3].path] = ["503", "500"]  # transient server errors, then fine

    def _build_trs_countpage(self, reports: list[Report]) -> None:
        per = 3
        pages = (len(reports) + per - 1) // per
        for p in range(pages):
            items = []
            for i, r in enumerate(reports[p * per:(p + 1) * per], start=p * per):
                path = f"/trs2/xxgknb/{r.year + 1}09/t{r.year + 1}0903_{2748784 + i}.html"
                self._register("trs", r, path)
                items.append(f'<tr><td><a href=".{path.removeprefix("/trs2/xxgknb")}">{html.escape(r.title)}</a></td>'
                             f"<td>{r.year + 1}-09-03</td></tr>")
            items.append('<tr><td><a href="./202005/t20200506_2633371.html">恩格贝生态示范区召开2020年度工作会暨党风'
                         "廉政建设会议</a></td></tr>")  # news in the same column, as in the captured page
            pager = "".join(f'<a href="index{"" if q == 0 else f"_{q}"}.html">{q + 1}</a>&nbsp;|' for q in range(pages))
            name = "index.html" if p == 0 else f"index_{p}.html"
            self.pages[f"/trs2/xxgknb/{name}"] = Page(
                (f"<html><body><table><tbody>{''.join(items)}</tbody></table><script>\nvar currentPage = {p};"
                 f"//所在页从0开始\nvar prevPage = currentPage-1\nvar nextPage = currentPage+1\nvar countPage = {pages}"
                 f'//共多少页\ndocument.write("&nbsp;<a href=\\"index."+"html\\">首页</a>&nbsp;|");\n</script>'
                 f'共计&nbsp;<font>{pages}&nbsp;</font>页&nbsp;{pager}</body></html>').encode())

    # -- gkmlpt -----------------------------------------------------------------------------------
    def _build_gkmlpt(self, reports: list[Report]) -> None:
        per = 3
        arts = []
        for i, r in enumerate(reports):
            path = f"/gkmlpt/content/5/{r.year + 1}/post_{7000 + i}.html"
            self._register("gkmlpt", r, path)
            arts.append({"title": r.title, "url": path, "publisher": r.agency,
                         "display_publish_time": f"{r.year + 1}-02-0{1 + i % 9}", "identifier": f"id-{i}"})
        tree = [{"id": 2, "name": "政府信息公开指南", "children": []},
                {"id": 5, "name": "政府信息公开年报", "children": []}]
        self.pages["/gkmlpt/annualreport"] = Page(
            ('<html><head><meta charset="utf-8"></head><body><div id="app"></div><script>window._CONFIG = '
             f'{{SID: "757", TREE: {json.dumps(tree, ensure_ascii=False)}}};</script>'
             '<script src="/gkmlpt/static/js/app.js"></script></body></html>').encode())
        self.gkmlpt = {"sid": "757", "per": per, "articles": arts}
        self.faults[reports[2].path] = ["reset"]

    def _gkmlpt_api(self, query: dict[str, str]) -> Page:
        state = self.gkmlpt
        if query.get("sid") != state["sid"]:
            return Page(json.dumps({"code": 400, "msg": "sid error"}).encode(), "application/json")
        per, arts = int(state["per"]), state["articles"]
        page = int(query.get("page", "1") or 1)
        chunk = arts[(page - 1) * per: page * per]  # type: ignore[index]
        return Page(json.dumps({"total": len(arts), "articles": chunk}, ensure_ascii=False).encode(),  # type: ignore[arg-type]
                    "application/json")

    # -- Zhengzhou .jhtml, generic -----------------------------------------------------------------
    def _build_jhtml(self, reports: list[Report]) -> None:
        per = 4
        pages = (len(reports) + per - 1) // per
        for p in range(1, pages + 1):
            items = []
            for i, r in enumerate(reports[(p - 1) * per:p * per], start=(p - 1) * per):
                path = f"/jhtml/D42Y/{5000 + i}.jhtml"
                self._register("jhtml", r, path)
                items.append(f'<a href="{path}"><span>{html.escape(r.title)}</span><em>{r.year + 1}-03-01</em></a>')
            nav = "".join(f'<a href="/jhtml/?a=path&d=1&p=D42Y&page={q}">{q}</a>' for q in range(1, pages + 1))
            self.pages[f"/jhtml/?a=path&d=1&p=D42Y&page={p}"] = Page(
                f'<html><body><ul class="common-list">{"".join(items)}</ul><div class="page">{nav}</div>'
                "</body></html>".encode())
        self.faults[reports[1].path] = ["slow"]

    def _build_generic(self, reports: list[Report]) -> None:
        half = (len(reports) + 1) // 2
        for p, chunk in enumerate((reports[:half], reports[half:])):
            items = []
            for i, r in enumerate(chunk, start=p * half):
                path = f"/generic/zfxxgknb/{r.year + 1}/report-{i}.html"
                self._register("generic", r, path)
                items.append(self._li(path, r.title, f"{r.year + 1}-01-05"))
            extra = ""
            if p == 0:
                extra = (self._li("/generic/notice/1.html", "关于开展2024年安全生产月活动的通知", "2024-06-01")
                         + self._li("/generic/private/hidden.html", "某某区2023年度政府信息公开工作年度报告（内部）",
                                    "2024-01-02")
                         + self._li("/generic/redirect-offsite", "某某区2022年度政府信息公开工作年度报告（外链）",
                                    "2023-01-02")
                         + '<a href="/generic/zfxxgknb/index_2.html">下一页</a>')
            else:
                extra = self._li("/generic/zfxxgknb/missing.html", "某某区2018年度政府信息公开工作年度报告", "2019-01-02")
            name = "index.html" if p == 0 else "index_2.html"
            self.pages[f"/generic/zfxxgknb/{name}"] = Page(
                f"<html><body><ul>{''.join(items)}{extra}</ul></body></html>".encode())

    def _build_decoys(self) -> None:
        self.pages["/generic/notice/1.html"] = Page("<html><body><p>通知正文。</p></body></html>".encode())
        self.pages["/generic/private/hidden.html"] = Page(b"<html><body>must never be fetched</body></html>")
        self.pages["/generic/redirect-offsite"] = Page(b"", status=302,
                                                       headers={"Location": "http://offsite.example/report.html"})

    # -- control ------------------------------------------------------------------------------
    def change(self, path: str, edit: Callable[[str], str]) -> None:
        """Change a page's content (a report revised on the portal)."""
        with self.lock:
            page = self.pages[path]
            encoding = "gb18030" if "GBK" in page.content_type else "utf-8"
            page.body = edit(page.body.decode(encoding)).encode(encoding)
            page.version += 1

    def paths_requested(self) -> list[str]:
        with self.lock:
            return [p for _, p, _ in self.requests]

    def report_paths(self) -> list[str]:
        return [r.path for rs in self.reports.values() for r in rs]

    def url(self, path: str) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    START_PATHS = {
        "hanweb": "/hanweb/col/col1001/index.html",
        "hanweb-old": "/hanweb-old/col/col2002/index.html",
        "hanweb-page": "/hanweb-page/col/col3003/index.html",
        "trs": "/trs/zfxxgknb/index.html",
        "trs-countpage": "/trs2/xxgknb/index.html",
        "gkmlpt": "/gkmlpt/annualreport",
        "jhtml": "/jhtml/?a=path&d=1&p=D42Y&page=1",
        "generic": "/generic/zfxxgknb/index.html",
    }

    COLUMN_NAMES = {  # how the portal's 政府信息公开 page names each family's report column
        "/hanweb/col/col1001/index.html": "政府信息公开年报",
        "/hanweb-old/col/col2002/index.html": "政府信息公开工作年度报告",
        "/hanweb-page/col/col3003/index.html": "年度报告",
        "/trs/zfxxgknb/index.html": "政府信息公开年度报告",
        "/trs2/xxgknb/index.html": "信息公开年报",
        "/gkmlpt/annualreport": "政府信息公开年报",
        "/jhtml/?a=path&d=1&p=D42Y&page=1": "政务公开年报",
    }

    def sources_toml(self, delay_s: float = 0.0, concurrency: int = 4) -> str:
        return "".join(
            f'[[source]]\nname = "sim-{portal}"\nowner = "模拟{portal}门户"\nfamily = "{family}"\n'
            f'start_urls = ["{self.url(self.START_PATHS[portal])}"]\ndelay_s = {delay_s}\nconcurrency = {concurrency}\n'
            "allow_private = true  # the simulated portal runs on 127.0.0.1\n\n"
            for portal, family in self.PORTALS.items()
        )

    def start(self) -> SimPortal:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, as real servers send them

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                portal._serve(self, "GET")

            def do_POST(self) -> None:
                portal._serve(self, "POST")

        self.server = _QuietServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> SimPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        form: dict[str, str] = {}
        if method == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(h.rfile.read(length).decode("utf-8", "replace")).items()}
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append((method, key, dict(h.headers.items())))
            faults = self.faults.get(key)
            fault = faults.pop(0) if faults else None
            if parts.path.endswith("/jpage/dataproxy.jsp"):
                page: Page | None = self._dataproxy(method, parts.path, query, form)
            elif parts.path.startswith("/gkmlpt/api/all/5"):
                page = self._gkmlpt_api(query)
            else:
                page = self.pages.get(key) if method == "GET" else None
        if fault == "reset":
            h.close_connection = True
            h.connection.shutdown(2)  # drop the connection without an answer
            return
        if fault == "slow":
            time.sleep(3.0)
        if fault in ("429", "500", "503"):
            self._send(h, int(fault), b"busy", "text/plain", {"Retry-After": "1"} if fault == "429" else {})
            return
        if page is None:
            self._send(h, 404, "<html><body>页面不存在</body></html>".encode(), "text/html; charset=utf-8")
            return
        if page.status != 200:
            self._send(h, page.status, page.body, page.content_type, page.headers)
            return
        if method == "GET" and h.headers.get("If-None-Match") == page.etag:
            self._send(h, 304, b"", page.content_type, {"ETag": page.etag})
            return
        self._send(h, 200, page.body, page.content_type,
                   {"ETag": page.etag, "Last-Modified": page.last_modified} if method == "GET" else {})

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str,
              headers: dict[str, str] | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            if body:
                h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main() -> None:
    """Run the simulated portal until interrupted; write its sources file first.

    Example:

        python -m gongkai.devtools.simportal --sources /tmp/sim-sources.toml --reports 60 --no-faults
    """
    import argparse
    import signal

    ap = argparse.ArgumentParser(description="Run the simulated portal on 127.0.0.1.")
    ap.add_argument("--sources", required=True, help="write the sources registry for this portal here")
    ap.add_argument("--reports", type=int, default=6, help="reports per portal family")
    ap.add_argument("--no-faults", action="store_true", help="serve every page at the first try")
    ap.add_argument("--delay", type=float, default=0.0, help="delay_s written into the sources file")
    ap.add_argument("--concurrency", type=int, default=4, help="concurrency written into the sources file")
    args = ap.parse_args()
    portal = SimPortal(reports_per_portal=args.reports)
    if args.no_faults:
        portal.faults.clear()
    with portal:
        from pathlib import Path

        Path(args.sources).write_text(portal.sources_toml(args.delay, args.concurrency), encoding="utf-8")
        print(portal.url("/"), flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    main()
