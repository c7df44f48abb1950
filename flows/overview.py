"""The overview report (``gongkai report``): one static HTML file, built from the analyst views,
that opens offline — its charts are SVG drawn by Vega-Lite (altair specs rendered by
vl-convert, which ships the Vega engine: nothing is downloaded, and the page holds no script
at all), every style inline, a table beside each chart.

Why SVG through vl-convert rather than an interactive page: an inline Vega or Plotly bundle
is 0.9–3.5 MB of JavaScript per file, while the SVG charts of a whole overview are a few
hundred kB and need no script to open.

>>> html = build_overview(con, agency=None, region=None)  # doctest: +SKIP
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from gongkai import __version__

log = logging.getLogger(__name__)

GENERATOR = '<meta name="generator" content="gongkai overview">'  # how report recognises its own file
SMALL = 10  # applications below which a rate is flagged as resting on a small count
Progress = Callable[[str], None]

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:1100px;color:#222;line-height:1.5}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
section{margin-bottom:2em}.pair{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.flag{color:#b00}.note{color:#555;font-size:.9em}
"""


@dataclass
class Section:
    title: str
    note: str
    chart: str | None  # SVG
    table: str  # HTML


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> tuple[list[str], list]:
    cur = con.execute(sql, params or [])
    return [d[0] for d in cur.description or []], cur.fetchall()


def _cell(value: object, column: str) -> str:
    if value is None:
        return '<td class="note">—</td>'
    if "year" in column and isinstance(value, int):
        return f"<td>{value}</td>"
    if isinstance(value, float):
        if "rate" in column:
            return f"<td>{value:.1%}</td>"
        if value.is_integer():
            return f"<td>{int(value):,}</td>"
        return f"<td>{value:,.2f}</td>"
    if isinstance(value, int):
        return f"<td>{value:,}</td>"
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return f'<td class="l">{html.escape(str(value))}</td>'


def _table(columns: list[str], rows: list, labels: dict[str, str], limit: int = 60) -> str:
    head = "".join(f'<th class="l">{html.escape(labels.get(c, c))}</th>' for c in columns)
    body = "".join("<tr>" + "".join(_cell(v, c) for c, v in zip(columns, row)) + "</tr>" for row in rows[:limit])
    more = f'<p class="note">… {len(rows) - limit} more rows</p>' if len(rows) > limit else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _svg(spec: dict) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def _bar(rows: list[dict], x: str, y: str, color: str | None, title: str, x_title: str, y_title: str,
         color_title: str = "", horizontal: bool = False) -> str | None:
    if not rows:
        return None
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame(rows)
    xe = alt.X(f"{x}:O" if not horizontal else f"{y}:Q", title=x_title if not horizontal else y_title)
    ye = alt.Y(f"{y}:Q" if not horizontal else f"{x}:N", title=y_title if not horizontal else x_title,
               sort=None if not horizontal else "-x")
    enc = {"x": xe, "y": ye, "tooltip": list(frame.columns)}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title)
    chart = alt.Chart(frame, title=title).mark_bar().encode(**enc).properties(width=420, height=260)
    return _svg(chart.to_dict())


def _where(agency: str | None, region: str | None, alias: str = "") -> tuple[str, list[object]]:
    p = f"{alias}." if alias else ""
    clauses, params = [], []
    if agency:
        clauses.append(f"{p}agency = ?")
        params.append(agency)
    if region:
        clauses.append(f"{p}county_code LIKE ? || '%'")
        params.append(region)
    return (" AND " + " AND ".join(clauses) if clauses else ""), params


