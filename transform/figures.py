"""A report's headline figures, from its cells and its rules' outcomes (``report_figures``).

The figures are what ``v_summary`` and ``v_yoy`` show of each report: applications received,
how they were answered, reviews and suits per forum, and the rules it fails. A report's cells
and checks never change once parsed, so its figures are computed once, where it is parsed, and
carried to the warehouse with it.

- A figure of table 三 is its row's 总计 (``total``) cell, when the row has exactly one; it is
  NULL when that cell is printed blank while the row's other cells add up to more than 0 (the
  total was left out, not zero), or when it is not a whole number.
- ``denied``, ``unable`` and ``rejected`` add up the rows of their group (8, 3 and 5 rows) and
  are NULL unless every row of the group has its figure; ``other_handling`` is the 2019 layout's
  single row, else the sum of the 2021 layout's three.
- A figure of table 四 is the whole-number value of its cell (NULL if missing or fractional).
- ``failing_rules``: the rules failed anywhere in the report, sorted (NULL when none fails).

>>> from gongkai.transform.models import CellValue
>>> f = figures_of([CellValue("t3", "new_received", "total", 12, "12", False)], [])
>>> f["applications_received"], f["denied"], f["failing_rules"]
(12, None, None)
"""

from __future__ import annotations

from collections.abc import Iterable

T3_FIGURES = ("applications_received", "carried_over", "granted", "partly_granted", "denied", "unable",
              "rejected", "other_handling", "results_total", "carried_forward")
T3_ROWS = {"applications_received": "new_received", "carried_over": "carried_over", "granted": "granted",
           "partly_granted": "partly_granted", "results_total": "results_total",
           "carried_forward": "carried_forward"}
T3_GROUPS = {"denied": ("denied_", 8), "unable": ("unable_", 3), "rejected": ("rejected_", 5)}
T4_FIGURES = {  # figure → (row, col) of table 四
    f"{prefix}_{col}" if col != "total" else total: (row, col)
    for row, prefix, total in (("review", "review", "reviews"), ("suit_direct", "suit_direct", "suits_direct"),
                               ("suit_after_review", "suit_after_review", "suits_after_review"))
    for col in ("upheld", "corrected", "other", "total")}
FIGURES = (*T3_FIGURES, *T4_FIGURES, "failing_rules")  # the columns of report_figures after report_id
_BIGINT = 2**63


def _whole(value: float) -> int | None:
    """A value as a whole number (None if it is not one, or too large for BIGINT)."""
    if value != value or abs(value) >= _BIGINT or value != int(value):  # (NaN never equals itself)
        return None
    return int(value)


def figures_of(cells: Iterable[tuple], failing: Iterable[str]) -> dict[str, object]:
    """The figures of one report: ``cells`` as (table, row, col, value, raw, empty, …) tuples (a
    CellValue is one), ``failing``: the rules its checks fail (repeats allowed)."""
    totals: dict[str, list[tuple[float, bool]]] = {}
    others: dict[str, float] = {}
    t4: dict[tuple[str, str], list[int | None]] = {}
    for cell in cells:
        table, row, col, value, _, empty = cell[:6]
        if table == "t3":
            if col == "total":
                totals.setdefault(row, []).append((value, empty))
            else:
                others[row] = others.get(row, 0) + value
        elif table == "t4":
            t4.setdefault((row, col), []).append(_whole(value))
    v: dict[str, int | None] = {}
    for row, found in totals.items():
        if len(found) != 1:
            continue  # a row with no total, or with two, has no figure
        value, empty = found[0]
        v[row] = None if empty and others.get(row, 0) > 0 else _whole(value)
    out: dict[str, object] = {name: v.get(row) for name, row in T3_ROWS.items()}
    for name, (prefix, n) in T3_GROUPS.items():
        known = [x for row, x in v.items() if row.startswith(prefix) and x is not None]
        out[name] = sum(known) if len(known) == n else None
    if v.get("other") is not None:
        out["other_handling"] = v["other"]
    else:
        known = [x for row, x in v.items() if row.startswith("other_") and x is not None]
        out["other_handling"] = sum(known) if len(known) == 3 else None
    for name, key in T4_FIGURES.items():  # of repeated cells the largest whole one, as max() in SQL
        out[name] = max((x for x in t4.get(key, ()) if x is not None), default=None)
    rules = sorted(set(failing))
    out["failing_rules"] = rules or None
    return {name: out[name] for name in FIGURES}
