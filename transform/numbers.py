"""Number parsing for table cells.

Cells print numbers with full-width digits, thousands separators, units (件, 个, 元, 万元),
signs (2019 本年增/减), or a placeholder meaning zero ("/", "—", "-", "无", blank).

>>> parse_number("１,２３４")
Number(value=1234, empty=False, unit='', raw='１,２３４', note='')
>>> parse_number("—").empty
True
>>> parse_number("251000元").unit
'元'
>>> parse_number("规章") is None
True
>>> parse_number("22（其中修订16件）").note
'其中修订16件'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Text that, alone in a numeric cell, means "nothing to report" (read as 0, empty=True).
EMPTY_MARKERS = frozenset({"", "/", "\\", "-", "--", "—", "——", "–", "―", "─", "无", "空", "null", "0/"})
UNITS = ("万元", "元", "件", "个", "项", "条", "次", "家", "宗", "人", "份", "万")
_NUMBER_RE = re.compile(
    r"^(?P<sign>[+\-−—–]|增加?|减少?)?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*"
    r"(?P<unit>" + "|".join(UNITS) + r")?\s*(?P<note>\([^()]*\))?$"
)
_DIGIT_GAP_RE = re.compile(r"\d \d")
_MAX_NUMBER_LEN = 60
_MAX_DIGITS = 200  # a glued row of table 四 (15 cells) fits; a run longer than this is not a number
_CJK_STARTS = frozenset("无空增减")
_CACHED = 8192  # distinct cell texts whose reading is kept (a worker's batches share most of them)


@dataclass(frozen=True)
class Number:
    """A parsed numeric cell: ``value`` is an int unless the text had a decimal point."""

    value: int | float
    empty: bool
    unit: str
    raw: str
    note: str = ""  # a parenthetical printed after the number: "22（其中修订16件）"


BLANK = Number(0, True, "", "")  # a cell printed blank: 0, empty


def collapse_space(text: str) -> str:
    """Every run of whitespace (incl. U+3000 and nbsp) → one space, trimmed: the printed form."""
    return " ".join(text.split())


def nfkc(text: str) -> str:
    """NFKC (full-width → half-width …), with the quick check first: most text is already in
    that form, and normalising it anyway costs about a quarter of a microsecond per character."""
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalize_text(text: str) -> str:
    """NFKC (full-width → half-width) and collapsed whitespace: the form used for matching."""
    return collapse_space(nfkc(text))


@lru_cache(maxsize=_CACHED)
def parse_number(text: str) -> Number | None:
    """Parse one cell's text as a number, or return None when it is not numeric.

    Pure, and its Number is frozen, so answers are kept: a report's tables print the same few
    texts ("0", "1", "/", a header's words) hundreds of times, and each is read once while kept."""
    if text.isdigit() and text.isascii():  # the common case, fast
        # a digit run this long is no count: cells that ran together (split by the glued solver) or junk
        return Number(int(text), False, "", text) if len(text) <= _MAX_DIGITS else None
    if len(text) > _MAX_NUMBER_LEN:
        return None  # a paragraph, not a cell
    first = text.lstrip()[:1]
    if first and "\u4e00" <= first <= "\u9fff" and first not in _CJK_STARTS:
        return None  # a label
    raw = collapse_space(text)
    norm = normalize_text(raw)
    if _DIGIT_GAP_RE.search(norm):
        return None  # "10 2" is two numbers, not 102
    compact = norm.replace(" ", "")
    if compact in EMPTY_MARKERS:
        return Number(0, True, "", raw)
    m = _NUMBER_RE.match(compact)
    if m is None:
        return None
    num = m.group("num").replace(",", "")
    value: int | float = float(num) if "." in num else int(num)
    sign = m.group("sign") or ""
    if sign in ("-", "−", "—", "–") or sign.startswith("减"):
        value = -value
    return Number(value, False, m.group("unit") or "", raw, (m.group("note") or "").strip("()"))


def to_10k_yuan(number: Number, header_unit: str = "") -> float:
    """Convert an amount to 万元: the cell's own unit wins, then the header's, else 万元 is assumed."""
    unit = number.unit or header_unit
    value = float(number.value)
    if unit == "元":
        return round(value / 10000, 6)
    return value
