"""Bytes → text with the right charset.

Order: byte-order mark, then the charset the server declared (Content-Type) when the bytes
decode with it, then strict UTF-8, then the charset a ``<meta>`` tag declares, then strict
GB18030, then a page that is UTF-8 or GB18030 but for a few broken bytes (decoded with
replacement characters), then charset-normalizer's guess. GBK and GB2312 are decoded as
GB18030 (their superset), so that characters outside GB2312 that portals use anyway still
decode. A Latin-1 declaration is not trusted: it decodes any bytes, and Chinese portals that
send it mean something else.

>>> decode_bytes("规章".encode("gbk")).text
'规章'
>>> decode_bytes("规章".encode("utf-8")).encoding
'utf-8'
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

from gongkai.transform.errors import ParseFailure

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_GB_FAMILY = {"gbk", "gb2312", "gb_2312", "gb-2312", "cp936", "ms936", "euc-cn", "euccn", "hz", "gb18030", "x-gbk"}
_MAGIC = (
    (b"%PDF", "PDF document"),
    (b"\xd0\xcf\x11\xe0", "OLE2 document (DOC/XLS/WPS)"),
    (b"PK\x03\x04", "ZIP container (DOCX/XLSX/OFD)"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def canonical_encoding(name: str) -> str:
    """Normalise a charset name; the GB family becomes gb18030."""
    low = name.strip().lower()
    if low in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(low).name
    except LookupError:
        return low


def sniff_binary(data: bytes) -> str | None:
    """Name the kind of a binary file (PDF, DOC, image…), or None when it looks like text."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 100 + 1 and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary data"
    return None


_ANY_BYTES = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}
_MOSTLY = 0.002  # at most this share of replacement characters: a few broken bytes in a good page


def _mostly(data: bytes, encoding: str) -> str | None:
    text = data.decode(encoding, errors="replace")
    bad = text.count("\ufffd") - data.decode(encoding, errors="ignore").count("\ufffd")
    return text if bad <= max(1, len(text) * _MOSTLY) else None


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded:
    """Decode a report's bytes (``declared``: the charset the server named); raises
    ParseFailure for binary input."""
    kind = sniff_binary(data)
    if kind is not None:
        raise ParseFailure(f"not a text document: {kind}")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return Decoded(data.decode(enc, errors="replace"), enc.replace("-sig", ""))
    if declared:
        enc = canonical_encoding(declared)
        if enc not in _ANY_BYTES:
            try:
                return Decoded(data.decode(enc), enc)
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET_RE.search(data[:8192])
    if m:
        enc = canonical_encoding(m.group(1).decode("ascii", "ignore"))
        if enc != "utf-8":
            try:
                return Decoded(data.decode(enc), enc)
            except (UnicodeDecodeError, LookupError):
                pass
    # Chinese portals that are not UTF-8 are almost always GB-family: try it strictly first.
    try:
        return Decoded(data.decode("gb18030"), "gb18030")
    except UnicodeDecodeError:
        pass
    for enc in ("utf-8", "gb18030"):  # a good page with a few broken bytes
        text = _mostly(data, enc)
        if text is not None:
            return Decoded(text, enc)
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    enc = canonical_encoding(best.encoding) if best is not None else "gb18030"
    return Decoded(data.decode(enc, errors="replace"), enc)
