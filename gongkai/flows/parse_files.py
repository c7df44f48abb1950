"""Parse local files (the work behind ``gongkai parse``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gongkai.transform.models import ParseResult
from gongkai.transform.parse import parse_report


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for every file below it (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()))
        else:
            out.append(p)
    return out


def parse_path(path: Path) -> ParseResult:
    """Parse one file; an unreadable file gives a failed result, never an exception."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        result = ParseResult(source=str(path))
        result.warnings.append(f"cannot read file: {exc.strerror or exc}")
        return result
    return parse_report(data, str(path))
