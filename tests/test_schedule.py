"""The schedule, for real: a Prefect server on 127.0.0.1, ``gongkai serve`` against it, the
deployment's cron read back through the API, and a triggered run completing against the
simulated portal. Both processes are stopped by process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from gongkai.devtools.simportal import SimPortal

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path):
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if proc.poll() is not None:
                    break
                os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    continue


def wait_for(check, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def test_serve_registers_the_nightly_schedule_and_runs_it(tmp_path):
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    server_env = {**base, "PREFECT_HOME": str(tmp_path / "server-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                  "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2", "PREFECT_LOGGING_LEVEL": "WARNING"}
    with process([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                 server_env, tmp_path / "server.log"):
        client = httpx.Client(base_url=api, timeout=10)

        def healthy() -> bool:
            try:
                return client.get("/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 120, "the Prefect server", tmp_path / "server.log")
        with SimPortal() as portal:
            sources = tmp_path / "sources.toml"
            sources.write_text(portal.sources_toml(), encoding="utf-8")
            serve_env = {**base, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "serve-home"),
                         "PREFECT_RUNNER_POLL_FREQUENCY": "2", "PREFECT_LOGGING_LEVEL": "WARNING"}
            data = tmp_path / "data"
            with process([str(BIN / "gongkai"), "serve", "--sources", str(sources), "--data-dir", str(data)],
                         serve_env, tmp_path / "serve.log"):
                def deployment() -> dict | None:
                    found = client.post("/deployments/filter", json={}).json()
                    return next((d for d in found if d["name"] == "gongkai-nightly"), None)

                dep = wait_for(deployment, 120, "the deployment", tmp_path / "serve.log")
                schedules = client.get(f"/deployments/{dep['id']}/schedules").json()
                assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in schedules] == \
                    [("0 2 * * *", "Asia/Shanghai", True)]

                def scheduled() -> list[dict]:
                    runs = client.post("/flow_runs/filter", json={
                        "flow_runs": {"deployment_id": {"any_": [dep["id"]]}, "state": {"type": {"any_": ["SCHEDULED"]}}},
                        "sort": "EXPECTED_START_TIME_ASC"}).json()
                    return runs

                upcoming = wait_for(scheduled, 60, "the scheduled runs", tmp_path / "server.log")
                first = datetime.fromisoformat(upcoming[0]["expected_start_time"]).astimezone(ZoneInfo("Asia/Shanghai"))
                assert (first.hour, first.minute) == (2, 0)
                run = client.post(f"/deployments/{dep['id']}/create_flow_run", json={"name": "triggered-by-test"}).json()

                def finished() -> dict | None:
                    state = client.get(f"/flow_runs/{run['id']}").json()["state"]
                    return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

                state = wait_for(finished, 240, "the triggered run", tmp_path / "serve.log")
                assert state["type"] == "COMPLETED", (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
        assert (data / "warehouse.duckdb").exists() and (data / "export" / "MANIFEST.sha256").exists()
        loaded = subprocess.run([str(BIN / "gongkai"), "query", "SELECT count(*) FROM v_current_report",
                                 "--data-dir", str(data), "--format", "csv"], capture_output=True, text=True,
                                env=base, timeout=60)
        assert loaded.stdout.split() == ["count_star()", str(len(portal.report_paths()))]
