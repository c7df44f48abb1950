"""Round trips: generated reports of both layouts, in many renderings, parse back exactly."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gongkai.transform.parse import parse_report
from gongkai.devtools.reportgen import Generated, Options, generate

OPTIONS = st.builds(
    Options,
    form=st.sampled_from(["html", "html", "html", "tab", "space", "pipe"]),
    blank_style=st.sampled_from(["0", "", "/", "—", "无", "mixed"]),
    split_t3=st.booleans(), header_apart=st.booleans(), word_spans=st.booleans(), subtotal=st.booleans(),
    gbk=st.booleans(), meta_charset=st.booleans(), drop_ordinals=st.booleans(), halfwidth=st.booleans(),
    br_in_labels=st.booleans(), yuan_amounts=st.booleans(), shuffle_2019_cols=st.booleans(),
    narrative=st.booleans(), year_first_title=st.booleans(), shuffle_t4=st.booleans(), shuffle_t3=st.booleans(),
    t4_transposed=st.booleans(), drop_label_chars=st.booleans(), page_breaks=st.booleans(),
    wrap_labels=st.booleans(),
)


def assert_round_trip(gen: Generated) -> None:
    result = parse_report(gen.data, gen.source)
    assert result.status == "ok", result.warnings
    assert result.layout == gen.layout
    assert result.year == gen.year and result.agency == gen.agency
    got = {(c.table, c.row, c.col): c for c in result.cells}
    assert set(got) == set(gen.values), sorted(set(got) ^ set(gen.values))[:6]
    wrong = [(k, got[k].value, v) for k, v in gen.values.items() if not math.isclose(got[k].value, v, abs_tol=1e-9)]
    assert not wrong, wrong[:6]
    empties = {k for k, c in got.items() if c.empty}
    assert empties == gen.empty
    # generated tables are consistent: every applicable rule passes
    assert not result.failing_rules(), result.failing_rules()[:3]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), opts=OPTIONS)
# cases found here that once failed: zeros printed blank under a label that lost a character, or
# lost its ordinal, and a table 四 printed all blank
@example(seed=272, opts=Options(form="tab", blank_style="", drop_label_chars=True, shuffle_t3=True))
@example(seed=1095978, opts=Options(form="html", blank_style="", drop_ordinals=True))
@example(seed=0, opts=Options(form="html", blank_style=""))
def test_generated_reports_round_trip(seed, opts):
    assert_round_trip(generate(seed, opts))


def test_each_form_and_layout():
    for layout in ("2019", "2021"):
        for form in ("html", "tab", "space", "pipe"):
            assert_round_trip(generate(7, Options(form=form), layout=layout))


def test_hardest_html_variant():
    opts = Options(blank_style="mixed", split_t3=True, header_apart=True, word_spans=True, subtotal=True,
                   gbk=True, meta_charset=False, drop_ordinals=True, br_in_labels=True, halfwidth=True)
    for seed in range(20):
        assert_round_trip(generate(seed, opts))


def test_table_four_is_read_by_its_header_in_any_column_order():
    """复议后起诉 before 未经复议直接起诉, result columns shuffled: each value lands in its column
    (before, the 15 values were read in the template's order whatever the header said)."""
    for seed in range(40):
        gen = generate(seed, Options(shuffle_t4=True), layout="2021" if seed % 2 else "2019")
        assert_round_trip(gen)


def test_table_three_is_read_by_its_header_in_any_column_order():
    """The organisations' columns shuffled, and in HTML 自然人 after them or 总计 first: each
    value lands in its applicant column, in every form (split, header apart, 小计 too)."""
    for seed in range(48):
        form = ["html", "tab", "space", "pipe"][seed % 4]
        opts = Options(form=form, shuffle_t3=True, subtotal=seed % 3 == 0, header_apart=seed % 5 == 0,
                       split_t3=seed % 7 == 0)
        gen = generate(seed, opts, layout="2021" if seed % 2 else "2019")
        assert_round_trip(gen)


def test_table_four_printed_transposed_is_read_by_its_labels():
    """Results as rows and the three forums as columns (in any order): read by the row labels
    and the header, never as the template's stream of fifteen."""
    for seed in range(32):
        form = ["html", "tab", "space", "pipe"][seed % 4]
        gen = generate(seed, Options(form=form, t4_transposed=True, shuffle_t4=seed % 2 == 0),
                       layout="2021" if seed % 3 else "2019")
        result = parse_report(gen.data, gen.source)
        assert any("results as rows; columns read by the header" in w for w in result.warnings)
        assert_round_trip(gen)


def _unreadable_t3_header(data: bytes) -> bytes:
    html = data.decode("utf-8")
    for k, name in enumerate(["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]):
        html = html.replace(f">{name}</td>", f">列{k}</td>")
    return html.encode("utf-8")


def test_table_three_under_an_unreadable_header_counts_only_when_its_rules_pass():
    """Columns no header names are read in the template's order, with a warning, and count only
    when the table's rules pass: printed in the template's order they are kept exactly; printed
    with 总计 elsewhere the rules fail and the rows are left out (uncertain)."""
    dropped = 0
    for seed in range(30):
        shuffled = seed % 2 == 1
        gen = generate(seed, Options(shuffle_t3=shuffled), layout="2021")
        result = parse_report(_unreadable_t3_header(gen.data), gen.source)
        assert any("does not name the seven applicant columns" in w for w in result.warnings)
        got = {(c.table, c.row, c.col): c.value for c in result.cells if c.table == "t3"}
        if not shuffled:
            assert got == {k: v for k, v in gen.values.items() if k[0] == "t3"}
        elif not got:
            dropped += 1
            assert any("rules fail" in w for w in result.warnings)
            assert {u for u in result.uncertain if u.startswith("t3.")} == {".".join(k) for k in gen.values
                                                                           if k[0] == "t3"}
        else:  # the rules treat the organisations alike: a permutation of them passes
            assert not [c for c in result.failing_rules() if c.rule.startswith("t3")]
    assert dropped


def test_labels_that_lost_a_character_and_page_breaks_inside_tables():
    """A text layer's losses: a character dropped from numbered labels of 三 (read by the nearest
    codebook label, or by place), page numbers and running titles between table rows."""
    near = 0
    for seed in range(40):
        form = ["html", "tab", "pipe", "space"][seed % 4]
        gen = generate(seed, Options(form=form, drop_label_chars=True, page_breaks=True, drop_ordinals=seed % 5 == 0),
                       layout="2021" if seed % 2 else "2019")
        result = parse_report(gen.data, gen.source)
        near += any("the nearest codebook label" in w for w in result.warnings)
        assert_round_trip(gen)
    assert near > 10


def test_labels_of_table_two_wrapped_onto_two_lines():
    """``行政事业性`` / ``收费 0.5``: the row is found from the two halves (before, rows not found)."""
    for seed in range(24):
        form = ["tab", "pipe", "space"][seed % 3]
        assert_round_trip(generate(seed, Options(form=form, wrap_labels=True), layout="2021" if seed % 2 else "2019"))
