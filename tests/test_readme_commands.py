"""The README's commands run as shown, against the demo data, and every file it links exists.
They run from a folder of their own with a relative ``--data-dir`` (the CLI works from any
folder: Prefect's state follows the data directory).

Every ``gongkai`` line of the README's shell blocks is run from a folder holding the demo's
data directory (``./data``, made by ``gongkai demo``) and the sample reports. Placeholders
(``REPORT.html``, ``reports/``) become the sample reports. Commands that need the internet or a
Prefect server (``crawl`` and ``serve`` with the shipped sources) are checked as far as that
can go offline: their options parse (``--help`` after them), and so do the Dask lines (the flow
on a real Dask cluster is tested in tests/test_flows.py). The Python block runs too.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GONGKAI = Path(sys.executable).with_name("gongkai")
OFFLINE_ONLY = {"crawl", "serve"}  # the shipped sources are real portals: not reachable from tests

PLACEHOLDERS = {"REPORT.html": "data/samples/", "REPORT.txt": None, "...": None, "reports/": "data/samples/"}


def _blocks(lang: str) -> list[str]:
    return [body for tag, body in re.findall(r"```(\w*)\n(.*?)```", README, re.S) if tag == lang]


def _commands() -> list[str]:
    out = []
    for body in _blocks("sh"):
        for line in body.splitlines():
            if line.startswith(".venv/bin/gongkai "):
                out.append(line)
    return out


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "GONGKAI_DATA_DIR"}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A folder with ./data made by `gongkai demo` and the sample reports at data/samples/."""
    here = tmp_path_factory.mktemp("readme")
    p = subprocess.run([str(GONGKAI), "demo", "--data-dir", "data"], cwd=here, env=_env(), capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    # from any folder: one-line progress, no tracebacks, Prefect's state under the chosen data dir
    assert "Traceback" not in p.stderr and len(p.stderr.splitlines()) < 40
    assert (here / "data" / "warehouse.duckdb").exists() and (here / "data" / ".prefect").is_dir()
    (here / "data" / "samples").symlink_to(ROOT / "data" / "samples", target_is_directory=True)
    return here


def _argv(line: str, here: Path) -> tuple[list[str], str | None]:
    tokens = shlex.split(line, comments=True)
    out_file = None
    if ">" in tokens:
        at = tokens.index(">")
        tokens, out_file = tokens[:at], tokens[at + 1]
    argv = [str(GONGKAI)]
    for tok in tokens[1:]:
        if tok in PLACEHOLDERS:
            if PLACEHOLDERS[tok] and PLACEHOLDERS[tok] not in argv:
                argv.append(PLACEHOLDERS[tok])
            continue
        argv.append(str(ROOT / tok) if tok == "data/sources.toml" else tok)
    return argv, out_file


def test_the_readme_shows_the_commands():
    names = {shlex.split(line, comments=True)[1] for line in _commands()}
    assert {"parse", "crawl", "reparse", "serve", "demo", "load", "stats", "query", "export", "alias",
            "report"} <= names


@pytest.mark.parametrize("line", _commands())
def test_readme_command_runs(line, demo):
    argv, out_file = _argv(line, demo)
    command = argv[1]
    if command == "demo":
        return  # the fixture ran it, as shown
    if command in OFFLINE_ONLY or "--task-runner" in argv:
        # a Dask run of the flow is tested by tests/test_flows.py on a real LocalCluster
        argv.append("--help")
    if command == "alias":  # the README's names are an example: two agencies the demo loaded
        names = subprocess.run([str(GONGKAI), "query", "SELECT name FROM agency ORDER BY agency_id LIMIT 2",
                                "--format", "csv", "--data-dir", "data"], cwd=demo, env=_env(),
                               capture_output=True, text=True, timeout=120).stdout.splitlines()[1:]
        argv = [*argv[:2], *names, *argv[4:], "--data-dir", "data"]
    if command == "report" and "--agency" in argv:
        agency = subprocess.run([str(GONGKAI), "query", "SELECT agency FROM v_summary ORDER BY agency LIMIT 1",
                                 "--format", "csv", "--data-dir", "data"], cwd=demo, env=_env(),
                                capture_output=True, text=True, timeout=120).stdout.splitlines()[1]
        argv[argv.index("--agency") + 1] = agency
    if command in ("query", "export", "report", "alias") and "--data-dir" not in argv:
        argv += ["--data-dir", "data"]
    p = subprocess.run(argv, cwd=demo, env=_env(), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, (argv, p.stdout[-1500:], p.stderr[-1500:])
    if out_file:
        (demo / out_file).write_text(p.stdout, encoding="utf-8")
        assert p.stdout.strip()
    if command not in OFFLINE_ONLY:
        assert p.stdout.strip() or p.stderr.strip()


def test_readme_python_block_runs(demo):
    (code,) = [b for b in _blocks("python") if "import gongkai" in b]
    p = subprocess.run([sys.executable, "-c", code + "\nprint(len(cells), len(summary), len(t3))"], cwd=demo,
                       env=_env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    cells, _, t3 = (int(n) for n in p.stdout.split()[-3:])
    assert cells > 0 and t3 > 0


def test_every_file_the_readme_links_exists():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not re.match(r"^[a-z]+://", link)]
    assert local, "the README links no file of the project"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing
