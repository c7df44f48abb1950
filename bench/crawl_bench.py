"""Crawl benchmark: pages per second against the simulated portal (delay 0, parse and load
included), as plain functions and as the Prefect flow (its temporary server started before the
clock), and the bytes an unchanged re-crawl transfers as a fraction of the first crawl."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gongkai.extract.http import FetchOptions
from gongkai.extract.sources import load_sources
from gongkai.flows.pipeline import nightly


def _flow_crawl(sources_file: Path, data_dir: Path, options: FetchOptions) -> tuple[float, int]:
    os.environ.setdefault("PREFECT_HOME", str(data_dir.parent / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    from prefect import flow

    from gongkai.flows.nightly import nightly_flow, run_flow

    @flow
    def warm_up() -> None:  # starts the temporary Prefect server
        return None

    warm_up()
    t0 = time.perf_counter()
    outcome = run_flow(nightly_flow(str(sources_file), str(data_dir), False, options, return_state=True))
    return time.perf_counter() - t0, int(outcome.summary["pages_fetched"]) + int(outcome.summary["not_modified"])


def _cpu() -> tuple[float, float, float]:
    """CPU seconds so far: this process (user + kernel), its kernel share, its ended children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, own.ru_stime, children.ru_utime + children.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + kernel) another process has used so far, from /proc (0 where unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _yardstick() -> float:
    """CPU seconds of a ten-million-step Python loop: how fast the machine runs right now (its
    speed swings by half within a session; the crawl's rate moves with it)."""
    t0 = time.process_time()
    for _ in range(10_000_000):
        pass
    return time.process_time() - t0


def bench_crawl(reports_per_portal: int = 60) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gongkai-crawl-bench-"))
    sources_file = tmp / "sources.toml"
    # the portal runs in its own process, as a real one would
    server = subprocess.Popen([sys.executable, "-m", "gongkai.devtools.simportal", "--sources", str(sources_file),
                               "--reports", str(reports_per_portal), "--no-faults", "--concurrency", "8"],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        server.stdout.readline()  # the portal's URL: it is up
        sources = load_sources(sources_file)
        options = FetchOptions(timeout=10.0)
        yardstick = _yardstick()
        before, portal_before = _cpu(), _process_cpu(server.pid)
        t0 = time.perf_counter()
        first = nightly(sources, tmp / "data", options=options, do_export=False)
        elapsed = time.perf_counter() - t0
        own, own_kernel, workers = (b - a for a, b in zip(before, _cpu()))
        portal_cpu = _process_cpu(server.pid) - portal_before
        t0 = time.perf_counter()
        second = nightly(sources, tmp / "data", options=options, do_export=False)
        elapsed2 = time.perf_counter() - t0
        flow_elapsed, flow_pages = _flow_crawl(sources_file, tmp / "flow-data", options)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    pages = first.pages_fetched + first.not_modified
    print(f"\n== crawl: simulated portal, {first.portals} portals, delay 0 ==")
    print(f"first crawl: {pages} pages ({first.new} reports parsed and loaded) in {elapsed:.2f} s "
          f"= {pages / elapsed:.0f} pages/s (target ≥ 200)")
    print(f"  the machine's speed just before: a ten-million-step Python loop took {yardstick:.2f} s of CPU")
    print(f"  CPU: the crawling process {own:.2f} s (in the kernel {own_kernel:.2f} s), its parse workers "
          f"{workers:.2f} s, the simulated portal {portal_cpu:.2f} s: "
          f"{(own + workers + portal_cpu) / elapsed / (os.cpu_count() or 1):.0%} of {os.cpu_count()} cores")
    print(f"the same as the Prefect flow (tasks per source, parse batches, load, export): {flow_pages} pages in "
          f"{flow_elapsed:.2f} s = {flow_pages / flow_elapsed:.0f} pages/s")
    print(f"unchanged re-crawl: {second.not_modified} answers 304 in {elapsed2:.2f} s; "
          f"{second.bytes_transferred:,} of {first.bytes_transferred:,} bytes = "
          f"{second.bytes_transferred / max(1, first.bytes_transferred):.2%} of the first crawl (target ≤ 5%)")


