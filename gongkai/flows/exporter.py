"""Export the current cells (and reports, agencies, checks, codebook) as Parquet or CSV.

The export is written to a temporary folder next to the target and swapped in at the end,
so readers see the old export or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gongkai.paths import SQL_DIR

log = logging.getLogger(__name__)

_README = Path(__file__).with_name("export_readme.md")
FORMATS = ("parquet", "csv")


class ExportError(Exception):
    """The export cannot be written; nothing was changed."""


@dataclass
class ExportSummary:
    out: Path
    files: int
    cells: int


def _sql(name: str) -> str:
    return (SQL_DIR / "export" / f"{name}.sql").read_text(encoding="utf-8").strip().rstrip(";")


def _copy_options(fmt: str) -> str:
    return "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export(con: duckdb.DuckDBPyConnection, out: Path, fmt: str = "parquet") -> ExportSummary:
    """Write the export to ``out`` (replacing a previous export there)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is a file, not a folder: choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out.parent}: {exc.strerror or exc}") from exc
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        _write(con, tmp, fmt)
        _swap(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"cannot write the export to {out.parent}: {exc.strerror or exc}") from exc
    except duckdb.Error as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"export failed: {exc}") from exc
    files = sum(1 for p in out.rglob("*") if p.is_file())
    cells = con.execute("SELECT count(*) FROM v_cells").fetchall()[0][0]
    return ExportSummary(out=out, files=files, cells=int(cells))


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _write(con: duckdb.DuckDBPyConnection, tmp: Path, fmt: str) -> None:
    ext = "parquet" if fmt == "parquet" else "csv"
    opts = _copy_options(fmt)
    con.execute(f"COPY ({_sql('cells')}) TO {_quote(tmp / 'cells')} ({opts}, PARTITION_BY (year))")
    for name in ("reports", "agencies", "checks"):
        query = _sql(name)
        if fmt == "csv" and name == "reports":  # lists as text in CSV
            query = f"SELECT * REPLACE (array_to_string(warnings, ' | ') AS warnings, " \
                    f"array_to_string(uncertain, ' ') AS uncertain) FROM ({query})"
        con.execute(f"COPY ({query}) TO {_quote(tmp / f'{name}.{ext}')} ({opts})")
    shutil.copyfile(SQL_DIR / "codebook.csv", tmp / "codebook.csv")
    shutil.copyfile(_README, tmp / "README.md")
    lines = [f"{_sha256(p)}  {p.relative_to(tmp).as_posix()}" for p in sorted(tmp.rglob("*")) if p.is_file()]
    (tmp / "MANIFEST.sha256").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _swap(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)  # put the previous export back
        raise
    shutil.rmtree(old, ignore_errors=True)
