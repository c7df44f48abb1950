"""Agencies: normalised name, level, and the administrative region (行政区划) the name places them in.

Regions come from the cpca package's 行政区划代码 table; a small alias file
(data/region_aliases.csv) maps names the table does not know (e.g. 平潭综合实验区) to the
region they govern.

>>> level_of("郑州市上街区峡窝镇人民政府"), level_of("上海市人民政府办公厅"), level_of("某某县人民政府")
('township_street', 'department', 'government')
"""

from __future__ import annotations

import csv
import logging
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from gongkai.paths import DATA_DIR

log = logging.getLogger(__name__)

_TOWNSHIP_RE = re.compile(r"(街道|镇|乡)(办事处|人民政府|党工委|政府)?$|街道办事处|乡人民政府|镇人民政府")
_GOVERNMENT_RE = re.compile(r"(人民政府|管委会|管理委员会)$")
_DEPARTMENT_RE = re.compile(r"(局|委员会|委|办公室|办公厅|办|中心|院|所|队|站|厅|部|处|署|会|社|馆|公司|集团)$")


@dataclass(frozen=True)
class Region:
    province: str | None = None
    city: str | None = None
    county: str | None = None
    province_code: str | None = None
    city_code: str | None = None
    county_code: str | None = None


def normalize_name(name: str) -> str:
    """NFKC, no whitespace: the form agencies are matched by."""
    return "".join(unicodedata.normalize("NFKC", name).split())


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
    stem = re.sub(r"(省|市|自治区|特别行政区|自治州|地区|盟|区|县|自治县|旗)$", "", region_name)
    return region_name in name or (len(stem) >= 2 and stem in name)


def _clean(v: object) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def resolve_regions(names: Sequence[str]) -> list[Region]:
    """The region of each agency name (empty Region when the name names none)."""
    if not names:
        return []
    import cpca  # imported lazily: loading its tables takes a moment

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
    out: list[Region] = []
    for text, (_, row) in zip(texts, df.iterrows()):
        prov, city, county = _clean(row["省"]), _clean(row["市"]), _clean(row["区"])
        code = _clean(row["adcode"])
        if county and not _present(text, county):
            county = None
        if city and not _present(text, city) and city != "市辖区":
            city = None
        if city == "市辖区":
            city = None
        if not county and not city and prov and not _present(text, prov):
            prov = None
        if not prov or not code:
            out.append(Region())
            continue
        code = code[:6]
        out.append(Region(
            province=prov, city=city, county=county,
            province_code=code[:2] + "0000",
            city_code=code[:4] + "00" if city else None,
            county_code=code if county else None,
        ))
    return out
