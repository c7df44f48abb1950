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
    p = run("parse", str(REAL / "000.txt"), str(REAL / "047.html"), str(empty), str(tmp_path / "missing.txt"), "--json")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [Path(o["source"]).name for o in lines] == ["000.txt", "047.html", "empty.html", "missing.txt"]
    first = lines[0]
    for key in ("source", "agency", "year", "layout", "title", "status", "cells", "checks", "warnings"):
        assert key in first
    assert first["status"] == "ok" and first["layout"] == "2021" and first["year"] == 2022
    assert {"table", "row", "col", "value", "raw", "empty"} <= set(first["cells"][0])
    assert lines[2]["status"] == "failed" and lines[2]["warnings"] == ["empty document"]
    assert lines[3]["status"] == "failed" and "cannot read file" in lines[3]["warnings"][0]


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
