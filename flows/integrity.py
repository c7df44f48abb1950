"""Is the warehouse file whole? Checked before it is opened, so a damaged file is never written.

Two checks:

- :func:`check_file` (every open, microseconds): the file's headers are DuckDB's and the file
  is as long as its active header says (a copy cut short mid-file fails this), unless what is
  missing are free blocks a checkpoint cut off the end (the tables' blocks all lie within);
- :func:`scan_blocks` (before writing): every column of every table is read, so DuckDB
  verifies the checksum of every data block. The result is remembered in a stamp beside the
  file (size and modification time): a file that has not changed since it was last found
  whole is not scanned again.

A damaged warehouse raises :class:`WarehouseDamaged`, whose message says how to recover:
``gongkai reparse --rebuild`` builds a fresh warehouse from the raw archive and keeps the
damaged file aside.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

_HEADER = 4096  # DuckDB: a main header, then two database headers, then the blocks
_BLOCKS_START = 3 * _HEADER
_MAGIC = b"DUCK"
STAMP_SUFFIX = ".verified"
OFFLINE_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}  # no downloads


class WarehouseError(Exception):
    """The warehouse cannot be opened or used; the message says why and what to do."""


class WarehouseDamaged(WarehouseError):
    """The warehouse file is damaged: nothing is written to it."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        data_dir = path.parent
        super().__init__(
            f"the warehouse {path} is damaged ({reason}); nothing was written to it. Rebuild it from the raw "
            f"archive with: gongkai reparse --rebuild --data-dir {data_dir} (the damaged file is kept beside it)")


def active_header(head: bytes) -> tuple[int, int, int]:
    """(iteration, block count, block size) of the newer of a DuckDB file's two database headers
    (``head``: the file's first 12 kB); the file should be 12 kB + count × size long."""
    headers = [struct.unpack_from("<8Q", head, offset) for offset in (_HEADER, 2 * _HEADER)]
    _, iteration, _, _, block_count, block_size, _, _ = max(headers, key=lambda h: h[1])
    return iteration, block_count, block_size


def check_file(path: Path) -> None:
    """Raise WarehouseDamaged when the file is not a whole DuckDB database (cheap: reads 12 kB)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(_BLOCKS_START)
    except OSError as exc:
        raise WarehouseError(f"cannot read the warehouse {path}: {exc.strerror or exc}") from exc
    if len(head) < _BLOCKS_START or head[8:12] != _MAGIC:
        if head[8:12] != _MAGIC and len(head) >= 12:
            raise WarehouseError(f"{path} is not a DuckDB warehouse file (no DuckDB header)")
        raise WarehouseDamaged(path, f"the file is cut short: {size} bytes, not even its headers")
    iteration, block_count, block_size = active_header(head)
    if not iteration:
        return  # a new database: nothing written yet
    if not 4096 <= block_size <= 1 << 30:
        raise WarehouseDamaged(path, f"its header is corrupt (block size {block_size})")
    expected = _BLOCKS_START + block_count * block_size
    if size < expected and not _only_free_blocks_missing(path, (size - _BLOCKS_START) // block_size):
        raise WarehouseDamaged(path, f"the file is cut short: {size:,} bytes of the {expected:,} its header "
                                     "announces")


def _only_free_blocks_missing(path: Path, blocks: int) -> bool:
    """Whether a file shorter than its header says is one DuckDB left so: a checkpoint cuts the
    free blocks off the end of the file while the header still counts them. It is, when the
    database opens and no table keeps data in a block past the end (a copy cut short loses
    blocks in use: its catalog fails to load, or a table points past the end). A file as
    gongkai last left it (its stamp) is not opened again to see."""
    if is_verified(path):
        return True
    try:
        con = duckdb.connect(str(path), read_only=True, config=dict(OFFLINE_CONFIG))
    except duckdb.Error as exc:  # a lock held by a writer is not damage (opening it will say so)
        return not (is_damage(exc) or "Could not read" in str(exc) or "IO Error" in str(exc))
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'").fetchall()]
        top = max((con.execute(f"SELECT coalesce(max(block_id), -1) FROM pragma_storage_info('{t}')").fetchone()[0]
                   for t in tables), default=-1)
    except duckdb.Error:
        return False
    finally:
        con.close()
    return top < blocks


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + STAMP_SUFFIX)


def is_verified(path: Path) -> bool:
    try:
        return json.loads(_stamp_path(path).read_text(encoding="utf-8")) == _stamp(path)
    except (OSError, ValueError):
        return False


def mark_verified(path: Path) -> None:
    """Remember that the file, as it is now, is whole (after a scan, or after our own writes)."""
    try:
        _stamp_path(path).write_text(json.dumps(_stamp(path)), encoding="utf-8")
    except OSError as exc:
        log.debug("cannot write %s: %s", _stamp_path(path), exc)


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error means the file itself is damaged."""
    text = str(exc)
    return isinstance(exc, duckdb.Error) and any(k in text for k in (
        "Corrupt database file", "checksum", "Could not read enough bytes", "could not read all bytes",
        "not a valid DuckDB database file", "Failed to load metadata"))


def scan_blocks(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read every column of every table (DuckDB checks each block's checksum as it reads it)."""
    if is_verified(path):
        return
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' ORDER BY ALL").fetchall()]
    try:
        for table in tables:
            con.execute(f'SELECT bit_xor(hash(COLUMNS(*))) FROM "{table}"').fetchall()
    except duckdb.Error as exc:
        if is_damage(exc):
            raise WarehouseDamaged(path, str(exc).splitlines()[0]) from exc
        raise
    mark_verified(path)


def quarantine(path: Path, label: str) -> Path:
    """Move the warehouse (and its write-ahead log) aside under a new name; returns it."""
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    os.replace(path, target)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, target.with_name(target.name + ".wal"))
    _stamp_path(path).unlink(missing_ok=True)
    return target
