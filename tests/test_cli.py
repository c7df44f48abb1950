"""The ``gongkai parse`` command, run as a real process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REAL

GONGKAI = [str(Path(sys.executable).parent / "gongkai")] if shutil.which(
    str(Path(sys.executable).parent / "gongkai")) else [sys.executable, "-m", "gongkai"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GONGKAI, *args], check=False, capture_output=True, text=True, timeout=120)


def test_json_lines_one_per_file(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    p = run("parse", str(REAL / "000.txt"), str(REAL / "047.html"), str(empty), "--json")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [Path(o["source"]).name for o in lines] == ["000.txt", "047.html", "empty.html"]
    first = lines[0]
    for key in ("source", "agency", "year", "layout", "title", "status", "cells", "checks", "warnings"):
        assert key in first
    assert first["status"] == "ok" and first["layout"] == "2021" and first["year"] == 2022
    assert {"table", "row", "col", "value", "raw", "empty"} <= set(first["cells"][0])
    assert lines[2]["status"] == "failed" and lines[2]["warnings"] == ["empty document"]


def test_a_mistyped_path_is_a_usage_error_naming_it(tmp_path):
    p = run("parse", str(REAL / "000.txt"), str(tmp_path / "missing.txt"), "--json")
    assert p.returncode == 2 and p.stdout == ""
    assert "no such file or folder" in p.stderr and "missing.txt" in p.stderr and "Traceback" not in p.stderr
    link = tmp_path / "gone.html"
    link.symlink_to(tmp_path / "deleted.html")
    p = run("parse", str(link))
    assert p.returncode == 2 and "broken symbolic link" in p.stderr and "deleted.html" in p.stderr


def test_folders_skip_hidden_readme_and_other_files_and_say_so(tmp_path):
    shutil.copy(REAL / "000.txt", tmp_path / "a.txt")
    (tmp_path / ".b.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / "README.md").write_text("# my reports", encoding="utf-8")
    shutil.copy(REAL / "000.expected.json", tmp_path / "000.expected.json")
    (tmp_path / "dead.html").symlink_to(tmp_path / "nowhere.html")
    p = run("parse", str(tmp_path), "--json")
    assert p.returncode == 0, p.stderr
    assert [Path(json.loads(line)["source"]).name for line in p.stdout.splitlines()] == ["a.txt"]
    assert "skipped 4 file(s) in folders: 2 hidden, 1 a read-me, 1 not a report format (.json)" in p.stderr
    assert "broken symbolic link" in p.stderr and "dead.html" in p.stderr


def test_one_file_under_several_spellings_is_one_file(tmp_path):
    shutil.copy(REAL / "000.txt", tmp_path / "a.txt")
    (tmp_path / "sub").mkdir()
    spellings = [str(tmp_path / "a.txt"), str(tmp_path / "sub" / ".." / "a.txt"), f"{tmp_path}/./a.txt"]
    p = run("parse", *spellings, "--json")
    assert len(p.stdout.splitlines()) == 1
    data = tmp_path / "data"
    p = run("load", *spellings, "--data-dir", str(data))
    assert p.returncode == 0 and "1 new" in p.stdout, p.stdout + p.stderr
    p = subprocess.run([*GONGKAI, "load", "a.txt", "--data-dir", str(data)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120, check=False)
    assert "1 unchanged" in p.stdout, p.stdout + p.stderr  # typed relative: the same report


def test_version_and_short_help():
    p = run("--version")
    assert p.returncode == 0 and p.stdout.strip().startswith("gongkai ")
    p = run("-h")
    assert p.returncode == 0 and "parse" in p.stdout and "crawl" in p.stdout
    p = run("parse", "-h")
    assert p.returncode == 0 and "--json" in p.stdout


def test_strict_exit_code(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello", encoding="utf-8")
    assert run("parse", str(REAL / "000.txt"), "--strict", "--json").returncode == 0
    assert run("parse", str(REAL / "000.txt"), str(bad), "--strict", "--json").returncode == 1


def test_summary_table():
    p = run("parse", str(REAL / "001.html"), str(REAL / "045.html"))
    assert p.returncode == 0
    assert "上海市人民政府办公厅" in p.stdout and "t3_row_total" in p.stdout
    assert "failed" in p.stdout and "no report content" in p.stdout


def test_misuse_is_an_error():
    p = run("parse")
    assert p.returncode == 2


def test_folder_argument(tmp_path):
    shutil.copy(REAL / "000.txt", tmp_path / "a.txt")
    shutil.copy(REAL / "020.txt", tmp_path / "b.txt")
    p = run("parse", str(tmp_path), "--json")
    assert len(p.stdout.splitlines()) == 2


def test_a_task_runner_that_cannot_be_used_is_a_usage_error(tmp_path):
    p = run("reparse", "--data-dir", str(tmp_path / "d"), "--task-runner", "dask", "--dask-address", "localhost")
    assert p.returncode == 2 and "not a Dask scheduler address" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "d" / "warehouse.duckdb").exists()
