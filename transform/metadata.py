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
>>> split_title("某某县交通运输局关于报送2020年度政府信息公开工作年度报告的函")
('某某县交通运输局', 2020)
>>> split_title("2024-01-20沭阳县发展和改革局2023年政府信息公开工作年度报告")
('沭阳县发展和改革局', 2023)
>>> split_title("政府信息公开沭阳县发展和改革局2023年政府信息公开工作年度报告")
('沭阳县发展和改革局', 2023)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gongkai.transform.numbers import nfkc
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
    publisher: str | None = None  # 发布机构 as the page's metadata prints it
    warnings: tuple[str, ...] = ()


def _clean(s: str) -> str:
    return re.sub(r"\s+", "", s).strip("：:，,。 　")


_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")
_CN_YEAR_RE = re.compile(r"([〇零○一二三四五六七八九]{4})(?=\s*年)")


def _arabic_years(text: str) -> str:
    """二〇二三年 → 2023年."""
    return _CN_YEAR_RE.sub(lambda m: m.group(1).translate(_CN_DIGITS), text)


# What pages print before a title: a date, an index number, navigation and section headings.
_LEAD_RE = re.compile(
    r"^(?:(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"|[0-9A-Za-z]{6,}[-/](?:19|20)\d{2}[-/]\d{2,6}"
    r"|(?:索引号|文号|发文字号|发布日期|成文日期|发布时间|日期|来源|发布机构)[:：]"
    r"|首页|当前位置[:：]?|您的位置[:：]?|您现在的位置[:：]?|[>›»/|]"
    r"|政府信息公开年报|政府信息公开年度报告|信息公开年报|政务公开|政府信息公开|信息公开|公开年报|年度报告|标题[:：]?"
    r"|\s)+")
# A cover letter or a notice that sends or publishes the report: "X关于报送…年度报告的函".
_SENDING_RE = re.compile(r"(关于)(?:报送|印发|公布|发布|转发|上报|公开)?")
_LETTER_TAIL_RE = re.compile(r"的(?:函|通知|公告|报告|说明)$")
_NOT_TITLE_RE = re.compile(r"(?:函|通知|公告)$")


def _strip_lead(t: str) -> str:
    """Drop a date, an index number or a section heading printed before the title, when an
    agency still precedes the year afterwards."""
    m = _LEAD_RE.match(t)
    if not m or not m.group(0).strip():
        return t
    rest = t[m.end():]
    year = _YEAR_RE.search(rest)
    return rest if year is not None and year.start() > 0 else t


def split_title(title: str) -> tuple[str | None, int | None]:
    """Agency and covered year from a report title (or a letter sending it)."""
    t = _arabic_years(nfkc(title).strip())
    t = _LETTER_TAIL_RE.sub("", "".join(t.split()))
    t = _strip_lead(t)
    m = _YEAR_RE.search(t)
    if m is None:
        return None, None
    year = int(m.group(1))
    if not 1990 <= year <= 2100:
        return None, None
    before = _clean(t[: m.start()])
    sending = list(_SENDING_RE.finditer(before))
    if sending:  # "X关于报送2020年度…" (X sends it) or "关于印发X2023年…" (X's report)
        cut = sending[-1]
        before = before[: cut.start()] if cut.start() > 0 else before[cut.end():]
    before = re.sub(r"(关于|关于做好)$", "", before)
    before = re.sub(r"^(关于|印发|转发)", "", before)
    before = re.sub(r"(政府信息公开|政务公开|信息公开)(工作)?$", "", before)  # "…局政府信息公开工作2023年度报告"
    if before:
        return before, year
    after = _AGENCY_CUT_RE.split(t[m.end():], maxsplit=1)[0]
    return (_clean(after) or None), year


def reads_as_title(text: str) -> bool:
    """Whether a text is a report's title (not a cover letter, a notice or a column name)."""
    t = "".join(nfkc(text).split())
    if _NOT_TITLE_RE.search(t) or len(t) > 90:
        return False
    agency, year = split_title(t)
    return bool(agency and year) and bool(_TITLE_RE.search(_arabic_years(t)))


_PUBLISHER_RE = re.compile(r"(?:发布机构|发文机关|发布单位|公开主体)\s*[:：]\s*([^\s:：]{2,40})")


