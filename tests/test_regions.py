"""Regions you can trust: a county name several cities share is resolved only with its
source's place, otherwise left unresolved with the candidates named — never a guess; a
street named after a place is not that place; zone 管委会 are governments, city 委员会 are
departments."""

from __future__ import annotations

import pytest

from gongkai.transform.agency import level_of, resolve_regions


@pytest.mark.parametrize("name,place,county_code,note", [
    ("鼓楼区人民政府", None, None, "4 places"),  # before: 开封 (410204), silently
    ("鼓楼区人民政府", "南京市人民政府", "320106", None),
    ("鼓楼区人民政府", "福州市人民政府", "350102", None),
    ("南京市鼓楼区人民政府", None, "320106", None),
    ("朝阳区教育委员会", None, None, "2 places"),  # before: 长春
    ("朝阳区教育委员会", "北京市人民政府", "110105", None),
    ("郑州市上街区科学技术和工业信息化局", None, "410106", None),
    ("济源路街道办事处", None, None, None),  # before: 济源市
])
def test_tricky_names(name, place, county_code, note):
    (region,) = resolve_regions([name], [place])
    assert region.county_code == county_code
    assert (note is None and region.note is None) or (note is not None and note in (region.note or ""))


def test_a_city_level_name_keeps_its_city():
    (region,) = resolve_regions(["上海市人民政府办公厅"])
    assert region.province_code == "310000" and region.county_code is None


@pytest.mark.parametrize("name,level", [
    ("某市城市管理委员会", "department"), ("某市国有资产监督管理委员会", "department"),
    ("平潭综合实验区管委会", "government"), ("郑州经济技术开发区管理委员会", "government"),
    ("某某县人民政府", "government"), ("某某镇人民政府", "township_street"), ("某某街道办事处", "township_street"),
    ("某某县教育局", "department"),
])
def test_levels(name, level):
    assert level_of(name) == level


def test_a_name_without_a_place_takes_its_sources():
    (region,) = resolve_regions(["城关镇人民政府"], ["兰州市城关区人民政府"])
    assert region.county_code == "620102"
    (alone,) = resolve_regions(["区科工信局"])
    assert alone.province_code is None
