"""The run summary: what a crawl or re-parse did, per run and per source (printed by the CLI,
kept in ``crawl_run``, and a Prefect artifact)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from gongkai.extract.crawl import CrawlResult, reason_of, source_failure
from gongkai.extract.http import Fetcher
from gongkai.extract.sources import Source
from gongkai.extract.urls import BadURL, origin_of


@dataclass
class SourceSummary:
    """One source's part of a run: what an operator needs to see per portal."""

    list_pages: int = 0
    list_pages_failed: int = 0
    max_pages_reached: bool = False
    reports_found: int = 0
    years: list[int] = field(default_factory=list)
    attachments: int = 0
    dropped_offsite: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    robots: str = ""  # fetched / none / unreachable (why)
    warnings: list[str] = field(default_factory=list)  # what the family's selectors did not find
    crashed: str | None = None
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed_parse: int = 0
    last_run_reports: int | None = None  # reports found by the last finished run (None: no such run)

    def change_note(self) -> str | None:
        """How the reports found differ from the last run, when they do."""
        last = self.last_run_reports
        if last is None or last == self.reports_found:
            return None
        if self.reports_found == 0:
            return f"WARNING: no report found (the last run found {last}): has the portal's layout changed?"
        return f"{self.reports_found - last:+d} report(s) against the last run ({last})"


@dataclass
class RunSummary:
    run_id: str
    flow: str
    portals: int = 0
    list_pages: int = 0
    pages_fetched: int = 0  # 200 responses with a body
    not_modified: int = 0  # 304 responses
    bytes_transferred: int = 0  # on the wire
    bytes_decoded: int = 0  # after decompression
    reports_found: int = 0
    attachments: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed_parse: int = 0
    cells: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # reason → count
    sources: dict[str, SourceSummary] = field(default_factory=dict)
    deadline_reached: bool = False
    notes: list[str] = field(default_factory=list)
    exported_to: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def failed_sources(self) -> dict[str, str]:
        """Sources that failed as a whole (not page by page), with the reason."""
        return {name: s.crashed for name, s in self.sources.items() if s.crashed}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RunSummary:
        fields = dict(data)
        fields["sources"] = {k: SourceSummary(**v) for k, v in dict(fields.get("sources") or {}).items()}
        return cls(**fields)  # type: ignore[arg-type]

    def lines(self) -> list[str]:
        out = [f"run {self.run_id} ({self.flow})"]
        if self.flow == "nightly":
            out += [
                f"portals: {self.portals}, list pages: {self.list_pages}, pages fetched: {self.pages_fetched}, "
                f"not modified (304): {self.not_modified}, bytes: {self.bytes_transferred:,} on the wire "
                f"({self.bytes_decoded:,} decoded)",
                f"reports found: {self.reports_found}, attachments archived: {self.attachments}",
            ]
        else:
            out.append(f"archived report pages re-parsed: {self.reports_found}")
        out.append(f"reports loaded: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
                   f"{self.failed_parse} failed to parse; {self.cells} cells written")
        if self.failures:
            out.append("failures: " + "; ".join(f"{k}: {v}" for k, v in sorted(self.failures.items())))
        for name, s in sorted(self.sources.items()):
            notes = []
            if s.crashed:
                notes.append(f"FAILED: {s.crashed}")
            if s.max_pages_reached:
                notes.append("stopped at max_pages")
            if s.dropped_offsite:
                notes.append(f"{s.dropped_offsite} off-site link(s) dropped")
            if s.robots.startswith("unreachable"):
                notes.append(f"robots.txt {s.robots}")
            if s.failures:
                notes.append("failures: " + ", ".join(f"{k} {v}" for k, v in sorted(s.failures.items())))
            change = s.change_note()
            if change:
                notes.insert(0, change)
            notes.extend(s.warnings[:3])
            years = f" ({min(s.years)}–{max(s.years)})" if s.years else ""
            loaded = f" [{s.new} new, {s.changed} changed, {s.unchanged} unchanged" + \
                (f", {s.failed_parse} failed to parse]" if s.failed_parse else "]")
            out.append(f"  {name}: {s.list_pages} list page(s), {s.reports_found} report(s){years}{loaded}"
                       + (f"; {'; '.join(notes)}" if notes else ""))
        if self.deadline_reached:
            out.append("the run's deadline was reached: it ended with what had been fetched")
        out.extend(self.notes)
        if self.exported_to:
            out.append(f"export: {self.exported_to}")
        return out


def summarize_fetches(summary: RunSummary, result: CrawlResult, fetcher: Fetcher,
                      sources: list[Source]) -> None:
    records = fetcher.records
    summary.list_pages = result.list_pages
    summary.pages_fetched = sum(1 for r in records if r.status_code == 200 and not r.not_modified)
    summary.not_modified = sum(1 for r in records if r.not_modified)
    summary.bytes_transferred = sum(r.wire_bytes for r in records)
    summary.bytes_decoded = sum(r.bytes for r in records)
    summary.reports_found = sum(1 for f in result.reports if not f.is_file)
    summary.attachments = sum(1 for r in records if r.kind == "attachment" and r.ok)
    summary.failures = dict(Counter(reason_of(r.error) for r in records if r.error))
    summary.deadline_reached = result.deadline_reached
    for source in sources:
        got = result.sources.get(source.name)
        if got is None:
            continue
        robots = []
        for url in source.start_urls:
            try:
                state = fetcher.robots.get(origin_of(url))
            except BadURL:
                state = None
            if state is not None:
                robots.append(state.status + (f" ({state.reason})" if state.status == "unreachable" else ""))
        summary.sources[source.name] = SourceSummary(
            list_pages=got.list_pages, list_pages_failed=got.list_pages_failed,
            max_pages_reached=got.max_pages_reached, reports_found=len(got.reports), years=sorted(got.years),
            attachments=got.attachments, dropped_offsite=got.dropped_offsite, failures=dict(got.failures),
            robots=", ".join(dict.fromkeys(robots)), warnings=list(got.warnings), crashed=source_failure(got))
