"""Parse results as columns: a batch of reports becomes one *part* of three Arrow tables.

A part is what a parse worker hands to the single writer. It is built where the parsing ran
(a local worker process, a Prefect task, a Dask worker), so the writer never turns cell
objects into columns; it plans each report's identity and version from the small ``reports``
table and copies ``cells`` and ``checks`` into the warehouse with one ``INSERT … SELECT``.

- ``reports``: one row per report of the batch: ``item`` (its index in the batch), where it
  came from (``source_url``, ``fetched_at``, ``source_name``, ``place``), what the parse found
  (agency, year, layout, title, …, status, warnings, uncertain, hashes), ``n_cells`` and the
  report's headline figures (transform/figures.py: computed here, not by the writer);
- ``cells``: ``item`` and the cell's codes, value, printed text, provenance and glued run;
- ``checks``: ``item`` and the rule's place and outcome.

A part is kept in memory (:func:`part_of`) or written as three Parquet files into a folder of
its own (:func:`write_part`) under a local folder or any fsspec URL (``memory://…``,
``s3://…`` with its fsspec package installed); the writer reads them with DuckDB's Parquet
reader and removes the part once it is loaded.

>>> from gongkai.transform.models import CellValue, ParseResult
>>> r = ParseResult(source="a.html", agency="某区教育局", year=2023, layout="2021", status="ok",
...                 cells=[CellValue("t1", "rules_made", "count", 2, "2", False)])
>>> part = part_of([Incoming(r)])
>>> part.reports.num_rows, part.cells.num_rows, part.cells.column("row_code").to_pylist()
(1, 1, ['rules_made'])
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter, itemgetter
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from gongkai.transform.figures import FIGURES, figures_of
from gongkai.transform.models import CellValue, Check, ParseResult, output_sha256

log = logging.getLogger(__name__)

_CODES = itemgetter(0, 1, 2)  # table, row, col of a CellValue
_REST = itemgetter(3, 4, 5, 6, 7)  # value, raw, empty, origin, glued_run
_PLACE = itemgetter(0, 1)  # rule, where of a Check
_OUTCOME = itemgetter(2, 3, 4, 5)  # status, expected, actual, detail
T = TypeVar("T")
A = TypeVar("A")
TABLES = ("reports", "cells", "checks")
ROW_GROUP = 65_536  # rows per Parquet row group: DuckDB reads the groups of a part in parallel

_HEAD_FIELDS = [
    ("item", pa.int32()), ("source", pa.string()), ("source_url", pa.string()), ("fetched_at", pa.timestamp("us")),
    ("source_name", pa.string()), ("place", pa.string()), ("agency", pa.string()), ("year", pa.int32()),
    ("layout", pa.string()), ("title", pa.string()), ("publication_date", pa.string()), ("status", pa.string()),
    ("warnings", pa.list_(pa.string())), ("uncertain", pa.list_(pa.string())), ("form", pa.string()),
    ("encoding", pa.string()), ("sha256", pa.string()), ("output_sha256", pa.string()),
    ("parser_version", pa.string()), ("n_cells", pa.int32()),
]
HEAD_COLUMNS = tuple(name for name, _ in _HEAD_FIELDS)  # what planning reads back
REPORT_SCHEMA = pa.schema([  # … and the report's figures, which the writer copies as they are
    *_HEAD_FIELDS, *((name, pa.list_(pa.string()) if name == "failing_rules" else pa.int64()) for name in FIGURES),
])
CELL_SCHEMA = pa.schema([
    ("item", pa.int32()), ("table_code", pa.string()), ("row_code", pa.string()), ("col_code", pa.string()),
    ("value", pa.float64()), ("empty", pa.bool_()), ("raw", pa.string()), ("table_index", pa.int32()),
    ("grid_row", pa.int32()), ("grid_col", pa.int32()), ("glued_run", pa.string()),
])
CHECK_SCHEMA = pa.schema([
    ("item", pa.int32()), ("rule", pa.string()), ("scope", pa.string()), ("status", pa.string()),
    ("expected", pa.float64()), ("actual", pa.float64()), ("detail", pa.string()),
])
CELL_COLUMNS = tuple(CELL_SCHEMA.names[1:])  # as the warehouse's cell table names them
CHECK_COLUMNS = tuple(CHECK_SCHEMA.names[1:])


@dataclass(frozen=True)
class Incoming:
    """A parse result with what the loader needs besides it."""

    result: ParseResult
    source_url: str | None = None  # defaults to result.source
    fetched_at: datetime | None = None
    source_name: str | None = None  # the crawl source it came from (for per-source counts)
    place: str | None = None  # where it is, by its source (the owner): resolves 鼓楼区 and namesakes


@dataclass(frozen=True)
class Part:
    """A batch of parse results as three Arrow tables (see the module's docstring)."""

    reports: pa.Table
    cells: pa.Table
    checks: pa.Table

    def heads(self) -> list[tuple[int, Incoming, int]]:
        """(item, the report without its cells and checks, its number of cells), per report."""
        return heads_of(self.reports)


@dataclass(frozen=True)
class PartFiles:
    """A part written as Parquet files: ``url`` is its folder (a local path or an fsspec URL)."""

    url: str
    reports: int
    cells: int

    def path(self, table: str) -> str:
        return f"{self.url.rstrip('/')}/{table}.parquet"


# -- building a part from parse results --------------------------------------------------------------

K = TypeVar("K")
_code_cache: dict[tuple[tuple[str, str, str], ...], tuple[pa.Array, ...]] = {}
_place_cache: dict[tuple[tuple[str, str], ...], tuple[pa.Array, ...]] = {}
_CACHED = 256  # layouts' arrays kept (a real batch has a handful)


def _string_arrays(cache: dict[K, tuple[pa.Array, ...]], key: K, columns: int) -> tuple[pa.Array, ...]:
    """Arrow string arrays of the columns of ``key`` (a tuple of rows); reports of one layout
    share them, so they are built once and kept in ``cache``."""
    arrays = cache.get(key)
    if arrays is None:
        values = zip(*key) if key else ((),) * columns
        arrays = tuple(pa.array(v, pa.string()) for v in values)
        if len(cache) > _CACHED:
            cache.clear()
        cache[key] = arrays
    return arrays


def _codes(cells: list[CellValue]) -> tuple[pa.Array, ...]:
    """A report's (table, row, col) codes as arrays."""
    return _string_arrays(_code_cache, tuple(map(_CODES, cells)), 3)


def _places(checks: list[Check]) -> tuple[pa.Array, ...]:
    """A report's checks' (rule, scope): the same for every report of a layout."""
    return _string_arrays(_place_cache, tuple(map(_PLACE, checks)), 2)


def _figure_columns(results: list[ParseResult]) -> dict[str, list[object]]:
    figures = [figures_of(r.cells, (c.rule for c in r.checks if c.status == "fail")) for r in results]
    return {name: [f[name] for f in figures] for name in FIGURES}


def _report_table(items: list[Incoming]) -> pa.Table:
    rs = [it.result for it in items]
    figures = _figure_columns(rs)
    return pa.table({
        "item": pa.array(range(len(items)), pa.int32()),
        "source": pa.array([r.source for r in rs], pa.string()),
        "source_url": pa.array([it.source_url for it in items], pa.string()),
        "fetched_at": pa.array([it.fetched_at for it in items], pa.timestamp("us")),
        "source_name": pa.array([it.source_name for it in items], pa.string()),
        "place": pa.array([it.place for it in items], pa.string()),
        "agency": pa.array([r.agency for r in rs], pa.string()),
        "year": pa.array([r.year for r in rs], pa.int32()),
        "layout": pa.array([r.layout for r in rs], pa.string()),
        "title": pa.array([r.title for r in rs], pa.string()),
        "publication_date": pa.array([r.publication_date for r in rs], pa.string()),
        "status": pa.array([r.status for r in rs], pa.string()),
        "warnings": pa.array([list(r.warnings) for r in rs], pa.list_(pa.string())),
        "uncertain": pa.array([list(r.uncertain) for r in rs], pa.list_(pa.string())),
        "form": pa.array([r.form for r in rs], pa.string()),
        "encoding": pa.array([r.encoding for r in rs], pa.string()),
        "sha256": pa.array([r.sha256 for r in rs], pa.string()),
        "output_sha256": pa.array([r.output_sha256 or output_sha256(r) for r in rs], pa.string()),
        "parser_version": pa.array([r.parser_version for r in rs], pa.string()),
        "n_cells": pa.array([len(r.cells) for r in rs], pa.int32()),
        **{name: pa.array(figures[name], REPORT_SCHEMA.field(name).type) for name in FIGURES},
    }, schema=REPORT_SCHEMA)


def _gather(results: list[ParseResult], rows: Callable[[ParseResult], list[T]],
            shared: Callable[[list[T]], A]) -> tuple[list[int], list[T], list[A]]:
    """Every result's rows (its cells or its checks) in one list, the item of each row, and per
    result the arrays its layout shares with others (``shared``)."""
    items: list[int] = []
    out: list[T] = []
    arrays: list[A] = []
    for i, r in enumerate(results):
        mine = rows(r)
        if mine:
            items.extend([i] * len(mine))
            out.extend(mine)
            arrays.append(shared(mine))
    return items, out, arrays


def _cell_table(results: list[ParseResult]) -> pa.Table:
    items, cells, codes = _gather(results, attrgetter("cells"), _codes)
    if not cells:
        return CELL_SCHEMA.empty_table()
    values, raws, empties, origins, runs = zip(*map(_REST, cells))
    n = len(cells)
    if origins.count(None) == n:  # no provenance (e.g. results made elsewhere): null columns, fast
        positions = (pa.nulls(n, pa.int32()),) * 3
    else:
        positions = tuple(pa.array(col, pa.int32()) for col in (
            [o.table if o else None for o in origins], [o.row if o else None for o in origins],
            [o.col if o else None for o in origins]))
    return pa.table({
        "item": pa.array(items, pa.int32()),
        "table_code": pa.concat_arrays([c[0] for c in codes]),
        "row_code": pa.concat_arrays([c[1] for c in codes]),
        "col_code": pa.concat_arrays([c[2] for c in codes]),
        "value": pa.array(values, pa.float64()),
        "empty": pa.array(empties, pa.bool_()),
        "raw": pa.array(raws, pa.string()),
        "table_index": positions[0],
        "grid_row": positions[1],
        "grid_col": positions[2],
        "glued_run": pa.nulls(n, pa.string()) if runs.count(None) == n else pa.array(runs, pa.string()),
    }, schema=CELL_SCHEMA)


def _check_table(results: list[ParseResult]) -> pa.Table:
    items, checks, places = _gather(results, attrgetter("checks"), _places)
    if not checks:
        return CHECK_SCHEMA.empty_table()
    statuses, expected, actual, details = zip(*map(_OUTCOME, checks))
    return pa.table({
        "item": pa.array(items, pa.int32()),
        "rule": pa.concat_arrays([a[0] for a in places]),
        "scope": pa.concat_arrays([a[1] for a in places]),
        "status": pa.array(statuses, pa.string()),
        "expected": pa.array(expected, pa.float64()),
        "actual": pa.array(actual, pa.float64()),
        "detail": pa.array([d or None for d in details], pa.string()),
    }, schema=CHECK_SCHEMA)


def part_of(items: Iterable[Incoming]) -> Part:
    """The part of a batch of parse results (the per-cell work happens here, once)."""
    items = list(items)
    results = [it.result for it in items]
    return Part(_report_table(items), _cell_table(results), _check_table(results))


def concat_parts(parts: list[Part]) -> Part:
    """One part of several (their items numbered on)."""
    import pyarrow.compute as pc

    tables: dict[str, list[pa.Table]] = {name: [] for name in TABLES}
    offset = 0
    for part in parts:
        for name, table in zip(TABLES, (part.reports, part.cells, part.checks)):
            items = pc.add(table.column("item"), pa.scalar(offset, pa.int32()))
            tables[name].append(table.set_column(0, "item", items))
        offset += part.reports.num_rows
    schemas = (REPORT_SCHEMA, CELL_SCHEMA, CHECK_SCHEMA)
    return Part(*(pa.concat_tables(tables[name]) if tables[name] else schema.empty_table()
                  for name, schema in zip(TABLES, schemas)))


def file_part(result: ParseResult) -> tuple[Part, str | None]:
    """A local file's result as a part of one report (its source is the file's path), and the
    SHA-256 of its bytes (for the archive)."""
    return part_of([Incoming(result, source_url=result.source)]), result.sha256


# -- reading a part's reports back ---------------------------------------------------------------------

def heads_of(reports: pa.Table) -> list[tuple[int, Incoming, int]]:
    """The reports of a part as cell-less parse results (for planning versions)."""
    c = reports.select(list(HEAD_COLUMNS)).to_pydict()
    out = []
    for (item, source, url, fetched, source_name, place, agency, year, layout, title, published, status,
         warnings, uncertain, form, encoding, sha, output, version, n_cells) in zip(*(c[n] for n in HEAD_COLUMNS)):
        result = ParseResult(source=source, agency=agency, year=year, layout=layout, title=title,
                             publication_date=published, status=status, warnings=warnings or [],
                             uncertain=uncertain or [], form=form, encoding=encoding, sha256=sha,
                             output_sha256=output, parser_version=version)
        out.append((item, Incoming(result, url, fetched, source_name, place), n_cells))
    return out


def as_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# -- Parquet files --------------------------------------------------------------------------------------

def _fs(url: str):  # noqa: ANN202 - an fsspec filesystem and the path inside it
    from fsspec.core import url_to_fs

    return url_to_fs(url)


def write_part(part: Part, root: str, name: str | None = None) -> PartFiles:
    """Write a part as ``root/<name>/{reports,cells,checks}.parquet`` (``root``: a local folder
    or an fsspec URL); the folder appears complete or not at all (written under a temporary
    name, then renamed)."""
    name = name or f"part-{uuid.uuid4().hex}"
    fs, base = _fs(root)
    base = base.rstrip("/")
    fs.makedirs(base, exist_ok=True)
    tmp, final = f"{base}/.{name}.tmp", f"{base}/{name}"
    fs.makedirs(tmp, exist_ok=True)
    for table_name, table in zip(TABLES, (part.reports, part.cells, part.checks)):
        with fs.open(f"{tmp}/{table_name}.parquet", "wb") as out:
            pq.write_table(table, out, compression="snappy", row_group_size=ROW_GROUP)
    fs.mv(tmp, final, recursive=True)
    url = f"{root.rstrip('/')}/{name}"
    return PartFiles(url, part.reports.num_rows, part.cells.num_rows)


def read_reports(files: PartFiles, columns: Sequence[str] | None = None) -> pa.Table:
    """The ``reports`` table of a written part (small: one row per report), or some of its
    ``columns``."""
    fs, path = _fs(files.path("reports"))
    with fs.open(path, "rb") as f:
        return pq.read_table(f, columns=list(columns) if columns is not None else None)


def remove_part(files: PartFiles) -> None:
    """Remove a loaded part (gongkai wrote it; nothing else lives in its folder)."""
    fs, path = _fs(files.url)
    try:
        fs.rm(path, recursive=True)
    except OSError as exc:
        log.warning("could not remove the loaded part %s: %s", files.url, exc)


def remove_parts_root(root: str) -> None:
    """Remove a run's parts folder once the run is over, if nothing is left in it (a part that
    could not be loaded stays, with the reason logged)."""
    fs, path = _fs(root)
    try:
        if fs.exists(path) and not fs.ls(path):
            fs.rmdir(path)
    except OSError as exc:
        log.warning("could not remove the parts folder %s: %s", root, exc)


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")
