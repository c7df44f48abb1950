"""Running an analyst's SQL: the warehouse is read, and nothing else is read or written.

The connection is read-only, with DuckDB's external access disabled (no files, no network: no
``COPY … TO``, ``ATTACH``, ``read_csv('/etc/passwd')``, ``INSTALL``) and its configuration
locked (no ``SET`` can undo that); extensions are never installed or loaded. One statement per
call, and only one that reads: ``SELECT`` (with ``WITH``, ``FROM``-first, ``DESCRIBE``, ``SHOW``,
``SUMMARIZE``) or ``EXPLAIN``.

>>> import tempfile, pathlib
>>> from gongkai.flows.warehouse import open_warehouse, warehouse_path
>>> d = pathlib.Path(tempfile.mkdtemp()); open_warehouse(warehouse_path(d)).close()
>>> with reader(d) as con:
...     run_query(con, "SELECT 1 AS one").rows
[(1,)]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gongkai.flows.integrity import WarehouseDamaged, is_damage
from gongkai.flows.warehouse import open_warehouse, warehouse_path

SAFE_CONFIG: dict[str, object] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "lock_configuration": True,
}
_ALLOWED = {duckdb.StatementType.SELECT: "SELECT", duckdb.StatementType.EXPLAIN: "EXPLAIN"}


class QueryRefused(ValueError):
    """The SQL is empty, holds several statements, is not a read, or fails; the message says which."""


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: Sequence[tuple[object, ...]]


@contextmanager
def reader(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, sealed connection to the warehouse of ``data_dir``."""
    con = open_warehouse(warehouse_path(data_dir), read_only=True, config=SAFE_CONFIG)
    try:
        yield con
    finally:
        con.close()


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise QueryRefused unless ``sql`` is exactly one reading statement."""
    if not sql.strip():
        raise QueryRefused("the query is empty: give one SELECT statement")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"the query does not parse: {str(exc).splitlines()[0]}") from exc
    if not statements:
        raise QueryRefused("the query holds no statement (only comments?): give one SELECT statement")
    if len(statements) > 1:
        raise QueryRefused(f"the query holds {len(statements)} statements: give one per call")
    kind = statements[0].type
    if kind not in _ALLOWED:
        name = getattr(kind, "name", str(kind))
        raise QueryRefused(f"only reading statements are run (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN), not {name}: "
                           "the warehouse is changed only by gongkai's own commands")


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None) -> QueryResult:
    """Run one reading statement; DuckDB's refusals (files, network) come back as QueryRefused."""
    check_statement(con, sql)
    try:
        cur = con.execute(sql, params or [])
        rows = cur.fetchall()
    except duckdb.PermissionException as exc:
        raise QueryRefused(f"refused: {str(exc).splitlines()[0]} (queries read the warehouse only)") from exc
    except duckdb.Error as exc:
        if is_damage(exc):
            raise WarehouseDamaged(Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                                                    "current_database()").fetchone()[0]),  # type: ignore[index]
                                   str(exc).splitlines()[0]) from exc
        raise QueryRefused(f"the query failed: {' '.join(str(exc).split())}") from exc
    description = cur.description or []
    return QueryResult([d[0] for d in description], [str(d[1]) for d in description], rows)
