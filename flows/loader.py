"""Loading parse results into the warehouse: versioned, idempotent, one transaction per report.

- A report is identified by ``report_key``: ``agency:<agency id>|<year>`` when the parse found
  both, else its source. A failed parse gets ``failed:<source>`` so that it never replaces a
  good report. The agency is found by alias, else by identity (flows/identity.py): the region
  code (from the name, else from the source's owner) and the name without its leading places.
- Exactly one version of a report is current: ok beats partial beats failed, then the latest
  seen; the same content is current under one report only.
- A version is identified by (report_key, content SHA-256, output SHA-256): loading the same
  file twice changes nothing; changed content or a parser that reads it differently makes a
  new version, which becomes the current one; older versions are kept.
- Cells go in as columns: a batch of parse results is a *part* (flows/parts.py), built where
  the parsing ran, and its cells are copied with one ``INSERT … SELECT`` from Arrow or from
  the part's Parquet files. Several reports (and several parts) share a transaction; if it
  fails, each part and then each report is retried in a transaction of its own, so one bad
  report never takes others down and a report is never half loaded.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from gongkai.flows.identity import agency_key
from gongkai.flows.parts import (CELL_COLUMNS, CHECK_COLUMNS, HEAD_COLUMNS, Incoming, Part, PartFiles, as_date,
                                 heads_of, is_local, part_of, read_reports)
from gongkai.transform.agency import Region, agency_identity, level_of, normalize_name, resolve_regions
from gongkai.transform.figures import FIGURES
from gongkai.transform.models import STATUS_RANK, ParseResult, output_sha256

__all__ = ["Incoming", "LoadSummary", "Loader", "report_key"]

log = logging.getLogger(__name__)

Head = tuple[int, Incoming, int]  # (item in the load, the report without cells, its number of cells)
Places = Callable[[Incoming], str | None]  # where a report is, when its part does not say


@dataclass
class LoadSummary:
    new: int = 0  # first version of a report
    changed: int = 0  # a new version of a known report
    unchanged: int = 0  # already loaded: nothing written
    failed_parse: int = 0  # recorded with status failed and its reason
    errors: list[str] = field(default_factory=list)  # reports that could not be written
    cells: int = 0
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)  # source → outcome → reports

    def count(self, item: Incoming, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if item.source_name:
            mine = self.by_source.setdefault(item.source_name, {})
            mine[outcome] = mine.get(outcome, 0) + 1

    def add(self, other: LoadSummary) -> None:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.failed_parse += other.failed_parse
        self.errors.extend(other.errors)
        self.cells += other.cells
        for name, outcomes in other.by_source.items():
            mine = self.by_source.setdefault(name, {})
            for outcome, n in outcomes.items():
                mine[outcome] = mine.get(outcome, 0) + n

    def as_dict(self) -> dict[str, object]:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged,
                "failed_parse": self.failed_parse, "errors": list(self.errors), "cells": self.cells}


def report_key(result: ParseResult, agency_id: int | None) -> str:
    """``agency:<id>|<year>``; ``failed:<source>`` for a failed parse (it never replaces a good
    report), ``source:<source>`` when the parse found no agency or year."""
    if result.status == "failed":
        return f"failed:{result.source}"
    if agency_id is not None and result.year:
        return agency_key(agency_id, result.year)
    return f"source:{result.source}"


@dataclass
class _Planned:
    item: Incoming
    key: str
    content: str
    output: str
    version: int
    report_id: int
    agency_id: int | None


@dataclass
class _Version:
    """A stored (or just planned) version of a report, for choosing the current one."""

    report_id: int
    version: int
    content: str
    output: str
    current: bool
    status: str
    seen: int  # when this content was last loaded (stored versions: their version number)
    new: bool = False


@dataclass(frozen=True)
class _NewAgency:
    agency_id: int
    name: str
    norm: str
    identity: str
    region: Region
    place: str | None


@dataclass
class _Plan:
    planned: list[_Planned] = field(default_factory=list)
    new_agencies: list[_NewAgency] = field(default_factory=list)
    current: set[int] = field(default_factory=set)  # new report_ids written as current
    demote: list[int] = field(default_factory=list)  # stored versions that stop being current
    promote: list[int] = field(default_factory=list)  # stored versions that become current again


class Loader:
    """Writes parse results into an open (writable) warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.agency_ids: dict[str, int] = {}  # identity → agency
        for agency_id, identity in con.execute("SELECT agency_id, identity FROM agency").fetchall():
            if identity:
                self.agency_ids[identity] = agency_id
        self.aliases: dict[str, int] = {  # an alias names its agency wherever it comes from
            normalize_name(alias): agency_id
            for alias, agency_id in con.execute("SELECT alias, agency_id FROM agency_alias").fetchall()}
        self._regions: dict[tuple[str, str | None], Region] = {}
        self._identities: dict[tuple[str, str | None], str] = {}  # (name, place) → identity
        row = con.execute("SELECT coalesce(max(report_id), 0), (SELECT coalesce(max(agency_id), 0) FROM agency) "
                          "FROM report").fetchall()[0]
        self._filesystems: set[str] = set()  # fsspec protocols registered with the connection
        self.next_report_id = int(row[0]) + 1 if row else 1
        self.next_agency_id = int(row[1]) + 1 if row else 1

    # -- public -------------------------------------------------------------------------------
    def load(self, items: Iterable[Incoming], batch_size: int = 200,
             progress: Callable[[int], None] | None = None) -> LoadSummary:
        """Load a stream of reports in batches; ``progress`` gets the count loaded so far."""
        summary = LoadSummary()
        batch: list[Incoming] = []
        done = 0
        for item in items:
            batch.append(item)
            if len(batch) >= batch_size:
                summary.add(self.load_batch(batch))
                done += len(batch)
                batch = []
                if progress:
                    progress(done)
        if batch:
            summary.add(self.load_batch(batch))
            if progress:
                progress(done + len(batch))
        return summary

    def load_batch(self, items: list[Incoming]) -> LoadSummary:
        """Load several reports in one transaction; on failure, one transaction each."""
        with _no_gc():
            part = part_of(items)
        return self.load_part(part)

    def load_part(self, part: Part | PartFiles | Sequence[PartFiles], *, places: Places | None = None,
                  keep: Callable[[Incoming], bool] | None = None) -> LoadSummary:
        """Load a part (in memory, or the Parquet files a parse worker wrote) — or several
        written parts together — in one transaction; on failure, one transaction per report.
        ``places``: where a report is when its part does not say; ``keep``: which of the
        reports to load (default: all)."""
        if isinstance(part, Part):
            heads = heads_of(part.reports)
        else:
            files = [part] if isinstance(part, PartFiles) else list(part)
            heads, offsets = [], []
            for f in files:  # the items of several parts are numbered on, part after part
                offsets.append(len(heads))
                heads.extend((offsets[-1] + i, it, n) for i, it, n in heads_of(read_reports(f, HEAD_COLUMNS)))
        if places is not None:
            heads = [(i, it if it.place else _placed(it, places(it)), n) for i, it, n in heads]
        if keep is not None:
            heads = [h for h in heads if keep(h[1])]
        if isinstance(part, Part):
            names = ("_gk_preports", "_gk_pcells", "_gk_pchecks")
            for name, table in zip(names, (part.reports, part.cells, part.checks)):
                self.con.register(name, table)
            try:
                return self._write_each(heads, *names)
            finally:
                for name in names:
                    self.con.unregister(name)
        sources = [self._read_sql(files, offsets, table) for table in ("reports", "cells", "checks")]
        if len(files) == 1:
            return self._write_each(heads, *sources)
        try:
            with _no_gc():
                return self._write(heads, *sources)
        except duckdb.Error as exc:  # each part on its own (and within it, each report)
            log.warning("%d parts loaded together failed (%s); loading them one by one", len(files), exc)
            summary = LoadSummary()
            for f in files:
                summary.add(self.load_part(f, places=places, keep=keep))
            return summary

    def _read_sql(self, files: list[PartFiles], offsets: list[int], table: str) -> str:
        """SQL reading one table of written parts with DuckDB's Parquet reader (through fsspec
        for a URL), their items numbered on."""
        selects = []
        for f, offset in zip(files, offsets):
            if not is_local(f.url):
                from fsspec.core import url_to_fs

                protocol = f.url.split("://", 1)[0]
                if protocol not in self._filesystems:
                    self.con.register_filesystem(url_to_fs(f.url)[0])
                    self._filesystems.add(protocol)
            path = f.path(table).removeprefix("file://").replace("'", "''")
            selects.append(f"SELECT * REPLACE (item + {offset} AS item) FROM read_parquet('{path}')")
        return "(" + " UNION ALL ".join(selects) + ")"

    def _write_each(self, heads: list[Head], reports: str, cells: str, checks: str) -> LoadSummary:
        try:
            with _no_gc():
                return self._write(heads, reports, cells, checks)
        except duckdb.Error as exc:
            if len(heads) <= 1:
                source = heads[0][1].result.source if heads else "(an empty part)"
                log.error("could not load %s: %s", source, exc)
                return LoadSummary(errors=[f"{source}: {exc}"])
            log.warning("batch of %d failed (%s); loading one by one", len(heads), exc)
            summary = LoadSummary()
            for head in heads:
                summary.add(self._write_each([head], reports, cells, checks))
            return summary

    # -- planning ---------------------------------------------------------------------------------
    def _existing(self, keys: list[str]) -> dict[str, list[_Version]]:
        """Versions already stored for these report keys."""
        found: dict[str, list[_Version]] = {}
        if not keys:
            return found
        wanted = pa.table({"report_key": pa.array(sorted(set(keys)), pa.string())})
        self.con.register("_gk_keys", wanted)
        try:
            rows = self.con.execute(
                "SELECT r.report_key, r.report_id, r.version, r.content_sha256, r.output_sha256, r.is_current, "
                "r.status FROM report r JOIN _gk_keys k USING (report_key)"
            ).fetchall()
        finally:
            self.con.unregister("_gk_keys")
        for key, rid, version, content, output, current, status in rows:
            found.setdefault(key, []).append(_Version(rid, version, content, output, current, status, version))
        for versions in found.values():  # the current version is the latest seen of the stored ones
            top = max(v.version for v in versions) + 1
            for v in versions:
                if v.current:
                    v.seen = top
        return found

    def _resolve(self, items: list[Incoming]) -> None:
        """The regions of the batch's agency names (with their sources' places), once each."""
        wanted = sorted({(normalize_name(it.result.agency), it.place) for it in items if it.result.agency}
                        - set(self._regions), key=lambda p: (p[0], p[1] or ""))
        if not wanted:
            return
        if len(self._regions) > 100_000:
            self._regions.clear()
        for pair, region in zip(wanted, resolve_regions([n for n, _ in wanted], [p for _, p in wanted])):
            self._regions[pair] = region

    def _agency_of(self, item: Incoming, plan: _Plan) -> int | None:
        """The agency a result belongs to: by alias, else by identity; a new one if neither."""
        name = item.result.agency
        if not name:
            return None
        norm = normalize_name(name)
        if norm in self.aliases:
            return self.aliases[norm]
        region = self._regions[(norm, item.place)]  # (resolved for the batch by _resolve)
        identity = self._identities.get((name, item.place))
        if identity is None:
            if len(self._identities) > 100_000:
                self._identities.clear()
            identity = self._identities[(name, item.place)] = agency_identity(name, region)
        agency_id = self.agency_ids.get(identity)
        if agency_id is None:
            agency_id = self.agency_ids[identity] = self.next_agency_id
            self.next_agency_id += 1
            plan.new_agencies.append(_NewAgency(agency_id, name, norm, identity, region, item.place))
        return agency_id

    def _plan(self, items: list[Incoming], summary: LoadSummary) -> _Plan:
        plan = _Plan()
        self._resolve(items)
        agencies = [self._agency_of(it, plan) for it in items]
        keyed = [(it, report_key(it.result, aid), it.result.sha256 or "",
                  it.result.output_sha256 or output_sha256(it.result)) for it, aid in zip(items, agencies)]
        failed_keys = [f"failed:{it.result.source}" for it, key, _, _ in keyed if not key.startswith("failed:")]
        existing = self._existing([k for _, k, _, _ in keyed] + failed_keys)
        touched: set[str] = set()
        clock = max((v.seen for vs in existing.values() for v in vs), default=0)
        for (item, key, content, output), agency_id in zip(keyed, agencies):
            versions = existing.setdefault(key, [])
            clock += 1
            touched.add(key)
            if not key.startswith("failed:"):  # the same source read before as a failure: no longer current
                touched.add(f"failed:{item.result.source}")
            again = next((v for v in versions if v.content == content and v.output == output), None)
            if again is not None:
                again.seen = max(again.seen, clock)  # seen again: the latest content (A → B → A)
                summary.count(item, "unchanged")
                continue
            version = max((v.version for v in versions), default=0) + 1
            rid = self.next_report_id
            self.next_report_id += 1
            had_current = any(v.current for v in versions)
            plan.planned.append(_Planned(item, key, content, output, version, rid, agency_id))
            versions.append(_Version(rid, version, content, output, False, item.result.status, clock, new=True))
            if item.result.status == "failed":
                summary.count(item, "failed_parse")
            elif not had_current and version == 1:
                summary.count(item, "new")
            else:
                summary.count(item, "changed")
        # exactly one current version per report: ok beats partial beats failed, then the latest seen
        fixed = set(failed_keys)
        current_new: set[int] = set()
        for key in touched:
            versions = existing.get(key, [])
            if not versions:
                continue
            chosen: _Version | None = max(versions, key=lambda v: (STATUS_RANK.get(v.status, 0), v.seen, v.version))
            if key in fixed:
                chosen = None  # the source now parses: its failure stays in the history, not current
            for v in versions:
                should = chosen is not None and v.report_id == chosen.report_id
                if v.new:
                    if should:
                        current_new.add(v.report_id)
                elif v.current and not should:
                    plan.demote.append(v.report_id)
                elif should and not v.current:
                    plan.promote.append(v.report_id)
        plan.current = current_new
        self._one_key_per_content(plan, existing)
        return plan

    def _one_key_per_content(self, plan: _Plan, existing: dict[str, list[_Version]]) -> None:
        """The same bytes are one report: when a new current version's content is current under
        another key too (a parser that now names the agency differently, the same file from a
        source placing it elsewhere), the newer reading stays current and the other goes."""
        new_current = [p for p in plan.planned if p.report_id in plan.current and p.content]  # (content known)
        if not new_current:
            return
        latest: dict[str, _Planned] = {}
        for p in new_current:  # within the batch, the last one loaded wins
            if p.content in latest and latest[p.content].key != p.key:
                plan.current.discard(latest[p.content].report_id)
            latest[p.content] = p
        contents = pa.table({"content_sha256": pa.array(sorted(latest), pa.string())})
        self.con.register("_gk_contents", contents)
        try:
            rows = self.con.execute(
                "SELECT r.report_id, r.report_key, r.content_sha256 FROM report r JOIN _gk_contents USING "
                "(content_sha256) WHERE r.is_current").fetchall()
        finally:
            self.con.unregister("_gk_contents")
        for rid, key, content in rows:
            if key != latest[content].key and rid not in plan.demote:
                plan.demote.append(rid)
                if rid in plan.promote:
                    plan.promote.remove(rid)

    # -- writing ----------------------------------------------------------------------------------
    def _write(self, heads: list[Head], reports_sql: str, cells_sql: str, checks_sql: str) -> LoadSummary:
        summary = LoadSummary()
        saved = (dict(self.agency_ids), self.next_report_id, self.next_agency_id)
        items = [it for _, it, _ in heads]
        plan = self._plan(items, summary)
        planned, new_agencies = plan.planned, plan.new_agencies
        if not planned and not plan.demote and not plan.promote:
            return summary
        index = {id(it): i for i, it, _ in heads}
        agencies = self._agency_table(new_agencies)
        n_cells = {id(it): n for _, it, n in heads}
        reports = self._report_table(planned, plan.current, n_cells)
        targets = self._item_table(planned, index)
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for name, table in (("_gk_agency", agencies), ("_gk_report", reports), ("_gk_items", targets)):
                con.register(name, table)
            if plan.demote:
                con.execute("UPDATE report SET is_current = false WHERE report_id IN (SELECT unnest(?))", [plan.demote])
            if plan.promote:
                con.execute("UPDATE report SET is_current = true WHERE report_id IN (SELECT unnest(?))", [plan.promote])
            con.execute("INSERT INTO agency BY NAME SELECT * FROM _gk_agency")
            con.execute("INSERT INTO report BY NAME SELECT * FROM _gk_report")
            cols = ", ".join(CELL_COLUMNS)
            con.execute(f"INSERT INTO cell (report_id, agency_id, year, {cols}) SELECT m.report_id, m.agency_id, "
                        f"m.year, {', '.join('c.' + c for c in CELL_COLUMNS)} FROM {cells_sql} c "
                        "JOIN _gk_items m ON c.item = m.item")
            cols = ", ".join(CHECK_COLUMNS)
            con.execute(f"INSERT INTO check_result (report_id, {cols}) SELECT m.report_id, "
                        f"{', '.join('c.' + c for c in CHECK_COLUMNS)} FROM {checks_sql} c "
                        "JOIN _gk_items m ON c.item = m.item")
            # each report's figures, computed where it was parsed (transform/figures.py)
            con.execute(f"INSERT INTO report_figures (report_id, {', '.join(FIGURES)}) SELECT m.report_id, "
                        f"{', '.join('r.' + c for c in FIGURES)} FROM {reports_sql} r JOIN _gk_items m ON r.item = m.item")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            self.agency_ids, self.next_report_id, self.next_agency_id = saved
            raise
        finally:
            for name in ("_gk_agency", "_gk_report", "_gk_items"):
                con.unregister(name)
        summary.cells = sum(n_cells[id(p.item)] for p in planned)
        return summary

    @staticmethod
    def _agency_table(new: list[_NewAgency]) -> pa.Table:
        for a in new:
            if a.region.note:
                log.warning("region of %s left unresolved: %s", a.name, a.region.note)
        regions = [a.region for a in new]
        return pa.table({
            "agency_id": pa.array([a.agency_id for a in new], pa.int32()),
            "identity": pa.array([a.identity for a in new], pa.string()),
            "name": pa.array([a.name for a in new], pa.string()),
            "name_norm": pa.array([a.norm for a in new], pa.string()),
            "province": pa.array([r.province for r in regions], pa.string()),
            "city": pa.array([r.city for r in regions], pa.string()),
            "county": pa.array([r.county for r in regions], pa.string()),
            "province_code": pa.array([r.province_code for r in regions], pa.string()),
            "city_code": pa.array([r.city_code for r in regions], pa.string()),
            "county_code": pa.array([r.county_code for r in regions], pa.string()),
            "level": pa.array([level_of(a.name) for a in new], pa.string()),
            "place": pa.array([a.place for a in new], pa.string()),
            "region_note": pa.array([a.region.note for a in new], pa.string()),
        })

    @staticmethod
    def _report_table(planned: list[_Planned], current: set[int], n_cells: dict[int, int]) -> pa.Table:
        now = datetime.now(UTC).replace(tzinfo=None)
        rs = [p.item.result for p in planned]
        return pa.table({
            "report_id": pa.array([p.report_id for p in planned], pa.int64()),
            "report_key": pa.array([p.key for p in planned], pa.string()),
            "version": pa.array([p.version for p in planned], pa.int32()),
            "is_current": pa.array([p.report_id in current for p in planned], pa.bool_()),
            "agency_id": pa.array([p.agency_id for p in planned], pa.int32()),
            "year": pa.array([r.year for r in rs], pa.int32()),
            "layout": pa.array([r.layout for r in rs], pa.string()),
            "title": pa.array([r.title for r in rs], pa.string()),
            "source_url": pa.array([p.item.source_url or p.item.result.source for p in planned], pa.string()),
            "publication_date": pa.array([as_date(r.publication_date) for r in rs], pa.date32()),
            "content_sha256": pa.array([p.content for p in planned], pa.string()),
            "output_sha256": pa.array([p.output for p in planned], pa.string()),
            "parser_version": pa.array([r.parser_version or "" for r in rs], pa.string()),
            "status": pa.array([r.status for r in rs], pa.string()),
            "warnings": pa.array([list(r.warnings) for r in rs], pa.list_(pa.string())),
            "uncertain": pa.array([list(r.uncertain) for r in rs], pa.list_(pa.string())),
            "form": pa.array([r.form for r in rs], pa.string()),
            "encoding": pa.array([r.encoding for r in rs], pa.string()),
            "fetched_at": pa.array([p.item.fetched_at for p in planned], pa.timestamp("us")),
            "place": pa.array([p.item.place for p in planned], pa.string()),
            "loaded_at": pa.array([now] * len(planned), pa.timestamp("us")),
            "n_cells": pa.array([n_cells[id(p.item)] for p in planned], pa.int32()),
        })

    @staticmethod
    def _item_table(planned: list[_Planned], index: dict[int, int]) -> pa.Table:
        """The part's item → the report it becomes (only reports with a new version)."""
        return pa.table({
            "item": pa.array([index[id(p.item)] for p in planned], pa.int32()),
            "report_id": pa.array([p.report_id for p in planned], pa.int64()),
            "agency_id": pa.array([p.agency_id for p in planned], pa.int32()),
            "year": pa.array([p.item.result.year for p in planned], pa.int32()),
        })


def _placed(item: Incoming, place: str | None) -> Incoming:
    return Incoming(item.result, item.source_url, item.fetched_at, item.source_name, place)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is turned into Arrow columns: with
    millions of live cell objects its passes cost more than the conversion itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

