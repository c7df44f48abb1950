"""URL hygiene: what is requested, and what counts as the same page.

Requests go out as the page wrote them, minus the fragment (the server never sees it anyway).
For de-duplication, :func:`dedup_key` also lower-cases scheme and host, drops default ports,
sorts query parameters and drops a trailing slash, so ``b.htm#top`` and ``B.htm`` on
``HTTP://X.gov.cn:80/`` are one page.

>>> strip_fragment("http://x.gov.cn/a/b.htm#top")
'http://x.gov.cn/a/b.htm'
>>> dedup_key("HTTP://X.gov.cn:80/nb/?b=2&a=1#x") == dedup_key("http://x.gov.cn/nb?a=1&b=2")
True
>>> host_of("http://0x7f000001:8080/x")
'127.0.0.1'
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gongkai.extract.netguard import normalize_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


class BadURL(ValueError):
    """A link the crawler cannot request (bad scheme, host or port)."""


def strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def split_checked(url: str) -> tuple[str, str, int]:
    """(scheme, normalised host, port) of an http(s) URL; raises BadURL for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"bad URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BadURL(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise BadURL(f"no host in {url!r}")
    return scheme, normalize_host(parts.hostname), port if port is not None else _DEFAULT_PORTS[scheme]


def host_of(url: str) -> str:
    """The normalised host of a URL ('' when it has none)."""
    try:
        return normalize_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def origin_of(url: str) -> str:
    scheme, host, port = split_checked(url)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")


def dedup_key(url: str) -> str:
    """The form two links must share to be the same page (never used for the request itself)."""
    url = strip_fragment(url)
    try:
        scheme, host, port = split_checked(url)
    except BadURL:
        return url
    parts = urlsplit(url)
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    shown = f"[{host}]" if ":" in host else host
    netloc = shown + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")
    return urlunsplit((scheme, netloc, path, query, ""))