def _candidates(doc: Document, lines: list[str]) -> list[tuple[str, str]]:
    """(where, text) of everything on the page that may be the report's title, most trusted first."""
    out: list[tuple[str, str]] = []
    if doc.meta.get("ArticleTitle"):
        out.append(("ArticleTitle", doc.meta["ArticleTitle"]))
    for ln in lines[:20]:
        m = re.match(r"^\s*标题\s*[:：]\s*(.+)$", ln)
        if m:
            out.append(("标题", m.group(1).strip()))
    memo: dict[str, str | None] = {}
    for where, source in (("heading", doc.headings), ("page", doc.page_lines), ("text", lines)):
        found = _find_titles_in_lines(source, memo=memo)
        out.extend((where, t) for t in found)
    if doc.meta.get("html_title"):
        out.append(("<title>", _TITLE_SUFFIX_SPLIT.split(doc.meta["html_title"])[0].strip()))
    return [(w, t) for w, t in out if t]


_TITLE_SCAN = 300


_JOIN_MAX = 80  # a title printed over two lines has a short first line


def _find_titles_in_lines(lines: list[str], limit: int = 3, memo: dict[str, str | None] | None = None) -> list[str]:
    """The first titles (at most ``limit``) printed at the start of these lines, a title
    broken over two lines included. ``memo`` caches the search per text (page and report
    lines repeat each other)."""
    memo = {} if memo is None else memo
    found: list[str] = []
    head = [ln for ln in lines[:80] if ln.strip()]
    head = [ln[:_TITLE_SCAN] for ln in head]  # a title sits at the start of its line (glued texts too)

    def title_in(text: str) -> str | None:
        if "公开" not in text or not ("年度报告" in text or "工作报告" in text or "年报" in text):
            return None  # every title form has these: skip the (slow) regex
        if text not in memo:
            m = _TITLE_RE.search(_arabic_years(text))  # same length: spans carry over
            memo[text] = text[m.start():m.end()] if m else None
        return memo[text]

    def alone(text: str) -> bool:  # a whole title, agency included, on one line
        title = title_in(text.replace(" ", ""))
        return title is not None and bool(split_title(title)[0])

    for i, line in enumerate(head):
        # a title broken over two lines; not when the next line is a whole title by itself
        joined = line + head[i + 1] if i + 1 < len(head) and len(line) < _JOIN_MAX and not alone(head[i + 1]) \
            else None
        for cand in (line, joined):
            if cand is None:
                continue
            title = title_in(cand.replace(" ", "") if len(cand) < 200 else cand)
            if title:
                if title not in found:
                    found.append(title)
                break
        if len(found) >= limit:
            break
    return found


def _same_agency(a: str, b: str) -> bool:
    return a in b or b in a


def extract_metadata(doc: Document) -> Metadata:
    """Title, agency and year from the best of the page's title sources: ``ArticleTitle``, a
    标题 line, the headings, what the page prints around the report, the report's first lines
    and ``<title>``. The first that reads as a report title wins (a cover letter or a notice
    only when nothing else names the agency); disagreeing sources give a warning."""
    lines = doc.text_lines()
    warnings: list[str] = []
    candidates = _candidates(doc, lines)
    titled = [(w, t) for w, t in candidates if reads_as_title(t)]
    chosen = titled[0] if titled else next(((w, t) for w, t in candidates if all(split_title(t))), None)
    if chosen is None:
        chosen = next(((w, t) for w, t in candidates if split_title(t)[1]), candidates[0] if candidates else None)
    title = chosen[1] if chosen else None
    agency, year = split_title(title) if title else (None, None)
    if agency:
        others = {}
        for where, t in titled:
            other = split_title(t)[0]
            if other and not _same_agency(other, agency):
                others.setdefault(other, where)
        if others:
            warnings.append(f"the page names the agency differently: {agency!r} ({chosen[0]}) but "
                            + ", ".join(f"{name!r} ({where})" for name, where in others.items()))
    publisher = None
    for ln in [*doc.page_lines[:60], *lines[:60]]:
        m = _PUBLISHER_RE.search(ln.replace(" ", ""))
        if m:
            publisher = m.group(1)
            break
    if agency is None and publisher:
        agency = publisher
        warnings.append(f"no title names the agency: the page's 发布机构 {publisher!r} is used")
    date: str | None = None
    for key in ("PubDate", "pubdate", "publishdate", "firstpublishedtime"):
        if doc.meta.get(key):
            m = _DATE_RE.search(doc.meta[key])
            if m:
                date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
                break
    if date is None:
        for ln in [*doc.page_lines[:60], *lines[:60]]:
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
    return Metadata(title=title, agency=agency, year=year, publication_date=date, publisher=publisher,
                    warnings=tuple(warnings))
