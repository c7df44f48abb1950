"""Agencies: normalised name, level, and the administrative region (行政区划) the name places them in.

Regions come from the cpca package's 行政区划代码 table; a small alias file
(data/region_aliases.csv) maps names the table does not know (e.g. 平潭综合实验区) to the
region they govern.

>>> level_of("郑州市上街区峡窝镇人民政府"), level_of("上海市人民政府办公厅"), level_of("某某县人民政府")
('township_street', 'department', 'government')

An agency's identity is its region code and its name without the place names leading it, so
that ``上街区科学技术和工业信息化局`` and ``郑州市上街区科学技术和工业信息化局`` are one agency
and two districts' ``区科工信局`` are two:

>>> r = Region(province="河南省", city="郑州市", county="上街区", province_code="410000",
...            city_code="410100", county_code="410106")
>>> agency_identity("郑州市上街区科学技术和工业信息化局", r), agency_identity("区科工信局", r)
('410106|科学技术和工业信息化局', '410106|科工信局')
>>> agency_identity("鼓楼区人民政府", Region(note="4 places"))
'|鼓楼区人民政府'
"""

from __future__ import annotations

import csv
import logging
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from gongkai.transform.numbers import nfkc
from gongkai.paths import DATA_DIR

log = logging.getLogger(__name__)

_TOWNSHIP_RE = re.compile(r"(街道|镇|乡)(办事处|人民政府|党工委|政府)?$|街道办事处|乡人民政府|镇人民政府")
# 管委会 governs a zone (开发区, 实验区 …); 城市管理委员会 or 国有资产监督管理委员会 is a department
_GOVERNMENT_RE = re.compile(r"人民政府$|(?:开发区|园区|实验区|新区|示范区|试验区|管理区|风景区|景区|合作区|保税区|港区)"
                            r"(?:管委会|管理委员会|工委)$")
_SUFFIX_RE = re.compile(r"(省|市|自治区|特别行政区|自治州|地区|盟|区|县|自治县|旗)$")  # what a region's name ends with
_DEPARTMENT_RE = re.compile(r"(局|委员会|委|办公室|办公厅|办|中心|院|所|队|站|厅|部|处|署|会|社|馆|公司|集团)$")


@dataclass(frozen=True)
class Region:
    province: str | None = None
    city: str | None = None
    county: str | None = None
    province_code: str | None = None
    city_code: str | None = None
    county_code: str | None = None
    note: str | None = None  # why the region is left unresolved (several places share the name)


def normalize_name(name: str) -> str:
    """NFKC, no whitespace: the form agencies are matched by."""
    return "".join(nfkc(name).split())


def level_of(name: str) -> str:
    """government | department | township_street, from the name's ending."""
    n = normalize_name(name)
    if _TOWNSHIP_RE.search(n):
        return "township_street"
    if _GOVERNMENT_RE.search(n) or not _DEPARTMENT_RE.search(n):
        return "government"
    return "department"


@lru_cache(maxsize=1)
def _aliases() -> tuple[tuple[str, str], ...]:
    path = DATA_DIR / "region_aliases.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [(r["alias"], r["region"]) for r in csv.DictReader(fh)]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


def _present(name: str, region_name: str | None) -> bool:
    """A matched region name must really be in the agency's name (not a one-character accident)."""
    if not region_name or len(region_name) < 2:
        return False
    stem = _SUFFIX_RE.sub("", region_name)
    if region_name in name:
        return True
    # the bare stem names the place, unless a street or road is named after it (济源路街道)
    return len(stem) >= 2 and re.search(re.escape(stem) + r"(?![路街巷道桥村大])", name) is not None


@lru_cache(maxsize=1)
def _county_codes() -> dict[str, tuple[str, ...]]:
    """County-level names → every 6-digit code that carries the name (鼓楼区: four cities)."""
    import cpca

    out: dict[str, list[str]] = {}
    for info in cpca.ad_2_addr_dict.values():
        if info.rank == 2:
            out.setdefault(info.name, []).append(str(info.adcode)[:6])
    return {name: tuple(sorted(set(codes))) for name, codes in out.items()}


def _region_info(code: str) -> object | None:
    """cpca's entry for a 6-digit region code (its table keys some codes with 12 digits)."""
    import cpca

    return cpca.ad_2_addr_dict.get(code + "000000") or cpca.ad_2_addr_dict.get(code)


