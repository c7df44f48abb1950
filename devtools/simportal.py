"""A simulated government portal: a real HTTP server on 127.0.0.1 for tests, benchmarks and the demo.

One server hosts five fake district portals, one per family (paths /hanweb/, /trs/, /gkmlpt/,
/jhtml/, /generic/), each listing reports over several pages: real reports from
data/samples/ and generated ones of both layouts, some GBK-encoded, some with attachments,
with decoys that are not reports, a robots.txt, and faults on request (404, transient
500/503, 429 with Retry-After, a slow page, a connection reset, a redirect off-site). It
answers conditional GETs (ETag / Last-Modified) and records every request.

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


def _text_report_html(text: str) -> str:
    """A plain-text report as page paragraphs (tabs kept: they separate table cells)."""
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


def _detail_page(report: Report, family: str) -> bytes:
    container = {
        "hanweb": '<div id="zoom">{}</div>',
        "trs": '<div class="TRS_Editor">{}</div>',
        "gkmlpt": '<div class="article-content">{}</div>',
        "jhtml": '<div class="content-wrap">{}</div>',
        "generic": '<div class="article">{}</div>',
    }[family]
    attachment = (f'<p>附件：<a href="{report.attachment}">{html.escape(report.title)}.pdf</a></p>'
                  if report.attachment else "")
    charset = "gbk" if report.gbk else "utf-8"
    page = (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f'<meta name="ArticleTitle" content="{html.escape(report.title)}"><title>{html.escape(report.title)}</title>'
        f'</head><body><div class="nav"><a href="/">首页</a> 政务公开 政府信息公开年报</div>'
        f"<h1>{html.escape(report.title)}</h1>"
        + container.format(report.body_html + attachment)
        + '<div class="footer">主办单位：某某区人民政府办公室</div></body></html>'
    )
    return page.encode("gb18030" if report.gbk else "utf-8")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the connection resets it injects on purpose are not news


class SimPortal:
    """The simulated portal. ``with SimPortal() as p:`` starts it on a free port."""

    FAMILIES = ("hanweb", "trs", "gkmlpt", "jhtml", "generic")

    def __init__(self, reports_per_portal: int = 6, seed: int = 7, port: int = 0) -> None:
        self.port = port
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.faults: dict[str, list[str]] = {}
        self.reports: dict[str, list[Report]] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self._build(reports_per_portal, seed)

    # -- content ------------------------------------------------------------------------------
    def _reports_for(self, family: str, n: int, seed: int) -> list[Report]:
        out: list[Report] = []
        samples = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix in (".html", ".txt"))
        county = {"hanweb": "甲", "trs": "乙", "gkmlpt": "丙", "jhtml": "丁", "generic": "戊"}[family]
        for i in range(n):
            if i == 0 and family in ("trs", "generic") and samples:
                sample = samples[(self.FAMILIES.index(family)) % len(samples)]
                out.append(self._sample_report(sample, family))
                continue
            layout = "2019" if i % 3 == 0 else "2021"
            year = 2019 + i % 2 if layout == "2019" else 2021 + i % 4
            agency = f"某某市{county}区人民政府" if i == 2 else f"某某市{county}区第{i}局"
            opts = Options(form="html", gbk=(i % 4 == 1), word_spans=(i % 2 == 0), narrative=True)
            gen = generate(seed * 100 + i + 13 * self.FAMILIES.index(family), opts, layout, agency=agency,
                           year=year)
            body = gen.data.decode("gb18030" if opts.gbk else "utf-8")
            inner = body[body.index("<body>") + 6: body.index("</body>")]
            title = f"{agency}{year}年度政府信息公开工作年度报告"
            out.append(Report("", title, agency, year, inner, gbk=opts.gbk))
        return out

    def _sample_report(self, sample, family: str) -> Report:
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
        self.pages["/"] = Page("<html><body><h1>某某区人民政府门户网站</h1></body></html>".encode())
        for family in self.FAMILIES:
            reports = self._reports_for(family, n, seed)
            self.reports[family] = reports
            getattr(self, f"_build_{family}")(reports)
        self._build_decoys()

    def _register(self, family: str, report: Report, path: str) -> None:
        report.path = path
        self.pages[path] = Page(_detail_page(report, family),
                                "text/html; charset=GBK" if report.gbk else "text/html; charset=utf-8")

    def _li(self, href: str, title: str, date: str) -> str:
        return f'<li><a href="{href}" title="{html.escape(title)}">{html.escape(title)}</a><span>{date}</span></li>'

    def _build_hanweb(self, reports: list[Report]) -> None:
        per = 4
        records = []
        for i, r in enumerate(reports):
            path = f"/hanweb/art/{r.year + 1}/1/{10 + i}/art_1001_{i + 1}.html"
            self._register("hanweb", r, path)
            records.append(f"<record><![CDATA[{self._li(path, r.title, f'{r.year + 1}-01-{10 + i}')}]]></record>")
        total = len(records)
        first = "".join(records[:per])
        self.pages["/hanweb/col/col1001/index.html"] = Page((
            '<html><body><div class="list"><script type="text/xml"><datastore>'
            f"<nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid=1001&unitid=5501&perpage={per}\"></a>]]></nextgroup>"
            f"<recordset>{first}</recordset><totalrecord>{total}</totalrecord></datastore></script>"
            f'<script>var unitid=5501; var perpage={per};</script></div></body></html>').encode())
        for start in range(1, total + 1, per):
            chunk = "".join(records[start - 1:start - 1 + per])
            q = f"startrecord={start}&endrecord={start + per - 1}&perpage={per}&columnid=1001&unitid=5501"
            self.pages[f"/module/web/jpage/dataproxy.jsp?{q}"] = Page(
                f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{total}</totalrecord>'
                f"<recordset>{chunk}</recordset></datastore>".encode(), "text/xml; charset=utf-8")
        # a transient 429 with Retry-After on one report
        self.faults[reports[1].path] = ["429"]

    def _build_trs(self, reports: list[Report]) -> None:
        per = 2
        pages = (len(reports) + per - 1) // per
        for p in range(pages):
            items = []
            for i, r in enumerate(reports[p * per:(p + 1) * per], start=p * per):
                path = f"/trs/zfxxgknb/{r.year + 1}01/t{r.year + 1}0120_{900 + i}.html"
                if i == 2:
                    r.attachment = f"/trs/zfxxgknb/{r.year + 1}01/P0{900 + i}.pdf"
                    self.pages[r.attachment] = Page(PDF_BYTES, "application/pdf")
                self._register("trs", r, path)
                items.append(self._li("." + path.removeprefix("/trs/zfxxgknb"), r.title, f"{r.year + 1}-01-20"))
            name = "index.html" if p == 0 else f"index_{p}.html"
            self.pages[f"/trs/zfxxgknb/{name}"] = Page(
                (f"<html><body><ul class=\"list\">{''.join(items)}</ul>"
                 f'<script>createPageHTML({pages}, {p}, "index", "html");</script></body></html>').encode())
        self.faults[reports[3].path] = ["503", "500"]  # transient server errors, then fine

    def _build_gkmlpt(self, reports: list[Report]) -> None:
        per = 3
        arts = []
        for i, r in enumerate(reports):
            path = f"/gkmlpt/content/5/{r.year + 1}/post_{7000 + i}.html"
            self._register("gkmlpt", r, path)
            arts.append({"title": r.title, "url": path, "publisher": r.agency,
                         "display_publish_time": f"{r.year + 1}-02-0{1 + i % 9}", "identifier": f"id-{i}"})
        self.pages["/gkmlpt/annualreport"] = Page(
            b'<html><body><div id="app"></div><script>var api = "/gkmlpt/api/all/5"; var sid = "757";'
            b"</script></body></html>")
        for p in range(1, (len(arts) + per - 1) // per + 1):
            self.pages[f"/gkmlpt/api/all/5?page={p}&sid=757"] = Page(
                json.dumps({"total": len(arts), "articles": arts[(p - 1) * per:p * per]}, ensure_ascii=False).encode(),
                "application/json")
        self.faults[reports[2].path] = ["reset"]

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

    def sources_toml(self, delay_s: float = 0.0, concurrency: int = 4) -> str:
        starts = {
            "hanweb": "/hanweb/col/col1001/index.html",
            "trs": "/trs/zfxxgknb/index.html",
            "gkmlpt": "/gkmlpt/annualreport",
            "jhtml": "/jhtml/?a=path&d=1&p=D42Y&page=1",
            "generic": "/generic/zfxxgknb/index.html",
        }
        return "".join(
            f'[[source]]\nname = "sim-{family}"\nowner = "模拟{family}门户"\nfamily = "{family}"\n'
            f'start_urls = ["{self.url(path)}"]\ndelay_s = {delay_s}\nconcurrency = {concurrency}\n'
            "allow_private = true  # the simulated portal runs on 127.0.0.1\n\n"
            for family, path in starts.items()
        )

    def start(self) -> SimPortal:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, as real servers send them

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                portal._serve(self)

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
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path.startswith("/module/web/jpage/dataproxy.jsp"):
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            key = parts.path + "?" + "&".join(f"{k}={q.get(k, '')}" for k in
                                              ("startrecord", "endrecord", "perpage", "columnid", "unitid"))
        with self.lock:
            self.requests.append(("GET", key, dict(h.headers.items())))
            faults = self.faults.get(key)
            fault = faults.pop(0) if faults else None
            page = self.pages.get(key)
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
        if h.headers.get("If-None-Match") == page.etag:
            self._send(h, 304, b"", page.content_type, {"ETag": page.etag})
            return
        self._send(h, 200, page.body, page.content_type,
                   {"ETag": page.etag, "Last-Modified": page.last_modified})

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
