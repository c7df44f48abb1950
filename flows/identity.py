"""Who a report belongs to: agency identities, report keys, and the one current version per report.

An agency is its identity (``transform.agency.agency_identity``: region code and the name
without its leading places); a report is (agency id, year), stored as the report key
``agency:<id>|<year>``. Reports that failed to parse are keyed by their source
(``failed:<source>``), reports without agency or year by theirs (``source:<source>``).

Among the versions of a report exactly one is current, chosen by a stated rule: ok beats
partial beats failed; among equals the latest loaded. ``settle`` applies that rule in SQL after
reports move between keys (aliases, merged agencies, an upgrade of an old warehouse).
"""

from __future__ import annotations

import logging

import duckdb
import pyarrow as pa

from gongkai.transform.agency import Region, agency_identity

log = logging.getLogger(__name__)


def agency_key(agency_id: int, year: int) -> str:
    return f"agency:{agency_id}|{year}"


_RANK = "CASE status WHEN 'ok' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END"


def rekey(con: duckdb.DuckDBPyConnection, agency_ids: list[int]) -> None:
    """Give the reports of these agencies their (agency, year) keys again and settle them."""
    if not agency_ids:
        return
    con.execute(
        "UPDATE report SET report_key = 'agency:' || agency_id || '|' || year "
        "WHERE agency_id IN (SELECT unnest(?)) AND year IS NOT NULL AND NOT starts_with(report_key, 'failed:')",
        [agency_ids],
    )
    keys = [k for (k,) in con.execute(
        "SELECT DISTINCT report_key FROM report WHERE agency_id IN (SELECT unnest(?))", [agency_ids]).fetchall()]
    settle(con, keys)


def settle(con: duckdb.DuckDBPyConnection, keys: list[str] | None = None) -> None:
    """Renumber the versions of each report key by load order and leave one current per key
    (ok > partial > failed, then the one current before, then the latest loaded) — none for a
    key that had none (its content is current under another key). ``keys``: only those (None:
    every key)."""
    where = "" if keys is None else "WHERE report_key IN (SELECT unnest($keys))"
    params = {} if keys is None else {"keys": keys}
    if keys is not None and not keys:
        return
    con.execute(
        f"""
        UPDATE report SET version = n.v, is_current = n.rk = 1 AND n.any_current
        FROM (
            SELECT report_id,
                   row_number() OVER (PARTITION BY report_key ORDER BY loaded_at, version, report_id) AS v,
                   row_number() OVER (PARTITION BY report_key
                                      ORDER BY {_RANK} DESC, is_current DESC, loaded_at DESC, report_id DESC) AS rk,
                   bool_or(is_current) OVER (PARTITION BY report_key) AS any_current
            FROM report {where}
        ) n
        WHERE report.report_id = n.report_id
        """,
        params,
    )


def backfill_identities(con: duckdb.DuckDBPyConnection) -> int:
    """Fill the identity of agencies stored without one (a warehouse from before identities)
    from their stored region, and merge the agencies that turn out to be one (the same place and
    core name: 上街区… and 郑州市上街区…). Returns the agencies merged away."""
    rows = con.execute(
        "SELECT agency_id, name, province, city, county, province_code, city_code, county_code "
        "FROM agency WHERE identity IS NULL").fetchall()
    if not rows:
        return 0
    filled = pa.table({
        "agency_id": pa.array([r[0] for r in rows], pa.int32()),
        "identity": pa.array([agency_identity(name, Region(province=prov, city=city, county=county, province_code=pc,
                                                           city_code=cc, county_code=kc))
                              for _, name, prov, city, county, pc, cc, kc in rows], pa.string()),
    })
    con.register("_gk_identity", filled)
    try:  # one statement for every agency (a national warehouse has tens of thousands)
        con.execute("UPDATE agency SET identity = f.identity FROM _gk_identity f WHERE agency.agency_id = f.agency_id")
    finally:
        con.unregister("_gk_identity")
    groups = con.execute(
        "SELECT identity, list(agency_id ORDER BY agency_id) FROM agency GROUP BY identity HAVING count(*) > 1"
    ).fetchall()
    merged = 0
    for identity, ids in groups:
        keep, others = ids[0], ids[1:]
        merge_agencies(con, keep, others)
        merged += len(others)
        log.info("agencies %s are one (%s): merged into %s", others, identity, keep)
    return merged


def merge_agencies(con: duckdb.DuckDBPyConnection, keep: int, others: list[int]) -> None:
    """Move the reports, cells and aliases of ``others`` to ``keep``; their names become aliases
    of it; then re-key and settle the moved reports."""
    if not others:
        return
    con.execute(
        "INSERT OR REPLACE INTO agency_alias (alias, agency_id, note) "
        "SELECT name_norm, ?, 'merged: same identity' FROM agency "
        "WHERE agency_id IN (SELECT unnest(?)) AND name_norm <> (SELECT name_norm FROM agency WHERE agency_id = ?)",
        [keep, others, keep],
    )
    for table in ("report", "cell", "agency_alias"):
        con.execute(f"UPDATE {table} SET agency_id = ? WHERE agency_id IN (SELECT unnest(?))", [keep, others])
    con.execute("DELETE FROM agency WHERE agency_id IN (SELECT unnest(?))", [others])
    rekey(con, [keep])
