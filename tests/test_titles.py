"""Property tests over the title forms real pages print: whatever wraps the title (a cover
letter, a notice, a date or an index number before it, a section heading glued to it, a
Chinese-numeral year), the agency and year come out bare."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai.transform.metadata import reads_as_title, split_title

PLACES = ["沭阳县", "郑州市上街区", "平潭综合实验区", "淮安市洪泽区", "广州市越秀区", "北京市朝阳区", "某某镇"]
BODIES = ["人民政府", "人民政府办公室", "发展和改革局", "科学技术和工业信息化局", "市场监督管理局", "卫生健康委员会",
          "生态环境分局", "城市管理综合行政执法局", "教育局", "街道办事处"]
CN_DIGITS = "〇一二三四五六七八九"


def _cn(year: int) -> str:
    return "".join(CN_DIGITS[int(d)] for d in str(year))


FORMS = [
    lambda a, y: f"{a}{y}年政府信息公开工作年度报告",
    lambda a, y: f"{a}{y}年度政府信息公开工作年度报告",
    lambda a, y: f"{a}{y}年度政府信息公开工作报告",
    lambda a, y: f"{a}政府信息公开工作{y}年度报告",
    lambda a, y: f"{a}{y}年政务公开工作年度报告",
    lambda a, y: f"{a}{_cn(y)}年政府信息公开工作年度报告",
    lambda a, y: f"{a}关于报送{y}年度政府信息公开工作年度报告的函",
    lambda a, y: f"关于印发{a}{y}年政府信息公开工作年度报告的通知",
    lambda a, y: f"{y + 1}-01-20{a}{y}年政府信息公开工作年度报告",
    lambda a, y: f"{y + 1}年1月20日 {a}{y}年政府信息公开工作年度报告",
    lambda a, y: f"索引号：11320000MB1234567X/{y + 1}-00012 {a}{y}年政府信息公开工作年度报告",
    lambda a, y: f"政府信息公开{a}{y}年政府信息公开工作年度报告",
    lambda a, y: f"首页 > 政府信息公开年报 > {a}{y}年政府信息公开工作年度报告",
    lambda a, y: f"{a} {y} 年政府信息公开工作年度报告",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PLACES), st.sampled_from(BODIES), st.integers(2019, 2025), st.integers(0, len(FORMS) - 1))
def test_every_title_form_gives_the_bare_agency_and_year(place, body, year, form):
    agency = place + body
    title = FORMS[form](agency, year)
    assert split_title(title) == (agency, year), title


@given(st.sampled_from(PLACES), st.sampled_from(BODIES), st.integers(2019, 2025))
def test_a_cover_letter_or_notice_does_not_read_as_the_title(place, body, year):
    agency = place + body
    assert reads_as_title(f"{agency}{year}年政府信息公开工作年度报告")
    assert not reads_as_title(f"{agency}关于报送{year}年度政府信息公开工作年度报告的函")
    assert not reads_as_title(f"关于印发{agency}{year}年政府信息公开工作年度报告的通知")
