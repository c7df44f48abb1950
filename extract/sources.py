"""The sources registry (data/sources.toml): one entry per portal section that lists reports.

>>> s = parse_sources('[[source]]\\nname = "a"\\nfamily = "generic"\\nstart_urls = ["https://x.gov.cn/nb/index.html"]')
>>> s[0].allowed_hosts, s[0].max_pages
(('x.gov.cn',), 50)
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gongkai.extract.netguard import normalize_host
from gongkai.extract.urls import host_of

FAMILIES = ("hanweb", "trs", "gkmlpt", "jhtml", "generic")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KNOWN = {"name", "owner", "family", "start_urls", "allowed_hosts", "max_pages", "delay_s", "concurrency",
          "years", "enabled", "note", "allow_private"}


class SourceError(ValueError):
    """A malformed entry in the sources file; the message names the entry and the field."""


@dataclass(frozen=True)
class Source:
    name: str
    family: str
    start_urls: tuple[str, ...]
    owner: str = ""
    allowed_hosts: tuple[str, ...] = ()
    max_pages: int = 50
    delay_s: float = 1.0
    concurrency: int = 2
    years: tuple[int, int] | None = None
    enabled: bool = True
    allow_private: bool = False  # its hosts may resolve to private/loopback addresses (tests, intranets)

    def allows_host(self, url: str) -> bool:
        return host_of(url) in self.allowed_hosts

    def wants_year(self, year: int | None) -> bool:
        return self.years is None or year is None or self.years[0] <= year <= self.years[1]


def _entry(raw: dict[str, object], index: int) -> Source:
    label = f"source #{index + 1}" + (f" ({raw['name']!r})" if isinstance(raw.get("name"), str) else "")

    def bad(field: str, why: str) -> SourceError:
        return SourceError(f"{label}: field {field!r} {why}")

    unknown = set(raw) - _KNOWN
    if unknown:
        field = sorted(unknown)[0]
        close = difflib.get_close_matches(field, sorted(_KNOWN), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(sorted(_KNOWN))}"
        raise bad(field, f"is not a known field ({hint})")
    for field in ("name", "family", "start_urls"):
        if field not in raw:
            raise bad(field, "is missing (every entry needs name, family and start_urls)")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise bad("name", "must be a slug of lowercase letters, digits, '-' or '_' (e.g. \"shangjie-keji\")")
    family = raw.get("family")
    if family not in FAMILIES:
        close = difflib.get_close_matches(str(family), FAMILIES, n=1)
        raise bad("family", f"is {family!r}: must be one of {', '.join(FAMILIES)}"
                  + (f" (did you mean {close[0]!r}?)" if close else ""))
    urls = raw.get("start_urls")
    if isinstance(urls, str):
        raise bad("start_urls", f"must be a list: start_urls = [{urls!r}]".replace("'", '"'))
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise bad("start_urls", "must be a non-empty list of URLs")
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad("start_urls", f"has {u!r}, which is not an http(s) URL")
    hosts = raw.get("allowed_hosts", [urlsplit(u).hostname for u in urls])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise bad("allowed_hosts", "must be a list of host names")
    allowed = {normalize_host(h) for h in hosts}
    outside = [u for u in urls if normalize_host(urlsplit(u).hostname or "") not in allowed]
    if outside:
        raise bad("allowed_hosts", f"leaves out the host of start URL {outside[0]!r}: nothing would be fetched "
                  f"(add {urlsplit(outside[0]).hostname!r})")
    for field, kind, low in (("max_pages", int, 1), ("concurrency", int, 1), ("delay_s", (int, float), 0)):
        value = raw.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind) or value < low):
            raise bad(field, f"must be a number ≥ {low}")
    years = raw.get("years")
    if years is not None and (not isinstance(years, list) or len(years) != 2
                              or not all(isinstance(y, int) for y in years) or years[0] > years[1]):
        raise bad("years", "must be [first, last], e.g. [2019, 2025]")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise bad("enabled", "must be true or false")
    allow_private = raw.get("allow_private", False)
    if not isinstance(allow_private, bool):
        raise bad("allow_private", "must be true or false")
    owner = raw.get("owner", "")
    if not isinstance(owner, str):
        raise bad("owner", "must be a string")
    return Source(
        name=name, family=family, start_urls=tuple(urls), owner=owner,
        allowed_hosts=tuple(normalize_host(h) for h in hosts),
        max_pages=int(raw.get("max_pages", 50)), delay_s=float(raw.get("delay_s", 1.0)),
        concurrency=int(raw.get("concurrency", 2)),
        years=(years[0], years[1]) if years else None, enabled=enabled, allow_private=allow_private,
    )


def parse_sources(text: str, origin: str = "sources file") -> list[Source]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{origin} is not valid TOML: {exc}") from exc
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise SourceError(f"{origin}: use [[source]] tables for the entries")
    others = [k for k in data if k != "source"]
    if others:
        close = difflib.get_close_matches(others[0], ["source"], n=1, cutoff=0.5)
        raise SourceError(f"{origin}: unknown table [{others[0]}]"
                          + (" (did you mean [[source]]?)" if close else ": entries are [[source]] tables"))
    sources = [_entry(e, i) for i, e in enumerate(entries)]
    seen: set[str] = set()
    for s in sources:
        if s.name in seen:
            raise SourceError(f"{origin}: two entries are named {s.name!r}")
        seen.add(s.name)
    return sources


def load_sources(path: Path) -> list[Source]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read the sources file {path}: {exc.strerror or exc}") from exc
    return parse_sources(text, str(path))
