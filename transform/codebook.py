"""The canonical codebook (sql/codebook.csv) as typed data.

The CSV is the single source of truth for table/row/column codes of both layouts.

>>> cb = load_codebook()
>>> cb.valid("2021", "t2", "fees", "amount")
True
>>> cb.valid("2019", "t2", "fees", "amount")
False
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from gongkai.paths import SQL_DIR

LAYOUTS = ("2019", "2021")
TABLES = ("t2", "t3", "t4")


@dataclass(frozen=True)
class Code:
    table: str
    axis: str  # "row" or "col"
    code: str
    layouts: tuple[str, ...]
    label_zh: str
    label_en: str
    unit: str
    note: str


# Which columns each table-二 row carries, per layout, in the order of the standard templates
# (国办公开办函〔2019〕60号 and 〔2021〕30号).
T2_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "2021": {
        "rules": ("issued", "repealed", "in_force"),
        "normative": ("issued", "repealed", "in_force"),
        "licensing": ("decisions",),
        "penalty": ("decisions",),
        "coercion": ("decisions",),
        "fees": ("amount",),
    },
    "2019": {
        "rules": ("made", "published", "public_total"),
        "normative": ("made", "published", "public_total"),
        "licensing": ("prev_items", "change", "decisions"),
        "other_services": ("prev_items", "change", "decisions"),
        "penalty": ("prev_items", "change", "decisions"),
        "coercion": ("prev_items", "change", "decisions"),
        "fees": ("prev_items", "change"),
        "procurement": ("projects", "procurement_amount"),
    },
}

T3_COLUMNS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")
T3_APPLICANT_COLUMNS = T3_COLUMNS[:-1]
T3_ROWS_COMMON_HEAD = (
    "new_received", "carried_over", "granted", "partly_granted",
    "denied_secret", "denied_law", "denied_security", "denied_third_party",
    "denied_internal", "denied_process", "denied_enforcement", "denied_query",
    "unable_not_held", "unable_create", "unable_unclear",
    "rejected_petition", "rejected_repeat", "rejected_publication", "rejected_mass", "rejected_confirm",
)
T3_ROWS: dict[str, tuple[str, ...]] = {
    "2019": T3_ROWS_COMMON_HEAD + ("other", "results_total", "carried_forward"),
    "2021": T3_ROWS_COMMON_HEAD + ("other_no_correction", "other_no_fee", "other_misc",
                                   "results_total", "carried_forward"),
}
T3_RESULT_ROWS: dict[str, tuple[str, ...]] = {
    layout: tuple(r for r in rows if r not in ("new_received", "carried_over", "results_total", "carried_forward"))
    for layout, rows in T3_ROWS.items()
}


def t3_rows(layout: str, one_other: bool = False) -> tuple[str, ...]:
    """Table 三's rows; ``one_other``: a 2021-layout report printing （六）其他处理 as one row
    (without its three sub-rows), coded ``other`` as in 2019 (codebook.csv allows it)."""
    return T3_ROWS["2019"] if layout == "2021" and one_other else T3_ROWS[layout]


def t3_result_rows(layout: str, one_other: bool = False) -> tuple[str, ...]:
    return T3_RESULT_ROWS["2019"] if layout == "2021" and one_other else T3_RESULT_ROWS[layout]


def has_one_other(cells: Iterable[tuple[str, str]], layout: str | None) -> bool:
    """Whether the (table, row) pairs of a 2021-layout report hold the one-row t3.other."""
    return layout == "2021" and any(t == "t3" and r == "other" for t, r in cells)
T4_ROWS = ("review", "suit_direct", "suit_after_review")
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
AMOUNT_COLUMNS = frozenset({"amount", "procurement_amount"})


@dataclass(frozen=True)
class Codebook:
    codes: tuple[Code, ...]

    def label(self, table: str, axis: str, code: str) -> str:
        for c in self.codes:
            if c.table == table and c.axis == axis and c.code == code:
                return c.label_zh
        raise KeyError(f"no {axis} code {code!r} in table {table}")

    def has(self, table: str, axis: str, code: str, layout: str) -> bool:
        return any(
            c.table == table and c.axis == axis and c.code == code and layout in c.layouts for c in self.codes
        )

    def valid(self, layout: str, table: str, row: str, col: str) -> bool:
        """Whether (table, row, col) is a cell of the given layout."""
        if table == "t2":
            return col in T2_COLUMNS.get(layout, {}).get(row, ())
        if table == "t3":
            return (row in T3_ROWS.get(layout, ()) or (layout == "2021" and row == "other")) and col in T3_COLUMNS
        if table == "t4":
            return row in T4_ROWS and col in T4_COLUMNS
        return False

    def cells(self, layout: str, one_other: bool = False) -> list[tuple[str, str, str]]:
        """Every valid (table, row, col) of a layout, in printed order (``one_other``: see t3_rows)."""
        out: list[tuple[str, str, str]] = []
        for row, cols in T2_COLUMNS[layout].items():
            out.extend(("t2", row, c) for c in cols)
        for row in t3_rows(layout, one_other):
            out.extend(("t3", row, c) for c in T3_COLUMNS)
        for row in T4_ROWS:
            out.extend(("t4", row, c) for c in T4_COLUMNS)
        return out


@lru_cache(maxsize=1)
def load_codebook() -> Codebook:
    """Read sql/codebook.csv and check it agrees with the layout tables above."""
    path = SQL_DIR / "codebook.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        codes = tuple(
            Code(
                table=r["table"], axis=r["axis"], code=r["code"],
                layouts=tuple(r["layouts"].split("|")), label_zh=r["label_zh"], label_en=r["label_en"],
                unit=r["unit"], note=r["note"],
            )
            for r in csv.DictReader(fh)
        )
    cb = Codebook(codes)
    for layout in LAYOUTS:
        for table, row, col in cb.cells(layout):
            if not (cb.has(table, "row", row, layout) and cb.has(table, "col", col, layout)):
                raise ValueError(f"codebook.csv lacks {table}.{row}.{col} for layout {layout}")
    return cb
