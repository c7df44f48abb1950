from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongkai.transform.numbers import parse_number, to_10k_yuan

FULLWIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


@pytest.mark.parametrize(
    "text,value,empty",
    [
        ("0", 0, False), ("12", 12, False), ("1,234", 1234, False), ("１２", 12, False),
        ("/", 0, True), ("—", 0, True), ("-", 0, True), ("无", 0, True), ("", 0, True), ("　", 0, True),
        ("\xa00\xa0", 0, False), ("3个", 3, False), ("7件", 7, False), ("0.0000", 0.0, False),
        ("-3", -3, False), ("+2", 2, False), ("—3", -3, False), ("－3", -3, False), ("减少5", -5, False), ("22（其中修订16件）", 22, False),
    ],
)
def test_examples(text, value, empty):
    n = parse_number(text)
    assert n is not None
    assert n.value == value and n.empty is empty


@pytest.mark.parametrize("text", ["规章", "1.属于国家秘密", "第二十条第（一）项", "2022年", "12ab", "1 2"])
def test_not_numbers(text):
    assert parse_number(text) is None


def test_yuan_to_10k_yuan():
    n = parse_number("251000元")
    assert n is not None and n.unit == "元"
    assert to_10k_yuan(n) == pytest.approx(25.1)
    assert to_10k_yuan(parse_number("25.1")) == pytest.approx(25.1)
    assert to_10k_yuan(parse_number("251000"), header_unit="元") == pytest.approx(25.1)


@given(
    st.integers(min_value=0, max_value=10**9),
    st.booleans(), st.booleans(), st.sampled_from(["", "件", "个", "项"]), st.sampled_from(["", " ", "\u3000", "\xa0"]),
)
def test_integers_round_trip(value, thousands, fullwidth, unit, pad):
    text = f"{value:,}" if thousands else str(value)
    if fullwidth:
        text = text.translate(FULLWIDTH)
    n = parse_number(pad + text + unit + pad)
    assert n is not None
    assert n.value == value and not n.empty
    assert isinstance(n.value, int)


@given(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False))
def test_decimals_round_trip(d):
    n = parse_number(f"{d:.4f}")
    assert n is not None
    assert n.value == pytest.approx(float(d))


@given(st.integers(min_value=-10**6, max_value=10**6))
def test_signed_round_trip(value):
    n = parse_number(str(value))
    assert n is not None and n.value == value
