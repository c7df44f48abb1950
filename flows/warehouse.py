"""The DuckDB warehouse: opening, migrating, views and checks (the SQL lives in sql/).

One writing process per file (DuckDB's rule); readers open ``read_only=True``.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     con = open_warehouse(pathlib.Path(d) / "w.duckdb")
...     schema_version(con) == latest_version()
True
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from gongkai.flows.integrity import (
    OFFLINE_CONFIG,
    WarehouseDamaged,
    WarehouseError,
    check_file,
    is_damage,
    mark_verified,
    scan_blocks,
)
from gongkai.flows.figures import FIGURES_VERSION, fill_figures
from gongkai.flows.identity import backfill_identities, settle
from gongkai.paths import SQL_DIR

log = logging.getLogger(__name__)

WAREHOUSE_FILE = "warehouse.duckdb"
MEMORY_LIMIT = "4GB"  # DuckDB's memory per connection (it spills beyond): a national export stays within it
SPILL_DIR = ".duckdb-spill"  # in the data directory; DuckDB removes its files when done
IDENTITY_VERSION = 4  # the migration that moved report keys from names to agency ids
_MIGRATION_RE = re.compile(r"^(\d{3})_[\w-]+\.sql$")


__all__ = ["WarehouseDamaged", "WarehouseError", "open_warehouse", "warehouse", "warehouse_path"]


def warehouse_path(data_dir: Path) -> Path:
    return data_dir / WAREHOUSE_FILE


def migrations() -> list[tuple[int, Path]]:
    found = []
    for p in sorted((SQL_DIR / "migrations").glob("*.sql")):
        m = _MIGRATION_RE.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return found


def latest_version() -> int:
    return max(v for v, _ in migrations())


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()
    return {r[0] for r in rows}


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
    return int(rows[0][0]) if rows else 0


def _connect(path: Path, read_only: bool, config: dict[str, object] | None = None) -> duckdb.DuckDBPyConnection:
    if path.exists() and path.is_dir():
        raise WarehouseError(f"{path} is a directory, not a warehouse file")
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}: load reports first (gongkai load … or gongkai crawl)")
    if path.exists() and path.stat().st_size > 0:
        check_file(path)  # a file cut short is never opened, let alone written
    if not read_only:
        parent = path.parent
        if parent.exists() and not parent.is_dir():
            raise WarehouseError(f"cannot create the warehouse: {parent} is a file, not a directory")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create the data directory {parent}: {exc.strerror or exc}") from exc
    try:
        # a bounded footprint whatever the warehouse's size: big sorts and aggregates spill to disk
        settings = {**OFFLINE_CONFIG, "memory_limit": MEMORY_LIMIT, **(config or {})}
        if settings.get("enable_external_access", True):  # (a sealed connection keeps DuckDB's own)
            settings["temp_directory"] = str(path.parent / SPILL_DIR)
        lock = bool(settings.pop("lock_configuration", False))  # locked once the connection is set up
        con = duckdb.connect(str(path), read_only=read_only, config=settings)
        con.execute("SET enable_progress_bar = false")  # a bar of a long query would print into the output
        if lock:
            con.execute("SET lock_configuration = true")
        return con
    except duckdb.Error as exc:
        text = str(exc)
        if is_damage(exc) and "not a valid DuckDB database file" not in text:
            raise WarehouseDamaged(path, text.splitlines()[0]) from exc
        if "not a valid DuckDB database file" in text or "Unsupported" in text or "corrupt" in text.lower():
            raise WarehouseError(f"{path} is not a DuckDB warehouse file (or it is damaged): {text}") from exc
        if "Permission denied" in text or "Read-only file system" in text:
            raise WarehouseError(f"cannot write the warehouse at {path}: permission denied") from exc
        if "lock" in text.lower() and "configuration" not in text.lower():
            raise WarehouseError(f"{path} is in use by another writing process (DuckDB allows one): {text}") from exc
        raise WarehouseError(f"cannot open the warehouse {path}: {text}") from exc


def open_warehouse(path: Path, *, read_only: bool = False,
                   config: dict[str, object] | None = None) -> duckdb.DuckDBPyConnection:
    """Open (and create or upgrade, unless read-only) the warehouse at ``path``. A writer first
    reads every block (see flows/integrity.py): a damaged file raises WarehouseDamaged and is
    left as it is."""
    con = _connect(path, read_only, config)
    try:
        if read_only:
            _require_schema(con, path)
        else:
            scan_blocks(con, path)
            migrate(con, path)
    except duckdb.Error as exc:
        con.close()
        if is_damage(exc):
            raise WarehouseDamaged(path, str(exc).splitlines()[0]) from exc
        raise WarehouseError(f"cannot use the warehouse {path}: {exc}") from exc
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def warehouse(data_dir: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse of a data directory, closed afterwards; DuckDB errors that mean the file is
    damaged become WarehouseDamaged. A writer that finished cleanly marks the file as whole."""
    path = warehouse_path(data_dir)
    con = open_warehouse(path, read_only=read_only)
    ok = False
    try:
        yield con
        ok = True
    except duckdb.Error as exc:
        if is_damage(exc):
            raise WarehouseDamaged(path, str(exc).splitlines()[0]) from exc
        raise
    finally:
        con.close()
        if ok and not read_only:
            mark_verified(path)


