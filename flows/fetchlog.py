"""The fetch log in the warehouse: every request the crawler made (or refused), written as
the crawl goes, and the validators of earlier fetches for conditional GETs."""

from __future__ import annotations

import time

import duckdb
import pyarrow as pa

from gongkai.extract.http import Fetcher, FetchRecord, Validators
from gongkai.paths import SQL_DIR


def previous_validators(con: duckdb.DuckDBPyConnection) -> dict[str, Validators]:
    rows = con.execute((SQL_DIR / "reports" / "validators.sql").read_text(encoding="utf-8")).fetchall()
    return {url: Validators(etag, modified, sha) for url, etag, modified, sha in rows}


def record_fetches(con: duckdb.DuckDBPyConnection, run_id: str, records: list[FetchRecord]) -> None:
    """Append fetch records to the fetch log (one transaction)."""
    if not records:
        return
    cols = {
        "run_id": [run_id] * len(records),
        "source_name": [r.source_name for r in records],
        "kind": [r.kind for r in records],
        "method": [r.method for r in records],
        "url": [r.url for r in records],
        "final_url": [r.final_url for r in records],
        "status_code": pa.array([r.status_code for r in records], pa.int32()),
        "not_modified": [r.not_modified for r in records],
        "etag": [r.etag for r in records],
        "last_modified": [r.last_modified for r in records],
        "content_type": [r.content_type for r in records],
        "bytes": pa.array([r.bytes for r in records], pa.int64()),
        "wire_bytes": pa.array([r.wire_bytes for r in records], pa.int64()),
        "sha256": [r.sha256 for r in records],
        "attempts": pa.array([r.attempts for r in records], pa.int32()),
        "error": [r.error for r in records],
        "note": pa.array([r.note for r in records], pa.string()),
        "fetched_at": pa.array([r.fetched_at for r in records], pa.timestamp("us")),
        "elapsed_ms": [r.elapsed_ms for r in records],
    }
    table = pa.table({k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in cols.items()})
    con.register("_gk_fetch", table)
    try:
        con.execute("INSERT INTO fetch_log BY NAME SELECT * FROM _gk_fetch")
    finally:
        con.unregister("_gk_fetch")


class FetchLog:
    """Writes fetch records to the warehouse as the crawl goes (in batches), after the archive
    index entries of their bodies: a run killed midway keeps its validators and its record."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str, batch: int = 200, every_s: float = 1.0) -> None:
        self.con, self.run_id, self.batch, self.every_s = con, run_id, batch, every_s
        self.pending: list[FetchRecord] = []
        self.fetcher: Fetcher | None = None
        self.last = time.monotonic()

    def add(self, record: FetchRecord) -> None:
        self.pending.append(record)
        if len(self.pending) >= self.batch or time.monotonic() - self.last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if self.fetcher is not None:
            self.fetcher.flush_index()
        records, self.pending = self.pending, []
        record_fetches(self.con, self.run_id, records)
