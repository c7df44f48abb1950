"""Label matching: printed row and column labels → codebook codes.

Labels arrive normalised (NFKC, no whitespace). A label may carry its context (in an HTML
row, the rowspan cells ``三、本年度办理结果(三)不予公开`` come before ``1.属于国家秘密``) or,
in flattened text, the header before it. The code whose keyword ends *last* in the label is
the one nearest the numbers, and wins.

>>> match_last("三、本年度办理结果(三)不予公开1.属于国家秘密", T3_ROW_KEYWORDS)
'denied_secret'
>>> match_last("第二十条第(八)项信息内容本年收费金额(单位:万元)行政事业性收费", T2_ROW_KEYWORDS)
'fees'
>>> match_last("信息内容本年制发件数", T2_ROW_KEYWORDS) is None
True
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

T2_ROW_KEYWORDS: dict[str, tuple[str, ...]] = {
    "rules": ("规章",),
    "normative": ("规范性文件",),
    "licensing": ("行政许可",),
    "other_services": ("其他对外管理服务", "对外管理服务"),
    "penalty": ("行政处罚",),
    "coercion": ("行政强制",),
    "fees": ("行政事业性收费", "事业性收费"),
    "procurement": ("政府集中采购", "集中采购"),
}

T2_COL_KEYWORDS: dict[str, tuple[str, ...]] = {
    "issued": ("制发件数", "本年制发", "制发"),
    "repealed": ("废止件数", "本年废止", "废止"),
    "in_force": ("现行有效",),
    "decisions": ("处理决定",),
    "amount": ("收费金额",),
    "made": ("新制作", "制作数量"),
    "published": ("新公开", "公开数量"),
    "public_total": ("公开总数", "对外公开总"),
    "prev_items": ("上一年项目", "上年项目", "上一年"),
    "change": ("增/减", "增减", "增(减)", "增、减", "增/ 减"),
    "projects": ("采购项目",),
    "procurement_amount": ("采购总金额", "采购金额"),
}

T3_ROW_KEYWORDS: dict[str, tuple[str, ...]] = {
    "new_received": ("本年新收", "新收政府信息", "新收"),
    "carried_over": ("上年结转",),
    "granted": ("予以公开",),
    "partly_granted": ("部分公开",),
    "denied_secret": ("国家秘密",),
    "denied_law": ("法律行政法规禁止", "法律法规禁止", "禁止公开"),
    "denied_security": ("三安全一稳定", "危及"),
    "denied_third_party": ("第三方",),
    "denied_internal": ("内部事务",),
    "denied_process": ("过程性",),
    "denied_enforcement": ("执法案卷",),
    "denied_query": ("行政查询",),
    "unable_not_held": ("不掌握",),
    "unable_create": ("另行制作", "没有现成"),
    "unable_unclear": ("补正后", "仍不明确"),
    "rejected_petition": ("信访", "举报投诉"),
    "rejected_repeat": ("重复申请",),
    "rejected_publication": ("出版物",),
    "rejected_mass": ("大量反复",),
    "rejected_confirm": ("重新出具", "确认或重新", "已获取信息"),
    "other_no_correction": ("逾期不补正", "不补正"),
    "other_no_fee": ("收费通知", "缴纳费用"),
    "other_misc": ("3.其他", "3、其他"),
    "other": ("其他处理",),
    "results_total": ("总计",),
    "carried_forward": ("结转下年", "结转下一年", "转下年度"),
}

T3_COL_KEYWORDS: dict[str, tuple[str, ...]] = {
    "natural_person": ("自然人",),
    "commercial": ("商业企业",),
    "research": ("科研机构",),
    "social_welfare": ("社会公益",),
    "legal_service": ("法律服务",),
    "other_org": ("其他",),
    "subtotal": ("小计",),
    "total": ("总计",),
}

T4_ROW_KEYWORDS: dict[str, tuple[str, ...]] = {
    "review": ("行政复议",),
    "suit_direct": ("未经复议", "直接起诉"),
    "suit_after_review": ("复议后起诉", "复议后"),
}

# Table 四's result columns, as the row labels of a table printed transposed (results as rows).
T4_COL_KEYWORDS: dict[str, tuple[str, ...]] = {
    "upheld": ("结果维持", "维持"),
    "corrected": ("结果纠正", "纠正"),
    "other": ("其他结果", "其他"),
    "pending": ("尚未审结", "审结"),
    "total": ("总计", "合计"),
}

# Layout evidence: labels only the 2019 or only the 2021 template prints.
LAYOUT_MARKERS: dict[str, tuple[str, ...]] = {
    "2019": ("新制作数量", "新公开数量", "对外公开总数", "上一年项目", "其他对外管理服务", "政府集中采购",
             "采购总金额", "采购项目数量"),
    "2021": ("制发件数", "废止件数", "现行有效件数", "收费金额", "逾期不补正", "收费通知"),
}


_CACHE: dict[tuple[int, str], str | None] = {}


def match_last(label: str, keywords: dict[str, tuple[str, ...]]) -> str | None:
    """The code whose keyword ends last in ``label`` (longer keyword on ties), or None."""
    key = (id(keywords), label)
    if key in _CACHE:
        return _CACHE[key]
    code = _match_last(label, keywords)
    if len(_CACHE) > 50_000:
        _CACHE.clear()
    _CACHE[key] = code
    return code


def _match_last(label: str, keywords: dict[str, tuple[str, ...]]) -> str | None:
    best: tuple[int, int] | None = None
    best_code: str | None = None
    for code, words in keywords.items():
        for word in words:
            pos = label.rfind(word)
            if pos < 0:
                continue
            key = (pos + len(word), len(word))
            if best is None or key > best:
                best, best_code = key, code
    return best_code


_FIND_CACHE: dict[tuple[int, str], tuple[str, ...]] = {}


def find_all(label: str, keywords: dict[str, tuple[str, ...]]) -> list[str]:
    """Codes whose keywords occur in ``label``, ordered by where they first occur."""
    key = (id(keywords), label)
    if key not in _FIND_CACHE:
        if len(_FIND_CACHE) > 50_000:
            _FIND_CACHE.clear()
        _FIND_CACHE[key] = tuple(_find_all(label, keywords))
    return list(_FIND_CACHE[key])


def _find_all(label: str, keywords: dict[str, tuple[str, ...]]) -> list[str]:
    found: list[tuple[int, str]] = []
    for code, words in keywords.items():
        positions = [label.find(w) for w in words if w in label]
        if positions:
            found.append((min(positions), code))
    return [code for _, code in sorted(found)]


_ORDINAL_RE = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|[(（][一二三四五六七八九十]+[)）]|[0-9]+[.、．])")

# A label that matches no keyword is read as the codebook label it is nearest to only when it
# is this close (difflib's ratio, 0..1) and clearly closer than to any other.
NEAR_MIN = 0.75
NEAR_MARGIN = 0.15


def starts_with_ordinal(label: str) -> bool:
    """Whether a normalised label begins with an item's ordinal (``2.``, ``(三)``, ``四、``).

    >>> starts_with_ordinal("2.其他法律行政法规止公开"), starts_with_ordinal("信息公开申")
    (True, False)
    """
    return _ORDINAL_RE.match(label) is not None


def _core(label: str) -> str:
    """The label without its ordinals (``2.其他法律…`` → ``其他法律…``)."""
    text = label
    while (m := _ORDINAL_RE.match(text)) is not None:
        text = text[m.end():]
    return text


def nearest(label: str, labels: dict[str, str]) -> tuple[str | None, str]:
    """The code whose codebook label (its last part, after the group heading) is nearest to a
    label that lost or gained characters (a text layer dropping some), if unambiguous; and a
    note saying what was decided.

    >>> nearest("2.其他法律行政止公开", {"denied_secret": "1.属于国家秘密", "denied_law": "2.其他法律行政法规禁止公开"})[0]
    'denied_law'
    >>> nearest("合计", {"granted": "（一）予以公开", "partly_granted": "（二）部分公开"})[0] is None
    True
    """
    core = _core(label)
    if len(core) < 3:
        return None, ""
    scored = sorted(((SequenceMatcher(None, core, _core(text.split()[-1])).ratio(), code)
                     for code, text in labels.items()), reverse=True)
    if not scored or scored[0][0] < NEAR_MIN:
        return None, ""
    best, code = scored[0]
    if len(scored) > 1 and scored[1][0] > best - NEAR_MARGIN:
        return None, f"label {label!r} is as near to {scored[1][1]} as to {code}: read by its place"
    return code, f"label {label!r} matches no keyword; read as {code}, the nearest codebook label ({best:.2f})"
