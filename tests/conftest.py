from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.transform.models import ParseResult
from gongkai.transform.parse import parse_report

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"


def cells_of(result: ParseResult) -> dict[tuple[str, str, str], float]:
    return {(c.table, c.row, c.col): c.value for c in result.cells}


@pytest.fixture
def parse():
    def _parse(data: bytes | str, source: str = "report.html") -> ParseResult:
        if isinstance(data, str):
            data = data.encode("utf-8")
        return parse_report(data, source)

    return _parse