def build_overview(con: duckdb.DuckDBPyConnection, *, agency: str | None = None, region: str | None = None,
                   progress: Progress | None = None) -> str:
    """The overview as one HTML string (no script, no outside reference)."""
    say = progress or (lambda message: None)
    where, params = _where(agency, region)
    base = f"SELECT * FROM v_current_report WHERE true{where}"
    sections: list[Section] = []

    say("report: reports per year and layout")
    cols, rows = _rows(con, f"SELECT year, coalesce(layout, '?') AS layout, status, count(*) AS reports FROM ({base}) "
                            "GROUP BY ALL ORDER BY ALL", params)
    chart_rows = [{"year": r[0], "layout": f"{r[1]} 版式", "reports": r[3]} for r in rows if r[0] is not None]
    sections.append(Section(
        "每年报告数 · Reports per year and layout", "Current version of every report, by the template it follows.",
        _bar(chart_rows, "year", "reports", "layout", "每年报告数 Reports per year", "年份 Year", "报告 Reports",
             "版式 Layout"),
        _table(cols, rows, {"year": "年份 year", "layout": "版式 layout", "status": "状态 status",
                            "reports": "报告数 reports"})))

    say("report: applications and how they were answered")
    rw, rp = _where(agency, region, "r")
    cols, rows = _rows(con, f"""
        SELECT s.year, count(*) AS reports, count(*) FILTER (complete) AS complete_reports,
               sum(applications_received) FILTER (complete) AS received,
               sum(granted) FILTER (complete) AS granted, sum(partly_granted) FILTER (complete) AS partly_granted,
               sum(denied) FILTER (complete) AS denied, sum(unable) FILTER (complete) AS unable,
               sum(rejected) FILTER (complete) AS rejected, sum(other_handling) FILTER (complete) AS other_handling
        FROM v_summary s JOIN v_current_report r USING (report_id) WHERE true{rw}
        GROUP BY s.year ORDER BY s.year""", rp)
    answers = {"granted": "予以公开 granted", "partly_granted": "部分公开 partly", "denied": "不予公开 denied",
               "unable": "无法提供 unable", "rejected": "不予处理 rejected", "other_handling": "其他处理 other"}
    chart_rows = [{"year": r[0], "answer": label, "applications": r[cols.index(code)]}
                  for r in rows for code, label in answers.items() if r[cols.index(code)] is not None]
    sections.append(Section(
        "申请与答复 · Applications received and how they were answered",
        "Sums over reports whose figures are all present (`complete`); reports with a missing or uncertain "
        "cell are counted in `reports` but left out of the sums, never read as 0.",
        _bar(chart_rows, "year", "applications", "answer", "答复结果 How applications were answered",
             "年份 Year", "申请 Applications", "结果 Answer"),
        _table(cols, rows, {"year": "年份 year", "reports": "报告 reports", "complete_reports": "完整 complete",
                            "received": "新收 received", **answers})))

    say("report: denial and correction rates by agency")
    cols, rows = _rows(con, f"""
        SELECT s.agency, s.year, s.applications_received, s.results_total, s.denial_rate,
               s.review_concluded, s.review_corrected_rate, s.suit_direct_concluded, s.suit_direct_corrected_rate,
               CASE WHEN coalesce(s.results_total, 0) < {SMALL} THEN 'small' ELSE '' END AS flag
        FROM v_summary s JOIN v_current_report r USING (report_id) WHERE true{rw}
        ORDER BY s.year DESC, s.denial_rate DESC NULLS LAST, s.agency LIMIT 400""", rp)
    latest = rows[0][1] if rows else None
    chart_rows = [{"agency": r[0], "denial_rate": r[4]} for r in rows
                  if r[1] == latest and r[4] is not None and (r[3] or 0) >= SMALL][:25]
    sections.append(Section(
        "不予公开率与纠错率 · Denial and correction rates by agency",
        f"Denial rate = 不予公开 ÷ 办理结果总计; correction rates per forum = 纠正 ÷ (维持 + 纠正 + 其他). "
        f"Rates resting on fewer than {SMALL} answered applications are flagged 'small' and left out of the chart.",
        _bar(chart_rows, "agency", "denial_rate", None, f"不予公开率 Denial rate ({latest})", "机关 Agency",
             "不予公开率 Denial rate", horizontal=True),
        _table(cols, rows, {"agency": "机关 agency", "year": "年份 year", "applications_received": "新收 received",
                            "results_total": "办理 answered", "denial_rate": "不予公开率 denial rate",
                            "review_concluded": "复议审结 reviews concluded",
                            "review_corrected_rate": "复议纠错率 review corrected",
                            "suit_direct_concluded": "诉讼审结 suits concluded",
                            "suit_direct_corrected_rate": "诉讼纠错率 suit corrected", "flag": "样本 sample"})))

    say("report: year-over-year change")
    yw, yp = _where(agency, None, "y")
    cols, rows = _rows(con, f"""
        SELECT agency, year, applications_received, applications_received_prev, applications_change
        FROM v_yoy y WHERE applications_received_prev IS NOT NULL{yw}
        ORDER BY abs(applications_change) DESC NULLS LAST, agency LIMIT 200""", yp)
    sections.append(Section(
        "同比变化 · Year-over-year change", "Applications received against the same agency's previous year.",
        None, _table(cols, rows, {"agency": "机关 agency", "year": "年份 year",
                                  "applications_received": "新收 received",
                                  "applications_received_prev": "上年 previous year",
                                  "applications_change": "变化 change"})))

    say("report: data quality")
    cols, rows = _rows(con, f"""
        SELECT r.year, count(*) AS reports,
               count(*) FILTER (r.status = 'partial') AS partial, count(*) FILTER (r.status = 'failed') AS failed,
               count(*) FILTER (q.failing_checks > 0) AS failing_rules,
               coalesce(sum(q.cells_left_out), 0) AS cells_left_out,
               (SELECT count(*) FROM cell c JOIN v_current_report cr USING (report_id)
                 WHERE cr.year IS NOT DISTINCT FROM r.year AND c.glued_run IS NOT NULL) AS cells_split_from_runs,
               (SELECT count(*) FROM cell c JOIN v_current_report cr USING (report_id)
                 WHERE cr.year IS NOT DISTINCT FROM r.year AND cr.form = 'scan') AS cells_read_by_ocr
        FROM ({base}) r LEFT JOIN v_data_quality q USING (report_id)
        GROUP BY r.year ORDER BY r.year""", params)
    chart_rows = [{"year": r[0], "problem": name, "reports": r[cols.index(code)]} for r in rows if r[0] is not None
                  for code, name in (("partial", "不完整 partial"), ("failed", "失败 failed"),
                                     ("failing_rules", "校验未过 failing rules"))]
    sections.append(Section(
        "数据质量 · Data quality",
        "Reports not read completely, reports failing a consistency rule, cells left out as uncertain, cells "
        "split from digit runs printed without separators (kept only when the table's rules confirm the split), "
        "and cells read by OCR from scans (kept only where the table's rules confirm them).",
        _bar(chart_rows, "year", "reports", "problem", "数据质量 Data quality", "年份 Year", "报告 Reports",
             "问题 Problem"),
        _table(cols, rows, {"year": "年份 year", "reports": "报告 reports", "partial": "不完整 partial",
                            "failed": "失败 failed", "failing_rules": "校验未过 failing rules",
                            "cells_left_out": "存疑单元格 cells left out",
                            "cells_split_from_runs": "拆分单元格 split from runs",
                            "cells_read_by_ocr": "识别单元格 read by OCR"})))

    say("report: coverage by region and level")
    cols, rows = _rows(con, f"""
        SELECT coalesce(province, '(unresolved)') AS province, coalesce(city, '') AS city,
               coalesce(county, '') AS county, coalesce(level, '') AS level,
               count(DISTINCT agency_id) AS agencies, count(*) AS reports, min(year) AS first_year,
               max(year) AS last_year
        FROM ({base}) GROUP BY ALL ORDER BY ALL""", params)
    level_rows: dict[str, int] = {}
    for r in rows:
        level_rows[r[3] or "?"] = level_rows.get(r[3] or "?", 0) + r[4]
    sections.append(Section(
        "覆盖范围 · Coverage by region and level",
        "Agencies and reports per region (from the 行政区划代码 resolved from the agency's name) and level.",
        _bar([{"level": k, "agencies": v} for k, v in level_rows.items()], "level", "agencies", None,
             "各层级机关 Agencies by level", "层级 Level", "机关 Agencies"),
        _table(cols, rows, {"province": "省 province", "city": "市 city", "county": "县区 county",
                            "level": "层级 level", "agencies": "机关 agencies", "reports": "报告 reports",
                            "first_year": "起 from", "last_year": "止 to"})))

    if agency:
        say(f"report: the history of {agency}")
        cols, rows = _rows(con, """
            SELECT year, layout, status, applications_received, granted, partly_granted, denied, unable, rejected,
                   results_total, denial_rate, reviews, lawsuits, failing_rules, cells_left_out
            FROM v_summary WHERE agency = ? ORDER BY year""", [agency])
        chart_rows = [{"year": r[0], "applications": r[3]} for r in rows if r[3] is not None]
        sections.append(Section(
            f"{agency} · History", "Every year of this agency's current reports.",
            _bar(chart_rows, "year", "applications", None, "新收申请 Applications received", "年份 Year",
                 "申请 Applications"),
            _table(cols, rows, {"year": "年份 year", "layout": "版式 layout", "status": "状态 status",
                                "applications_received": "新收 received", "granted": "予以公开 granted",
                                "partly_granted": "部分公开 partly", "denied": "不予公开 denied",
                                "unable": "无法提供 unable", "rejected": "不予处理 rejected",
                                "results_total": "办理 answered", "denial_rate": "不予公开率 denial rate",
                                "reviews": "行政复议 reviews", "lawsuits": "行政诉讼 lawsuits",
                                "failing_rules": "未过校验 failing rules",
                                "cells_left_out": "存疑单元格 cells left out"})))
    return _page(sections, agency, region)


def _page(sections: list[Section], agency: str | None, region: str | None) -> str:
    scope = " · ".join(x for x in (agency, f"region {region}" if region else None) if x) or "all agencies"
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = ["<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">", GENERATOR,
             f"<title>gongkai overview — {html.escape(scope)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>政府信息公开工作年度报告 · Overview</h1><p class=\"note\">{html.escape(scope)}; built {made} "
             f"by gongkai {__version__} from the warehouse's analyst views.</p>"]
    for s in sections:
        chart = f"<div>{s.chart}</div>" if s.chart else ""
        parts.append(f"<section><h2>{html.escape(s.title)}</h2><p class=\"note\">{html.escape(s.note)}</p>"
                     f"<div class=\"pair\">{chart}<div>{s.table}</div></div></section>")
    parts.append("</body></html>")
    return "".join(parts)
