"""Export the current cells (and reports, agencies, checks, codebook) as Parquet or CSV.

The export is written to a temporary folder next to the target and swapped in at the end,
so readers see the old export or the new one, never half of one.

An export never deletes what it did not write: it replaces only a missing folder, an empty
one, or a previous gongkai export (recognised by its ``MANIFEST.sha256``, every file of the
folder listed in it). Anything else — a folder of other files, the data directory or a folder
holding it, a file, the filesystem root, the home folder, the current folder — is refused
with the path and the reason, and nothing is touched.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import shutil
import uuid
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gongkai import PARSER_VERSION, __version__
from gongkai.flows.warehouse import schema_version
from gongkai.paths import SQL_DIR

log = logging.getLogger(__name__)

_README = Path(__file__).with_name("export_readme.md")
FORMATS = ("parquet", "csv", "xlsx")
EXCEL_ROWS = 1_048_575  # an Excel sheet's rows, less the header
MANIFEST = "MANIFEST.sha256"
MANIFEST_HEADER = "# gongkai export: SHA-256 of every file. The next export replaces this folder; keep your own files elsewhere."
_MANIFEST_LINE = re.compile(r"^[0-9a-f]{64}  (.+)$")


class ExportError(Exception):
    """The export cannot be written; nothing was changed."""


@dataclass
class ExportSummary:
    out: Path
    files: int
    cells: int
    years_written: list[str] = field(default_factory=list)  # years whose cells were written anew
    years_reused: list[str] = field(default_factory=list)  # years whose files were unchanged: kept


EXPORT_INFO = "export.json"
EXPORT_FORMAT_VERSION = 3  # the layout of the export's files (bump when a file or column changes)


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


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def previous_export_files(out: Path) -> set[str] | None:
    """The files a gongkai export at ``out`` wrote (from its manifest), or None if it is not one."""
    try:
        lines = (out / MANIFEST).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    listed: set[str] = set()
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        m = _MANIFEST_LINE.match(line)
        if m is None:
            return None
        listed.add(m.group(1))
    return listed or None


def check_target(out: Path, data_dir: Path | None = None) -> str:
    """Whether ``out`` may receive an export: "missing", "empty" or "export" (a previous one).
    Anything else raises ExportError naming the path and the reason; nothing is touched."""
    if out.is_symlink():
        raise ExportError(f"refusing to export to {out}: it is a symbolic link (give the folder it points to)")
    target = out.resolve()
    home = Path.home().resolve()
    cwd = Path.cwd().resolve()
    if target == Path(target.anchor):
        raise ExportError(f"refusing to export to {target}: it is the filesystem root")
    if target == home:
        raise ExportError(f"refusing to export to {target}: it is your home folder")
    if _within(cwd, target):
        raise ExportError(f"refusing to export to {target}: it is the current folder or holds it; "
                          "give a folder of its own, e.g. --out ./export")
    if data_dir is not None:
        data = data_dir.resolve()
        if _within(data, target):
            raise ExportError(f"refusing to export to {target}: it is the data directory or holds it "
                              f"({data}); give a folder of its own, e.g. --out {data / 'export'}")
        if _within(target, data) and target != data / "export":
            raise ExportError(f"refusing to export to {target}: it is inside the data directory {data}, where "
                              f"only {data / 'export'} is for exports")
    if not target.exists():
        return "missing"
    if not target.is_dir():
        raise ExportError(f"refusing to export to {target}: it exists and is a file, not a folder")
    present = {p.relative_to(target).as_posix() for p in target.rglob("*") if not p.is_dir()}
    if not present and not any(target.iterdir()):
        return "empty"
    listed = previous_export_files(target)
    if listed is None:
        raise ExportError(f"refusing to export to {target}: it is a folder of other files, not a gongkai export "
                          "(no MANIFEST.sha256 of ours); give an empty or new folder")
    extra = sorted(present - listed - {MANIFEST})
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise ExportError(f"refusing to replace the export at {target}: it holds files the export did not write "
                          f"({shown}); move them elsewhere first")
    return "export"


def export(con: duckdb.DuckDBPyConnection, out: Path, fmt: str = "parquet", *,
           data_dir: Path | None = None) -> ExportSummary:
    """Write the export to ``out`` (replacing a previous export there, and nothing else)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    state = check_target(out, data_dir)
    out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out.parent}: {exc.strerror or exc}") from exc
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    summary = ExportSummary(out=out, files=0, cells=0)
    try:
        tmp.mkdir()
        _write(con, tmp, fmt, out if state == "export" else None, summary)
        _swap(tmp, out, state)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"cannot write the export to {out.parent}: {exc.strerror or exc}") from exc
    except duckdb.Error as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"export failed: {exc}") from exc
    except ExportError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.files = sum(1 for p in out.rglob("*") if p.is_file())
    summary.cells = int(con.execute("SELECT count(*) FROM v_cells").fetchall()[0][0])
    return summary


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _write_xlsx(con: duckdb.DuckDBPyConnection, tmp: Path) -> None:
    """One workbook for spreadsheet users: the cells of each year on a sheet of their own, then
    reports, agencies, checks and the codebook."""
    import pandas as pd

    years = [r[0] for r in con.execute(f"SELECT DISTINCT year FROM ({_sql('cells')}) ORDER BY 1").fetchall()]
    with pd.ExcelWriter(tmp / "gongkai.xlsx", engine="openpyxl") as book:
        for year in years:
            frame = con.execute(f"SELECT * FROM ({_sql('cells')}) WHERE year IS NOT DISTINCT FROM ? "
                                "ORDER BY agency, agency_id, table_code, row_code, col_code", [year]).df()
            if len(frame) > EXCEL_ROWS:
                raise ExportError(f"{len(frame):,} cells of {year} do not fit an Excel sheet "
                                  f"({EXCEL_ROWS:,} rows): export as parquet or csv")
            frame.to_excel(book, sheet_name=f"cells_{year}", index=False)
        reports = con.execute(f"SELECT * REPLACE (array_to_string(warnings, ' | ') AS warnings, "
                              f"array_to_string(uncertain, ' ') AS uncertain) FROM ({_sql('reports')})").df()
        for name, frame in (("reports", reports), ("agencies", con.execute(_sql("agencies")).df()),
                            ("checks", con.execute(_sql("checks")).df()),
                            ("cross_year_warnings", con.execute(_sql("cross_year_warnings")).df())):
            if len(frame) > EXCEL_ROWS:
                raise ExportError(f"{len(frame):,} {name} do not fit an Excel sheet: export as parquet or csv")
            frame.to_excel(book, sheet_name=name, index=False)
        codebook = pd.read_csv(SQL_DIR / "codebook.csv", dtype=str, keep_default_na=False)
        codebook.rename(columns={"table": "table_code"}).to_excel(book, sheet_name="codebook", index=False)


