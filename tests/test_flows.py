"""The real Prefect flows (one session-wide test harness) and the crawl command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId
from prefect.testing.utilities import prefect_test_harness

from gongkai.devtools.simportal import SimPortal
from gongkai.extract.http import FetchOptions
from gongkai.flows.nightly import nightly_flow, reparse_flow, run_flow
from tests.conftest import REAL

FAST = FetchOptions(timeout=1.0, backoff=0.05, backoff_max=0.2, retry_after_max=1.5)


@pytest.fixture(scope="session")
def prefect():
    with prefect_test_harness(server_startup_timeout=180):
        yield


async def _records(flow_run_id):
    async with get_client() as client:
        tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        run = await client.read_flow_run(flow_run_id)
    return tasks, artifacts, run


def test_nightly_flow_shows_its_stages_and_reports_a_failed_source(prefect, tmp_path):
    with SimPortal() as portal:
        sources = tmp_path / "sources.toml"
        dead = ('[[source]]\nname = "gone"\nfamily = "generic"\nstart_urls = ["http://127.0.0.1:9/nb/index.html"]\n'
                "allow_private = true\ndelay_s = 0  # the simulated portal shares its host: the strictest delay would apply to it\n")
        sources.write_text(portal.sources_toml() + dead, encoding="utf-8")
        outcome = run_flow(nightly_flow(str(sources), str(tmp_path / "data"), True, FAST, source_retry_delay=0.1,
                                        return_state=True))
    summary = outcome.summary
    assert outcome.ok and f"1 of {len(SimPortal.PORTALS) + 1} source(s) failed: gone" in outcome.message
    assert summary["new"] == len(portal.report_paths()) and summary["failed_parse"] == 0
    assert (tmp_path / "data" / "export" / "MANIFEST.sha256").exists()
    tasks, artifacts, run = asyncio.run(_records(outcome.flow_run_id))
    names = [t.name for t in tasks]
    for portal in SimPortal.PORTALS:
        assert names.count(f"crawl-sim-{portal}") == 1, names
    gone = [t for t in tasks if t.name.startswith("crawl-gone")]
    assert len(gone) == 1 and gone[0].state.is_failed() and gone[0].run_count == 2  # retried once, then failed
    assert sum(n.startswith("parse-batch-") for n in names) >= 2
    assert sum(n.startswith("load") for n in names) == 1 and sum(n.startswith("export") for n in names) == 1
    assert all(t.state.is_completed() for t in tasks if not t.name.startswith("crawl-gone"))
    assert {a.key for a in artifacts} == {"gongkai-nightly-summary", "gongkai-nightly-failures"}
    md = next(a for a in artifacts if a.type == "markdown").data
    assert "sim-hanweb" in md and "gone" in md
    assert run.state.is_completed() and "gone" in (run.state.message or "")


def test_a_run_where_nothing_can_be_crawled_fails(prefect, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "gone"\nfamily = "trs"\nstart_urls = ["http://127.0.0.1:9/nb/"]\n'
                       "allow_private = true\n", encoding="utf-8")
    outcome = run_flow(nightly_flow(str(sources), str(tmp_path / "data"), False, FAST, source_retry_delay=0.1,
                                    return_state=True))
    assert not outcome.ok and "no source could be crawled" in outcome.message


def test_reparse_flow(prefect, tmp_path):
    with SimPortal() as portal:
        sources = tmp_path / "sources.toml"
        sources.write_text(portal.sources_toml(), encoding="utf-8")
        first = run_flow(nightly_flow(str(sources), str(tmp_path / "data"), False, FAST, return_state=True))
    again = run_flow(reparse_flow(str(tmp_path / "data"), return_state=True))
    assert again.ok and again.summary["unchanged"] == first.summary["new"] and again.summary["changed"] == 0
    tasks, artifacts, _ = asyncio.run(_records(again.flow_run_id))
    assert sum(t.name.startswith("parse-batch-") for t in tasks) >= 2 and any(t.name.startswith("load") for t in tasks)
    assert [a.key for a in artifacts] == ["gongkai-reparse-summary"]


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
    assert "Traceback" not in p.stderr


def test_crawl_command_refuses_a_bad_sources_file(tmp_path):
    exe = str(Path(sys.executable).parent / "gongkai")
    bad = tmp_path / "sources.toml"
    bad.write_text('[[source]]\nname = "x"\nfamily = "nope"\nstart_urls = ["https://a.gov.cn/"]\n', encoding="utf-8")
    p = subprocess.run([exe, "crawl", "--sources", str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 2 and "field 'family'" in p.stderr  # a usage mistake
    p = subprocess.run([exe, "crawl"], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 2 and "no enabled source" in p.stderr


def _v_cells_hash(data_dir: Path) -> tuple[int, str]:
    """Rows and an order-free fingerprint of v_cells (every column but the surrogate ids)."""
    from gongkai.flows.warehouse import open_warehouse

    with open_warehouse(data_dir / "warehouse.duckdb", read_only=True) as con:
        return con.execute(
            "SELECT count(*), bit_xor(hash(v)) FROM (SELECT * EXCLUDE (report_id, agency_id) FROM v_cells) v"
        ).fetchone()


def test_a_batch_carrying_its_bodies_parses_with_no_archive_in_reach(tmp_path):
    """What a worker on another machine gets: the bodies (a report page, and a page without
    tables whose linked PDF is the report), no archive folder; the part is the same."""
    from gongkai.extract.archive import RawArchive
    import pyarrow.parquet as pq

    from gongkai.flows.parsing import ParseJob, parse_to_part
    from gongkai.flows.parts import TABLES

    def read_part(files):
        return [pq.read_table(files.path(name)) for name in TABLES]

    archive = RawArchive(tmp_path / "raw")
    page = archive.put((REAL / "047.html").read_bytes())
    empty = archive.put("<html><head><title>年度报告</title></head><body>见附件</body></html>".encode())
    pdf = archive.put((REAL / "101.pdf").read_bytes())
    jobs = [ParseJob(page, "https://a.example/047.html"),
            ParseJob(empty, "https://a.example/r.html", attachments=((pdf, "https://a.example/r.pdf"),))]
    here = read_part(parse_to_part(str(archive.root), jobs, str(tmp_path / "p1")))
    carried = [job.carrying_bodies(archive) for job in jobs]
    assert all(job.body for job in carried) and carried[1].attachment_bodies[0]
    away = read_part(parse_to_part(str(tmp_path / "nowhere"), carried, str(tmp_path / "p2")))
    assert [t.num_rows for t in here] == [t.num_rows for t in away] and here[1].num_rows > 300
    assert all(a.equals(b) for a, b in zip(here, away))
    lost = read_part(parse_to_part(str(tmp_path / "nowhere"), jobs, str(tmp_path / "p3")))  # no bodies, no archive
    assert lost[1].num_rows == 0


def test_nightly_on_a_dask_cluster_equals_the_local_run(prefect, tmp_path):
    from distributed import LocalCluster

    from gongkai.flows.nightly import with_task_runner

    with SimPortal() as portal:
        sources = tmp_path / "sources.toml"
        sources.write_text(portal.sources_toml(), encoding="utf-8")
        local = run_flow(nightly_flow(str(sources), str(tmp_path / "local"), False, FAST, return_state=True))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            flow, parsers = with_task_runner(nightly_flow, "dask", cluster.scheduler_address)
            assert parsers == "remote"  # a cluster by address: the workers are sent the bodies, not the archive's folder
            on_dask = run_flow(flow(str(sources), str(tmp_path / "dask"), False, FAST, parsers=parsers,
                                    return_state=True))
            workers = list(cluster.scheduler.workers)
    assert local.ok and on_dask.ok
    assert on_dask.summary["new"] == local.summary["new"] == len(portal.report_paths())
    rows, digest = _v_cells_hash(tmp_path / "dask")
    assert rows > 1000 and (rows, digest) == _v_cells_hash(tmp_path / "local")
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    tasks, _, _ = asyncio.run(_records(on_dask.flow_run_id))
    parse_tasks = [t for t in tasks if t.name.startswith("parse-batch-")]
    assert len(parse_tasks) >= 2 and all(t.state.is_completed() for t in parse_tasks)
    assert not (tmp_path / "dask" / "parts").exists()  # every part loaded and removed


def test_task_runner_choices_are_checked(monkeypatch):
    from gongkai.flows.nightly import TaskRunnerError, with_task_runner

    assert with_task_runner(nightly_flow, "local") == (nightly_flow, "local")
    flow, parsers = with_task_runner(reparse_flow, "dask", "tcp://127.0.0.1:8786")
    assert parsers == "remote" and type(flow.task_runner).__name__ == "DaskTaskRunner"
    assert with_task_runner(reparse_flow, "dask")[1] == "runner"  # a cluster of its own reads the archive
    assert flow.task_runner.address == "tcp://127.0.0.1:8786"
    for args, says in ((("threads",), "choose one of local, dask"),
                       (("dask", "127.0.0.1:8786"), "not a Dask scheduler address"),
                       (("local", "tcp://127.0.0.1:8786"), "--dask-address needs --task-runner dask")):
        with pytest.raises(TaskRunnerError, match=says):
            with_task_runner(nightly_flow, *args)
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # as if the extra were not installed
    with pytest.raises(TaskRunnerError, match=r"pip install 'gongkai\[dask\]'"):
        with_task_runner(nightly_flow, "dask")
