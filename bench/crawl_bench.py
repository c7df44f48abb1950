"""Crawl benchmark: pages per second against the simulated portal (delay 0, parse and load
included), and the bytes an unchanged re-crawl transfers as a fraction of the first crawl."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gongkai.extract.sources import load_sources
from gongkai.flows.pipeline import FetchOptions, nightly


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
        t0 = time.perf_counter()
        first = nightly(sources, tmp / "data", options=options, do_export=False)
        elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = nightly(sources, tmp / "data", options=options, do_export=False)
        elapsed2 = time.perf_counter() - t0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    pages = first.pages_fetched + first.not_modified
    print(f"\n== crawl: simulated portal, {first.portals} portals, delay 0 ==")
    print(f"first crawl: {pages} pages ({first.new} reports parsed and loaded) in {elapsed:.2f} s "
          f"= {pages / elapsed:.0f} pages/s (target ≥ 200)")
    print(f"unchanged re-crawl: {second.not_modified} answers 304 in {elapsed2:.2f} s; "
          f"{second.bytes_transferred:,} of {first.bytes_transferred:,} bytes = "
          f"{second.bytes_transferred / max(1, first.bytes_transferred):.2%} of the first crawl (target ≤ 5%)")
