"""What every portal family provides, and the helpers they share.

A family turns a fetched list page into report links (with title and date) and further list
pages; report pages are handled alike for all families (their attachments are archived).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from gongkai.transform.decode import decode_bytes
from gongkai.transform.metadata import split_title

ATTACHMENT_RE = re.compile(r"\.(pdf|docx?|xlsx?|wps|ofd|zip|rar)(?:$|[?#])", re.IGNORECASE)
_REPORT_TITLE_RE = re.compile(r"(政府信息公开|政务公开|信息公开).{0,12}(年度报告|年报|工作报告)|公开年报")
_DATE_RE = re.compile(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_PARSER = etree.HTMLParser(no_network=True, remove_comments=True)


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    date: str | None = None

    @property
    def year(self) -> int | None:
        return split_title(self.title)[1]


@dataclass
class Listing:
    reports: list[Link] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # further list pages (the family vouches for them)
    attachments: list[Link] = field(default_factory=list)  # reports published as files only


@dataclass(frozen=True)
class Family:
    name: str
    parse_listing: Callable[[str, bytes], Listing]


def looks_like_report(title: str) -> bool:
    """A title of an annual report on government information disclosure."""
    t = "".join(title.split())
    return bool(_REPORT_TITLE_RE.search(t)) and bool(re.search(r"(19|20)\d{2}", t))


def find_date(text: str) -> str | None:
    m = _DATE_RE.search(text)
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None


def html_root(data: bytes | str) -> etree._Element | None:
    text = decode_bytes(data).text if isinstance(data, bytes) else data
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    if not text.strip():
        return None
    return etree.fromstring(text, _PARSER)


def anchors(root: etree._Element | None, base: str) -> Iterator[tuple[str, str, etree._Element]]:
    """(absolute URL, text or title, element) of every link."""
    if root is None:
        return
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        text = " ".join("".join(a.itertext()).split()) or (a.get("title") or "").strip()
        title = (a.get("title") or "").strip()
        yield urljoin(base, href), title if len(title) > len(text) else text, a


def report_links(root: etree._Element | None, base: str, accept: Callable[[str], object] | None = None) -> Listing:
    """Links whose text or title reads like a report title (and whose URL ``accept`` takes, if
    given); files go to ``attachments``. The date is the one printed beside the link."""
    out = Listing()
    seen: set[str] = set()
    for url, title, a in anchors(root, base):
        if url in seen or not looks_like_report(title) or (accept is not None and not accept(url)):
            continue
        seen.add(url)
        parent = a.getparent()
        context = " ".join("".join(parent.itertext()).split()) if parent is not None else ""
        link = Link(url, title, find_date(context))
        (out.attachments if ATTACHMENT_RE.search(url) else out.reports).append(link)
    return out


_MAY_ATTACH_RE = re.compile(rb"\.(?:[pP][dD][fF]|[dD][oO][cC]|[xX][lL][sS]|[wW][pP][sS]|[oO][fF][dD]|[zZ][iI][pP]|[rR][aA][rR])|viewer\.html|file=")


def attachments_of(url: str, data: bytes) -> list[str]:
    """Files attached to a report page (PDF, DOC, …), including pdf.js viewer links. A body that
    is not a text page (a PDF served under an .html name) has none."""
    found: list[str] = []
    if not _MAY_ATTACH_RE.search(data):  # most pages link no file: skip building their tree
        return found
    try:
        root = html_root(data)
    except Exception:  # noqa: BLE001 - binary or undecodable: no links to follow
        return found
    if root is None:
        return found
    for target, _, _ in anchors(root, url):
        if "viewer.html" in target and "file=" in target:
            inner = parse_qs(urlsplit(target).query).get("file", [""])[0]
            if inner:
                target = urljoin(url, inner)
        if ATTACHMENT_RE.search(target) and target not in found:
            found.append(target)
    for frame in root.iter("iframe"):
        src = urljoin(url, frame.get("src") or "")
        if "file=" in src:
            src = urljoin(url, parse_qs(urlsplit(src).query).get("file", [""])[0])
        if ATTACHMENT_RE.search(src) and src not in found:
            found.append(src)
    return found