def _require_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    if "schema_version" not in _tables(con):
        raise WarehouseError(f"{path} is a DuckDB file but not a gongkai warehouse (no schema_version table)")
    version = schema_version(con)
    if version != latest_version():
        raise WarehouseError(
            f"{path} has schema version {version}, this gongkai expects {latest_version()}: "
            "open it once for writing (e.g. gongkai load) to upgrade it" if version < latest_version()
            else f"{path} was written by a newer gongkai (schema {version} > {latest_version()}): upgrade gongkai"
        )


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply missing migrations, then (re)create the views and reload the codebook."""
    tables = _tables(con)
    if tables and "schema_version" not in tables:
        raise WarehouseError(
            f"{path} is a DuckDB file with other tables ({', '.join(sorted(tables)[:5])}) but not a gongkai "
            "warehouse: refusing to touch it; choose another --data-dir"
        )
    con.execute((SQL_DIR / "schema_version.sql").read_text(encoding="utf-8"))
    current = schema_version(con)
    if current > latest_version():
        raise WarehouseError(f"{path} was written by a newer gongkai (schema {current} > {latest_version()})")
    for version, file in migrations():
        if version <= current:
            continue
        log.info("applying migration %s", file.name)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(file.read_text(encoding="utf-8"))
            if version == IDENTITY_VERSION:
                settle(con)  # keys moved from names to agency ids: one current version per report
            if version == FIGURES_VERSION:
                fill_figures(con, 0, con.execute("SELECT coalesce(max(report_id), 0) FROM report").fetchone()[0])
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, file.stem])
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise WarehouseError(f"migration {file.name} failed on {path}: {exc}") from exc
    con.execute("BEGIN TRANSACTION")
    merged = backfill_identities(con)
    if merged:
        log.warning("%d agencies of %s turned out to be others (same place and name): merged, their names "
                    "kept as aliases", merged, path)
    con.execute("DELETE FROM codebook")
    con.execute(
        "INSERT INTO codebook SELECT \"table\", axis, code, layouts, label_zh, label_en, unit, note "
        "FROM read_csv(?, header = true, all_varchar = true)",
        [str(SQL_DIR / "codebook.csv")],
    )
    con.execute((SQL_DIR / "views.sql").read_text(encoding="utf-8"))
    con.execute("COMMIT")


def check_files() -> list[Path]:
    return sorted((SQL_DIR / "checks").glob("*.sql"))


def run_checks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run every check in sql/checks/; each returns the number of offending rows (0 is good)."""
    out = {}
    for file in check_files():
        rows = con.execute(file.read_text(encoding="utf-8")).fetchall()
        out[file.stem] = len(rows)
    return out