def _finish(con: duckdb.DuckDBPyConnection, tmp: Path, fmt: str, schema: int, years: dict[str, str],
            previous: Path | None = None, reused: set[str] | None = None) -> None:
    """The data dictionary, export.json (what made this export: gongkai, parser, schema and export
    versions, the parser versions of the reports in it, and each year's fingerprint for the next
    export to reuse) and the manifest."""
    shutil.copyfile(_README, tmp / "README.md")
    parsers = [v for (v,) in con.execute("SELECT DISTINCT parser_version FROM v_current_report ORDER BY 1").fetchall()]
    info = {"gongkai_version": __version__, "parser_version": PARSER_VERSION, "schema_version": schema,
            "export_format_version": EXPORT_FORMAT_VERSION, "format": fmt,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "report_parser_versions": parsers, "years": years}
    (tmp / EXPORT_INFO).write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _manifest(tmp, previous, reused or set())


def _reusable(previous: Path | None, fmt: str, schema: int) -> dict[str, str]:
    """The previous export's year fingerprints, when it was written the same way."""
    if previous is None:
        return {}
    try:
        info = json.loads((previous / EXPORT_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    same = (info.get("format") == fmt and info.get("gongkai_version") == __version__
            and info.get("export_format_version") == EXPORT_FORMAT_VERSION and info.get("schema_version") == schema)
    years = info.get("years") if same else None
    return {str(k): str(v) for k, v in years.items()} if isinstance(years, dict) else {}


def _manifest(tmp: Path, previous: Path | None, reused: set[str]) -> None:
    """SHA-256 of every file; files kept from the previous export keep their recorded sums."""
    known: dict[str, str] = {}
    if previous is not None and reused:
        for line in (previous / MANIFEST).read_text(encoding="utf-8").splitlines():
            if _MANIFEST_LINE.match(line):
                digest, name = line.split("  ", 1)
                known[name] = digest
    lines = []
    for p in sorted(tmp.rglob("*")):
        if p.is_file():
            name = p.relative_to(tmp).as_posix()
            year = name.split("/")[1].removeprefix("year=") if name.startswith("cells/year=") else None
            digest = known.get(name) if year in reused else None
            lines.append(f"{digest or _sha256(p)}  {name}")
    (tmp / MANIFEST).write_text("\n".join([MANIFEST_HEADER, *lines]) + "\n", encoding="utf-8")


def _keep(src: Path, dst: Path) -> None:
    """A file of the previous export, unchanged: linked (no copy) where the filesystem allows."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _write(con: duckdb.DuckDBPyConnection, tmp: Path, fmt: str, previous: Path | None,
           summary: ExportSummary) -> None:
    """Write every file into ``tmp``; the cells of a year unchanged since the ``previous``
    export (same fingerprint, same gongkai and format) are taken over from it."""
    schema = schema_version(con)
    years = {str(y): str(f) for y, f in con.execute(_sql("year_fingerprints")).fetchall()}
    if fmt == "xlsx":
        _write_xlsx(con, tmp)
        summary.years_written = sorted(years)
        _finish(con, tmp, fmt, schema, years)
        return
    ext = "parquet" if fmt == "parquet" else "csv"
    opts = _copy_options(fmt)
    before = _reusable(previous, fmt, schema)
    reused = {y for y, f in years.items() if y != "NULL" and before.get(y) == f and previous is not None
              and (previous / "cells" / f"year={y}").is_dir()}
    for year in sorted(reused):
        for src in sorted((previous / "cells" / f"year={year}").rglob("*")):  # type: ignore[operator]
            if src.is_file():
                _keep(src, tmp / src.relative_to(previous))  # type: ignore[arg-type]
    changed = sorted(set(years) - reused)
    (tmp / "cells").mkdir(exist_ok=True)
    for year in changed:  # one year at a time: each sort and write holds one year, not the whole warehouse
        folder = tmp / "cells" / f"year={year}"
        folder.mkdir()
        where = "year IS NULL" if year == "NULL" else f"year = {int(year)}"
        con.execute(f"COPY (SELECT * EXCLUDE (year) FROM ({_sql('cells')}) WHERE {where} "
                    f"ORDER BY agency, agency_id, table_code, row_code, col_code) "
                    f"TO {_quote(folder / f'data_0.{ext}')} ({opts})")
    summary.years_written, summary.years_reused = changed, sorted(reused)
    for name in ("reports", "agencies", "checks", "cross_year_warnings"):
        query = _sql(name)
        if fmt == "csv" and name == "reports":  # lists as text in CSV
            query = f"SELECT * REPLACE (array_to_string(warnings, ' | ') AS warnings, " \
                    f"array_to_string(uncertain, ' ') AS uncertain) FROM ({query})"
        con.execute(f"COPY ({query}) TO {_quote(tmp / f'{name}.{ext}')} ({opts})")
    _write_codebook(tmp / "codebook.csv")
    if fmt == "csv":  # Excel reads UTF-8 CSV as the local code page unless it starts with a BOM
        for path in tmp.rglob("*.csv"):
            _add_bom(path)
    _finish(con, tmp, fmt, schema, years, previous, reused)


def _write_codebook(target: Path) -> None:
    """The codebook with the cells' column names (``table_code``, not ``table``)."""
    with (SQL_DIR / "codebook.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = ["table_code" if h == "table" else h for h in rows[0]]
    with target.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows[1:]])


def _add_bom(path: Path) -> None:
    """Prefix a CSV file this export just wrote with the UTF-8 byte order mark."""
    data = path.read_bytes()
    if not data.startswith(b"\xef\xbb\xbf"):
        path.write_bytes(b"\xef\xbb\xbf" + data)


def _swap(tmp: Path, out: Path, state: str) -> None:
    """Put the new export in place: over nothing, an empty folder, or the previous export."""
    if state == "missing" or not out.exists():
        os.replace(tmp, out)
        return
    if state == "empty":
        out.rmdir()  # fails (and nothing is lost) if something appeared in it meanwhile
        os.replace(tmp, out)
        return
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)  # put the previous export back
        raise
    shutil.rmtree(old, ignore_errors=True)  # the previous export: files this exporter wrote
