"""Title, agency, year and publication date of a report.

>>> split_title("平潭综合实验区旅游与文化体育局 关于2020年度政府信息公开工作年度报告")
('平潭综合实验区旅游与文化体育局', 2020)
>>> split_title("2019年上海市人民政府办公厅政府信息公开工作年度报告")
('上海市人民政府办公厅', 2019)
>>> split_title("某某县人民政府二〇二三年政府信息公开工作年度报告")
('某某县人民政府', 2023)
>>> split_title("某某县交通运输局政府信息公开工作2023年度报告")
('某某县交通运输局', 2023)
>>> split_title("关于某某镇人民政府2021年政府信息公开工作年度报告")
('某某镇人民政府', 2021)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gongkai.transform.document import Document

_TITLE_RE = re.compile(
    r"[^\s，。；;:：、“”《》]{0,60}?\d{4}\s*年\s*度?\s*[^\s，。；;“”《》]{0,60}?"
    r"(?:政府信息公开|政务公开|信息公开)[^\s，。；;“”《》]{0,12}?(?:年度报告|工作报告|年报)"
    r"|[^\s，。；;:：、“”《》]{0,60}?(?:政府信息公开|政务公开)(?:工作)?\d{4}\s*年\s*度?\s*(?:报告|年报)"
)
_YEAR_RE = re.compile(r"(\d{4})\s*年\s*(?:度)?")
_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})")
_PERIOD_RE = re.compile(r"统计期限[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_TITLE_SUFFIX_SPLIT = re.compile(r"[_|｜]|\s-\s")
_AGENCY_CUT_RE = re.compile(r"(?:政府信息公开|政务公开|信息公开)")


@dataclass(frozen=True)
class Metadata:
    title: str | None
    agency: str | None
    year: int | None
    publication_date: str | None


def _clean(s: str) -> str:
    return re.sub(r"\s+", "", s).strip("：:，,。 　")


_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")
_CN_YEAR_RE = re.compile(r"([〇零○一二三四五六七八九]{4})(?=\s*年)")


def _arabic_years(text: str) -> str:
    """二〇二三年 → 2023年."""
    return _CN_YEAR_RE.sub(lambda m: m.group(1).translate(_CN_DIGITS), text)


def split_title(title: str) -> tuple[str | None, int | None]:
    """Agency and covered year from a report title."""
    t = _arabic_years(unicodedata.normalize("NFKC", title).strip())
    m = _YEAR_RE.search(t)
    if m is None:
        return None, None
    year = int(m.group(1))
    if not 1990 <= year <= 2100:
        return None, None
    before = _clean(t[: m.start()])
    before = re.sub(r"(关于|关于做好)$", "", before)
    before = re.sub(r"^(关于|印发|转发)", "", before)
    before = re.sub(r"(政府信息公开|政务公开|信息公开)(工作)?$", "", before)  # "…局政府信息公开工作2023年度报告"
    if before:
        return before, year
    after = _AGENCY_CUT_RE.split(t[m.end():], maxsplit=1)[0]
    return (_clean(after) or None), year


def _find_title_in_lines(lines: list[str]) -> str | None:
    head = [ln for ln in lines[:80] if ln.strip()]
    for i, line in enumerate(head):
        for cand in (line, line + (head[i + 1] if i + 1 < len(head) else "")):
            text = cand.replace(" ", "") if len(cand) < 200 else cand
            m = _TITLE_RE.search(_arabic_years(text))  # same length: spans carry over
            if m:
                return text[m.start():m.end()]
    return None


def extract_metadata(doc: Document) -> Metadata:
    lines = doc.text_lines()
    title: str | None = doc.meta.get("ArticleTitle")
    if not title:
        for ln in lines[:20]:
            m = re.match(r"^\s*标题\s*[:：]\s*(.+)$", ln)
            if m:
                title = m.group(1).strip()
                break
    if not title:  # headings are searched first: the page's title may sit outside the report's text
        title = _find_title_in_lines(doc.headings) or _find_title_in_lines(lines)
    if not title and doc.meta.get("html_title"):
        title = _TITLE_SUFFIX_SPLIT.split(doc.meta["html_title"])[0].strip() or None
    agency, year = split_title(title) if title else (None, None)
    date: str | None = None
    for key in ("PubDate", "pubdate", "publishdate", "firstpublishedtime"):
        if doc.meta.get(key):
            m = _DATE_RE.search(doc.meta[key])
            if m:
                date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
                break
    if date is None:
        for ln in lines[:60]:
            if re.search(r"(发布|公开|生成)(时间|日期)", ln):
                m = _DATE_RE.search(ln)
                if m:
                    date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
                    break
    if year is None:
        body = "\n".join(lines)
        m = _PERIOD_RE.search(body)
        if m:
            year = int(m.group(1))
        elif date is not None:
            year = int(date[:4]) - 1
    return Metadata(title=title, agency=agency, year=year, publication_date=date)
