"""Typed results of parsing one report (the JSON contract of ``gongkai parse``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from gongkai.transform.document import Origin


STATUS_RANK = {"ok": 2, "partial": 1, "failed": 0}  # which of two readings of a report is better


class CellValue(NamedTuple):
    """One printed cell with its canonical codes (a tuple: the loader transposes many at once)."""

    table: str
    row: str
    col: str
    value: int | float
    raw: str
    empty: bool
    origin: Origin | None = None
    glued_run: str | None = None  # the digit run this value was split from, as printed

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "table": self.table, "row": self.row, "col": self.col,
            "value": self.value, "raw": self.raw, "empty": self.empty,
        }
        if self.origin is not None:
            d["source_pos"] = self.origin.as_dict()
        if self.glued_run is not None:
            d["glued_run"] = self.glued_run
        return d


class Check(NamedTuple):
    """The outcome of one rule at one place (a column or row)."""

    rule: str
    where: str
    status: str  # pass | fail | skip
    expected: int | float | None = None
    actual: int | float | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"rule": self.rule, "where": self.where, "status": self.status}
        if self.status == "fail":
            d["expected"] = self.expected
            d["actual"] = self.actual
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass
class ParseResult:
    source: str
    agency: str | None = None
    year: int | None = None
    layout: str | None = None
    title: str | None = None
    publication_date: str | None = None
    status: str = "failed"
    cells: list[CellValue] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)  # "t3.granted.total": cells left out as ambiguous
    form: str | None = None
    encoding: str | None = None
    sha256: str | None = None  # of the bytes read
    output_sha256: str | None = None  # of what the parser made of them (set by the loader if missing)
    parser_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "agency": self.agency, "year": self.year, "layout": self.layout,
            "title": self.title, "status": self.status,
            "cells": [c.as_dict() | {"ocr": True} for c in self.cells] if self.form == "scan"
            else [c.as_dict() for c in self.cells],
            "checks": [c.as_dict() for c in self.checks],
            "warnings": list(self.warnings),
            "uncertain": list(self.uncertain),
            "publication_date": self.publication_date, "form": self.form, "encoding": self.encoding,
            "sha256": self.sha256, "output_sha256": self.output_sha256, "parser_version": self.parser_version,
        }

    def failing_rules(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]


_CELL_FIELDS = attrgetter("table", "row", "col", "value", "empty", "raw")
_CHECK_FIELDS = attrgetter("rule", "where", "status")


def output_sha256(result: ParseResult) -> str:
    """A fingerprint of what the parser made of a report: a new parser that reads the same
    bytes differently gives a different fingerprint (and the warehouse a new version)."""
    payload = (
        result.agency, result.year, result.layout, result.title, result.status,
        tuple(result.uncertain), tuple(result.warnings),
        tuple(map(_CELL_FIELDS, result.cells)), tuple(map(_CHECK_FIELDS, result.checks)),
    )
    return hashlib.sha256(repr(payload).encode()).hexdigest()