def _named_above(text: str, code: str) -> bool:
    """Whether the text also names the city or province above a county code."""
    for upper in (code[:4] + "00", code[:2] + "0000"):
        info = _region_info(upper)
        if info is not None and _present(text, info.name):  # type: ignore[attr-defined]
            return True
    return False


def _clean(v: object) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def resolve_regions(names: Sequence[str], places: Sequence[str | None] | None = None) -> list[Region]:
    """The region of each agency name (empty Region when the name names none). ``places``: for
    each name, what else says where it is (its source's owner, e.g. 南京市人民政府): a county
    name several cities share (鼓楼区) is resolved only with it, else left unresolved with a
    note listing the candidates — never a guess."""
    if not names:
        return []
    import cpca  # imported lazily: loading its tables takes a moment

    contexts = list(places) if places is not None else [None] * len(names)
    texts = []
    for name in names:
        n = normalize_name(name)
        for alias, region in _aliases():
            if alias in n:
                n = n.replace(alias, region, 1)
                break
        texts.append(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = cpca.transform(texts)
    owners: dict[str, Region] = {}  # a source's owner, resolved once for every name it places

    def owned_by(context: str | None) -> Region:
        if not context:
            return Region()
        if context not in owners:
            (owners[context],) = resolve_regions([context])
        return owners[context]

    out: list[Region] = []
    for text, context, got in zip(texts, contexts, zip(df["省"], df["市"], df["区"], df["adcode"])):
        prov, city, county, code = map(_clean, got)
        by_context = False
        if county and _present(text, county):
            candidates = _county_codes().get(county, ())
            if len(candidates) > 1 and not _named_above(text, candidates[0] if code is None else str(code)[:6]):
                where = normalize_name(context or "")
                chosen = [c for c in candidates if where and _named_above(where, c)]
                if len(chosen) == 1:
                    code = chosen[0]
                    city_info, prov_info = _region_info(code[:4] + "00"), _region_info(code[:2] + "0000")
                    city = city_info.name if city_info is not None and city_info.rank == 1 else None  # type: ignore[attr-defined]
                    prov = prov_info.name if prov_info is not None else prov  # type: ignore[attr-defined]
                    by_context = True
                else:
                    out.append(Region(note=f"{county} is the name of {len(candidates)} places ("
                                      + ", ".join(candidates) + "): the name does not say which"
                                      + (" and neither does its source" if context else "")))
                    continue
        if county and not _present(text, county):
            county = None
        if city and not by_context and not _present(text, city) and city != "市辖区":
            city = None
        if city == "市辖区":
            city = None
        if not county and not city and prov and not _present(text, prov):
            prov = None
        if not prov or not code:
            # the name names no place (区科工信局, 城关镇人民政府): its source's owner may
            owned = owned_by(context)
            out.append(owned if owned.province_code else Region())
            continue
        code = code[:6]
        out.append(Region(
            province=prov, city=city, county=county,
            province_code=code[:2] + "0000",
            city_code=code[:4] + "00" if city else None,
            county_code=code if county else None,
        ))
    return out



def core_name(name: str, region: Region) -> str:
    """The name without the place names that lead it (河南省郑州市上街区科工信局 → 科工信局); a
    name that names no place loses a leading 区/县/市 (区科工信局 → 科工信局: the district's)."""
    core = normalize_name(name)
    places = [alias for alias, _ in _aliases()]
    for part in (region.province, region.city, region.county):
        if part:
            places.append(part)
            stem = _SUFFIX_RE.sub("", part)
            if len(stem) >= 2:
                places.append(stem)
    places.sort(key=len, reverse=True)
    stripped = False
    changed = True
    while changed:
        changed = False
        for place in places:
            if core.startswith(place) and len(core) > len(place) + 1:
                core, changed, stripped = core[len(place):], True, True
                break
    if not stripped and len(core) > 3 and core[0] in "省市区县旗":
        core = core[1:]
    return core


def agency_identity(name: str, region: Region) -> str:
    """``code|core name``: the most specific region code (from the name, else from its source's
    owner) and the name without its places; ``|name`` when no region is known."""
    code = region.county_code or region.city_code or region.province_code
    if not code:
        return "|" + normalize_name(name)
    return f"{code}|{core_name(name, region)}"
