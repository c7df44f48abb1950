"""Numbers the narrative of a report states about its own tables.

Used only to choose between splits of a glued digit run that the table's rules cannot tell
apart (``规范性文件 77132470`` with the text saying "制发的规范性文件77件" fixes issued = 77).

>>> stated_counts(["2021年发布规范性文件20份，均已公开。"])
{('t2', 'normative', 'issued'): 20}
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gongkai.transform.numbers import nfkc

_PATTERNS: tuple[tuple[tuple[str, str, str], re.Pattern[str]], ...] = (
    (("t2", "normative", "issued"),
     re.compile(r"(?:制发|发布|印发|出台|制定)(?:了|的)?(?:行政)?规范性文件(?:共计?)?(\d+)(?:件|份|个)")),
    (("t2", "rules", "issued"),
     re.compile(r"(?:制发|发布|印发|出台|制定)(?:了|的)?(?:政府)?规章(?:共计?)?(\d+)(?:件|部|份)")),
)


def stated_counts(lines: Sequence[str]) -> dict[tuple[str, str, str], int]:
    """Cells whose value the narrative states exactly once (conflicting statements are ignored)."""
    text = "".join(nfkc("".join(lines)).split())
    found: dict[tuple[str, str, str], int] = {}
    for key, pattern in _PATTERNS:
        values = {int(m.group(1)) for m in pattern.finditer(text)}
        if len(values) == 1:
            found[key] = values.pop()
    return found
