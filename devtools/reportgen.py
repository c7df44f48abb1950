"""A generator of plausible annual reports with known values, for round-trip tests and benchmarks.

It renders random values of either layout as HTML (merged headers, tables split over several
``<table>`` elements, Word-style nested spans, blank-for-zero, an extra 小计 column, GBK) or
as text (tabs, spaces, Markdown pipes), with narrative before and after the tables. The labels
here are written from the templates independently of the parser's keyword lists.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field

Key = tuple[str, str, str]

T2_2021 = [
    ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"], ["issued", "repealed", "in_force"],
     [("规章", "rules"), ("行政规范性文件", "normative")]),
    ("第二十条第（五）项", ["本年处理决定数量"], ["decisions"], [("行政许可", "licensing")]),
    ("第二十条第（六）项", ["本年处理决定数量"], ["decisions"], [("行政处罚", "penalty"), ("行政强制", "coercion")]),
    ("第二十条第（八）项", ["本年收费金额（单位：万元）"], ["amount"], [("行政事业性收费", "fees")]),
]
T2_2019 = [
    ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"], ["made", "published", "public_total"],
     [("规章", "rules"), ("规范性文件", "normative")]),
    ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"], ["prev_items", "change", "decisions"],
     [("行政许可", "licensing"), ("其他对外管理服务事项", "other_services")]),
    ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"], ["prev_items", "change", "decisions"],
     [("行政处罚", "penalty"), ("行政强制", "coercion")]),
    ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], ["prev_items", "change"], [("行政事业性收费", "fees")]),
    ("第二十条第（九）项", ["采购项目数量", "采购总金额"], ["projects", "procurement_amount"],
     [("政府集中采购", "procurement")]),
]

DENIED = ["1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
          "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"]
UNABLE = ["1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"]
REJECTED = ["1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
            "5.要求行政机关确认或重新出具已获取信息"]
OTHER_2021 = ["1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
              "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他"]


def t3_structure(layout: str) -> list[tuple[str | None, str | None, str, str]]:
    """(group, subgroup, label, code) per row of table 三, in printed order."""
    g = "三、本年度办理结果"
    rows: list[tuple[str | None, str | None, str, str]] = [
        (None, None, "一、本年新收政府信息公开申请数量", "new_received"),
        (None, None, "二、上年结转政府信息公开申请数量", "carried_over"),
        (g, None, "（一）予以公开", "granted"),
        (g, None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "partly_granted"),
    ]
    codes = ["denied_secret", "denied_law", "denied_security", "denied_third_party", "denied_internal",
             "denied_process", "denied_enforcement", "denied_query"]
    rows += [(g, "（三）不予公开", lab, code) for lab, code in zip(DENIED, codes)]
    rows += [(g, "（四）无法提供", lab, code) for lab, code in zip(UNABLE, ["unable_not_held", "unable_create", "unable_unclear"])]
    rows += [(g, "（五）不予处理", lab, code) for lab, code in zip(
        REJECTED, ["rejected_petition", "rejected_repeat", "rejected_publication", "rejected_mass", "rejected_confirm"])]
    if layout == "2021":
        rows += [(g, "（六）其他处理", lab, code) for lab, code in zip(OTHER_2021, ["other_no_correction", "other_no_fee", "other_misc"])]
    else:
        rows.append((g, None, "（六）其他处理", "other"))
    rows.append((g, None, "（七）总计", "results_total"))
    rows.append((None, None, "四、结转下年度继续办理", "carried_forward"))
    return rows


APPLICANTS = ["natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org"]
ORG_NAMES = {"commercial": "商业企业", "research": "科研机构", "social_welfare": "社会公益组织",
             "legal_service": "法律服务机构", "other_org": "其他", "subtotal": "小计"}
T4_ROWS = ["review", "suit_direct", "suit_after_review"]
T4_COLS = ["upheld", "corrected", "other", "pending", "total"]
T4_RESULT_NAMES = dict(zip(T4_COLS, ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]))
T4_SUIT_NAMES = {"suit_direct": "未经复议直接起诉", "suit_after_review": "复议后起诉"}
AGENCIES = ["郑州市上街区科学技术和工业信息化局", "平潭综合实验区市场监督管理局", "上海市人民政府办公厅",
            "某某县人民政府", "某某市某某区峡山街道办事处", "某某县交通运输局", "某某区卫生健康委员会"]


@dataclass
class Options:
    form: str = "html"  # html | tab | space | pipe | glued
    stray_spaces: bool = False  # glued form: a few separators survive here and there
    blank_style: str = "0"  # how zeros print: "0", "", "/", "—", "无", or "mixed"
    split_t3: bool = False  # table 三 split over two <table> elements
    header_apart: bool = False  # header rows of 三 in their own <table>
    word_spans: bool = False  # Word-style <p><span> with text split over spans and nbsp padding
    subtotal: bool = False  # an extra 小计 column in table 三
    gbk: bool = False
    meta_charset: bool = True
    drop_ordinals: bool = False
    halfwidth: bool = False
    br_in_labels: bool = False
    yuan_amounts: bool = False  # 2019 procurement amount printed in 元
    shuffle_2019_cols: bool = False
    narrative: bool = True
    year_first_title: bool = False
    shuffle_t4: bool = False  # table 四's lawsuit groups and result columns in a random order
    t4_transposed: bool = False  # table 四 with its results as rows and the three forums as columns
    drop_label_chars: bool = False  # a text layer that lost a character of some numbered labels of 三
    wrap_labels: bool = False  # text forms: some labels of 二 wrapped onto a second line (行政事业性 / 收费 …)
    page_breaks: bool = False  # text forms: page footers (— 3 —, 第3页) and a running title between rows
    # table 三's organisations in a random order; in HTML 自然人 and 总计 may move too
    shuffle_t3: bool = False


@dataclass
class Generated:
    layout: str
    agency: str
    year: int
    values: dict[Key, float] = field(default_factory=dict)
    empty: set[Key] = field(default_factory=set)
    data: bytes = b""
    source: str = "generated.html"


def random_values(rng: random.Random, layout: str, glued: bool = False) -> dict[Key, float]:
    vals: dict[Key, float] = {}
    spec = T2_2021 if layout == "2021" else T2_2019
    small = lambda: rng.choice([0, 0, 0, rng.randint(0, 9), rng.randint(0, 300)])
    for _, _, cols, rows in spec:
        for _, row in rows:
            for col in cols:
                if col == "amount":
                    v: float = rng.choice([0.0, round(rng.uniform(0, 500), 4)])
                elif col == "procurement_amount":
                    v = rng.choice([0.0, round(rng.randint(0, 90_000_000) / 10000, 4)])
                elif col == "change":
                    v = rng.randint(-20, 20) if rng.random() < 0.5 else 0
                    if glued:
                        v = abs(v)  # a minus sign in a glued run reads as a label character
                else:
                    v = small()
                vals[("t2", row, col)] = v
    result_rows = [code for _, _, _, code in t3_structure(layout)
                   if code not in ("new_received", "carried_over", "results_total", "carried_forward")]
    for col in APPLICANTS:
        for row in result_rows + ["new_received", "carried_forward"]:
            vals[("t3", row, col)] = small() if rng.random() < 0.6 else 0
        total = sum(vals[("t3", r, col)] for r in result_rows)
        vals[("t3", "results_total", col)] = total
        # the balance: new_received + carried_over = results_total + carried_forward
        carried_over = total + vals[("t3", "carried_forward", col)] - vals[("t3", "new_received", col)]
        if carried_over < 0:
            vals[("t3", "new_received", col)] += carried_over
            carried_over = 0
        vals[("t3", "carried_over", col)] = carried_over
    for _, _, _, row in t3_structure(layout):
        vals[("t3", row, "total")] = sum(vals[("t3", row, c)] for c in APPLICANTS)
    for row in T4_ROWS:
        for col in T4_COLS[:-1]:
            vals[("t4", row, col)] = small() if rng.random() < 0.3 else 0
        vals[("t4", row, "total")] = sum(vals[("t4", row, c)] for c in T4_COLS[:-1])
    return vals


class WrappedLabel(list):
    """The first line of a label wrapped onto two lines."""


class Renderer:
    def __init__(self, rng: random.Random, opts: Options, gen: Generated) -> None:
        self.rng, self.opts, self.gen = rng, opts, gen

    # -- cell text ---------------------------------------------------------------------------
    def number(self, key: Key) -> str:
        v = self.gen.values[key]
        col = key[2]
        if v == 0 and self.opts.blank_style != "0" and self.opts.form != "glued":
            style = self.opts.blank_style
            if style == "mixed":
                style = self.rng.choice(["0", "", "/", "—", "无"])
            if style != "0":
                if style == "" and (self.opts.form == "space" or (self.opts.form == "tab" and key[0] == "t4")):
                    style = "/"  # spaces cannot carry an empty cell; nor can an all-blank tab line
                self.gen.empty.add(key)
                return style
        if col == "procurement_amount" and self.opts.yuan_amounts:
            return f"{round(v * 10000)}元"
        if col in ("amount", "procurement_amount"):
            return f"{v:.4f}" if self.rng.random() < 0.5 else str(v)
        return str(int(v))

    def label(self, text: str) -> str:
        if self.opts.drop_ordinals:
            for prefix in ("（一）", "（二）", "（三）", "（四）", "（五）", "（六）", "（七）"):
                if text.startswith(prefix) and text not in ("（七）总计",):
                    text = text[len(prefix):]
            if len(text) > 2 and text[0].isdigit() and text[1] == ".":
                text = text[2:]
        if self.opts.drop_label_chars and len(text) > 4 and text[0].isdigit() and text[1] == "." \
                and self.rng.random() < 0.3:
            cut = self.rng.randint(2, len(text) - 1)
            text = text[:cut] + text[cut + 1:]
        if self.opts.halfwidth:
            text = text.replace("（", "(").replace("）", ")").replace("，", ",").replace("：", ":")
        return text

    def html_text(self, text: str, is_label: bool) -> str:
        esc = html.escape(text)
        if is_label and self.opts.br_in_labels and len(text) > 4:
            cut = self.rng.randint(2, len(text) - 2)
            esc = html.escape(text[:cut]) + "<br/>" + html.escape(text[cut:])
        if self.opts.word_spans:
            if len(esc) > 1 and "<br/>" not in esc and "&" not in esc:
                cut = self.rng.randint(1, len(esc) - 1)
                esc = f'<span style="font-family:仿宋_GB2312">{esc[:cut]}</span><span lang="EN-US">{esc[cut:]}</span>'
            pad = "&nbsp;" if self.rng.random() < 0.3 else ""
            esc = f'<p class="MsoNormal" align="center"><span style="font-size:12pt">{pad}{esc}{pad}</span></p>'
        return esc

    def td(self, text: str, *, label: bool = False, rowspan: int = 1, colspan: int = 1) -> str:
        attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (f' colspan="{colspan}"' if colspan > 1 else "")
        return f"<td{attrs}>{self.html_text(text, label)}</td>"

    # -- table 二 ----------------------------------------------------------------------------
    def t2_sections(self) -> list[tuple[str, list[str], list[str], list[tuple[str, str]]]]:
        spec = T2_2021 if self.gen.layout == "2021" else T2_2019
        out = []
        for title, heads, cols, rows in spec:
            if self.opts.shuffle_2019_cols and self.gen.layout == "2019" and len(cols) == 3 and "prev_items" in cols:
                order = self.rng.sample(range(3), 3)
                heads, cols = [heads[i] for i in order], [cols[i] for i in order]
            out.append((title, heads, cols, rows))
        return out

    def t2_html(self) -> str:
        parts = ['<table border="1" class="MsoNormalTable">']
        for title, heads, cols, rows in self.t2_sections():
            parts.append(f"<tr>{self.td(title, label=True, colspan=4)}</tr>")
            cells = self.td("信息内容", label=True) + "".join(self.td(h, label=True) for h in heads)
            if len(heads) < 3:  # the template pads narrow sub-tables to four columns
                cells = self.td("信息内容", label=True) + "".join(
                    self.td(h, label=True, colspan=3 if len(heads) == 1 else 1) for h in heads)
                if len(heads) == 2:
                    cells += self.td("", label=True)
            parts.append(f"<tr>{cells}</tr>")
            for lab, row in rows:
                vals = "".join(self.td(self.number(("t2", row, c)), colspan=3 if len(cols) == 1 else 1) for c in cols)
                if len(cols) == 2:
                    vals += self.td("")
                parts.append(f"<tr>{self.td(lab, label=True)}{vals}</tr>")
        parts.append("</table>")
        return "\n".join(parts)

    # -- table 三 ----------------------------------------------------------------------------
    def t3_orgs(self) -> list[str]:
        """The organisations' columns (and 小计) in printed order."""
        if not hasattr(self, "_orgs"):
            orgs = APPLICANTS[1:]
            if self.opts.shuffle_t3:
                orgs = self.rng.sample(orgs, len(orgs))
            self._orgs = orgs + (["subtotal"] if self.opts.subtotal else [])
        return self._orgs

    def t3_groups(self) -> list[str]:
        """The top header's items in printed order: 自然人, the organisations' group, 总计."""
        if not hasattr(self, "_groups"):
            groups = ["natural_person", "orgs", "total"]
            if self.opts.shuffle_t3 and self.opts.form == "html":
                groups = self.rng.choice([groups, ["orgs", "natural_person", "total"],
                                          ["total", "natural_person", "orgs"]])
            self._groups = groups
        return self._groups

    def t3_columns(self) -> list[str]:
        return [c for g in self.t3_groups() for c in (self.t3_orgs() if g == "orgs" else [g])]

    def t3_header_cells(self) -> list[list[str]]:
        orgs = [ORG_NAMES[c] for c in self.t3_orgs()]
        ncol = 2 + len(orgs)
        top = {"natural_person": self.td("自然人", label=True, rowspan=2),
               "orgs": self.td("法人或其他组织", label=True, colspan=len(orgs)),
               "total": self.td("总计", label=True, rowspan=2)}
        return [
            [self.td("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", label=True, rowspan=3, colspan=3),
             self.td("申请人情况", label=True, colspan=ncol)],
            [top[g] for g in self.t3_groups()],
            [self.td(o, label=True) for o in orgs],
        ]

    def t3_values(self, code: str) -> list[str]:
        def cell(col: str) -> str:
            if col == "subtotal":
                return str(int(sum(self.gen.values[("t3", code, c)] for c in APPLICANTS[1:])))
            return self.number(("t3", code, col))
        return [cell(c) for c in self.t3_columns()]

    def t3_html(self) -> str:
        rows = t3_structure(self.gen.layout)
        header = ["<tr>" + "".join(r) + "</tr>" for r in self.t3_header_cells()]
        body: list[str] = []
        group_len = sum(1 for g, _, _, _ in rows if g)
        sub_len: dict[str, int] = {}
        for _, sub, _, _ in rows:
            if sub:
                sub_len[sub] = sub_len.get(sub, 0) + 1
        seen_group, seen_sub = False, set()
        boundaries = []
        for i, (group, sub, lab, code) in enumerate(rows):
            cells = ""
            if group is None:
                cells += self.td(self.label(lab), label=True, colspan=3)
            else:
                if not seen_group:
                    cells += self.td(group, label=True, rowspan=group_len)
                    seen_group = True
                if sub is None:
                    cells += self.td(self.label(lab), label=True, colspan=2)
                else:
                    if sub not in seen_sub:
                        cells += self.td(self.label(sub), label=True, rowspan=sub_len[sub])
                        seen_sub.add(sub)
                    cells += self.td(self.label(lab), label=True)
            cells += "".join(self.td(v) for v in self.t3_values(code))
            body.append(f"<tr>{cells}</tr>")
            if group is None:
                boundaries.append(i + 1)
        table_open = '<table border="1" cellspacing="0">'
        if self.opts.header_apart:
            out = [table_open, *header, "</table>", table_open, *body, "</table>"]
        else:
            out = [table_open, *header, *body, "</table>"]
        if self.opts.split_t3:
            # split where no rowspan crosses: after 上年结转 (before the 办理结果 group) or before 结转下年
            at = self.rng.choice([b for b in boundaries if 0 < b < len(rows)])
            idx = out.index(body[at])
            out = out[:idx] + ["</table>", "<p>（续表）</p>", table_open] + out[idx:]
        return "\n".join(out)

    # -- table 四 ----------------------------------------------------------------------------
    def t4_order(self) -> tuple[list[str], list[str]]:
        """Table 四's result columns and lawsuit groups in printed order."""
        if not hasattr(self, "_t4_order"):
            cols, suits = list(T4_COLS), ["suit_direct", "suit_after_review"]
            if self.opts.shuffle_t4:
                while cols == list(T4_COLS) and suits == ["suit_direct", "suit_after_review"]:
                    self.rng.shuffle(cols)
                    self.rng.shuffle(suits)
            self._t4_order = cols, suits
        return self._t4_order

    def t4_transposed_html(self) -> str:
        results, suits = self.t4_order()
        r0 = self.td("", label=True, rowspan=2) + self.td("行政复议", label=True, rowspan=2) \
            + self.td("行政诉讼", label=True, colspan=2)
        r1 = "".join(self.td(T4_SUIT_NAMES[s], label=True) for s in suits)
        body = "".join(f"<tr>{self.td(T4_RESULT_NAMES[c], label=True)}"
                       + "".join(self.td(self.number(("t4", f, c))) for f in ["review", *suits]) + "</tr>"
                       for c in results)
        return f'<table border="1"><tr>{r0}</tr><tr>{r1}</tr>{body}</table>'

    def t4_html(self) -> str:
        if self.opts.t4_transposed:
            return self.t4_transposed_html()
        cols, suits = self.t4_order()
        names = T4_RESULT_NAMES
        heads = [names[c] for c in cols]
        suit_names = T4_SUIT_NAMES
        r0 = self.td("行政复议", label=True, colspan=5) + self.td("行政诉讼", label=True, colspan=10)
        r1 = "".join(self.td(h, label=True, rowspan=2) for h in heads)
        r1 += "".join(self.td(suit_names[s], label=True, colspan=5) for s in suits)
        r2 = "".join(self.td(h, label=True) for h in heads * 2)
        r3 = "".join(self.td(self.number(("t4", r, c))) for r in ["review", *suits] for c in cols)
        return f'<table border="1"><tr>{r0}</tr><tr>{r1}</tr><tr>{r2}</tr><tr>{r3}</tr></table>'

    # -- text forms ------------------------------------------------------------------------------
    def text_rows(self) -> list[list[str]]:
        """Rows of cells, label columns first, for the text forms."""
        out: list[list[str]] = []
        for title, heads, cols, rows in self.t2_sections():
            out.append([title])
            out.append(["信息内容", *heads])
            for lab, row in rows:
                if self.opts.wrap_labels and len(lab) > 3 and self.rng.random() < 0.5:
                    cut = self.rng.randint(2, len(lab) - 2)
                    out.append(WrappedLabel([lab[:cut]]))
                    lab = lab[cut:]
                out.append([lab, *[self.number(("t2", row, c)) for c in cols]])
        out.append(["三、收到和处理政府信息公开申请情况"])
        orgs = [ORG_NAMES[c] for c in self.t3_orgs()]
        out.append(["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"])
        out.append(["", "", "", "自然人", "法人或其他组织", *[""] * (len(orgs) - 1), "总计"])
        out.append(["", "", "", "", *orgs])
        for group, sub, lab, code in t3_structure(self.gen.layout):
            out.append([group or "", self.label(sub) if sub else "", self.label(lab), *self.t3_values(code)])
        out.append(["四、政府信息公开行政复议、行政诉讼情况"])
        if self.opts.t4_transposed:
            results, suits = self.t4_order()
            out.append(["", "行政复议", "行政诉讼"])
            out.append(["", "", *[T4_SUIT_NAMES[s] for s in suits]])
            out.extend([T4_RESULT_NAMES[c], *[self.number(("t4", f, c)) for f in ["review", *suits]]] for c in results)
            return out
        results, suits = self.t4_order()
        heads = [T4_RESULT_NAMES[c] for c in results]
        out.append(["行政复议", "", "", "", "", "行政诉讼"])
        out.append([*heads, T4_SUIT_NAMES[suits[0]], "", "", "", "", T4_SUIT_NAMES[suits[1]]])
        out.append(["", "", "", "", "", *(heads * 2)])
        out.append([self.number(("t4", r, c)) for r in ["review", *suits] for c in results])
        return out

    def text_tables(self) -> str:
        rows = self.text_rows()
        if self.opts.form == "glued":
            out = []
            for r in rows:
                cells = [c for c in r if c]
                glue = [" " if self.opts.stray_spaces and self.rng.random() < 0.15 else "" for _ in cells]
                out.append("".join(c + g for c, g in zip(cells, glue)))
            return "".join(out)
        if self.opts.page_breaks:
            rows = self.with_page_breaks(rows)
        if self.opts.form == "tab":
            return "\n".join("\t".join(r) for r in rows)
        if self.opts.form == "pipe":
            lines = []
            for r in rows:
                cells = [c for c in r if c] if not any(self._is_value(c) for c in r) else r
                lines.append("| " + " | ".join(cells) + " |")
                if len(lines) == 1 or self.rng.random() < 0.2:
                    lines.append("|" + "---|" * len(cells))
            return "\n".join(lines)
        return " ".join(c for r in rows for c in r if c)

    def with_page_breaks(self, rows: list[list[str]]) -> list[list[str]]:
        """Every few rows a page ends: its number on a line of its own, then the running title."""
        out: list[list[str]] = []
        page = 1
        due = False
        for k, row in enumerate(rows):
            out.append(row)
            due = due or k % 9 == 8
            if due and not isinstance(row, WrappedLabel):  # a page never ends inside a wrapped label
                due = False
                page += 1
                # a text run onto one line (space form) keeps only the forms no cell can be read as
                marks = [f"第{page}页", f"第 {page} 页 共 9 页"] + ([f"— {page} —", f"-{page}-"]
                                                                 if self.opts.form != "space" else [])
                out.append([self.rng.choice(marks)])
                if self.rng.random() < 0.5:
                    out.append([self.title()])
        return out

    @staticmethod
    def _is_value(c: str) -> bool:
        return c == "" or c[:1].isdigit() or c in ("/", "—", "无")

    # -- whole report ----------------------------------------------------------------------------
    def title(self) -> str:
        g = self.gen
        if self.opts.year_first_title:
            return f"{g.year}年{g.agency}政府信息公开工作年度报告"
        return f"{g.agency}{g.year}年度政府信息公开工作年度报告"

    def narrative_before(self) -> list[str]:
        g = self.gen
        return [
            f"本报告根据《中华人民共和国政府信息公开条例》编制。本报告中所列数据的统计期限自{g.year}年1月1日起至{g.year}年12月31日止。",
            "一、总体情况",
            f"{g.year}年，本机关共收到政府信息公开申请{int(g.values[('t3', 'new_received', 'total')])}件，均按时答复。",
            "二、主动公开政府信息情况",
        ]

    def narrative_after(self) -> list[str]:
        return ["五、存在的主要问题及改进情况", "一是公开内容不够丰富；二是解读形式较为单一。",
                "六、其他需要报告的事项", "本年度未收取信息处理费。"]

    def render(self) -> bytes:
        o = self.opts
        before = self.narrative_before() if o.narrative else []
        after = self.narrative_after() if o.narrative else []
        if o.form == "html":
            charset = "gbk" if o.gbk else "utf-8"
            meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if o.meta_charset else ""
            body = [f"<h1>{html.escape(self.title())}</h1>", *[f"<p>{html.escape(p)}</p>" for p in before],
                    self.t2_html(), "<p>三、收到和处理政府信息公开申请情况</p>", self.t3_html(),
                    "<p>四、政府信息公开行政复议、行政诉讼情况</p>", self.t4_html(),
                    *[f"<p>{html.escape(p)}</p>" for p in after]]
            page = f"<html><head>{meta}<title>{html.escape(self.title())}_政府信息公开年报</title></head><body>" \
                   + "\n".join(body) + "</body></html>"
            return page.encode("gb18030" if o.gbk else "utf-8")
        text = "\n".join([self.title(), *before, self.text_tables(), *after])
        return text.encode("gb18030" if o.gbk else "utf-8")


def generate(seed: int, opts: Options, layout: str | None = None, *, agency: str | None = None,
             year: int | None = None) -> Generated:
    rng = random.Random(seed)
    layout = layout or rng.choice(["2019", "2021"])
    drawn_year = rng.choice([2019, 2020]) if layout == "2019" else rng.randint(2021, 2025)
    drawn_agency = rng.choice(AGENCIES)
    gen = Generated(layout=layout, agency=agency or drawn_agency, year=year or drawn_year)
    gen.values = random_values(rng, layout, glued=opts.form == "glued")
    gen.data = Renderer(rng, opts, gen).render()
    gen.source = {"html": "generated.html", "pipe": "generated.md"}.get(opts.form, "generated.txt")
    return gen
