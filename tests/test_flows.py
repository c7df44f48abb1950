"""The real Prefect flows (one session-wide test harness) and the crawl command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from gongkai.devtools.simportal import SimPortal
from gongkai.flows.nightly import nightly_flow, reparse_flow
from gongkai.flows.pipeline import FetchOptions

FAST = FetchOptions(timeout=1.0, backoff=0.05, backoff_max=0.2, retry_after_max=1.5)


@pytest.fixture(scope="session")
def prefect():
    with prefect_test_harness():
        yield


def test_nightly_and_reparse_flows(prefect, tmp_path):
    with SimPortal() as portal:
        sources = tmp_path / "sources.toml"
        sources.write_text(portal.sources_toml(), encoding="utf-8")
        summary = nightly_flow(str(sources), str(tmp_path / "data"), True, FAST)
    assert summary["new"] == len(portal.report_paths()) and summary["failed_parse"] == 0
    assert (tmp_path / "data" / "export" / "MANIFEST.sha256").exists()
    again = reparse_flow(str(tmp_path / "data"))
    assert again["unchanged"] == summary["new"] and again["changed"] == 0


def test_crawl_command(tmp_path):
    exe = str(Path(sys.executable).parent / "gongkai")
    with SimPortal() as portal:
        sources = tmp_path / "sources.toml"
        sources.write_text(portal.sources_toml(), encoding="utf-8")
        env = dict(os.environ)
        p = subprocess.run([exe, "crawl", "--sources", str(sources), "--data-dir", str(tmp_path / "d"),
                            "--timeout", "1", "--no-export"],
                           capture_output=True, text=True, timeout=300, env=env, check=False, start_new_session=True)
    assert p.returncode == 0, p.stderr[-2000:]
    assert f"{len(portal.report_paths())} new" in p.stdout


def test_crawl_command_refuses_a_bad_sources_file(tmp_path):
    exe = str(Path(sys.executable).parent / "gongkai")
    bad = tmp_path / "sources.toml"
    bad.write_text('[[source]]\nname = "x"\nfamily = "nope"\nstart_urls = ["https://a.gov.cn/"]\n', encoding="utf-8")
    p = subprocess.run([exe, "crawl", "--sources", str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 2 and "field 'family'" in p.stderr  # a usage mistake
    p = subprocess.run([exe, "crawl"], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 2 and "no enabled source" in p.stderr
