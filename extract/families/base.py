"""What every portal family provides, and the helpers they share.

A family turns a fetched list page into its list items (links with title and date, before
any filter), further list pages to request, and warnings when its selectors found nothing
they expected. The items whose titles read like an annual report are the reports; files
(PDF, DOC, …) among them are reports published as attachments only.

List pages are read with BeautifulSoup (lxml builder) and CSS selectors (soupsieve); each
family names its selectors in one place and :func:`select` says when one found nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin

from bs4 import BeautifulSoup, SoupStrainer, Tag

from gongkai.transform.decode import decode_bytes
from gongkai.transform.errors import ParseFailure
from gongkai.transform.metadata import split_title

ATTACHMENT_RE = re.compile(r"\.(pdf|docx?|xlsx?|wps|ofd|zip|rar)(?:$|[?#])", re.IGNORECASE)
_REPORT_TITLE_RE = re.compile(r"(政府信息公开|政务公开|信息公开).{0,12}(年度报告|年报|工作报告)|公开年报")
_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_CUT_MARKS = ("…", "...", "..")


class ListingError(Exception):
    """A list page that cannot be read as its family's listing (the message says why)."""


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    date: str | None = None

    @property
    def year(self) -> int | None:
        return split_title(self.title)[1]


@dataclass(frozen=True)
class PageRequest:
    """A further list page: a GET of ``url``, or a POST of ``form`` to it. ``fallback`` is tried
    when this request gives nothing usable (a portal that answers only GET, or only POST)."""

    url: str
    method: str = "GET"
    form: tuple[tuple[str, str], ...] = ()
    fallback: PageRequest | None = None

    @property
    def key(self) -> str:
        """What makes two requests the same page."""
        return self.url + ("|" + urlencode(self.form) if self.method == "POST" else "")


@dataclass
class Listing:
    items: list[Link] = field(default_factory=list)  # every list item, before the report-title filter
    pages: list[PageRequest] = field(default_factory=list)  # further list pages (the family vouches for them)
    warnings: list[str] = field(default_factory=list)
    total: int | None = None  # items the portal says the list holds, when it says

    @property
    def reports(self) -> list[Link]:
        """Items whose title reads like an annual report, published as pages."""
        return [i for i in self.items if looks_like_report(i.title) and not ATTACHMENT_RE.search(i.url)]

    @property
    def attachments(self) -> list[Link]:
        """Reports published as files only (PDF, DOC, …)."""
        return [i for i in self.items if looks_like_report(i.title) and ATTACHMENT_RE.search(i.url)]

    def add_page(self, url: str) -> None:
        if all(p.url != url for p in self.pages):
            self.pages.append(PageRequest(url))


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


def page_text(data: bytes | str) -> str:
    """The page as text (charset detected); a binary body is a ListingError."""
    if isinstance(data, str):
        return data
    try:
        return decode_bytes(data).text
    except ParseFailure as exc:
        raise ListingError(f"not a list page: {exc}") from exc


def soup_of(data: bytes | str, parse_only: SoupStrainer | None = None) -> BeautifulSoup:
    """A BeautifulSoup tree of a page or fragment (lxml builder); ``parse_only``: build only
    the elements it matches (and what they hold)."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", page_text(data))
    return BeautifulSoup(text, "lxml", parse_only=parse_only)


def select(root: BeautifulSoup | Tag, selector: str, what: str, listing: Listing | None = None) -> list[Tag]:
    """Elements matching a CSS selector; when there are none, ``listing`` gets a warning naming
    what was looked for (a portal whose markup changed is noticed, not silently empty)."""
    found = root.select(selector)
    if not found and listing is not None:
        listing.warnings.append(f"no {what} found (selector {selector!r})")
    return found


def text_of(el: Tag) -> str:
    return " ".join(el.get_text(" ").split())


def link_title(a: Tag) -> str:
    """The whole title of a link: its ``title`` attribute when the text is cut (``…``) or shorter."""
    text = text_of(a)
    title = " ".join((a.get("title") or "").split())
    if title and (len(title) >= len(text) or text.endswith(_CUT_MARKS)):
        return title
    return text


def link_of(a: Tag, base: str, context: Tag | None = None) -> Link | None:
    """A list item from an ``<a>``: absolute URL, whole title, the date printed beside it."""
    href = (a.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "mailto:", "#")):
        return None
    date = None
    scopes = [context] if context is not None else [a.parent, *list(a.parents)[1:3]]
    for scope in scopes:  # the link's cell, then its row (<tr>, <dl>, <li>): not the whole list
        if scope is None or (scope is not context and len(scope.find_all("a", limit=2)) > 1):
            break
        date = find_date(text_of(scope))
        if date:
            break
    return Link(urljoin(base, href), link_title(a), date)


def unique(links: Iterable[Link]) -> list[Link]:
    seen: set[str] = set()
    out = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out


def report_links(root: BeautifulSoup, base: str, accept: Callable[[str], object] | None = None) -> list[Link]:
    """Every link (whose URL ``accept`` takes, if given), with the date beside it."""
    out = []
    for a in root.select("a[href]"):
        link = link_of(a, base)
        if link is not None and (accept is None or accept(link.url)):
            out.append(link)
    return unique(out)
