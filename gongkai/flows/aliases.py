"""Agency aliases: when an agency is renamed, its old name becomes an alias of the new one.

Reports already loaded under the old name move to the new agency; reports loaded later
under the old name resolve to it too.
"""

from __future__ import annotations

import duckdb

from gongkai.transform.agency import normalize_name


class AliasError(ValueError):
    pass


def add_alias(con: duckdb.DuckDBPyConnection, old: str, new: str, note: str = "") -> int:
    """Make ``old`` an alias of the agency named ``new``; returns the reports moved."""
    old_n, new_n = normalize_name(old), normalize_name(new)
    if old_n == new_n:
        raise AliasError("the old and the new name are the same")
    target = con.execute("SELECT agency_id FROM agency WHERE name_norm = ?", [new_n]).fetchall()
    if not target:
        raise AliasError(f"no agency named {new!r} in the warehouse (load one of its reports first)")
    new_id = target[0][0]
    source = con.execute("SELECT agency_id FROM agency WHERE name_norm = ?", [old_n]).fetchall()
    con.execute("BEGIN TRANSACTION")
    try:
        moved = 0
        if source:
            old_id = source[0][0]
            moved = con.execute("SELECT count(*) FROM report WHERE agency_id = ?", [old_id]).fetchall()[0][0]
            con.execute("UPDATE report SET agency_id = ? WHERE agency_id = ?", [new_id, old_id])
            con.execute("UPDATE cell SET agency_id = ? WHERE agency_id = ?", [new_id, old_id])
            con.execute("UPDATE agency_alias SET agency_id = ? WHERE agency_id = ?", [new_id, old_id])
            con.execute("DELETE FROM agency WHERE agency_id = ?", [old_id])
        con.execute("INSERT OR REPLACE INTO agency_alias (alias, agency_id, note) VALUES (?, ?, ?)",
                    [old_n, new_id, note or None])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(moved)
