"""Agency aliases: when an agency is renamed, its old name becomes an alias of the new one.

Reports already loaded under the old name move to the new agency (and its report keys, so
a year has one current report); reports loaded later under the old name resolve to it too.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import duckdb

from gongkai.flows.identity import merge_agencies
from gongkai.transform.agency import normalize_name


log = logging.getLogger(__name__)


class AliasError(ValueError):
    pass


def _one_agency(con: duckdb.DuckDBPyConnection, name: str) -> int | None:
    """The agency printed with this name; an error when namesakes (two districts' 区科工信局)
    make it ambiguous."""
    ids = [i for (i,) in con.execute("SELECT agency_id FROM agency WHERE name_norm = ? ORDER BY agency_id",
                                     [normalize_name(name)]).fetchall()]
    if len(ids) > 1:
        rows = con.execute("SELECT agency_id, coalesce(county, city, province, '?') FROM agency "
                           "WHERE agency_id IN (SELECT unnest(?)) ORDER BY agency_id", [ids]).fetchall()
        raise AliasError(f"{len(ids)} agencies are named {name!r} (" + ", ".join(f"id {i} in {p}" for i, p in rows)
                         + "): an alias between namesakes would merge different agencies")
    return ids[0] if ids else None


def add_alias(con: duckdb.DuckDBPyConnection, old: str, new: str, note: str = "") -> int:
    """Make ``old`` an alias of the agency named ``new``; returns the reports moved. The moved
    reports become the new agency's (one current version per year: ok beats partial, then the
    latest loaded)."""
    old_n, new_n = normalize_name(old), normalize_name(new)
    if old_n == new_n:
        raise AliasError("the old and the new name are the same")
    new_id = _one_agency(con, new)
    if new_id is None:
        raise AliasError(f"no agency named {new!r} in the warehouse (load one of its reports first)")
    old_id = _one_agency(con, old)
    con.execute("BEGIN TRANSACTION")
    try:
        moved = 0
        if old_id is not None and old_id != new_id:
            moved = con.execute("SELECT count(*) FROM report WHERE agency_id = ?", [old_id]).fetchall()[0][0]
            merge_agencies(con, new_id, [old_id])
        con.execute("INSERT OR REPLACE INTO agency_alias (alias, agency_id, note) VALUES (?, ?, ?)",
                    [old_n, new_id, note or None])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(moved)


ALIAS_JOURNAL = "aliases.jsonl"


def record_alias(data_dir: Path, old: str, new: str, note: str = "") -> None:
    """Keep the alias in the data directory's journal too, so a rebuilt warehouse gets it back."""
    line = json.dumps({"old": old, "new": new, "note": note}, ensure_ascii=False) + "\n"
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ALIAS_JOURNAL, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def replay_aliases(con: duckdb.DuckDBPyConnection, data_dir: Path) -> int:
    """Apply the journal's aliases (after a rebuild); returns how many applied."""
    path = data_dir / ALIAS_JOURNAL
    if not path.exists():
        return 0
    applied = 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            entry = json.loads(line)
            add_alias(con, entry["old"], entry["new"], entry.get("note", ""))
            applied += 1
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s line %d not applied: %s", path, n, exc)
    return applied
