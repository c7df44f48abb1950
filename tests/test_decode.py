from __future__ import annotations

import pytest

from gongkai.transform.decode import canonical_encoding, decode_bytes
from gongkai.transform.errors import ParseFailure

TEXT = "平潭综合实验区2021年度政府信息公开工作年度报告 本年新收政府信息公开申请数量 䶮"


def test_utf8():
    assert decode_bytes(TEXT.encode()).text == TEXT


def test_gbk_without_meta_is_gb18030():
    data = TEXT.encode("gb18030")
    d = decode_bytes(data)
    assert d.text == TEXT and d.encoding == "gb18030"


def test_meta_charset_gb2312():
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>规章</body></html>'
    d = decode_bytes(html.encode("gb18030"))
    assert "规章" in d.text and d.encoding == "gb18030"


def test_bom():
    assert decode_bytes(b"\xef\xbb\xbf" + "规章".encode()).text == "规章"


@pytest.mark.parametrize("name", ["GBK", "gb2312", "GB_2312", "cp936"])
def test_gb_family(name):
    assert canonical_encoding(name) == "gb18030"


@pytest.mark.parametrize("data", [b"%PDF-1.7\n...", b"PK\x03\x04abc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00\x01\x02" * 100])
def test_binary_is_refused(data):
    with pytest.raises(ParseFailure, match="not a text document"):
        decode_bytes(data)
