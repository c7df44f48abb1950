"""Fuzzing the parser with mutated real pages: it never raises, never hits an internal error, and
never takes longer than a generous budget per input (a guard against hangs, not a speed goal).

``make test`` runs a small budget (60 cases a test); ``make fuzz`` runs 10,000 (GONGKAI_FUZZ_EXAMPLES)
and prints how many ran and the slowest input.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongkai.transform.parse import parse_report
from tests.conftest import FUZZ_EXAMPLES, FUZZ_STATS, REAL

PAGES = [(p.name, p.read_bytes()) for p in sorted(REAL.iterdir())
         if p.suffix in (".html", ".txt", ".md") and p.stat().st_size > 500]
BUDGET_S = 20.0
TAGS = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", '<td rowspan="100000">', '<td colspan="9999">',
        "<th>", "<p>", "</p>", "<br>", "<div>", "</div>", "<span>", "<script>", "</script>", "<!--", "-->",
        "<![CDATA[", "]]>", "<?xml version='1.0'?>", "<meta charset='gbk'>", "<tbody>", "&nbsp;", "&#0;", "&#xD800;"]
ODD = ["\u200b", "\u200f", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u3000", "\x00", "\ufffd", "０", "—", "−"]

SETTINGS = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def check(name: str, data: bytes, how: str) -> None:
    started = time.perf_counter()
    result = parse_report(data, name)
    took = time.perf_counter() - started
    FUZZ_STATS.record(took, f"{how} of {name} ({len(data):,} bytes)")
    assert result.status in ("ok", "partial", "failed")
    assert not any(w.startswith("internal error") for w in result.warnings), result.warnings
    assert took < BUDGET_S, f"{how} of {name} took {took:.1f} s"


page = st.sampled_from(PAGES)


@SETTINGS
@given(page=page, flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1, max_size=40))
def test_byte_flips(page, flips):
    name, data = page
    buf = bytearray(data)
    for where, mask in flips:
        i = min(len(buf) - 1, int(where * len(buf)))
        buf[i] ^= mask
    check(name, bytes(buf), f"{len(flips)} byte flips")


@SETTINGS
@given(page=page, where=st.floats(0, 1))
def test_truncation_at_a_tag(page, where):
    name, data = page
    cuts = [i for i in range(len(data)) if data[i:i + 1] in (b"<", b"\n", b"\t")] or [len(data) // 2]
    cut = cuts[min(len(cuts) - 1, int(where * len(cuts)))]
    check(name, data[:cut], f"truncation at byte {cut}")


@SETTINGS
@given(page=page, inserts=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(TAGS + ODD)), min_size=1,
                                   max_size=60))
def test_tag_soup_and_odd_characters(page, inserts):
    name, data = page
    text = data.decode("utf-8", errors="replace")
    for where, junk in sorted(inserts, reverse=True):
        i = int(where * len(text))
        text = text[:i] + junk + text[i:]
    check(name, text.encode("utf-8"), f"{len(inserts)} inserted tags/characters")


@SETTINGS
@given(page=page, depth=st.integers(100, 20000), tag=st.sampled_from(["div", "table", "span", "td", "b"]))
def test_deep_nesting(page, depth, tag):
    name, data = page
    check(name + ".html", f"<{tag}>".encode() * depth + data + f"</{tag}>".encode() * depth, f"nesting {depth} <{tag}>")


@settings(SETTINGS, max_examples=min(FUZZ_EXAMPLES, 150))  # each case is seconds of work
@given(page=page, size=st.integers(10_000, 1_000_000), what=st.sampled_from(["digits", "text", "spaced"]))
def test_huge_cells(page, size, what):
    name, data = page
    filler = {"digits": "7" * size, "text": "公开" * (size // 2), "spaced": "1 0 " * (size // 4)}[what]
    text = data.decode("utf-8", errors="replace")
    at = max(text.find("总计"), 0)
    check(name, (text[:at] + filler + text[at:]).encode("utf-8"), f"a {size:,}-character cell of {what}")


@SETTINGS
@given(page=page, char=st.sampled_from(ODD), every=st.integers(1, 7))
def test_invisible_and_rtl_characters_in_labels_and_numbers(page, char, every):
    name, data = page
    text = data.decode("utf-8", errors="replace")
    out = "".join(ch + (char if i % every == 0 and (ch.isdigit() or "\u4e00" <= ch <= "\u9fff") else "")
                  for i, ch in enumerate(text))
    check(name, out.encode("utf-8"), f"{char!r} after every {every}th digit/character")
